"""The ledger commits to the whole evidence manifest, not the site key alone (red team,
session 14): anyone with keys/signing.pem rewrote a format-2 package's recipient, case
number, camera and recording times, re-signed SHA256SUMS, and every check said OK. A
format-3 package so rewritten fails `custodes verify-export` and the shipped verify.py;
a format-2 package (already handed out) still verifies, and both say what it leaves to
the signature alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capture.export import ExportIncomplete, finish_pending_exports
from cli.main import custodes
from ledger.app import Ledger
from ledger.datadir import DataDir
from ledger.evidence import MANIFEST_FORMAT, MANIFEST_FORMAT_2, content_digest, sums_text
from tests.conftest import require_tool
from tests.integration.footage_helpers import footage_ledger
from tests.integration.test_export import _approved_request, _export, _segment

Manifest = dict[str, Any]
FORMAT_2_NOTE = f"Note: manifest format {MANIFEST_FORMAT_2}: the ledger commits to"


def verify_export(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(custodes, ["verify-export", str(path)])
    return result.exit_code, result.stdout + result.stderr


def run_script(package: Path) -> subprocess.CompletedProcess[str]:
    """The package's own verify.py, as a recipient runs it (docs/EXPORTS.md)."""
    require_tool("python3", "recipients run verify.py with the system's Python")
    return subprocess.run(
        ["python3", "-I", "verify.py"], cwd=package, capture_output=True, text=True
    )


def resign(package: Path, data_dir: Path) -> None:
    """What the holder of keys/signing.pem alone can do: new SHA256SUMS, new signature."""
    files = [str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()]
    sums = sums_text(package, [f for f in files if not f.startswith("SHA256SUMS")])
    (package / "SHA256SUMS").write_text(sums)
    key = DataDir.open(data_dir).signing_key(None)
    (package / "SHA256SUMS.sig").write_bytes(key.sign(sums.encode()))


