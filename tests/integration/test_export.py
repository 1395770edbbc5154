"""Evidence exports: a package law enforcement can check with sha256sum and openssl alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from capture.export import export_footage
from capture.ingest import ingest_paths
from cli.main import custodes
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.errors import InvalidInput, NotPermitted
from ledger.evidence import EvidenceInvalid, verify_package
from tests.conftest import NOW
from tests.identity import CustodesRunner
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip, footage_ledger

LATER = NOW + timedelta(days=3)


def _segment(ledger: Ledger, tmp_path: Path, n: int = 0) -> str:
    ledger.clock.set(NOW)
    summary = ingest_paths(ledger, [clip(tmp_path / "in", n)], camera=CAMERA, actor=DIRECTOR)
    (outcome,) = summary.outcomes
    assert outcome.segment_id is not None, outcome.message
    return outcome.segment_id


def _approved_request(ledger: Ledger, segments: list[str]) -> str:
    ledger.clock.set(NOW)
    ref = ledger.open_request(
        requester_kind="law_enforcement",
        requester="Det. Ray, Mahomet PD",
        received_by=DIRECTOR,
        records=["footage"],
        description="theft in the lobby",
        footage=segments,
        case_number="MPD-26-1187",
        actor=DIRECTOR,
    )
    ledger.decide(ref, approve=True, reason="active investigation", actor=DIRECTOR)
    return ref


def _export(ledger: Ledger, segments: list[str], ref: str, to: Path, **kw: object):  # noqa: ANN202
    assert ledger.datadir is not None
    key = ledger.datadir.signing_key(None)
    ledger.clock.set(LATER)
    kw.setdefault("remote", False)
    return export_footage(
        ledger, segments, request_ref=ref, to=to, actor=DIRECTOR, signing_key=key, **kw
    )


def test_an_export_verifies_with_sha256sum_openssl_and_custodes(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence"
    result = _export(ledger, [seg], ref, out)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["request"] == ref and manifest["case_number"] == "MPD-26-1187"
    (only,) = manifest["clips"]
    assert only["original_sha256"] == only["sha256"] == ledger.segment_info(seg).sha256
    assert only["redaction"] is None
    report = verify_package(out)
    assert report.clips == 1 and report.export_event_position == result.event_position

    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    openssl = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin",
        "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig",
    ]  # fmt: skip
    signed = subprocess.run(openssl, cwd=out, capture_output=True, text=True)
    assert signed.returncode == 0 and "Signature Verified Successfully" in signed.stdout

    # The export is a release on the request, an export with its derivations, and a viewing.
    (release,) = ledger.request_view(ref)["releases"]
    assert release["footage"] == [{"segment_id": seg, "sha256": only["original_sha256"]}]
    assert manifest["release"]["inventory_sha256"] == release["inventory_sha256"]
    kinds = [e.kind for e in ledger.read_log()]
    assert "EvidenceExported" in kinds and "ClipDerived" in kinds
    assert kinds[-1] == "FootageViewed"

    # Any changed byte fails both ways.
    clip_file = out / only["file"]
    data = bytearray(clip_file.read_bytes())
    data[len(data) // 2] ^= 1
    clip_file.write_bytes(bytes(data))
    assert (
        subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True).returncode
        == 1
    )
    with pytest.raises(EvidenceInvalid, match="does not match its SHA-256 in SHA256SUMS"):
        verify_package(out)
    sums_file = out / "SHA256SUMS"
    sums_file.write_text(sums_file.read_text().replace(only["sha256"], "0" * 64))
    assert subprocess.run(openssl, cwd=out, capture_output=True).returncode != 0
    with pytest.raises(EvidenceInvalid, match="SHA256SUMS.sig does not verify"):
        verify_package(out)


def test_a_redacted_export_records_its_derivation(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence"
    _export(ledger, [seg], ref, out, redact_faces=True, regions=[(0, 0, 40, 30)])
    (only,) = json.loads((out / "manifest.json").read_text())["clips"]
    assert only["file"] == f"clips/{seg}.redacted.mp4"
    assert only["sha256"] != only["original_sha256"]
    assert only["redaction"]["regions"] == [[0, 0, 40, 30]]
    assert only["redaction"]["caption_zone"] == "America/Chicago"  # burned in as site time
    assert not (out / "clips" / f"{seg}.mp4").exists()
    derived = [e for e in ledger.read_log(kinds=["ClipDerived"])]
    assert [(e.details["original_sha256"], e.details["sha256"]) for e in derived] == [
        (only["original_sha256"], only["sha256"])
    ]
    verify_package(out)


def test_footage_the_director_did_not_approve_is_refused_and_nothing_exported(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    approved, other = _segment(ledger, tmp_path, 0), _segment(ledger, tmp_path, 1)
    ref = _approved_request(ledger, [approved])
    out = tmp_path / "evidence"
    with pytest.raises(
        NotPermitted, match=f"POLICY-DENY-BY-DEFAULT .*approved footage does not include {other}"
    ):
        _export(ledger, [approved, other], ref, out)
    assert not out.exists()
    assert list(tmp_path.glob(".evidence.*")) == []
    refusal = list(ledger.read_log(kinds=["AccessDenied"]))[-1]
    assert refusal.details["action"] == "export footage" and refusal.details["subject"] == ref


def test_staff_may_not_export(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    assert ledger.datadir is not None
    with pytest.raises(NotPermitted, match="FOOTAGE-ARCHIVE-ACCESS"):
        ledger.clock.set(LATER)
        export_footage(
            ledger, [seg], request_ref=ref, to=tmp_path / "e", actor=STAFF, remote=False, signing_key=ledger.datadir.signing_key(None),
        )  # fmt: skip


def test_an_export_into_a_non_empty_directory_is_refused(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(InvalidInput, match="is not an empty directory"):
        _export(ledger, [seg], ref, tmp_path / "busy")


def test_the_cli_exports_and_verify_export_exits_3_on_a_changed_package(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    ledger.close()
    runner = CustodesRunner()
    base = ["--data-dir", str(data_dir)]
    out = tmp_path / "pkg"
    made = runner.invoke(
        custodes,
        [*base, "footage", "export", seg, "--request", ref, "--to", str(out), "--as", DIRECTOR],
        obj=ManualClock(LATER),
    )
    assert made.exit_code == 0, made.output
    ok = runner.invoke(custodes, ["verify-export", str(out), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["clips"] == 1
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "manifest.json").write_text(
        (copy / "manifest.json").read_text().replace(ref, "R-2026-9999")
    )
    bad = runner.invoke(custodes, ["verify-export", str(copy)])
    assert bad.exit_code == 3
    assert "manifest.json does not match its SHA-256 in SHA256SUMS" in bad.stderr
    bad_region = runner.invoke(
        custodes,
        [*base, "footage", "export", seg, "--request", ref, "--to", str(tmp_path / "x"),
         "--region", "1,2,3", "--as", DIRECTOR],
        obj=ManualClock(LATER),
    )  # fmt: skip
    assert bad_region.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_a_purged_segment_cannot_be_exported(data_dir: Path, tmp_path: Path) -> None:
    from capture.ingest import open_vault
    from capture.sweep import sweep
    from projections.registry import open_views
    from projections.retention import due_segment_ids

    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    later = NOW + timedelta(days=60)
    views = open_views(ledger)
    with views.connect() as conn:
        due = due_segment_ids(conn, later)
    views.close()
    ledger.clock.set(later)
    result = sweep(ledger, open_vault(ledger), due, actor=DIRECTOR)
    assert [(o.segment_id, o.status) for o in result.outcomes] == [(seg, "purged")]
    assert ledger.datadir is not None
    with pytest.raises(InvalidInput, match=f"segment {seg} was purged on"):
        ledger.clock.set(later)
        export_footage(
            ledger, [seg], request_ref=ref, to=tmp_path / "e", actor=DIRECTOR, remote=False,
            signing_key=ledger.datadir.signing_key(None),
        )  # fmt: skip
    assert not (tmp_path / "e").exists()
