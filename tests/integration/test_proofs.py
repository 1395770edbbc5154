"""Checkpoints, inclusion proofs and consistency against a signed checkpoint (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.checkpoint import generate_signing_key, sign_checkpoint
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import InvalidInput, NotFound
from ledger.integrity import (
    InclusionProof,
    MerkleProofFailed,
    check_inclusion,
    issue_checkpoint,
    open_chain,
    prove,
    read_checkpoint,
    verify_chain,
)
from ledger.merkle import inclusion_nodes
from tests.chain_rewrite import rechain_from
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, open_test_ledger

TABLE = "ledger_events"


def _add_entries(data_dir: Path, n: int) -> None:
    """``n`` more entries, one act each (init wrote 5 entries in one act)."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    for k in range(n):
        ledger.register_camera(
            f"cam-{k}", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
        )
    ledger.close()


def _cli(data_dir: Path, *args: str):  # noqa: ANN202
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )


def _checkpoint(data_dir: Path, out: Path) -> Path:
    result = _cli(data_dir, "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _drop_tree(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}_tree_nodes"))
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}_tree"))
    engine.dispose()


def test_an_inclusion_proof_recomputes_to_the_signed_root(data_dir: Path, tmp_path: Path) -> None:
    _add_entries(data_dir, 3)
    dd = DataDir.open(data_dir)
    origin = open_test_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, note = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )
    assert cp.size == 8
    for event in range(1, 9):
        proof = prove(open_chain(dd), event, cp, note)
        again = InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
        check_inclusion(again, cp)
    tampered = proof.to_json()
    tampered["entry"]["topic"] = "ledger.footage:Camera.CameraRetired"
    with pytest.raises(MerkleProofFailed, match="do not hash to its entry hash"):
        check_inclusion(InclusionProof.from_json(tampered), cp)


