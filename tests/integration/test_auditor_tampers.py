"""The outside auditor's tampers (issue 13, bugs 1-4): each is damage of a kind at a
position, exit 3, on SQLite and PostgreSQL; never a traceback, never a signed checkpoint.

SQLite keeps any type in any column, so a value is rewritten in place; PostgreSQL's
columns are typed, so the insider changes the column's type (ALTER TABLE), which changes
every row's value: the first row is then the first of the wrong type (docs/FORMAT.md,
"Types").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import open_chain, verify_chain
from tests.chain_rewrite import rechain_from
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, open_test_ledger
from tests.integration.test_tamper import _ledger_with_ten_entries

TABLE = "ledger_events"
NODES = f"{TABLE}_tree_nodes"


def _cli(data_dir: Path, *args: str):  # noqa: ANN202
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), {"z": bytes(32)})
    engine.dispose()


# (name, SQL on SQLite, SQL on PostgreSQL, position, kind, position and kind on PostgreSQL)
Case = tuple[str, tuple[str, ...], tuple[str, ...] | None, tuple[int, str], tuple[int, str]]

CASES: list[Case] = [
    (
        "an inner node of the stored tree zeroed",
        (f"UPDATE {NODES} SET hash = :z WHERE level = 3 AND idx = 0",),
        (f"UPDATE {NODES} SET hash = :z WHERE level = 3 AND idx = 0",),
        (8, "tree"),
        (8, "tree"),
    ),
    (
        "a leaf of the stored tree zeroed",
        (f"UPDATE {NODES} SET hash = :z WHERE level = 0 AND idx = 5",),
        (f"UPDATE {NODES} SET hash = :z WHERE level = 0 AND idx = 5",),
        (6, "tree"),
        (6, "tree"),
    ),
    (
        "a stored node for a leaf the tree does not have",
        (f"INSERT INTO {NODES} (level, idx, hash) VALUES (0, 99, :z)",),
        (f"INSERT INTO {NODES} (level, idx, hash) VALUES (0, 99, :z)",),
        (10, "tree"),
        (10, "tree"),
    ),
    (
        "the last rows deleted with their leaves",
        (f"DELETE FROM {TABLE} WHERE id > 8", f"DELETE FROM {NODES} WHERE level = 0 AND idx >= 8"),
        (f"DELETE FROM {TABLE} WHERE id > 8", f"DELETE FROM {NODES} WHERE level = 0 AND idx >= 8"),
        (9, "truncated"),
        (9, "truncated"),
    ),
    (
        "the stored tree size set above the chain length",
        (f"UPDATE {TABLE}_tree SET size = 50",),
        (f"UPDATE {TABLE}_tree SET size = 50",),
        (11, "truncated"),
        (11, "truncated"),
    ),
    (
        "the stored tree size rewritten as text",
        (f"UPDATE {TABLE}_tree SET size = '10x'",),
        None,  # a bigint column
        (1, "tree"),
        (1, "tree"),
    ),
    (
        "a text position",
        (f"UPDATE {TABLE} SET position = '7x' WHERE id = 7",),
        (
            f"ALTER TABLE {TABLE} ALTER COLUMN position TYPE text USING position::text",
            f"UPDATE {TABLE} SET position = '7x' WHERE id = 7",
        ),
        (7, "edited"),
        (1, "edited"),
    ),
    (
        "a REAL position",
        (f"UPDATE {TABLE} SET position = 7.5 WHERE id = 7",),
        (
            f"ALTER TABLE {TABLE} ALTER COLUMN position TYPE double precision",
            f"UPDATE {TABLE} SET position = 7.5 WHERE id = 7",
        ),
        (7, "edited"),
        (1, "edited"),
    ),
    (
        "the state rewritten as TEXT with the same bytes",
        (f"UPDATE {TABLE} SET state = CAST(state AS TEXT) WHERE id = 7",),
        (f"ALTER TABLE {TABLE} ALTER COLUMN state TYPE text USING encode(state, 'escape')",),
        (7, "edited"),
        (1, "edited"),
    ),
    (
        "the state digest rewritten as TEXT with the same bytes",
        (f"UPDATE {TABLE} SET state_digest = CAST(state_digest AS TEXT) WHERE id = 7",),
        (
            f"ALTER TABLE {TABLE} ALTER COLUMN state_digest TYPE text "
            "USING encode(state_digest, 'hex')",
        ),
        (7, "edited"),
        (1, "edited"),
    ),
    (
        "the previous hash rewritten as TEXT with the same bytes",
        (f"UPDATE {TABLE} SET prev_hash = CAST(prev_hash AS TEXT) WHERE id = 7",),
        (f"ALTER TABLE {TABLE} ALTER COLUMN prev_hash TYPE text USING encode(prev_hash, 'hex')",),
        (7, "edited"),
        (1, "edited"),
    ),
    (
        "the originator id rewritten as TEXT with the same bytes",
        (f"UPDATE {TABLE} SET originator_id = CAST(originator_id AS TEXT) WHERE id = 7",),
        None,  # uuid_send() of a text column fails: the walk cannot read it at all
        (7, "edited"),
        (7, "edited"),
    ),
    (
        "a BLOB topic",
        (f"UPDATE {TABLE} SET topic = CAST(topic AS BLOB) WHERE id = 7",),
        (f"ALTER TABLE {TABLE} ALTER COLUMN topic TYPE bytea USING convert_to(topic, 'UTF8')",),
        (7, "edited"),
        (1, "edited"),
    ),
]


def _params() -> list:
    """Each case on SQLite, and on PostgreSQL where its column types admit the tamper."""
    out = []
    for c in CASES:
        out.append(pytest.param(c, "sqlite", id=f"sqlite-{c[0]}"))
        if c[2] is not None:
            out.append(
                pytest.param(c, "postgres", id=f"postgres-{c[0]}", marks=pytest.mark.postgres)
            )
    return out


@pytest.mark.parametrize(("case", "database_url"), _params(), indirect=["database_url"])
def test_each_tamper_is_damage_of_a_kind_at_a_position(
    data_dir: Path, database_url: str, case: Case
) -> None:
    name, sqlite_sql, pg_sql, at_sqlite, at_pg = case
    postgres = database_url.startswith("postgresql")
    statements = pg_sql if postgres else sqlite_sql
    assert statements is not None, name
    expected = at_pg if postgres else at_sqlite
    _ledger_with_ten_entries(data_dir)
    checkpoint = data_dir.parent / "before.checkpoint"
    made = _cli(data_dir, "checkpoint", "--out", str(checkpoint))
    assert made.exit_code == 0, made.output
    _sql(database_url, *statements)

    result = verify_chain(open_chain(DataDir.open(data_dir)))
    assert result.damage is not None, name
    assert (result.damage.position, result.damage.kind) == expected, result.damage

    verified = _cli(data_dir, "verify", "--json")
    assert verified.exit_code == 3, verified.output
    report = json.loads(verified.stdout)
    assert report["ok"] is False
    assert (report["damage"]["position"], report["damage"]["kind"]) == expected
    kind = f"FAILED at position {expected[0]}: {expected[1]}"
    assert kind in verified.stderr

    against = _cli(data_dir, "verify", "--against", str(checkpoint), "--json")
    assert against.exit_code == 3, against.output
    assert json.loads(against.stdout)["ok"] is False

    signed = _cli(data_dir, "checkpoint", "--out", str(data_dir.parent / "after.checkpoint"))
    assert signed.exit_code == 3, signed.output
    assert kind in signed.stderr
    assert not (data_dir.parent / "after.checkpoint").exists()

    for command in (("status",), ("log", "--json", "--as", DIRECTOR)):
        ran = _cli(data_dir, *command)
        assert ran.exit_code in (0, 3), (command, ran.output, ran.exception)
        if ran.exit_code == 3:
            assert kind in ran.stderr


def test_a_rewrite_from_entry_7_is_named_at_7_against_the_checkpoint(
    data_dir: Path, database_url: str
) -> None:
    _ledger_with_ten_entries(data_dir)
    checkpoint = data_dir.parent / "before.checkpoint"
    assert _cli(data_dir, "checkpoint", "--out", str(checkpoint)).exit_code == 0
    _sql(
        database_url,
        f"UPDATE {TABLE} SET topic = 'ledger.footage:Camera.CameraRetired' WHERE id = 7",
    )
    rechain_from(data_dir, 7)  # every key is held: the acts are signed again

    against = _cli(data_dir, "verify", "--against", str(checkpoint), "--json")
    assert against.exit_code == 3
    report = json.loads(against.stdout)
    assert report["ok"] is False
    assert (report["damage"]["position"], report["damage"]["kind"]) == (7, "edited")
    assert "entry 7 is the first that differs" in against.stderr


def test_a_rewrite_after_appending_cannot_be_checkpointed_with_a_stale_node(
    data_dir: Path, database_url: str
) -> None:
    """Bug 1: a zeroed node on the tree's right edge, then one more event: the next
    checkpoint refuses (exit 3) instead of signing a root built on the bad node."""
    _ledger_with_ten_entries(data_dir)
    assert _cli(data_dir, "verify").exit_code == 0  # the tree now has 10 leaves: (3,0), (1,4)
    _sql(database_url, f"UPDATE {NODES} SET hash = :z WHERE level = 3 AND idx = 0")
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    ledger.register_camera(
        "later", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.close()
    refused = _cli(data_dir, "checkpoint")
    assert refused.exit_code == 3
    assert "FAILED at position 8: tree" in refused.stderr
    assert "\u2014 custodes/" not in refused.stdout
