"""Test staff who sign in for real: each has a passphrase, a sealed key file and a
passphrase file (mode 0600) the command line reads, as a script would.

In-process tests seal keys with a fast KDF (``fast_kdf`` in tests/conftest.py); tests that
run the installed command in a subprocess use the real parameters (marker ``real_kdf``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import credentials
from ledger.app import Ledger, open_ledger
from ledger.clock import Clock
from ledger.datadir import DataDir

DIRECTOR = "Dana Director"
_FILES = Path(tempfile.mkdtemp(prefix="custodes-test-passphrases-"))


CHEAP_KDF = credentials.KdfParams(memory_kib=64, iterations=1, lanes=1)


def use_fast_kdf() -> None:
    """For a child process of a test (spawned, so conftest's patch does not reach it)."""
    credentials.KDF_PARAMS = CHEAP_KDF
    credentials.KDF_MINIMUM = CHEAP_KDF


@contextmanager
def fast_kdf_while_building() -> Iterator[None]:
    """The cheap KDF for a fixture of module or session scope that seals keys: such a
    fixture runs before the function-scoped ``fast_kdf`` (tests/conftest.py) is in force,
    so without this its keys are sealed with the real argon2id (0.2-0.5 s a sign-in, in
    every test that opens the ledger it built)."""
    saved = credentials.KDF_PARAMS, credentials.KDF_MINIMUM
    use_fast_kdf()
    try:
        yield
    finally:
        credentials.KDF_PARAMS, credentials.KDF_MINIMUM = saved


def passphrase(name: str) -> str:
    return f"{name} knows this passphrase"


def passphrase_file(name: str) -> Path:
    """A 0600 file holding ``name``'s test passphrase (made once per process)."""
    slug = "".join(c if c.isalnum() else "_" for c in name)[:60] + f"-{abs(hash(name)) % 10**8}"
    path = _FILES / f"{slug}.txt"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(passphrase(name) + "\n")
    return path


def enrol(ledger: Ledger, name: str, role: str, *, actor: str = DIRECTOR) -> Any:
    """Add a member with a test passphrase (and key file), and admit their key here."""
    key = Ed25519PrivateKey.generate()
    view = ledger.add_staff(name, role, actor=actor, passphrase=passphrase(name).encode(), key=key)
    ledger.admit(name, key)
    return view


def unlock_all(ledger: Ledger) -> Ledger:
    """Sign in every active member whose key file is sealed with their test passphrase."""
    assert ledger.datadir is not None
    for member in ledger.staff():
        if (
            member.active
            and member.role != "service"
            and member.key_id
            and ledger.datadir.staff_key_path(member.key_id).exists()
        ):
            ledger.authenticate(member.name, passphrase(member.name).encode())
    return ledger


def session(ledger: Ledger, name: str, *, minutes: int = 10) -> Any:
    """Sign ``name`` in with their passphrase and open a terminal's session for them, as
    ``custodes login`` does: the session key (a ``Signer``) an unlock file keeps."""
    from datetime import timedelta

    ledger.authenticate(name, passphrase(name).encode())
    return ledger.open_session(name, until=ledger.clock() + timedelta(minutes=minutes))


def open_test_ledger(datadir: DataDir, *, clock: Clock | None = None, **kw: Any) -> Ledger:
    """``open_ledger`` with every test member signed in."""
    ledger = open_ledger(datadir, clock=clock, **kw)
    try:
        return unlock_all(ledger)
    except Exception:
        ledger.close()
        raise


def identity_env(args: Sequence[str]) -> dict[str, str]:
    """The environment a scripted run of ``args`` needs: who acts (``--as``, else the
    Director) and their passphrase file; a new member's passphrase file for commands
    that enrol one."""
    args = list(args)
    actor = args[args.index("--as") + 1] if "--as" in args[:-1] else DIRECTOR
    env = {"CUSTODES_PASSPHRASE_FILE": str(passphrase_file(actor))}
    if "--as" not in args and "--service" not in args:
        env["CUSTODES_ACTOR"] = DIRECTOR
    new = _new_member(args)
    if new is not None:
        env["CUSTODES_NEW_PASSPHRASE_FILE"] = str(passphrase_file(new))
    return env


def _new_member(args: list[str]) -> str | None:
    for verb in ("add", "reset", "hand-over"):
        for i in range(len(args) - 2):
            if args[i] == "staff" and args[i + 1] == verb:
                return args[i + 2]
    if "--director" in args[:-1]:
        return args[args.index("--director") + 1]
    return None


class CustodesRunner(CliRunner):
    """CliRunner that signs the test staff in with their passphrase files."""

    def invoke(  # type: ignore[override]
        self, cli: Any, args: Sequence[str] = (), env: Mapping[str, str | None] | None = None,
        **kw: Any,
    ) -> Result:  # fmt: skip
        merged: dict[str, str | None] = dict(identity_env(args))
        merged.update(env or {})
        return super().invoke(cli, list(args), env=merged, **kw)
