"""A log cut at its tail and written on again (red team, session 14, finding 1).

Whoever can write the database file, with no key, deletes the last acts and makes the
stored Merkle tree agree with the shorter log. The next acts take the freed positions. The
read models were tracked and sealed at the old last position, so before the seals named
the log's entry at their position the catch-up skipped the new acts, ``verify --strict``
passed and every report left them out. Now each seal names the entry it was written after
(``seal.check_chain``): the read models built from the cut-off entries are refused, and a
rebuild makes them from the log as it is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from projections import base
from projections.base import tracked_position
from projections.registry import all_projections, open_views
from projections.seal import _store_seal, check_projections, read_seal
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, open_test_ledger

TABLE = "ledger_events"


def _cameras(data_dir: Path, names: list[str]) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        for name in names:
            ledger.register_camera(
                name, location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
            )
        open_views(ledger).close()  # the read models caught up and sealed
    finally:
        ledger.close()


def _findings(data_dir: Path) -> list[Any]:
    """What the read models' check finds, every projection, caught up first."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        views = open_views(ledger)
        try:
            return check_projections(views, all_projections())
        finally:
            views.close()
    finally:
        ledger.close()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _cut(data_dir: Path, acts: int) -> int:
    """Delete the last ``acts`` acts and make the stored tree agree (no key needed).
    Returns the log's new length."""
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        ends = conn.execute(
            text(f"SELECT position FROM {TABLE} WHERE act IS NOT NULL ORDER BY position DESC")
        ).scalars()
        keep = list(ends)[acts]
        conn.execute(text(f"DELETE FROM {TABLE} WHERE position > :k"), {"k": keep})
        hashes = conn.execute(text(f"SELECT entry_hash FROM {TABLE} ORDER BY position")).scalars()
        root = _mth([hashlib.sha256(b"\x00" + bytes(h)).digest() for h in hashes])
        if inspect(conn).has_table(f"{TABLE}_tree_nodes"):  # made once the tree has a node
            conn.execute(
                text(f"DELETE FROM {TABLE}_tree_nodes WHERE ((idx + 1) * power(2, level)) > :k")
                if conn.dialect.name == "postgresql"
                else text(f"DELETE FROM {TABLE}_tree_nodes WHERE ((idx + 1) << level) > :k"),
                {"k": keep},
            )
        if inspect(conn).has_table(f"{TABLE}_tree"):  # made by the first verify or proof
            conn.execute(
                text(f"UPDATE {TABLE}_tree SET size = :k, root = :r WHERE id = 1"),
                {"k": keep, "r": root},
            )
    engine.dispose()
    return int(keep)


def test_read_models_made_from_a_cut_log_are_refused_and_rebuilt(data_dir: Path) -> None:
    _cameras(data_dir, ["cam-1", "cam-2", "cam-3"])
    runner = CustodesRunner()
    assert (
        runner.invoke(custodes, ["--data-dir", str(data_dir), "verify", "--strict"]).exit_code == 0
    )
    length = _cut(data_dir, 2)
    # the chain alone passes (the tree was made to agree): what the checkpoint kept
    # elsewhere is for (docs/FORMAT.md)
    chain_only = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify"])
    assert chain_only.exit_code == 0, chain_only.output
    assert f"OK: {length} entries verify" in chain_only.stdout
    # the next acts take the positions the cut freed
    _cameras(data_dir, ["cam-4", "cam-5"])

    findings = _findings(data_dir)
    # SQLite gave the new acts the freed ids, so the read models skipped them: their seals
    # name entries the log no longer has. PostgreSQL's sequence gave new ids, which the
    # catch-up read, but not over a seal whose entry is gone: it stays at the cut.
    said = " ".join(f.detail for f in findings)
    assert findings, "read models made from cut-off entries passed their check"
    if "sqlite" in DataDir.open(data_dir).database_url:
        assert "the log was cut and written on again" in said
    else:
        assert "is for position" in said

    strict = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify", "--strict", "--json"])
    assert strict.exit_code != 0, strict.output
    assert json.loads(strict.stdout)["read_models"], strict.stdout
    # the subject index never saw cam-4: its history is refused, not shown empty
    history = runner.invoke(
        custodes, ["--data-dir", str(data_dir), "history", "cam-4", "--as", DIRECTOR]
    )
    assert history.exit_code == 3, history.output
    assert "read models do not match the ledger" in history.stderr

    rebuilt = runner.invoke(
        custodes, ["--data-dir", str(data_dir), "projections", "rebuild", "--restart"]
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    history = runner.invoke(
        custodes, ["--data-dir", str(data_dir), "history", "cam-4", "--as", DIRECTOR]
    )
    assert history.exit_code == 0, history.output
    assert "camera cam-4 registered" in history.stdout


def test_read_models_ahead_of_a_cut_log_are_refused(data_dir: Path) -> None:
    _cameras(data_dir, ["cam-1", "cam-2", "cam-3"])
    _cut(data_dir, 1)
    findings = _findings(data_dir)
    assert any("the log has no entry there" in f.detail for f in findings), findings


def test_a_seal_from_before_the_binding_is_bound_on_open(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seals written before session 14 name no entry: the first open binds each to the
    log's entry at its position (``seal.bind_to_chain``), over the seal as it was."""
    _cameras(data_dir, ["cam-1"])
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        views = open_views(ledger)
        key = views.seal_key()
        with views.engine.begin() as conn:
            for p in views.projections:
                seal = read_seal(conn, key, p, tracked_position(conn, p.name))
                assert seal.entry == views.chain_entry(seal.position), p.name
                _store_seal(conn, key, replace(seal, entry=None))  # as written before
        views.close()
        monkeypatch.setattr(base, "_BUCKETED", set())  # a new process opens it
        views = open_views(ledger)
        with views.engine.connect() as conn:
            for p in views.projections:
                seal = read_seal(conn, key, p, tracked_position(conn, p.name))
                assert seal.entry is not None and seal.entry == views.chain_entry(seal.position)
        assert check_projections(views, all_projections()) == []
        views.close()
    finally:
        ledger.close()


def test_verify_warns_when_the_chain_no_longer_extends_the_kept_checkpoint(
    data_dir: Path, tmp_path: Path
) -> None:
    """Red team (session 14, finding 5): a cut tail, the stored tree made to agree,
    verified alone (exit 0) while the data directory kept a checkpoint the library had
    signed at the longer length. Now verify warns (exit 4 with --strict)."""
    _cameras(data_dir, ["cam-1", "cam-2"])
    runner = CustodesRunner()
    made = runner.invoke(
        custodes,
        ["--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / "cp")],
    )
    assert made.exit_code == 0, made.output
    assert (data_dir / "last.checkpoint").exists()
    ok = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify", "--strict"])
    assert ok.exit_code == 0, ok.output
    _cut(data_dir, 1)
    warned = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify", "--strict"])
    assert warned.exit_code == 4, warned.output
    assert "the chain does not extend the checkpoint kept in the data directory" in warned.stderr
