"""Ingest edge cases (issue 14, finding 12), on SQLite and PostgreSQL: a symbolic link is
refused (the plaintext removed must be the file stored), and a file far larger than its
video explains -- a 2-second clip zero-padded by tens of MB -- is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from capture.errors import SourceIsLink
from capture.ingest import MAX_SIZE_RATIO, PADDING_SLACK, ingest_file, ingest_paths, open_vault
from capture.probe import probe
from tests.integration.footage_helpers import CAMERA, STAFF, clip, footage_ledger, kinds


def test_a_symbolic_link_is_refused_and_its_target_left_alone(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = footage_ledger(data_dir)
    try:
        target = clip(tmp_path / "recorder", 0)
        folder = tmp_path / "export"
        folder.mkdir()
        link = folder / target.name
        link.symlink_to(target)
        real = clip(folder, 1)
        before = kinds(ledger)
        with pytest.raises(SourceIsLink, match=f"is a symbolic link \\(to {target}\\)"):
            ingest_file(ledger, open_vault(ledger), link, camera=CAMERA, actor=STAFF)
        assert kinds(ledger) == before and target.exists() and link.is_symlink()

        summary = ingest_paths(ledger, [folder], camera=CAMERA, actor=STAFF)
        assert [(o.path.name, o.status) for o in summary.outcomes] == [
            (target.name, "refused"), (real.name, "ingested"),
        ]  # fmt: skip
        assert target.exists() and link.is_symlink() and not real.exists()
        assert kinds(ledger).count("FootageCaptured") == 1
    finally:
        ledger.close()


def test_a_clip_padded_far_beyond_its_video_is_refused(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    try:
        padded = clip(tmp_path / "in", 2)
        video = probe(padded).payload_bytes
        assert 0 < video < 100_000
        os.truncate(padded, padded.stat().st_size + 40 * (1 << 20))  # 40 MiB of zeros
        before = kinds(ledger)
        summary = ingest_paths(ledger, [padded], camera=CAMERA, actor=STAFF)
        (outcome,) = summary.outcomes
        assert outcome.status == "refused"
        assert f"hold {video:,} bytes; the rest is not footage" in outcome.message
        assert f"at most {MAX_SIZE_RATIO:g} times its video data plus 1 MiB" in outcome.message
        assert kinds(ledger) == before and padded.exists()
        assert list((data_dir / "footage" / "blobs").iterdir()) == []

        # Just inside the allowance: stored.
        fine = clip(tmp_path / "in", 3)
        limit = int(MAX_SIZE_RATIO * probe(fine).payload_bytes + PADDING_SLACK)
        os.truncate(fine, limit)
        (ok,) = ingest_paths(ledger, [fine], camera=CAMERA, actor=STAFF).outcomes
        assert ok.status == "ingested", ok.message
    finally:
        ledger.close()
