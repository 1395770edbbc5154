"""What a recipient does with an evidence package, run for real: the docs/EXPORTS.md
recipe (sha256sum, openssl) and the shipped verify.py under a plain `python3 -I`; after
either, `custodes verify-export` still checks out, and an added file is still reported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from capture.export import README
from cli.main import custodes
from ledger.checkpoint import generate_signing_key, public_key_pem
from ledger.evidence import verifier_script
from tests.conftest import require_tool
from tests.integration.footage_helpers import footage_ledger
from tests.integration.test_export import _approved_request, _export, _segment

DOCS = Path(__file__).resolve().parents[2] / "docs"


def recipe() -> str:
    """The recipient's shell block of docs/EXPORTS.md, "Checking it (recipient)"."""
    section = (DOCS / "EXPORTS.md").read_text().split("## Checking it (recipient)", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def commands(text: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        " ".join(line.split())
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.strip().startswith("cd ")
    ]


@pytest.fixture
def package(data_dir: Path, tmp_path: Path) -> Path:
    ledger = footage_ledger(data_dir)
    seg = _segment(ledger, tmp_path)
    ref = _approved_request(ledger, [seg])
    out = tmp_path / "evidence-R"
    _export(ledger, [seg], ref, out, regions=[(0, 0, 40, 30)])
    return out


def verify_export(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(custodes, ["verify-export", str(path)])
    return result.exit_code, result.stdout + result.stderr


def run_script(package: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    require_tool("python3", "recipients run verify.py with the system's Python")
    return subprocess.run(
        ["python3", "-I", "verify.py", *args], cwd=cwd or package, capture_output=True, text=True
    )


def test_the_exports_md_recipe_runs_and_leaves_the_package_as_it_was(package: Path) -> None:
    for tool in ("sha256sum", "openssl", "base64", "sed", "grep"):
        require_tool(tool, "the recipient's recipe in docs/EXPORTS.md uses it")
    before = sorted(p.name for p in package.rglob("*"))
    script = recipe().replace("cd evidence-R-2026-0004", f"cd '{package}'")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("Signature Verified Successfully") == 2
    assert sorted(p.name for p in package.rglob("*")) == before
    assert verify_export(package)[0] == 0
    # The package's README gives the same commands.
    readme = (package / "README.txt").read_text()
    for command in commands(recipe()):
        assert command in commands(readme), command
    assert re.search(r"-- exported \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by ", readme), readme


def test_the_shipped_script_checks_the_package_with_the_standard_library(
    package: Path, tmp_path: Path
) -> None:
    assert (package / "verify.py").read_bytes() == verifier_script()
    listed = (package / "SHA256SUMS").read_text()
    assert "  verify.py\n" in listed
    ok = run_script(package)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((package / "manifest.json").read_text())
    assert ok.stdout.startswith(f"OK: {len(listed.splitlines())} files match SHA256SUMS")
    assert f"clip(s) for {manifest['request']}; the export is entry" in ok.stdout
    # From elsewhere, with the key pinned.
    (tmp_path / "library.pem").write_bytes((package / "public-key.pem").read_bytes())
    pinned = run_script(
        package, str(package), "--public-key", str(tmp_path / "library.pem"), cwd=package
    )
    assert pinned.returncode == 0, pinned.stderr
    (tmp_path / "other.pem").write_bytes(public_key_pem(generate_signing_key()))
    other = run_script(package, "--public-key", str(tmp_path / "other.pem"))
    assert (other.returncode, other.stderr) == (
        3,
        "FAILED: SHA256SUMS.sig does not verify: SHA256SUMS was changed or signed by another key\n",
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("added file", "notes.txt is in the package but not in SHA256SUMS"),
        ("changed clip", "does not match its SHA-256 in SHA256SUMS: it was changed"),
        ("changed sums", "SHA256SUMS.sig does not verify"),
    ],
)
def test_the_script_and_verify_export_report_the_same_damage(
    package: Path, tmp_path: Path, damage: str, message: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    if damage == "added file":
        (copy / "notes.txt").write_text("the recipient's notes")
    elif damage == "changed clip":
        clip = next((copy / "clips").iterdir())
        data = bytearray(clip.read_bytes())
        data[len(data) // 2] ^= 1
        clip.write_bytes(bytes(data))
    else:
        sums = copy / "SHA256SUMS"
        sums.write_text(sums.read_text().replace("  README.txt", "  README.TXT"))
    script = run_script(copy)
    assert script.returncode == 3 and message in script.stderr, script.stderr
    code, output = verify_export(copy)
    assert code == 3 and message.split(":")[0].split(" is ")[0] in output


def test_a_package_resigned_by_the_library_with_a_forged_proof_is_caught_by_the_script(
    package: Path, tmp_path: Path, data_dir: Path
) -> None:
    """Even the library's own key cannot make the script accept a proof for other clips:
    the entry's aggregate id must commit to the manifest's content digest."""
    from ledger.datadir import DataDir
    from ledger.evidence import sums_text

    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    proof = json.loads((copy / "proof.json").read_text())
    proof["entry"]["originator_id"] = "00000000-0000-5000-8000-000000000000"
    (copy / "proof.json").write_text(json.dumps(proof))
    files = [str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()]
    sums = sums_text(copy, [f for f in files if not f.startswith("SHA256SUMS")])
    (copy / "SHA256SUMS").write_text(sums)
    key = DataDir.open(data_dir).signing_key(None)
    (copy / "SHA256SUMS.sig").write_bytes(key.sign(sums.encode()))
    script = run_script(copy)
    assert script.returncode == 3
    assert "its entry does not commit to these clips" in script.stderr
    assert verify_export(copy)[0] == 3


def test_the_readme_tells_recipients_how_to_run_the_script() -> None:
    assert "python3 -I verify.py" in README
    assert "pip install" not in README
    assert "pip install custodes" not in (DOCS / "EXPORTS.md").read_text()
