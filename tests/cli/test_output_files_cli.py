"""Files written for a user (issue 14, finding 8): never through a symbolic link (the
symlink-to-keys/events.key attack, a dangling link), never over a file without --force,
whole or not at all, 0600 when confidential; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from capture.synthetic import write_clip
from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import count_events
from tests.conftest import NOW, SETUP
from tests.identity import CustodesRunner

D = "Dana Director"
REC = NOW - timedelta(days=1)


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    runner = CustodesRunner()

    def invoke(*args: str, code: int = 0, now: datetime = NOW) -> Result:
        result = runner.invoke(custodes, ["--data-dir", str(data), *args], obj=ManualClock(now))
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result

    invoke("init", "--director", D, "--library", "Test Library", now=SETUP)
    invoke.data = data  # type: ignore[attr-defined]
    return invoke


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def emergency_request(run) -> str:  # type: ignore[no-untyped-def]
    opened = run(
        "request", "open", "--requester-kind", "law_enforcement", "--requester", "Ofc. Lee",
        "--received-by", D, "--records", "registration", "--description", "identify",
        "--as", D, "--json",
    )  # fmt: skip
    ref = json.loads(opened.stdout)["ref"]
    printed = run.data.parent / f"{ref}-printed.pdf"
    run("request", "form", ref, "--out", str(printed), "--as", D)
    signed = run.data.parent / f"{ref}-signed.pdf"
    signed.write_bytes(printed.read_bytes() + b"% signed")
    run(
        "request", "emergency", ref, "--signed-form", str(signed), "--officer-name", "Lee Officer", "--badge", "4471",
        "--agency", "Mahomet PD", "--id-examined", "--role-sought", "suspect",
        "--description", "a threat", "--sworn-officer", "--court-order-impractical",
        "--imminent-danger", "--identification-purpose", "--as", D,
    )  # fmt: skip
    return ref


def link_to_events_key(run, tmp_path: Path, name: str) -> tuple[Path, bytes]:  # type: ignore[no-untyped-def]
    key = run.data / "keys" / "events.key"
    evil = tmp_path / name
    evil.symlink_to(key)
    return evil, key.read_bytes()


def test_no_command_writes_through_a_link_to_the_events_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = emergency_request(run)
    key = run.data / "keys" / "events.key"
    original = key.read_bytes()
    writers = [
        ("evil.pdf", ["request", "form", ref, "--out"]),
        (
            "report.pdf",
            [
                "report",
                "compliance",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--format",
                "pdf",
                "--as",
                D,
                "--out",
            ],
        ),  # fmt: skip
        (
            "report.json",
            [
                "report",
                "compliance",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--format",
                "json",
                "--as",
                D,
                "--force",
                "--out",
            ],
        ),  # fmt: skip
        ("board.checkpoint", ["checkpoint", "--out"]),
        ("board2.checkpoint", ["checkpoint", "--force", "--out"]),
        ("public.pem", ["keys", "export-public", "--out"]),
    ]
    for name, args in writers:
        evil = tmp_path / name
        evil.symlink_to(key)
        result = run(*args, str(evil), code=1)
        assert f"{evil} is a symbolic link (to {key}); Custodes never writes through one" in (
            result.stderr
        ), name
        assert key.read_bytes() == original, name
        assert evil.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.sqlite_only  # a PostgreSQL ledger is backed up with pg_dump
def test_backup_never_writes_through_a_link(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    evil, original = link_to_events_key(run, tmp_path, "ledger.backup")
    result = run("backup", "--out", str(evil), "--force", code=1)
    assert "is a symbolic link" in result.stderr
    assert (run.data / "keys" / "events.key").read_bytes() == original
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_still_is_never_written_through_a_dangling_link_and_nothing_is_recorded(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    run("camera", "add", "lobby-1", "--location", "Lobby", "--zone", "public",
        "--signage-posted", "--as", D, now=SETUP)  # fmt: skip
    (tmp_path / "in").mkdir()
    source = write_clip(
        tmp_path / "in" / f"lobby-1_{REC:%Y%m%dT%H%M%SZ}.mp4",
        seconds=1,
        fps=5,
        size=(160, 120),
        start=REC,
    )
    ingested = run("footage", "ingest", str(source), "--camera", "lobby-1", "--as", D, "--json")
    seg = json.loads(ingested.stdout)[0]["segment_id"]
    dangling = tmp_path / "still.png"
    planted = tmp_path / "planted" / "owned.png"
    dangling.symlink_to(planted)
    before = count_events(run.data)
    view = ["footage", "frame", seg, "--at", "0.2", "--reason", "identify the vehicle",
            "--purpose", "incident_investigation", "--as", D, "--out"]  # fmt: skip
    result = run(*view, str(dangling), code=1)
    assert "is a symbolic link" in result.stderr
    assert not planted.parent.exists()
    assert count_events(run.data) == before

    still = tmp_path / "real.png"
    run(*view, str(still))
    assert mode(still) == 0o600
    assert still.read_bytes().startswith(b"\x89PNG")
    again = run(*view, str(still), code=1)
    assert f"{still} exists already; pass --force to replace it" in again.stderr
    assert count_events(run.data) == before + 1  # only the viewing that wrote a still
    run(*view, str(still), "--force")
    assert count_events(run.data) == before + 2


def test_outputs_are_private_or_public_as_they_should_be_and_never_overwritten(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    ref = emergency_request(run)
    form = tmp_path / "a9.pdf"
    run("request", "form", ref, "--out", str(form))
    assert mode(form) == 0o600 and form.read_bytes().startswith(b"%PDF")
    report = tmp_path / "board.pdf"
    run("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02", "--format",
        "pdf", "--out", str(report), "--as", D)  # fmt: skip
    assert mode(report) == 0o600
    checkpoint = tmp_path / "board.checkpoint"
    run("checkpoint", "--out", str(checkpoint))
    assert mode(checkpoint) == 0o644
    first = checkpoint.read_bytes()
    refused = run("checkpoint", "--out", str(checkpoint), code=1)
    assert "exists already; pass --force to replace it" in refused.stderr
    assert checkpoint.read_bytes() == first
    run("checkpoint", "--out", str(checkpoint), "--force")
    pem = tmp_path / "public.pem"
    run("keys", "export-public", "--out", str(pem))
    assert mode(pem) == 0o644
    csv_dir = tmp_path / "csv"
    run("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02", "--format",
        "csv", "--out", str(csv_dir), "--as", D)  # fmt: skip
    assert mode(csv_dir) == 0o700
    assert {mode(p) for p in csv_dir.iterdir()} == {0o600}
    again = run("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
                "--format", "csv", "--out", str(csv_dir), "--as", D, code=1)  # fmt: skip
    assert "is not an empty directory" in again.stderr
    run("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02", "--format",
        "csv", "--out", str(csv_dir), "--as", D, "--force")  # fmt: skip
    assert [p.name for p in tmp_path.rglob(".*")] == []


def one_segment(run, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A camera and one ingested 1 s clip; its segment id."""
    run("camera", "add", "lobby-1", "--location", "Lobby", "--zone", "public",
        "--signage-posted", "--as", D, now=SETUP)  # fmt: skip
    (tmp_path / "in").mkdir()
    source = write_clip(
        tmp_path / "in" / f"lobby-1_{REC:%Y%m%dT%H%M%SZ}.mp4",
        seconds=1, fps=5, size=(160, 120), start=REC,
    )  # fmt: skip
    ingested = run("footage", "ingest", str(source), "--camera", "lobby-1", "--as", D, "--json")
    seg = json.loads(ingested.stdout)[0]["segment_id"]
    return str(seg)


