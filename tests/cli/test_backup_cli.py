"""`custodes backup` and `custodes restore` through click: exit codes, stderr text, --json."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import custodes
from ledger.checkpoint import parse_unverified, public_key_pem, sign_checkpoint
from ledger.clock import ManualClock
from tests.conftest import NOW
from tests.identity import CustodesRunner

DIRECTOR = "Dana Director"
STAFF = "Sam Staff"
CARD, NAME = "2100-077123", "Quentin Zebulon-Patron"


# Backups are of the embedded SQLite ledger; on PostgreSQL `custodes backup` points at
# pg_dump (the last test here; tests/integration/test_backup_postgres.py runs that recipe).
pytestmark = pytest.mark.sqlite_only


def invoke(data: Path | None, *args: str, code: int | None = 0, **kw: object) -> Result:
    head = ["--data-dir", str(data)] if data is not None else []
    result = CustodesRunner().invoke(custodes, [*head, *args], obj=ManualClock(NOW), **kw)  # type: ignore[arg-type]
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    invoke(path, "init", "--director", DIRECTOR, "--library", "Test Library")
    invoke(path, "staff", "add", STAFF, "--role", "staff", "--as", DIRECTOR)
    return path


def backup(data: Path, out: Path) -> dict:
    return json.loads(invoke(data, "backup", "--out", str(out), "--json").stdout)


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def repack(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_a_backup_restores_into_a_new_directory_that_verifies_against_a_kept_checkpoint(
    data: Path, tmp_path: Path
) -> None:
    invoke(data, "checkpoint", "--out", str(tmp_path / "board.checkpoint"))
    invoke(data, "staff", "add", "Bo Business", "--role", "business_manager", "--as", DIRECTOR)
    out = tmp_path / "ledger.backup"
    made = backup(data, out)
    assert made["entries"] == 9 and made["checkpoint_size"] == 9  # init 5, two members 2 each
    assert made["keys_included"] is False and made["footage_included"] is False
    assert made["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    target = tmp_path / "restored"
    result = invoke(
        None, "restore", str(out), "--data-dir", str(target), "--json",
        "--against", str(tmp_path / "board.checkpoint"), "--keys-from", str(data / "keys"),
    )  # fmt: skip
    restored = json.loads(result.stdout)
    assert restored["entries"] == 9
    assert restored["checkpoint_root"] == made["checkpoint_root"]
    assert restored["against"]["size"] == 7
    assert restored["keys_restored"] is True and restored["keys_skipped"] == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "keys" / "events.key").stat().st_mode) == 0o600
    assert "OK: 9 entries verify" in invoke(target, "verify").stdout
    invoke(target, "verify", "--against", str(tmp_path / "board.checkpoint"))
    staff = json.loads(invoke(target, "staff", "list", "--json").stdout)
    assert {s["name"] for s in staff} == {DIRECTOR, STAFF, "Bo Business", "Custodes service"}
    # The restored ledger is a working one: it records and checkpoints again.
    invoke(target, "staff", "add", "Cy Counsel", "--role", "counsel", "--as", DIRECTOR)
    invoke(target, "checkpoint")
    assert leftovers(tmp_path) == []


def test_the_backup_holds_no_keys_and_says_where_they_are(data: Path, tmp_path: Path) -> None:
    result = invoke(data, "backup", "--out", str(tmp_path / "b.backup"))
    assert f"Keys are NOT in the backup. They are in {data.absolute() / 'keys'}/" in result.stderr
    assert "After every `custodes patron forget`, replace your key backups" in result.stderr
    names = sorted(members(tmp_path / "b.backup"))
    assert names == sorted(
        f"custodes-backup/{n}"
        for n in (
            "ledger.sqlite", "custodes.json", "checkpoint.txt", "public-key.pem", "README.txt",
            "manifest.json", "SHA256SUMS", "SHA256SUMS.sig",
        )
    )  # fmt: skip
    everything = gzip.decompress((tmp_path / "b.backup").read_bytes())
    for key in (data / "keys").rglob("*.key"):
        assert key.read_bytes().strip() not in everything
    assert b"PRIVATE KEY" not in everything
    manifest = json.loads(members(tmp_path / "b.backup")["custodes-backup/manifest.json"])
    assert manifest["keys_included"] is False and manifest["entries"] == 7


def test_read_models_stay_out_of_the_backup_and_are_rebuilt_after_a_restore(
    data: Path, tmp_path: Path
) -> None:
    invoke(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester",
        "Ofc. Quiet Heron", "--received-by", STAFF, "--records", "registration",
        "--description", "asked", "--as", STAFF,
    )  # fmt: skip
    listed = invoke(data, "request", "list", "--json").stdout
    live = b"".join(p.read_bytes() for p in data.glob("ledger.sqlite*"))
    assert b"Quiet Heron" in live  # a read model holds it in clear
    made = backup(data, tmp_path / "b.backup")
    assert b"Quiet Heron" not in gzip.decompress((tmp_path / "b.backup").read_bytes())
    manifest = json.loads(members(tmp_path / "b.backup")["custodes-backup/manifest.json"])
    assert manifest["read_models_included"] is False
    target = tmp_path / "r"
    invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(target),
        "--keys-from", str(data / "keys"),
    )  # fmt: skip
    with sqlite3.connect(target / "ledger.sqlite") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"ledger_events", "ledger_events_tree", "ledger_events_tree_nodes"}
    assert invoke(target, "request", "list", "--json").stdout == listed
    assert made["entries"] == 9  # the request's opening and its routing to the Director


def test_restore_without_keys_says_how_to_bring_them_back(data: Path, tmp_path: Path) -> None:
    backup(data, tmp_path / "b.backup")
    result = invoke(None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r"))
    assert f"Keys are NOT in backups. Copy your key backup into {tmp_path / 'r' / 'keys'}/" in (
        result.stderr
    )
    assert sorted(p.name for p in (tmp_path / "r" / "keys").iterdir()) == ["signing.pub.pem"]
    assert "OK: 7 entries verify" in invoke(tmp_path / "r", "verify").stdout
    assert "events key" in invoke(tmp_path / "r", "staff", "list", code=1).stderr


def test_a_changed_byte_in_the_backup_file_is_exit_3_and_nothing_is_restored(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.backup"
    backup(data, out)
    raw = bytearray(out.read_bytes())
    original = gzip.decompress(raw)
    # A flipped bit in deflate data can leave the content as it was (e.g. in the code
    # length of a symbol that never occurs): change the first byte from the middle on
    # that really changes the file.
    for at in range(len(raw) // 2, len(raw)):
        raw[at] ^= 0x01
        try:
            if gzip.decompress(raw) != original:
                break
        except (OSError, EOFError, zlib.error):
            break
        raw[at] ^= 0x01
    else:
        pytest.fail("no byte change altered the backup")
    out.write_bytes(bytes(raw))
    target = tmp_path / "r"
    result = invoke(None, "restore", str(out), "--data-dir", str(target), code=3)
    assert "nothing was restored" in result.stderr
    assert not target.exists() and leftovers(tmp_path) == []


def test_a_changed_database_inside_a_well_formed_backup_is_exit_3(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.backup"
    backup(data, out)
    files = members(out)
    db = bytearray(files["custodes-backup/ledger.sqlite"])
    db[len(db) // 2] ^= 0x01
    files["custodes-backup/ledger.sqlite"] = bytes(db)
    repack(out, files)
    result = invoke(None, "restore", str(out), "--data-dir", str(tmp_path / "r"), code=3)
    assert "ledger.sqlite does not match its SHA-256 in SHA256SUMS: it was changed" in (
        result.stderr
    )
    assert not (tmp_path / "r").exists()


def _forge(out: Path) -> None:
    """Re-sign an intact backup with a stranger's key: it checks out on its own."""
    files = members(out)
    p = "custodes-backup/"
    key = Ed25519PrivateKey.generate()
    cp = parse_unverified(files[p + "checkpoint.txt"].decode())
    files[p + "checkpoint.txt"] = sign_checkpoint(cp, key, cp.origin).encode()
    files[p + "public-key.pem"] = public_key_pem(key)
    manifest = json.loads(files[p + "manifest.json"])
    for name in ("checkpoint.txt", "public-key.pem"):
        manifest["members"][name]["sha256"] = hashlib.sha256(files[p + name]).hexdigest()
    files[p + "manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    names = [n for n in manifest["members"]] + ["manifest.json"]
    sums = "".join(
        f"{hashlib.sha256(files[p + n]).hexdigest()}  {n}\n" for n in sorted(names)
    ).encode()
    files[p + "SHA256SUMS"] = sums
    files[p + "SHA256SUMS.sig"] = key.sign(sums)
    repack(out, files)


def test_a_re_signed_backup_passes_its_own_check_but_not_a_kept_checkpoint_or_the_keys(
    data: Path, tmp_path: Path
) -> None:
    invoke(data, "checkpoint", "--out", str(tmp_path / "kept.checkpoint"))
    out = tmp_path / "b.backup"
    backup(data, out)
    _forge(out)
    result = invoke(None, "restore", str(out), "--data-dir", str(tmp_path / "a"))
    assert "Only the backup's own signature was checked" in result.stderr
    result = invoke(
        None, "restore", str(out), "--data-dir", str(tmp_path / "b"),
        "--against", str(tmp_path / "kept.checkpoint"), code=3,
    )  # fmt: skip
    assert "the checkpoint you kept does not verify with the public key in this backup" in (
        result.stderr
    )
    result = invoke(
        None, "restore", str(out), "--data-dir", str(tmp_path / "c"),
        "--keys-from", str(data / "keys"), code=1,
    )  # fmt: skip
    assert "is not the key that signed this backup; nothing was restored" in result.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_restore_into_a_non_empty_directory_is_refused_and_writes_nothing(
    data: Path, tmp_path: Path
) -> None:
    backup(data, tmp_path / "b.backup")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = invoke(None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(target), code=1)
    assert f"{target} is not empty; restore into a new or empty directory" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert leftovers(tmp_path) == []
    # An empty directory is fine (e.g. a mount point).
    empty = tmp_path / "empty"
    empty.mkdir()
    invoke(None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(empty))
    assert (empty / "ledger.sqlite").is_file()


def test_restore_needs_to_be_told_where(data: Path, tmp_path: Path) -> None:
    backup(data, tmp_path / "b.backup")
    result = CustodesRunner().invoke(custodes, ["restore", str(tmp_path / "b.backup")])
    assert result.exit_code == 2
    assert "name the directory to restore into: --data-dir DIR" in result.stderr
    invoke(tmp_path / "here", "restore", str(tmp_path / "b.backup"))
    assert (tmp_path / "here" / "custodes.json").is_file()


def test_an_older_backup_against_a_newer_checkpoint_names_the_missing_entries(
    data: Path, tmp_path: Path
) -> None:
    backup(data, tmp_path / "old.backup")
    invoke(data, "staff", "add", "Bo Business", "--role", "business_manager", "--as", DIRECTOR)
    invoke(data, "staff", "add", "Cy Counsel", "--role", "counsel", "--as", DIRECTOR)
    invoke(data, "checkpoint", "--out", str(tmp_path / "newer.checkpoint"))
    result = invoke(
        None, "restore", str(tmp_path / "old.backup"), "--data-dir", str(tmp_path / "r"),
        "--against", str(tmp_path / "newer.checkpoint"), code=3,
    )  # fmt: skip
    assert (
        "this backup is OLDER than the checkpoint you kept: the backup has 7 entries, the "
        "checkpoint (signed 2026-11-02 15:00:00 UTC) covers 11; 4 entries recorded after "
        "this backup would be missing (positions 8..11). Nothing was restored."
    ) in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_checkpoint_of_another_ledger_is_refused(data: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    invoke(other, "init", "--director", DIRECTOR)
    invoke(other, "checkpoint", "--out", str(tmp_path / "other.checkpoint"))
    backup(data, tmp_path / "b.backup")
    result = invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r"),
        "--against", str(tmp_path / "other.checkpoint"), code=1,
    )  # fmt: skip
    assert "the checkpoint given with --against is of another ledger" in result.stderr
    result = invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r"),
        "--keys-from", str(other), code=1,
    )  # fmt: skip
    assert "is not this ledger's" in result.stderr and "Nothing was restored." in result.stderr
    assert not (tmp_path / "r").exists()


