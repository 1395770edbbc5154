"""Site keys (issue 14, finding 3): `init` makes the pseudonym and footage keys; a missing
or foreign one is an error naming the file and the key backup, never silently replaced
(SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from capture.ingest import ingest_paths
from ledger.app import open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import KeyError_
from tests.integration.footage_helpers import CAMERA, STAFF, clip, footage_ledger, last_id

DIRECTOR = "Dana Director"


def test_init_makes_both_site_keys_private(data_dir: Path) -> None:
    for name in ("pseudonym.key", "footage_site.key"):
        path = data_dir / "keys" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(base64.b64decode(path.read_bytes().strip())) == 32


def test_a_missing_pseudonym_key_is_an_error_and_nothing_is_recorded(data_dir: Path) -> None:
    ledger = footage_ledger(data_dir)
    try:
        (data_dir / "keys" / "pseudonym.key").unlink()
        before = last_id(ledger)
        with pytest.raises(KeyError_) as raised:
            ledger.open_request(
                requester_kind="law_enforcement", requester="Ofc. Lee", received_by=STAFF,
                records=["registration"], description="identify a suspect", actor=STAFF,
                patron_card="2100012345",
            )  # fmt: skip
        message = str(raised.value)
        assert f"the key {data_dir / 'keys' / 'pseudonym.key'} is missing" in message
        assert "restore it from your key backup" in message
        assert "requests about the same patron no longer link up" in message
        assert last_id(ledger) == before
        assert not (data_dir / "keys" / "pseudonym.key").exists()  # not made again
    finally:
        ledger.close()


def test_a_missing_footage_key_is_an_error_naming_the_file(data_dir: Path, tmp_path: Path) -> None:
    ledger = footage_ledger(data_dir)
    try:
        (data_dir / "keys" / "footage_site.key").unlink()
        source = clip(tmp_path / "in")
        before = last_id(ledger)
        with pytest.raises(KeyError_, match="footage_site.key is missing: restore it"):
            ingest_paths(ledger, [source], camera=CAMERA, actor=STAFF)
        assert last_id(ledger) == before
        assert source.exists()
        assert not (data_dir / "keys" / "footage_site.key").exists()
    finally:
        ledger.close()


def test_a_pseudonym_key_from_another_ledger_is_refused(
    data_dir: Path, tmp_path: Path, now: datetime
) -> None:
    other = DataDir.create(tmp_path / "other")
    os.replace(other.keys / "pseudonym.key", data_dir / "keys" / "pseudonym.key")
    ledger = open_ledger(DataDir.open(data_dir), clock=ManualClock(now))
    try:
        with pytest.raises(KeyError_, match="does not belong to this ledger"):
            ledger.secret("pseudonym")
    finally:
        ledger.close()