def test_prove_writes_a_proof_that_reveals_only_its_own_entry(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_entries(data_dir, 3)
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    result = _cli(
        data_dir, "prove", "3", "--checkpoint", str(cp), "--out", str(tmp_path / "p.json")
    )
    assert result.exit_code == 0, result.output
    proof = json.loads((tmp_path / "p.json").read_text())
    assert proof["entry"]["position"] == 3
    assert proof["tree_size"] == 8
    assert len(proof["inclusion_path"]) == 3  # log2(8): three sibling subtree hashes
    assert "state" not in proof["entry"]
    assert proof["entry"]["act"] is None  # entry 3 is inside the first act, not its last


def test_verify_against_a_checkpoint_sees_a_consistent_truncation_plain_verify_cannot(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_entries(data_dir, 4)
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")  # 9 entries
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:  # two whole acts of one entry each
        conn.execute(text(f"DELETE FROM {TABLE} WHERE id > 7"))
    engine.dispose()
    _drop_tree(url)  # the insider rewrites the head and witness consistently

    plain = _cli(data_dir, "verify")
    assert plain.exit_code == 0, plain.output
    assert "OK: 7 entries verify" in plain.stdout

    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "covers 9 entries but the ledger now has 7 (truncated at position 8)" in against.stderr


def test_verify_against_a_checkpoint_sees_a_consistent_rewrite(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_entries(data_dir, 3)
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:  # swap two payloads, then re-chain and re-sign after
        s6, s7 = (
            bytes(conn.execute(text(f"SELECT state FROM {TABLE} WHERE id = {i}")).scalar_one())
            for i in (6, 7)
        )
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 6"), {"s": s7})
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 7"), {"s": s6})
    engine.dispose()
    # An insider holding every key they signed with (here: the Director's) can re-sign.
    rechain_from(data_dir, 6)
    _drop_tree(url)

    assert _cli(data_dir, "verify").exit_code == 0
    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "does not extend it" in against.stderr


def test_a_rewrite_that_leaves_the_old_tree_is_caught_against_the_checkpoint(
    data_dir: Path, tmp_path: Path
) -> None:
    _add_entries(data_dir, 3)
    cp = _checkpoint(data_dir, tmp_path / "cp.txt")
    url = DataDir.open(data_dir).database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {TABLE} SET topic = 'ledger.footage:Camera.CameraRetired' WHERE id = 7")
        )
    engine.dispose()
    rechain_from(data_dir, 7)
    against = _cli(data_dir, "verify", "--against", str(cp))
    assert against.exit_code == 3
    assert "checkpoint of size 8 at position 7: edited" in against.stderr
    assert "entry 7 is the first that differs" in against.stderr
    plain = _cli(data_dir, "verify")  # the stored tree, left as it was, shows the rewrite
    assert plain.exit_code == 3
    assert "FAILED at position 7: tree (entry 7 is not the entry" in plain.stderr


def test_a_checkpoint_signed_by_another_key_is_refused(data_dir: Path, tmp_path: Path) -> None:
    dd = DataDir.open(data_dir)
    origin = open_test_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, _ = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )
    forged = sign_checkpoint(cp, generate_signing_key(), origin)
    (tmp_path / "forged.txt").write_text(forged)
    result = _cli(data_dir, "verify", "--against", str(tmp_path / "forged.txt"))
    assert result.exit_code == 1
    assert "checkpoint rejected" in result.stderr
    with pytest.raises(Exception, match="checkpoint rejected"):
        read_checkpoint(forged, dd.public_key(), origin)


def test_the_tree_grows_with_each_verification(data_dir: Path) -> None:
    dd = DataDir.open(data_dir)
    reader = open_chain(dd)
    assert verify_chain(reader).count == 5
    assert reader.tree_state()[0] == 5
    _add_entries(data_dir, 1)
    assert verify_chain(reader).count == 6
    assert reader.tree_state()[0] == 6


def _prepared(reader: object) -> list[tuple[str, list[str], int, int]]:
    """The statements prepared on the reader's pooled connection: text, parameter types,
    and how often PostgreSQL ran each on its cached generic plan and on a custom one."""
    engine = reader.recorder.datastore.engine  # type: ignore[attr-defined]
    proxy = engine.raw_connection()
    try:
        cur = proxy.driver_connection.cursor()
        cur.execute(
            "SELECT statement, parameter_types::text[], generic_plans, custom_plans "
            "FROM pg_prepared_statements ORDER BY statement"
        )
        return [tuple(r) for r in cur.fetchall()]
    finally:
        proxy.commit()  # psycopg deallocates every prepared statement on ROLLBACK
        proxy.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # PostgreSQL's statements
def test_a_warmed_up_chain_proves_on_statements_prepared_at_open(
    data_dir: Path, database_url: str
) -> None:
    """Issue 18, item 4: ``open_chain(warm_up=True)`` connects and prepares the proof's
    one statement, planned generic; the first proof then runs it as prepared and planned,
    on that same connection. The ids are past 32,767 on purpose: psycopg types an int
    parameter by its value, and a statement prepared for entry 1 (smallint) was prepared
    again, planned afresh, by the first proof of entry 40,006 (integer)."""
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER SEQUENCE {TABLE}_id_seq RESTART WITH 40000"))
    engine.dispose()
    _add_entries(data_dir, 3)
    dd = DataDir.open(data_dir)
    origin = open_test_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, note = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )

    assert _prepared(open_chain(dd)) == []  # cold: nothing prepared
    reader = open_chain(dd, warm_up=True)
    at_open = _prepared(reader)
    # the entry, the tree's size and root and the path's nodes: one statement
    assert len(at_open) == 1
    statement, types, generic, custom = at_open[0]
    assert "LEFT JOIN ledger_events_tree AS t" in statement and "_tree_nodes AS n" in statement
    assert types == ["bigint", "bigint"]
    proof = prove(reader, 40002, cp, note)
    check_inclusion(proof, cp)
    assert proof.position == 8
    # the proof ran on it: nothing new prepared, and no planning (the generic plan)
    assert _prepared(reader) == [(statement, types, generic + 1, custom)]
    proxy = engine.raw_connection()  # the proof handed its connection back as it found it
    try:
        assert proxy.driver_connection.autocommit is False
    finally:
        proxy.close()