def test_keys_from_leaves_a_forgotten_patrons_key_out(data: Path, tmp_path: Path) -> None:
    result = invoke(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester", "Lee",
        "--received-by", STAFF, "--records", "registration", "--description", "asked",
        "--patron", CARD, "--patron-name", NAME, "--as", STAFF, "--json",
    )  # fmt: skip
    ref = json.loads(result.stdout)["ref"]
    old_keys = tmp_path / "key-backup"
    shutil.copytree(data / "keys", old_keys)  # a key backup made before the forget
    invoke(data, "patron", "forget", CARD, "--reason", "patron asked", "--as", DIRECTOR)
    backup(data, tmp_path / "b.backup")
    result = invoke(
        None, "restore", str(tmp_path / "b.backup"), "--data-dir", str(tmp_path / "r"),
        "--keys-from", str(old_keys),
    )  # fmt: skip
    (forgotten,) = [p.name for p in (old_keys / "patrons").iterdir()]
    assert f"not restored: patrons/{forgotten} (that patron was forgotten" in result.stderr
    assert not (tmp_path / "r" / "keys" / "patrons" / forgotten).exists()
    shown = json.loads(invoke(tmp_path / "r", "request", "show", ref, "--json").stdout)
    assert shown["patron"]["details"] == "erased"