def rewritten(
    package: Path, tmp_path: Path, data_dir: Path, edit: Callable[[Manifest], None]
) -> Path:
    """A copy of ``package`` whose manifest ``edit`` changed, re-signed with the site key."""
    copy = tmp_path / "rewritten"
    shutil.copytree(package, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    edit(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    resign(copy, data_dir)
    return copy


def export(data_dir: Path, tmp_path: Path, **kw: object) -> tuple[Ledger, Path]:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence"
    _export(ledger, [seg], ref, out, **kw)
    return ledger, out


@pytest.fixture
def package(data_dir: Path, tmp_path: Path) -> Path:
    return export(data_dir, tmp_path)[1]


def other_agency(m: Manifest) -> None:
    m["recipient"] = m["release"]["recipient"] = "Sgt. B. Wolfe, Illinois State Police"


def other_case(m: Manifest) -> None:
    m["case_number"] = "ISP-26-5550"


def other_camera(m: Manifest) -> None:
    m["clips"][0]["camera_id"] = "kids-room"


def other_time(m: Manifest) -> None:
    m["clips"][0]["recorded_start"] = "2026-10-03T21:00:00+00:00"
    m["clips"][0]["recorded_end"] = "2026-10-03T21:00:01+00:00"


def other_exporter(m: Manifest) -> None:
    m["exporter"] = {"name": "Bo Manager", "role": "business_manager"}


def release_only(m: Manifest) -> None:
    m["release"]["recipient"] = "Sgt. B. Wolfe, Illinois State Police"


def added_field(m: Manifest) -> None:
    m["note"] = "chain of custody: Illinois State Police"


def red_team(m: Manifest) -> None:
    """/tmp/rt-verify/scripts/resign_evidence.py, the finding's reproduction."""
    for edit in (other_agency, other_case, other_camera, other_time):
        edit(m)


@pytest.mark.parametrize(
    "edit",
    [
        other_agency, other_case, other_camera, other_time, other_exporter, release_only,
        added_field, red_team,
    ],
)  # fmt: skip
def test_a_format_3_manifest_rewritten_and_resigned_with_the_site_key_fails_both_checks(
    package: Path, tmp_path: Path, data_dir: Path, edit: Callable[[Manifest], None]
) -> None:
    assert json.loads((package / "manifest.json").read_text())["format"] == MANIFEST_FORMAT
    ok = run_script(package)
    assert ok.returncode == 0 and FORMAT_2_NOTE not in ok.stdout, ok.stdout + ok.stderr
    code, said = verify_export(package)
    assert code == 0 and FORMAT_2_NOTE not in said, said
    # no key given: both say the key is the package's own (red team, session 16: a package
    # forged from scratch with a fresh key verified, and nothing said so)
    assert "not one you gave" in ok.stdout and "not one you gave" in said

    copy = rewritten(package, tmp_path, data_dir, edit)
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=copy).returncode == 0
    message = "manifest.json does not match its content digest"
    script = run_script(copy)
    assert script.returncode == 3 and message in script.stderr, script.stdout + script.stderr
    code, said = verify_export(copy)
    assert code == 3 and message in said, said


def test_a_format_3_manifest_passed_off_as_format_2_does_not_match_its_ledger_entry(
    package: Path, tmp_path: Path, data_dir: Path
) -> None:
    """A downgrade: the format-2 digest of the same clips is not the one the export's id
    commits to."""

    def downgraded(m: Manifest) -> None:
        red_team(m)
        m["format"] = MANIFEST_FORMAT_2
        m["content_digest"] = content_digest(m["clips"], m["request"], m["exported_at"])

    copy = rewritten(package, tmp_path, data_dir, downgraded)
    script = run_script(copy)
    assert script.returncode == 3, script.stdout + script.stderr
    assert "its entry does not commit to these clips" in script.stderr
    code, said = verify_export(copy)
    assert code == 3 and "its event does not commit to these clips" in said, said


def test_a_clip_added_to_a_resigned_package_is_not_in_the_export(
    package: Path, tmp_path: Path, data_dir: Path
) -> None:
    copy = tmp_path / "added"
    shutil.copytree(package, copy)
    (only,) = (copy / "clips").iterdir()
    shutil.copy(only, copy / "clips" / "aaaaaaaaaaaa.mp4")
    resign(copy, data_dir)
    message = "clips/aaaaaaaaaaaa.mp4 is in the package but not in manifest.json's clips"
    script = run_script(copy)
    assert script.returncode == 3 and message in script.stderr, script.stdout + script.stderr
    code, said = verify_export(copy)
    assert code == 3 and message in said, said


def test_a_manifest_naming_a_member_twice_is_refused(
    package: Path, tmp_path: Path, data_dir: Path
) -> None:
    """A reader keeping the first of two members would see another recipient than the
    digested one (Python keeps the last)."""
    copy = tmp_path / "twice"
    shutil.copytree(package, copy)
    text = (copy / "manifest.json").read_text()
    forged = '{\n  "recipient": "Sgt. B. Wolfe, Illinois State Police",' + text[1:]
    (copy / "manifest.json").write_text(forged)
    resign(copy, data_dir)
    script = run_script(copy)
    assert script.returncode == 3 and "manifest.json names a member twice" in script.stderr
    code, said = verify_export(copy)
    assert code == 3 and "manifest.json names a member twice" in said, said


def format_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Export as Custodes did before format 3: the manifest's digest is then format 2's."""
    monkeypatch.setattr("ledger.export_commands.MANIFEST_FORMAT", MANIFEST_FORMAT_2)


def test_a_format_2_package_still_verifies_and_both_checks_say_what_rests_on_the_signature(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    format_2(monkeypatch)
    _, package = export(data_dir, tmp_path, regions=[(0, 0, 40, 30)])
    manifest = json.loads((package / "manifest.json").read_text())
    assert manifest["format"] == MANIFEST_FORMAT_2
    old = content_digest(manifest["clips"], manifest["request"], manifest["exported_at"])
    assert manifest["content_digest"] == old  # the digest format 2 always had

    for copy in (package, rewritten(package, tmp_path, data_dir, red_team)):
        script = run_script(copy)
        assert script.returncode == 0, script.stderr
        assert script.stdout.startswith("OK: ") and FORMAT_2_NOTE in script.stdout
        code, said = verify_export(copy)
        assert code == 0 and FORMAT_2_NOTE in said, said
    # Its clips are still bound by the ledger.
    changed = rewritten(package, tmp_path / "2", data_dir, lambda m: m.update(request="R-1"))
    assert run_script(changed).returncode == 3
    assert verify_export(changed)[0] == 3


def test_a_format_2_export_left_pending_by_a_crash_before_the_upgrade_is_finished_as_format_2(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its id commits to the format-2 digest: finished as format 3, it would not verify."""
    from tests.integration.test_export_delivery import Crash

    def crash(step: str) -> None:
        raise Crash(step)

    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    format_2(monkeypatch)
    with pytest.raises(ExportIncomplete):
        _export(ledger, [seg], ref, tmp_path / "evidence", fail_at=crash)
    monkeypatch.undo()
    (note,) = (data_dir / "exports" / "pending").glob("*.json")
    pending = json.loads(note.read_text())
    manifest = pending.pop("manifest")  # the note as Custodes wrote it before format 3
    fields = ("case_number", "recipient", "purpose", "exporter", "exported_at", "clips")
    pending.update({k: manifest[k] for k in fields}, format="custodes-pending-export/1")
    note.write_text(json.dumps(pending))

    assert ledger.datadir is not None
    (done,) = finish_pending_exports(ledger, ledger.datadir.signing_key(None))
    assert json.loads((done.path / "manifest.json").read_text())["format"] == MANIFEST_FORMAT_2
    assert run_script(done.path).returncode == 0
    assert verify_export(done.path)[0] == 0


def test_a_linked_directory_or_file_in_a_package_is_refused(package: Path, tmp_path: Path) -> None:
    """Red team (session 16): a symbolic link to a directory put files in the package that
    neither checker saw (a walk does not enter a linked directory), and both said OK."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "49eddcda7d8b.unredacted.mp4").write_bytes(b"FAKE VIDEO")
    for name, target in (("more", outside), ("x.mp4", outside / "49eddcda7d8b.unredacted.mp4")):
        copy = tmp_path / f"linked-{name}"
        shutil.copytree(package, copy)
        (copy / "clips" / name).symlink_to(target)
        message = f"clips/{name} is a symbolic link or a special file"
        script = run_script(copy)
        assert script.returncode == 3 and message in script.stderr, script.stdout + script.stderr
        code, said = verify_export(copy)
        assert code == 3 and message in said, said


def test_a_failing_package_says_so_on_stdout_with_json_and_a_bad_proof_is_damage(
    package: Path, tmp_path: Path, data_dir: Path
) -> None:
    """Red team (session 16): `verify-export --json` printed nothing on stdout when a check
    failed, and a re-signed package with an unreadable proof.json exited 1 (bad input)
    where verify.py said 3."""
    copy = tmp_path / "badproof"
    shutil.copytree(package, copy)
    proof = json.loads((copy / "proof.json").read_text())
    del proof["entry"]["topic"]
    (copy / "proof.json").write_text(json.dumps(proof))
    resign(copy, data_dir)
    result = CliRunner().invoke(custodes, ["verify-export", str(copy), "--json"])
    assert result.exit_code == 3, result.output
    said = json.loads(result.stdout)
    assert said["ok"] is False and "proof.json" in said["error"]
    assert run_script(copy).returncode == 3
