"""Signing in on the command line (R25, R26, R27): passphrases from a terminal or a 0600
file, never an option; the unlock that lasts a few minutes, like sudo's; no clock option."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.acts import Envelope, Statement
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import open_chain, verify_chain
from ledger.unlock import UnlockStore
from tests.cli.db_helpers import count_events
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, passphrase, passphrase_file, session

STAFF = "Sam Staff"


def run(data: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], env=env, obj=ManualClock(NOW)
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    assert run(path, "init", "--director", DIRECTOR).exit_code == 0
    assert run(path, "staff", "add", STAFF, "--role", "staff", "--as", DIRECTOR).exit_code == 0
    return path


def _kinds(data: Path) -> list[str]:
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data))
    try:
        return [e.kind for e in led.read_log()]
    finally:
        led.close()


def test_there_is_no_clock_option_and_the_environment_cannot_set_the_time(tmp_path: Path) -> None:
    result = CustodesRunner().invoke(custodes, ["--now", "2027-01-01T00:00:00Z", "status"])
    assert result.exit_code == 2 and "No such option '--now'" in result.stderr
    script = shutil.which("custodes", path=str(Path(sys.executable).parent))
    assert script
    env = {
        **os.environ,
        "CUSTODES_DATA_DIR": str(tmp_path / "d"),
        "CUSTODES_NOW": "2027-01-01T00:00:00Z",
        "CUSTODES_NEW_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR)),
    }
    before = datetime.now(UTC)
    made = subprocess.run(
        [script, "init", "--director", DIRECTOR], env=env, capture_output=True, text=True
    )
    after = datetime.now(UTC)
    assert made.returncode == 0, made.stderr
    record = open_chain(DataDir.open(tmp_path / "d")).head_act()
    assert record is not None
    recorded = Statement.from_bytes(Envelope.from_bytes(record).statement).time
    assert before - timedelta(seconds=1) <= recorded <= after + timedelta(seconds=1)


def test_naming_the_director_with_another_passphrase_is_refused_and_recorded(data: Path) -> None:
    before = count_events(data)
    result = run(
        data, "staff", "add", "Evil Twin", "--role", "staff", "--as", DIRECTOR,
        "--passphrase-file", str(passphrase_file(STAFF)),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "wrong passphrase for Dana Director (1 of 5" in result.stderr
    assert count_events(data) == before + 1  # the failure, and nothing else
    assert _kinds(data)[-1] == "AuthenticationFailed"
    assert verify_chain(open_chain(DataDir.open(data))).ok


@pytest.mark.parametrize(
    "content, mode, message",
    [
        (b"Dana Director knows this passphrase\n", 0o644, "is readable by others (mode 0644)"),
        (b"\n", 0o600, "the passphrase is empty"),
        (b"x" * 1100, 0o600, "too long to be a passphrase"),
    ],
    ids=["world-readable", "empty", "over-long"],
)
def test_a_bad_passphrase_file_is_one_line_exit_1_and_records_nothing(
    data: Path, tmp_path: Path, content: bytes, mode: int, message: str
) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes(content)
    path.chmod(mode)
    before = count_events(data)
    result = run(data, "staff", "list", "--as", DIRECTOR, "--passphrase-file", str(path))
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert count_events(data) == before


def test_a_missing_passphrase_file_and_no_terminal_are_clear_errors(
    data: Path, tmp_path: Path
) -> None:
    missing = run(
        data, "staff", "list", "--as", DIRECTOR, "--passphrase-file", str(tmp_path / "no")
    )
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    asked = run(data, "staff", "list", "--as", DIRECTOR, env={"CUSTODES_PASSPHRASE_FILE": None})
    assert asked.exit_code == 2
    assert "no terminal to ask for the passphrase: pass --passphrase-file FILE" in asked.stderr


@pytest.mark.parametrize(
    "args,rule",
    [
        (("staff", "add", "Eve New", "--role", "staff"), "STAFF-KEY-ENROLMENT"),
        (("staff", "reset", DIRECTOR, "--reason", "forgot"), "STAFF-KEY-ENROLMENT"),
        (("staff", "hand-over", STAFF, "--authority", "none"), "ONE-DIRECTOR"),
    ],
)
def test_a_member_who_may_not_enrol_is_refused_before_anyone_types_a_new_passphrase(
    data: Path, args: tuple[str, ...], rule: str
) -> None:
    """No new passphrase can be given here (no file, no terminal): the refusal comes
    first, so nobody types a passphrase for an act that is then refused."""
    before = _kinds(data)
    done = run(data, *args, "--as", STAFF, env={"CUSTODES_NEW_PASSPHRASE_FILE": None})
    assert done.exit_code == 1, done.output
    assert done.stderr.startswith(f"Error: {rule} ") and "no terminal" not in done.stderr
    assert _kinds(data)[len(before) :] == ["AccessDenied"]


def test_reading_a_request_is_recorded_and_refused_to_staff_who_did_not_take_it(
    data: Path,
) -> None:
    assert run(data, "staff", "add", "Pat Page", "--role", "staff", "--as", DIRECTOR).exit_code == 0
    opened = run(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester", "Ofc. Lee",
        "--received-by", STAFF, "--records", "registration", "--description", "asked",
        "--as", STAFF,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    ref = "R-2026-0001"
    shown = run(data, "request", "show", ref, "--json", "--as", DIRECTOR)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["ref"] == ref
    own = run(data, "request", "show", ref, "--as", STAFF)  # he took it in
    assert own.exit_code == 0, own.output
    other = run(data, "request", "show", ref, "--as", "Pat Page")
    # refused as if it did not exist (no existence oracle), the attempt recorded
    assert other.exit_code == 1 and f"request {ref!r} does not exist" in other.stderr
    kinds = _kinds(data)
    assert kinds.count("ConfidentialRecordRead") == 2 and kinds[-1] == "AccessDenied"


@pytest.mark.parametrize("whoami_first", [False, True])
def test_a_deactivated_members_old_unlock_is_refused_recorded_and_shredded(
    data: Path, whoami_first: bool
) -> None:
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, STAFF)
    led.close()
    store = UnlockStore(data)
    store.save(signer, NOW + timedelta(minutes=10), NOW)
    assert (
        run(data, "staff", "list", "--as", STAFF, env={"CUSTODES_PASSPHRASE_FILE": None}).exit_code
        == 0
    )
    assert (
        run(data, "staff", "deactivate", STAFF, "--reason", "left", "--as", DIRECTOR).exit_code == 0
    )
    assert store.path.exists()
    if whoami_first:  # red-team finding 16: whoami showed the old session as current
        said = run(data, "whoami", env={"CUSTODES_ACTOR": None, "CUSTODES_PASSPHRASE_FILE": None})
        assert said.exit_code == 1 and "Sam Staff is no longer an active" in said.stderr
        assert not store.path.exists()
        return
    refused = run(
        data, "staff", "list", env={"CUSTODES_ACTOR": None, "CUSTODES_PASSPHRASE_FILE": None}
    )
    assert refused.exit_code == 1
    assert "Sam Staff is no longer an active staff member" in refused.stderr
    assert not store.path.exists()
    assert _kinds(data)[-1] == "AccessDenied"


def test_an_expired_or_foreign_unlock_is_never_used(data: Path) -> None:
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, DIRECTOR)
    led.close()
    store = UnlockStore(data)
    store.save(signer, NOW - timedelta(seconds=1), NOW)
    assert store.load(NOW) is None and not store.path.exists()
    store.save(signer, NOW + timedelta(minutes=5), NOW)
    store.path.chmod(0o644)  # readable by others: never trusted
    assert store.load(NOW) is None and not store.path.exists()


def test_an_unlock_whose_expiry_was_edited_is_shredded_not_honoured(data: Path) -> None:
    """The expiry is not taken on the file's word: one further ahead than the site's
    unlock time from the file's last change was edited (red-team finding: an unlock
    pushed to 2099 signed acts with no passphrase)."""
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, DIRECTOR)
    led.close()
    store = UnlockStore(data)
    store.save(signer, NOW + timedelta(minutes=10), NOW)
    assert store.load(NOW, longest=timedelta(minutes=10)) is not None  # as written: good
    body = json.loads(store.path.read_text())
    body["expires"] = "2099-01-01T00:00:00+00:00"
    store.path.write_text(json.dumps(body))  # still 0600, still this user's
    env = {"CUSTODES_ACTOR": None, "CUSTODES_PASSPHRASE_FILE": None}
    asked = run(data, "staff", "list", env=env)
    assert asked.exit_code == 2 and "who is doing this?" in asked.stderr
    assert not store.path.exists()  # shredded


def test_other_sessions_expired_unlocks_are_shredded_by_the_next_command(data: Path) -> None:
    """Red team (session 14): an abandoned terminal's unlock file stayed after it expired,
    holding the member's key; another session rewrote its expiry and signed as her.
    Every load now shreds this OS user's other expired or unreadable unlock files."""
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, DIRECTOR)
    led.close()
    store = UnlockStore(data)
    uid = os.geteuid()
    expired = store.root / f"uid{uid}-sid999991.unlock"
    live = store.root / f"uid{uid}-sid999992.unlock"
    broken = store.root / f"uid{uid}-sid999993.unlock"
    for path, expires in (
        (expired, NOW - timedelta(minutes=1)),
        (live, NOW + timedelta(minutes=5)),
    ):
        store.save(signer, expires, NOW - timedelta(minutes=9))
        store.path.rename(path)
    broken.write_text("not json")
    broken.chmod(0o600)
    assert store.load(NOW) is None  # this session has none
    assert not expired.exists() and not broken.exists()
    assert live.exists()  # another session's, still valid: its own session decides