def test_backup_of_a_tampered_ledger_is_exit_3_and_writes_no_file(
    data: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(data / "ledger.sqlite") as conn:
        conn.execute("UPDATE ledger_events SET topic = topic || 'x' WHERE id = 2")
    out = tmp_path / "b.backup"
    result = invoke(data, "backup", "--out", str(out), code=3)
    assert "ledger verification FAILED at position 2: edited" in result.stderr
    assert "no backup was written" in result.stderr
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_passphrase_protected_signing_key_signs_the_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"CUSTODES_SIGNING_PASSPHRASE": "correct horse battery"}
    invoke(data, "init", "--director", DIRECTOR, "--protect-signing-key", env=env)
    invoke(data, "backup", "--out", str(tmp_path / "b.backup"), env=env)
    wrong = {"CUSTODES_SIGNING_PASSPHRASE": "wrong horse battery"}
    result = invoke(data, "backup", "--out", str(tmp_path / "c.backup"), code=1, env=wrong)
    assert "wrong passphrase" in result.stderr
    assert not (tmp_path / "c.backup").exists()


WRITER = """
import sys
from pathlib import Path
from datetime import datetime
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.identity import enrol, open_test_ledger, use_fast_kdf
use_fast_kdf()  # the test's keys are sealed cheaply (tests/conftest.py)
now = datetime.fromisoformat(sys.argv[2])
ledger = open_test_ledger(DataDir.open(Path(sys.argv[1])), clock=ManualClock(now))
stop = Path(sys.argv[3])
i = 0
while not stop.exists():
    i += 1
    enrol(ledger, f"Writer {i}", "staff", actor="Dana Director")
    if i == 1:
        print("appending", flush=True)
print(i, flush=True)
ledger.close()
"""


