"""Who is at the keyboard (R25): `--as NAME` says who, the passphrase proves it.

A command that records, or shows anything but the chain, runs as an authenticated staff
member. The passphrase comes from the terminal (asked once; the key then stays unlocked
for this OS user and login session for the site's unlock time, like sudo), or, for
scripts, from a file of mode 0600 (``--passphrase-file`` or CUSTODES_PASSPHRASE_FILE).
It is never an option value, never an environment variable, never recorded.

``ledger.credentials`` (argon2) is imported where a passphrase is read, not with this
module: commands that never ask for one (``status``, ``--help``) do not load it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.errors import InvalidInput, LedgerError
from ledger.text import NAME, clean_text, printable

F = TypeVar("F", bound=Callable[..., Any])

ACTOR_ENV = "CUSTODES_ACTOR"
PASSPHRASE_FILE_ENV = "CUSTODES_PASSPHRASE_FILE"
NEW_PASSPHRASE_FILE_ENV = "CUSTODES_NEW_PASSPHRASE_FILE"


def actor_option(f: F) -> F:
    """``--as NAME`` and ``--passphrase-file``; the command receives ``actor``, the name of
    the member who authenticated (their key unlocked in ``ctx.ledger()``)."""

    @functools.wraps(f)
    def wrapper(*args: Any, actor: str | None, passphrase_file: Path | None, **kw: Any) -> Any:
        from cli.common import Context

        ctx = click.get_current_context().find_object(Context)
        assert ctx is not None
        return f(*args, actor=authenticate(ctx, actor, passphrase_file), **kw)

    return _identity_options(wrapper)  # type: ignore[return-value]


def service_or_actor_option(f: F) -> F:
    """Like ``actor_option``, plus ``--service``: run as the unattended service identity
    (its key in keys/service.key; it may record only the retention sweep)."""

    @functools.wraps(f)
    def wrapper(
        *args: Any, actor: str | None, passphrase_file: Path | None, service: bool, **kw: Any
    ) -> Any:
        from cli.common import Context

        click_ctx = click.get_current_context()
        ctx = click_ctx.find_object(Context)
        assert ctx is not None
        if service:
            typed = (
                click_ctx.get_parameter_source("actor") == click.core.ParameterSource.COMMANDLINE
            )
            if typed:
                raise click.UsageError("give --service or --as NAME, not both")
            name = ctx.ledger().act_as_service()
        else:
            name = authenticate(ctx, actor, passphrase_file)
        return f(*args, actor=name, **kw)

    wrapper = click.option(
        "--service",
        is_flag=True,
        help="Run as the unattended service identity (cron); it may record the sweep only.",
    )(wrapper)
    return _identity_options(wrapper)  # type: ignore[return-value]


def _identity_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=PASSPHRASE_FILE_ENV,
        default=None,
        metavar="FILE",
        help="For scripts: read your passphrase from FILE (mode 0600), or set "
        f"{PASSPHRASE_FILE_ENV}. Otherwise it is asked for.",
    )(f)
    return click.option(
        "--as",
        "actor",
        envvar=ACTOR_ENV,
        default=None,
        metavar="NAME",
        callback=checked_name,
        help=f"Staff member doing this (or {ACTOR_ENV}); your passphrase proves it. "
        "Not needed while you are signed in (custodes login).",
    )(f)


def checked_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A name as typed: plain text of sane length (issue 14), or a usage error (exit 2)."""
    if value is not None:
        try:
            clean_text(value, kind=NAME, what=f"the name {printable(value[:40])!r}")
        except InvalidInput as e:
            raise click.BadParameter(str(e)) from None
    return value


def authenticate(ctx: Any, actor: str | None, passphrase_file: Path | None) -> str:
    """Sign ``actor`` in (or the member this session unlocked); their name."""
    from ledger.unlock import UnlockStore

    ledger = ctx.ledger()
    store = UnlockStore(ctx.datadir().path)
    now = ctx.now()
    unlock = store.load(now, longest=timedelta(minutes=ledger.site().unlock_minutes))
    if unlock is not None and changed_since(ledger, unlock):
        store.clear()  # the passphrase changed since it was typed: ask again (red team, s14)
        unlock = None
    if unlock is not None and (actor is None or _same(ledger, actor, unlock.signer.member_id)):
        try:
            return ledger.unlock_with(unlock.signer).name
        except Exception:
            store.clear()
            raise
    if actor is None:
        raise click.UsageError(
            "who is doing this? Pass --as NAME (or set CUSTODES_ACTOR), or sign in first "
            "with: custodes login NAME"
        )
    if passphrase_file is not None:
        from ledger.credentials import read_passphrase_file

        signer = ledger.authenticate(actor, read_passphrase_file(passphrase_file))
        return str(signer.name)
    passphrase = ask_passphrase(f"Passphrase for {actor}")
    signer = ledger.authenticate(actor, passphrase)
    until = now + timedelta(minutes=ledger.site().unlock_minutes)
    try:  # the terminal keeps a session key the member's own key vouches for, never hers
        session = ledger.open_session(signer.name, until=until)
    except LedgerError as e:  # a ledger that takes no acts (read-only, a clock ahead)
        from cli.common import info

        info(f"note: not remembered for this terminal, you will be asked again ({e})")
    else:
        store.save(session, until, now)
    return str(signer.name)


def changed_since(ledger: Any, unlock: Any) -> bool:
    """Whether the member changed their passphrase after this unlock was made."""
    member = ledger.member(unlock.signer.name)
    changed = None if member is None else member.passphrase_changed_at
    return changed is not None and unlock.made < changed


def _same(ledger: Any, actor: str, member_id: Any) -> bool:
    member = ledger.member(actor)
    return member is not None and member.id == member_id


def ask_passphrase(prompt: str, *, confirm: bool = False) -> bytes:
    """Ask at the terminal, never echoing; refuse when there is no terminal to ask at."""
    if not sys.stdin.isatty():
        option, env = (
            ("--new-passphrase-file", NEW_PASSPHRASE_FILE_ENV)
            if confirm
            else ("--passphrase-file", PASSPHRASE_FILE_ENV)
        )
        raise click.UsageError(
            f"no terminal to ask for the passphrase: pass {option} FILE (mode 0600) or set {env}"
        )
    from ledger.credentials import check_passphrase

    value = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return check_passphrase(value, new=confirm)


def new_passphrase_option(f: F) -> F:
    return click.option(  # type: ignore[return-value]
        "--new-passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=NEW_PASSPHRASE_FILE_ENV,
        default=None,
        metavar="FILE",
        help="For scripts: the new member's passphrase from FILE (mode 0600), or set "
        f"{NEW_PASSPHRASE_FILE_ENV}. Otherwise it is asked for twice (the member types it).",
    )(f)


def new_passphrase(path: Path | None, whose: str) -> bytes:
    """A new passphrase for ``whose``: from a 0600 file, or typed twice at the terminal."""
    if path is not None:
        from ledger.credentials import check_passphrase, read_passphrase_file

        return check_passphrase(read_passphrase_file(path), new=True)
    return ask_passphrase(f"New passphrase for {whose} (they type it)", confirm=True)