def test_an_unlock_from_before_a_passphrase_change_is_not_used(data: Path) -> None:
    """Red team (session 14): a terminal signed in before the member changed their
    passphrase went on signing (the dashboard ended such sessions already)."""
    from ledger.app import open_ledger

    led = open_ledger(DataDir.open(data), clock=ManualClock(NOW))
    signer = session(led, STAFF)
    store = UnlockStore(data)
    store.save(signer, NOW + timedelta(minutes=10), NOW - timedelta(minutes=1))
    env = {"CUSTODES_ACTOR": None, "CUSTODES_PASSPHRASE_FILE": None}
    assert run(data, "whoami", env=env).exit_code == 0
    led.change_passphrase(
        actor=STAFF, current=passphrase(STAFF).encode(), new=b"a brand new passphrase 2026"
    )
    led.close()
    said = run(data, "whoami", env=env)
    assert said.exit_code == 1 and "changed their passphrase since signing in" in said.stderr
    assert not store.path.exists()
    store.save(signer, NOW + timedelta(minutes=10), NOW - timedelta(minutes=1))
    asked = run(data, "staff", "list", env=env)
    assert asked.exit_code == 2 and "who is doing this?" in asked.stderr
    assert not store.path.exists()


def test_two_enrolments_of_one_name_racing_leave_one_member_and_one_key(tmp_path: Path) -> None:
    script = shutil.which("custodes", path=str(Path(sys.executable).parent))
    assert script
    env = {
        **os.environ,
        "CUSTODES_DATA_DIR": str(tmp_path / "d"),
        "CUSTODES_NEW_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR)),
        "CUSTODES_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR)),
        "CUSTODES_ACTOR": DIRECTOR,
    }
    assert (
        subprocess.run(
            [script, "init", "--director", DIRECTOR], env=env, capture_output=True
        ).returncode
        == 0
    )
    racers = [
        subprocess.Popen(
            [script, "staff", "add", "Same Name", "--role", "staff"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outcomes = sorted((p.wait(timeout=60), p.stderr.read()) for p in racers)  # type: ignore[union-attr]
    assert outcomes[0][0] == 0, outcomes
    assert outcomes[1][0] in (1, 75), outcomes  # "exists already", or lost the same instant
    keys = list((tmp_path / "d" / "keys" / "staff").glob("*.key"))
    assert len(keys) == 2  # the Director's and the one member's: the loser left none
    assert verify_chain(open_chain(DataDir.open(tmp_path / "d"))).ok


def _pty_session(commands: str, env: dict[str, str], answers: list[bytes]) -> str:
    """Run ``commands`` in one bash session on a real terminal, typing ``answers`` at each
    passphrase prompt; returns everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe("bash", ["bash", "-c", commands], env)
    seen, since, pending = b"", b"", list(answers)
    deadline = time.monotonic() + 240  # eight commands, two real KDFs: slow on a loaded machine
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen, since = seen + chunk, since + chunk
        if pending and since.endswith(b": "):  # a prompt waits for its answer
            os.write(fd, pending.pop(0) + b"\n")
            since = b""
    else:
        os.kill(pid, 9)
    os.waitpid(pid, 0)
    assert not pending, seen
    return seen.decode(errors="replace")


def test_a_person_types_the_passphrase_once_for_several_acts_until_logout(tmp_path: Path) -> None:
    bindir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CUSTODES_")},
        "PATH": bindir + os.pathsep + os.environ["PATH"],
        "CUSTODES_DATA_DIR": str(tmp_path / "d"),
    }
    secret = passphrase(DIRECTOR).encode()
    shown = _pty_session(
        "custodes init --director 'Dana Director' && custodes login 'Dana Director' && "
        "custodes whoami && custodes staff list && custodes camera list && custodes logout && "
        "custodes whoami; echo exit=$?",
        env,
        [secret, secret, secret],  # twice for the new passphrase, once to sign in
    )
    prompts = [line for line in shown.splitlines() if line.rstrip().endswith(":")]
    assert len(prompts) == 3, shown  # never asked again while signed in
    assert secret.decode() not in shown  # never echoed
    assert "Signed in as Dana Director for 10 minutes" in shown
    assert "Dana Director (director) until" in shown
    assert "Custodes service" in shown  # the staff list, without a prompt
    assert "Signed out." in shown
    assert "nobody is signed in" in shown and "exit=1" in shown
    assert not list((tmp_path / "d" / "sessions").glob("*.unlock"))


@pytest.mark.sqlite_only  # `custodes init` in the terminal makes an embedded ledger
def test_signing_in_on_a_blocked_ledger_keeps_no_file_and_the_director_corrects_it(
    tmp_path: Path,
) -> None:
    """A clock set ahead blocks every act, the session key's vouching too: the terminal
    goes on with the key unlocked in its own process, writes no unlock file, and the
    Director can still correct the clock (R25, R26)."""
    from ledger.app import open_ledger
    from ledger.errors import NotPermitted

    bindir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CUSTODES_")},
        "PATH": bindir + os.pathsep + os.environ["PATH"],
        "CUSTODES_DATA_DIR": str(tmp_path / "d"),
    }
    secret = passphrase(DIRECTOR).encode()
    _pty_session("custodes init --director 'Dana Director'", env, [secret, secret])
    ahead = open_ledger(
        DataDir.open(tmp_path / "d"), clock=ManualClock(datetime.now(UTC) + timedelta(days=30))
    )
    try:  # the Director's own refused attempt, recorded by a clock 30 days ahead
        ahead.authenticate(DIRECTOR, secret)
        with pytest.raises(NotPermitted):
            ahead.register_camera(
                "x", location="x", zone="restroom", signage_posted=True, actor=DIRECTOR
            )
    finally:
        ahead.close()
    shown = _pty_session(
        "custodes login 'Dana Director'; custodes clock show; echo show=$?; "
        "custodes clock correct --reason 'test host clock' --as 'Dana Director'; "
        "custodes clock show; echo show=$?",
        env,
        [secret, secret],  # asked again: nothing was remembered
    )
    assert "not remembered for this terminal" in shown, shown
    assert "show=1" in shown and "BLOCKED: 1 act(s)" in shown
    assert "Clock corrected at entry" in shown and "show=0" in shown
    assert not list((tmp_path / "d" / "sessions").glob("*.unlock"))