def test_a_backup_taken_while_another_process_appends_is_a_consistent_snapshot(
    data: Path, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data), NOW.isoformat(), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    counts: list[int] = []
    try:
        assert writer.stdout.readline() == "appending\n"
        for n in range(3):
            counts.append(backup(data, tmp_path / f"{n}.backup")["entries"])
    finally:
        stop.touch()
        written, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert 9 <= counts[0] <= counts[1] <= counts[2] <= 7 + 2 * int(written)
    for n, entries in enumerate(counts):
        target = tmp_path / f"r{n}"
        result = invoke(None, "restore", str(tmp_path / f"{n}.backup"), "--data-dir", str(target))
        assert f"{entries} entries verify and are exactly the backup's signed checkpoint" in (
            result.stdout
        )
        assert f"OK: {entries} entries verify" in invoke(target, "verify").stdout
    # Each backup's checkpoint is a prefix of the live ledger's.
    for n in range(3):
        cp = members(tmp_path / f"{n}.backup")["custodes-backup/checkpoint.txt"]
        (tmp_path / f"{n}.checkpoint").write_bytes(cp)
        invoke(data, "verify", "--against", str(tmp_path / f"{n}.checkpoint"))


def test_the_backup_manifest_is_checkable_with_sha256sum_and_openssl(
    data: Path, tmp_path: Path
) -> None:
    from tests.conftest import require_tool

    require_tool("openssl", "the backup's README tells people to check it with openssl")
    require_tool("sha256sum", "the backup's README tells people to check it with sha256sum")
    backup(data, tmp_path / "b.backup")
    with tarfile.open(tmp_path / "b.backup", "r:gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    root = tmp_path / "x" / "custodes-backup"
    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=root, check=True)
    ok = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin",
         "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Signature Verified Successfully" in ok.stdout
    readme = (root / "README.txt").read_text()
    assert "It does NOT hold the keys" in readme and "It does NOT hold footage" in readme


def test_backup_works_on_sqlite_and_points_postgres_at_pg_dump(
    data_dir: Path, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "b.backup"
    if database_url.startswith("sqlite"):
        # The data directory's database lives outside it: the backup is self-contained.
        made = backup(data_dir, out)
        assert made["entries"] == 5
        target = tmp_path / "r"
        invoke(None, "restore", str(out), "--data-dir", str(target))
        assert json.loads((target / "custodes.json").read_text())["database_url"] is None
        assert "OK: 5 entries verify" in invoke(target, "verify").stdout
        return
    result = invoke(data_dir, "backup", "--out", str(out), code=1)
    assert "this ledger lives on PostgreSQL: back it up with pg_dump" in result.stderr
    assert "Deploying on PostgreSQL for a library system" in result.stderr
    assert not out.exists()