def test_force_never_replaces_a_file_of_the_data_directory(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Red-team (redteam9): `footage view --out DATA/ledger.sqlite --force` put a video
    where the ledger was (every act lost), and `--out DATA/keys/footage_site.key --force`
    followed by `footage done` destroyed the key of every segment, held ones too, recorded
    as the end of a viewing. --force replaces a file of the user's, never one of the
    ledger's."""
    seg = one_segment(run, tmp_path)
    view = ["footage", "view", seg, "--reason", "patron reported a fall", "--purpose",
            "safety", "--as", D, "--force", "--out"]  # fmt: skip
    before = count_events(run.data)
    owned = [run.data / "custodes.json", run.data / "keys" / "footage_site.key"]
    owned += [run.data / "ledger.sqlite"] if (run.data / "ledger.sqlite").exists() else []
    for own in owned:
        kept = own.read_bytes()
        result = run(*view, str(own), code=1)
        assert f"{own} is a file of the Custodes data directory {run.data}" in result.stderr
        assert own.read_bytes() == kept
    report = ["report", "compliance", "--from", "2026-11-01", "--to", "2026-11-01",
              "--format", "json", "--as", D, "--force", "--out"]  # fmt: skip
    key = run.data / "keys" / "events.key"
    kept = key.read_bytes()
    assert "is a file of the Custodes data directory" in run(*report, str(key), code=1).stderr
    assert key.read_bytes() == kept
    assert count_events(run.data) == before  # nothing recorded
    run("verify")
    mine = tmp_path / "copy.mp4"  # a file of the user's is theirs to replace
    mine.write_bytes(b"old")
    run(*view, str(mine))
    assert mine.read_bytes() != b"old"


def test_nothing_is_written_where_the_sweep_or_the_vault_would_take_it(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A report written into viewing/ was removed by the next sweep as a stray copy; one
    in keys/ or footage/ sat among the ledger's secrets. Only a viewing's own copy goes in
    viewing/, and two viewings of a segment in one second each get their own copy."""
    seg = one_segment(run, tmp_path)
    before = count_events(run.data)
    report = ["report", "compliance", "--from", "2026-11-01", "--to", "2026-11-01",
              "--format", "json", "--as", D, "--out"]  # fmt: skip
    for folder in ("viewing", "keys", "footage"):
        (run.data / folder).mkdir(exist_ok=True)
        out = run.data / folder / "report.json"
        result = run(*report, str(out), code=1)
        assert (
            f"{out} is inside {run.data / folder}, a folder of the Custodes data" in result.stderr
        )
        assert not out.exists()
    assert count_events(run.data) == before  # nothing recorded
    run(*report, str(run.data / "report.json"))  # beside the ledger: the user's to keep

    view = ["footage", "view", seg, "--reason", "patron reported a fall", "--purpose",
            "safety", "--as", D]  # fmt: skip
    copies = [Path(run(*view).stdout.strip()) for _ in range(2)]  # in one second
    assert copies[0] != copies[1] and all(c.parent == run.data / "viewing" for c in copies)
    assert copies[1].name == copies[0].stem + "-2" + copies[0].suffix
    mine = run.data / "viewing" / "mine.mp4"  # a viewing's copy may be named there
    run(*view, "--out", str(mine))
    listed = json.loads(run("footage", "copies", "--as", D, "--json").stdout)
    assert sorted(c["path"] for c in listed["copies"]) == sorted(map(str, [*copies, mine]))
    assert listed["strays"] == []
