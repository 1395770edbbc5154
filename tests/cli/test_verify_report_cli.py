"""Provable reports (issue 13, item 9): every disclosure row of `report compliance`'s JSON
and of `report disclosures --json --prove` rests on log entries with inclusion proofs
against the report's signed checkpoint; `custodes verify-report` checks them without the
ledger, and with the events key checks that the events say what the rows say."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_reports_cli import PERIOD, compliance, run
from tests.cli.test_reports_cli import world as world  # noqa: F401 - the scenario


def _public_key(data: Path, tmp_path: Path) -> Path:
    key = tmp_path / "library.pem"
    key.write_text(run(data, "keys", "export-public").stdout)
    return key


def _verify(report: Path, key: Path, *extra: str, code: int = 0, data: Path | None = None):  # noqa: ANN202
    args = ["verify-report", str(report), "--key", str(key), "--json", *extra]
    if data is None:  # no ledger: a directory that is none
        return run(report.parent / "no-ledger", *args, code=code)
    return run(data, *args, code=code)


def test_the_compliance_report_rows_prove_and_a_tampered_row_fails(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc = world
    out = tmp_path / "report.json"
    compliance(data, "json", out)
    report = json.loads(out.read_text())
    rows = report["disclosures"]["rows"]
    assert rows, "the scenario has disclosure requests"
    proofs = report["proofs"]
    assert proofs["checkpoint"] == report["integrity"]["checkpoint"]
    for row, proved in zip(rows, proofs["rows"], strict=False):
        assert proved["ref"] == row["request_id"]
        assert proved["positions"] == [e["position"] for e in proved["entries"]]
        assert all(p <= proofs["tree_size"] for p in proved["positions"])
    key = _public_key(data, tmp_path)
    ok = json.loads(_verify(out, key).stdout)
    assert ok["ok"] is True and ok["rows"] == len(rows) + len(report["cameras"]["rows"])
    assert ok["entries"] == sum(len(r["entries"]) for r in proofs["rows"])
    with_events = json.loads(_verify(out, key, "--events", data=data).stdout)
    assert with_events["events_checked"] is True

    # A row that says another decision than its events: the proofs still hold, the
    # events (with the key) say otherwise.
    lied = json.loads(out.read_text())
    decided = next(r for r in lied["disclosures"]["rows"] if r["decision"] != "pending")
    decided["decision"] = "denied" if decided["decision"] == "approved" else "approved"
    (tmp_path / "lied.json").write_text(json.dumps(lied))
    _verify(tmp_path / "lied.json", key, code=0)
    caught = _verify(tmp_path / "lied.json", key, "--events", code=3, data=data)
    assert "is not what its events say: decision" in caught.stderr

    # A camera row moved to the staff room: its camera's events say otherwise.
    moved = json.loads(out.read_text())
    assert moved["cameras"]["rows"], "the scenario has cameras"
    assert [r["table"] for r in moved["proofs"]["rows"]].count("cameras") == len(
        moved["cameras"]["rows"]
    )
    moved["cameras"]["rows"][0]["location"] = "Staff room"
    (tmp_path / "moved.json").write_text(json.dumps(moved))
    caught = _verify(tmp_path / "moved.json", key, "--events", code=3, data=data)
    assert "cameras row 1" in caught.stderr and "location" in caught.stderr

    # An entry's digest changed, a path hash altered, an entry left out, a row moved to
    # another request's entries: each fails without the ledger (exit 3).
    def tampered(change) -> str:  # type: ignore[no-untyped-def]
        doc = json.loads(out.read_text())
        change(doc)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(doc))
        return _verify(path, key, code=3).stderr

    def digest(doc: dict) -> None:
        entry = doc["proofs"]["rows"][0]["entries"][0]
        entry["state_digest"] = "00" * 32

    def path_hash(doc: dict) -> None:
        entry = doc["proofs"]["rows"][0]["entries"][-1]
        entry["inclusion_path"][0] = "A" * 43 + "="

    def left_out(doc: dict) -> None:
        row = doc["proofs"]["rows"][0]
        del row["entries"][0], row["positions"][0]

    def borrowed(doc: dict) -> None:
        a, b = doc["proofs"]["rows"][0], doc["proofs"]["rows"][1]
        a["entries"], a["positions"] = b["entries"], b["positions"]

    assert "state does not match its digest" in tampered(digest)
    assert "inclusion proof fails" in tampered(path_hash)
    assert "an event is left out" in tampered(left_out)
    assert "is of another subject" in tampered(borrowed)


def test_the_register_proves_and_extends_an_earlier_checkpoint(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc = world
    earlier = tmp_path / "board.checkpoint"
    run(data, "checkpoint", "--out", str(earlier))
    out = tmp_path / "register.json"
    out.write_text(run(data, "report", "disclosures", *PERIOD, "--json", "--prove").stdout)
    register = json.loads(out.read_text())
    assert register["rows"] and len(register["proofs"]["rows"]) == len(register["rows"])
    key = _public_key(data, tmp_path)
    (tmp_path / "report.checkpoint").write_text(register["proofs"]["checkpoint"])
    run(data, "prove", "--consistency", str(earlier), str(tmp_path / "report.checkpoint"),
        "--out", str(tmp_path / "extends.json"))  # fmt: skip
    ok = json.loads(
        _verify(
            out, key, "--consistency", str(tmp_path / "extends.json"), "--checkpoint", str(earlier)
        ).stdout  # fmt: skip
    )
    assert ok["ok"] is True and ok["extends_checkpoint_of"] > 0
    assert json.loads(_verify(out, key, "--events", data=data).stdout)["events_checked"]

    # A register row edited to another reference no longer rests on its entries.
    doc = json.loads(out.read_text())
    doc["rows"][0]["ref"] = doc["rows"][1]["ref"]
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    assert "is of another subject" in _verify(tmp_path / "edited.json", key, code=3).stderr