def test_a_warm_up_changes_no_proof_and_needs_no_tree(data_dir: Path, tmp_path: Path) -> None:
    """Issue 18, item 4: proofs from a warmed-up chain are the cold chain's, byte for byte,
    for every event; and a ledger whose tree was never built (or was dropped) warms up
    without error and answers a proof as it does cold."""
    _add_entries(data_dir, 8)  # 13 entries: a tree that is not a power of two
    dd = DataDir.open(data_dir)
    assert open_chain(dd, warm_up=True).tree_state() == (0, None)  # no tree tables yet
    origin = open_test_ledger(dd, clock=ManualClock(NOW)).site().log_origin
    cp, note = issue_checkpoint(
        open_chain(dd), origin=origin, signing_key=dd.signing_key(None), now=NOW
    )
    assert cp.size == 13
    warm, cold = open_chain(dd, warm_up=True), open_chain(dd)
    for event in range(1, 14):
        proof = prove(warm, event, cp, note)
        assert proof.to_json() == prove(cold, event, cp, note).to_json()
    with pytest.raises(NotFound):
        prove(warm, 99, cp, note)

    _drop_tree(dd.database_url)
    no_tree = open_chain(dd, warm_up=True)
    with pytest.raises(InvalidInput, match="larger than this ledger's tree") as warm_error:
        prove(no_tree, 3, cp, note)
    with pytest.raises(InvalidInput) as cold_error:
        prove(open_chain(dd), 3, cp, note)
    assert str(warm_error.value) == str(cold_error.value)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # the one-statement path
def test_the_proof_statement_reads_every_node_the_proof_needs(data_dir: Path) -> None:
    """The statement's candidate nodes (``SqlNodeStore.entry_with_path``) hold every node
    ``merkle.inclusion_proof`` reads, for every entry and every tree size up to 13, so a
    proof on PostgreSQL is one statement and never falls back to a lookup per node."""
    _add_entries(data_dir, 8)
    reader = open_chain(DataDir.open(data_dir))
    assert verify_chain(reader).count == 13
    for event in range(1, 14):
        for size in range(event, 14):  # ids and positions agree in this ledger
            store = reader.node_store(autocommit=True)
            try:
                row, (tree_size, _) = store.entry_with_path(event, size)
                assert (row[4], tree_size) == (event, 13)
                wanted = set(inclusion_nodes(event - 1, size))
                assert wanted <= set(store._cache), (event, size)
            finally:
                store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # PostgreSQL's SQL
def test_the_path_candidates_cover_proofs_in_large_trees(database_url: str) -> None:
    """The candidate nodes computed in SQL (``path_candidates_sql``) hold every node
    ``merkle.inclusion_proof`` reads in trees far larger than a test builds: every leaf
    of every size up to 70, then random leaves and sizes up to 2**62."""
    import random

    import psycopg
    from psycopg.types.numeric import Int8Dumper
    from sqlalchemy import make_url

    from ledger.chain_reader import path_candidates_sql

    rng = random.Random(18)
    cases = [(i, s) for s in range(1, 71) for i in range(s)]
    cases += [(rng.randrange(s), s) for s in (rng.randint(1, 2**b) for b in range(1, 63))]
    cases += [(s - 1, s) for s in (2**40, 2**40 + 1, 2**62 - 1)] + [(0, 2**62 - 1)]
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        cur = conn.cursor()
        cur.adapters.register_dumper(int, Int8Dumper)
        for index, size in cases:
            cur.execute(
                path_candidates_sql("%(position)s::bigint"),
                {"position": index + 1, "size": size},
            )
            got = set(cur.fetchall())
            assert set(inclusion_nodes(index, size)) <= got, (index, size)
            assert len(got) <= 2 * size.bit_length(), (index, size)
