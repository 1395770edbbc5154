"""Tampering with plain SQL is found at its exact position and named by kind (R21)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.app import open_chain
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, open_test_ledger

TABLE = "ledger_events"


def _ledger_with_ten_entries(data_dir: Path) -> None:
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    for n in range(5):  # init wrote 5 entries (one act); each camera is an act of one
        ledger.register_camera(
            f"cam-{n}", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
        )
    ledger.close()


def _sql(url: str, *statements: tuple[str, dict]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def _flip_state_bit(url: str, notification_id: int) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        state = bytes(
            conn.execute(
                text(f"SELECT state FROM {TABLE} WHERE id = :i"), {"i": notification_id}
            ).scalar_one()
        )
        changed = bytes([state[0] ^ 1]) + state[1:]
        conn.execute(
            text(f"UPDATE {TABLE} SET state = :s WHERE id = :i"),
            {"s": changed, "i": notification_id},
        )
    engine.dispose()


def _swap_ids(url: str, a: int, b: int) -> None:
    _sql(
        url,
        (f"UPDATE {TABLE} SET id = -1 WHERE id = :a", {"a": a}),
        (f"UPDATE {TABLE} SET id = :a WHERE id = :b", {"a": a, "b": b}),
        (f"UPDATE {TABLE} SET id = :b WHERE id = -1", {"b": b}),
    )


def _insert_unchained_first(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        row = conn.execute(
            text(f"SELECT originator_id, topic, state FROM {TABLE} WHERE id = 3")
        ).one()
        conn.execute(
            text(
                f"INSERT INTO {TABLE} (id, originator_id, originator_version, topic, state) "
                "VALUES (0, :o, 99, :t, :s)"
            ),
            {"o": row[0], "t": row[1], "s": row[2]},
        )
    engine.dispose()


def _rewrite_digest(url: str) -> None:
    _sql(url, (f"UPDATE {TABLE} SET state_digest = entry_hash WHERE id = 6", {}))


def _rewrite_prev(url: str) -> None:
    _sql(url, (f"UPDATE {TABLE} SET prev_hash = entry_hash WHERE id = 9", {}))


def _truncate(url: str) -> None:
    _sql(url, (f"DELETE FROM {TABLE} WHERE id > 7", {}))


Tamper = Callable[[str], None]

CASES: list[tuple[str, Tamper, int, str]] = [
    (
        "a flipped state bit is an edit at its own position",
        lambda u: _flip_state_bit(u, 5),
        5,
        "edited",
    ),
    ("a rewritten digest is an edit at its own position", _rewrite_digest, 6, "edited"),
    ("a rewritten previous-hash link is an edit at its position", _rewrite_prev, 9, "edited"),
    (
        "a deleted row is reported where it was",
        lambda u: _sql(u, (f"DELETE FROM {TABLE} WHERE id = 4", {})),
        4,
        "deleted",
    ),
    ("a row with no chain entry is an insertion", _insert_unchained_first, 1, "inserted"),
    ("two rows that swapped places are a reordering", lambda u: _swap_ids(u, 4, 5), 4, "reordered"),
    ("a cut-off tail is a truncation after the witnessed length", _truncate, 8, "truncated"),
]


def _url(data_dir: Path) -> str:
    return DataDir.open(data_dir).database_url


@pytest.mark.parametrize(("case", "tamper", "position", "kind"), CASES, ids=[c[0] for c in CASES])
def test_tampering_is_located_through_the_api(
    data_dir: Path, case: str, tamper: Tamper, position: int, kind: str
) -> None:
    _ledger_with_ten_entries(data_dir)
    reader = open_chain(DataDir.open(data_dir))
    from ledger.app import verify_chain

    before = verify_chain(reader)
    assert before.ok and before.count == 10
    tamper(_url(data_dir))
    after = verify_chain(reader)
    assert after.damage is not None, case
    assert (after.damage.position, after.damage.kind) == (position, kind)
    assert after.count == position - 1


@pytest.mark.parametrize(("case", "tamper", "position", "kind"), CASES, ids=[c[0] for c in CASES])
def test_tampering_exits_3_naming_position_and_kind(
    data_dir: Path, case: str, tamper: Tamper, position: int, kind: str
) -> None:
    _ledger_with_ten_entries(data_dir)
    runner = CustodesRunner()
    ok = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK: 10 entries verify" in ok.stdout
    tamper(_url(data_dir))
    result = runner.invoke(custodes, ["--data-dir", str(data_dir), "verify", "--json"])
    assert result.exit_code == 3
    assert f"ledger verification FAILED at position {position}: {kind}" in result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["damage"]["position"] == position
    assert report["damage"]["kind"] == kind
