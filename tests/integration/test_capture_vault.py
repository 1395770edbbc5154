"""The encrypted segment store, on real files."""

import hashlib
import os
from pathlib import Path

import pytest

from capture.errors import (
    AlreadyStored,
    IntegrityMismatch,
    InvalidSiteKey,
    KeyDestroyed,
    KeyUnwrapFailed,
    SegmentNotFound,
    SourceVanished,
)
from capture.vault import HEADER_LEN, TAG_LEN, Vault, generate_site_key

CHUNK = 4096  # small chunks so a few KiB exercise the multi-chunk paths


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "store", generate_site_key(), chunk_size=CHUNK)


def _source(tmp_path: Path, size: int, name: str = "seg.mp4", seed: int = 0) -> Path:
    path = tmp_path / name
    path.write_bytes(bytes((i * 31 + seed) % 251 for i in range(size)))
    return path


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_is_byte_identical_and_the_id_is_the_sha256(
    vault: Vault, tmp_path: Path, size: int
) -> None:
    src = _source(tmp_path, size)
    original = src.read_bytes()
    stored = vault.ingest(src)
    assert stored.sha256 == hashlib.sha256(original).hexdigest()
    assert stored.size == size
    assert not src.exists()  # moved
    assert stored.blob_path == vault.root / "blobs" / f"{stored.sha256}.seg"
    assert stored.key_path == vault.root / "keys" / f"{stored.sha256}.key"
    chunks = max(1, -(-size // CHUNK))  # the last chunk may be full; an empty file has one
    assert stored.blob_path.stat().st_size == HEADER_LEN + size + chunks * TAG_LEN
    assert original not in stored.blob_path.read_bytes() or size < 8
    out = vault.decrypt_to(stored.sha256, tmp_path / "out.mp4")
    assert out.read_bytes() == original
    assert list((vault.root / "tmp").iterdir()) == []


def test_the_data_key_is_not_in_the_blob(vault: Vault, tmp_path: Path) -> None:
    stored = vault.ingest(_source(tmp_path, 10_000))
    assert stored.key_path.stat().st_size == 8 + 12 + 32 + 16
    assert vault.exists(stored.sha256) and vault.has_blob(stored.sha256)


def test_copy_mode_leaves_the_source(vault: Vault, tmp_path: Path) -> None:
    src = _source(tmp_path, 5000)
    vault.ingest(src, move=False)
    assert src.exists()


def test_ingesting_the_same_content_twice_is_refused_and_the_source_kept(
    vault: Vault, tmp_path: Path
) -> None:
    first = vault.ingest(_source(tmp_path, 9000, "a.mp4"))
    again = _source(tmp_path, 9000, "b.mp4")
    with pytest.raises(AlreadyStored) as refused:
        vault.ingest(again)
    assert refused.value.sha256 == first.sha256
    assert str(refused.value) == (
        f"{again}: identical content is already stored as segment {first.sha256}; the source "
        "was left in place. If it was ingested before, remove the source file."
    )
    assert again.exists()
    assert list((vault.root / "tmp").iterdir()) == []


def test_a_flipped_ciphertext_byte_is_an_integrity_mismatch(vault: Vault, tmp_path: Path) -> None:
    stored = vault.ingest(_source(tmp_path, 3 * CHUNK))
    blob = bytearray(stored.blob_path.read_bytes())
    blob[HEADER_LEN + CHUNK + TAG_LEN + 5] ^= 0x01  # inside chunk 1
    stored.blob_path.write_bytes(bytes(blob))
    out = tmp_path / "out.mp4"
    with pytest.raises(IntegrityMismatch, match=f"segment {stored.sha256} .*: chunk 1 fails"):
        vault.decrypt_to(stored.sha256, out)
    assert not out.exists()


def test_dropping_the_last_chunk_is_detected(vault: Vault, tmp_path: Path) -> None:
    stored = vault.ingest(_source(tmp_path, 3 * CHUNK + 100))
    blob = stored.blob_path.read_bytes()
    stored.blob_path.write_bytes(blob[: HEADER_LEN + 3 * (CHUNK + TAG_LEN)])
    with pytest.raises(IntegrityMismatch, match="chunk 2 fails authentication"):
        vault.decrypt_to(stored.sha256, tmp_path / "out.mp4")


def test_swapping_two_chunks_is_detected(vault: Vault, tmp_path: Path) -> None:
    stored = vault.ingest(_source(tmp_path, 3 * CHUNK + 100))
    blob = stored.blob_path.read_bytes()
    sealed = CHUNK + TAG_LEN
    c0 = blob[HEADER_LEN : HEADER_LEN + sealed]
    c1 = blob[HEADER_LEN + sealed : HEADER_LEN + 2 * sealed]
    stored.blob_path.write_bytes(blob[:HEADER_LEN] + c1 + c0 + blob[HEADER_LEN + 2 * sealed :])
    with pytest.raises(IntegrityMismatch, match="chunk 0 fails authentication"):
        vault.decrypt_to(stored.sha256, tmp_path / "out.mp4")


def test_a_key_file_does_not_open_another_segment(vault: Vault, tmp_path: Path) -> None:
    a = vault.ingest(_source(tmp_path, 5000, "a.mp4", seed=1))
    b = vault.ingest(_source(tmp_path, 5000, "b.mp4", seed=2))
    b.key_path.write_bytes(a.key_path.read_bytes())
    with pytest.raises(KeyUnwrapFailed, match=f"segment {b.sha256}: the key file"):
        vault.decrypt_to(b.sha256, tmp_path / "out.mp4")


def test_another_site_key_cannot_read_the_store(vault: Vault, tmp_path: Path) -> None:
    stored = vault.ingest(_source(tmp_path, 5000))
    other = Vault(vault.root, generate_site_key(), chunk_size=CHUNK)
    with pytest.raises(KeyUnwrapFailed):
        other.decrypt_to(stored.sha256, tmp_path / "out.mp4")


def test_destroy_removes_blob_and_key_and_then_reading_fails_clearly(
    vault: Vault, tmp_path: Path
) -> None:
    stored = vault.ingest(_source(tmp_path, 3 * CHUNK))
    report = vault.destroy(stored.sha256)
    assert (report.blob_removed, report.key_destroyed) == (True, True)
    assert report.blob_size == HEADER_LEN + 3 * CHUNK + 3 * TAG_LEN
    assert not stored.blob_path.exists() and not stored.key_path.exists()
    assert not vault.exists(stored.sha256)
    with pytest.raises(SegmentNotFound, match=f"segment {stored.sha256}: not in the store"):
        vault.decrypt_to(stored.sha256, tmp_path / "out.mp4")
    with pytest.raises(SegmentNotFound):
        vault.destroy(stored.sha256)


def test_a_blob_whose_key_was_destroyed_is_reported_crypto_shredded(
    vault: Vault, tmp_path: Path
) -> None:
    stored = vault.ingest(_source(tmp_path, 5000))
    backup = stored.blob_path.read_bytes()
    vault.destroy(stored.sha256)
    stored.blob_path.write_bytes(backup)  # a surviving copy, e.g. restored from backup
    with pytest.raises(KeyDestroyed, match="crypto-shredded"):
        vault.decrypt_to(stored.sha256, tmp_path / "out.mp4")
    report = vault.destroy(stored.sha256)  # finishing the job removes the stray blob
    assert (report.blob_removed, report.key_destroyed) == (True, False)


def test_a_missing_source_leaves_nothing_behind(vault: Vault, tmp_path: Path) -> None:
    with pytest.raises(SourceVanished, match="gone.mp4: no such file"):
        vault.ingest(tmp_path / "gone.mp4")
    assert list((vault.root / "tmp").iterdir()) == []
    assert list((vault.root / "blobs").iterdir()) == []


def test_a_short_site_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidSiteKey, match="site key is 16 bytes; it must be 32"):
        Vault(tmp_path, os.urandom(16))
