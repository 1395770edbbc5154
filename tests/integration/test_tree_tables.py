"""The stored Merkle tree is laid out as docs/FORMAT.md ("The stored tree") says."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from ledger.datadir import DataDir
from ledger.integrity import open_chain, verify_chain
from ledger.merkle import leaf_hash, node_hash, root_at
from tests.integration.test_proofs import TABLE
from tests.integration.test_witness_loopback import _add_entries


def test_the_tree_tables_hold_one_row_and_every_perfect_subtree(data_dir: Path) -> None:
    url = DataDir.open(data_dir).database_url
    for more in (1, 3, 5):
        _add_entries(data_dir, more)
        reader = open_chain(DataDir.open(data_dir))
        n = verify_chain(reader).count
        engine = create_engine(url)
        with engine.connect() as conn:
            tree = conn.execute(text(f"SELECT id, size, root FROM {TABLE}_tree")).all()
            nodes = {
                (level, idx): bytes(h)
                for level, idx, h in conn.execute(
                    text(f"SELECT level, idx, hash FROM {TABLE}_tree_nodes")
                )
            }
            hashes = [
                bytes(h)
                for (h,) in conn.execute(text(f"SELECT entry_hash FROM {TABLE} ORDER BY position"))
            ]
        engine.dispose()
        assert [(row[0], row[1]) for row in tree] == [(1, n)]
        assert len(nodes) == 2 * n - n.bit_count()
        for (level, idx), value in nodes.items():
            assert (idx + 1) << level <= n
            if level == 0:
                assert value == leaf_hash(hashes[idx])
            else:
                assert value == node_hash(
                    nodes[(level - 1, 2 * idx)], nodes[(level - 1, 2 * idx + 1)]
                )
        store = reader.node_store()
        try:
            assert bytes(tree[0][2]) == root_at(n, store)
        finally:
            store.close()
