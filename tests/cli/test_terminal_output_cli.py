"""Terminal escapes never reach the screen (issue 14, finding 7): control characters in
stored names and reasons are printed escaped by every human output -- tables, `log`,
`request show`, `staff list`, messages -- and names holding them are refused at entry.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, NotPermitted
from ledger.rules import STAFF_ACTIVE
from ledger.text import clean_text, printable
from tests.conftest import NOW
from tests.identity import CustodesRunner, enrol, open_test_ledger

D = "Dana Director"
CLEAR = "\x1b[2J"  # erase the screen
TITLE = "\x1b]0;pwned\x07"  # OSC: set the window title
EVIL = f"Mallory{CLEAR}{TITLE}"
RAW = ("\x1b", "\x07", "\x9b")


def test_printable_escapes_every_control_and_reordering_character() -> None:
    assert printable(CLEAR) == "\\x1b[2J"
    assert printable(TITLE) == "\\x1b]0;pwned\\x07"
    assert printable("a\x9bb\x7fc\x00") == "a\\x9bb\\x7fc\\x00"
    assert printable("left\u202eright") == "left\\u202eright"
    assert printable("line 1\nline 2\ttab", keep_newlines=True) == "line 1\nline 2\\x09tab"
    assert printable("line 1\nline 2") == "line 1\\x0aline 2"
    assert printable("Łukasz Nowak — café") == "Łukasz Nowak — café"
    assert printable(printable(EVIL)) == printable(EVIL)


@pytest.mark.parametrize("value", [CLEAR, TITLE, "a\u202eb", "x\x00y", "tab\x9b"])
def test_names_holding_control_characters_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="holds a control character") as refused:
        clean_text(value, kind="name", what="the name")
    assert not any(c in str(refused.value) for c in RAW)


def run(data: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def no_raw_controls(result: Result) -> str:
    text = result.stdout + result.stderr
    assert not any(c in text for c in RAW), repr(text)
    return text


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger holding control characters recorded before they were refused at entry:
    a staff member so named, an attempt under such a name, a request that names them."""
    path = tmp_path / "data"
    run(path, "init", "--director", D)
    ledger = open_test_ledger(DataDir.open(path), clock=ManualClock(NOW))
    try:
        with monkeypatch.context() as older:  # as an older version did: names unchecked
            older.setattr("ledger.identity.check_name", lambda name, what="": name)
            enrol(ledger, EVIL, "staff")
        with pytest.raises(NotPermitted):
            ledger.authorize(f"Eve{TITLE}", "footage view", (), STAFF_ACTIVE, subject=CLEAR)
        ledger.open_request(
            requester_kind="public", requester="Pat Public", received_by=EVIL,
            records=["footage"], description="the lobby on Monday", actor=D,
        )  # fmt: skip
    finally:
        ledger.close()
    return path


def recorded(data: Path) -> list[dict[str, object]]:
    """Every event but the reads of the log made to look (R27 records those)."""
    events = json.loads(run(data, "log", "--json", "--limit", "1000").stdout)
    return [e for e in events if e["kind"] != "ConfidentialRecordRead"]


def test_stored_escapes_print_escaped_everywhere(data: Path) -> None:
    listing = no_raw_controls(run(data, "staff", "list"))
    assert "Mallory\\x1b[2J\\x1b]0;pwned\\x07" in listing
    log = no_raw_controls(run(data, "log"))
    assert "Eve\\x1b]0;pwned\\x07" in log
    assert "Mallory\\x1b[2J" in no_raw_controls(run(data, "request", "show", "R-2026-0001"))
    assert "Eve\\x1b]0;pwned" in no_raw_controls(run(data, "report", "access"))
    no_raw_controls(run(data, "request", "list"))
    as_json = run(data, "log", "--json")
    no_raw_controls(as_json)
    assert any(e["actor"] == f"Eve{TITLE}" for e in json.loads(as_json.stdout))  # data intact


def test_names_with_escapes_are_refused_at_entry_and_messages_show_them_escaped(
    data: Path, tmp_path: Path
) -> None:
    before = recorded(data)
    refused = run(data, "staff", "add", f"Trudy{CLEAR}", "--role", "staff", "--as", D, code=1)
    assert "the staff member's name holds a control character (\\x1b)" in no_raw_controls(refused)
    actor = run(data, "footage", "flag", "0123456789ab", "--incident", "IR-1", "--reason", "theft", "--as", EVIL,
                code=2)  # fmt: skip
    assert "holds a control character" in no_raw_controls(actor)
    opened = run(data, "request", "open", "--requester-kind", "public", "--requester",
                 f"Pat{TITLE}", "--received-by", D, "--records", "footage", "--description",
                 "x", "--as", D, code=1)  # fmt: skip
    assert "the requester holds a control character" in no_raw_controls(opened)
    camera = run(data, "camera", "add", f"cam{CLEAR}", "--location", "Lobby", "--zone",
                 "public", "--signage-posted", "--as", D, code=1)  # fmt: skip
    no_raw_controls(camera)
    assert recorded(data) == before  # nothing recorded

    # A file name is quoted in an error message: escaped there too.
    weird = tmp_path / f"clip{CLEAR}.mp4"
    weird.write_text("not a video")
    run(data, "camera", "add", "lobby-1", "--location", "Lobby", "--zone", "public",
        "--signage-posted", "--as", D)  # fmt: skip
    ingest = run(data, "footage", "ingest", str(weird), "--camera", "lobby-1", "--as", D, code=1)
    assert "clip\\x1b[2J.mp4" in no_raw_controls(ingest)
