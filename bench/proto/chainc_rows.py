"""PROTOTYPE, bench only: ``ledger.chain.chain_rows`` with the per-entry hashing and
packing in C (bench/proto/chainc.c), to measure what that would give (issue 18, item 5).

``build()`` compiles the extension with gcc against this interpreter's headers and the
system's libcrypto (OpenSSL's one-shot ``SHA256``, the same block function hashlib uses);
``check()`` compares its rows with ``chain_rows``' byte for byte (random topics, sizes,
heads, with and without an act, both row shapes) and must pass before anything is counted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import subprocess
import sysconfig
import uuid
from pathlib import Path
from typing import Any

from ledger.chain import _U32, DOMAIN, chain_rows

HERE = Path(__file__).resolve().parent


def build(out_dir: Path) -> Path:
    target = out_dir / f"chainc{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-Wall", "-Wno-deprecated-declarations",
         f"-I{sysconfig.get_paths()['include']}", "-o", str(target), str(HERE / "chainc.c"),
         "-lcrypto"],
        check=True,
    )  # fmt: skip
    return target


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("chainc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_rows(chainc: Any) -> Any:
    def rows_c(
        ids: list[int], events: Any, head_position: int, head_hash: bytes, seal: Any = None,
        *, sqlite: bool,
    ) -> list[tuple[object, ...]]:  # fmt: skip
        rows, last_entry = chainc.rows(ids, events, head_position, head_hash, DOMAIN, sqlite)
        if not rows or seal is None:
            return rows  # type: ignore[no-any-return]
        cores = hashlib.sha256()
        for row in rows:
            cores.update(row[8])
        record = seal(head_position + 1, len(rows), cores.hexdigest())
        if record:
            last = rows[-1]
            sealed = hashlib.sha256(last_entry[:-4] + _U32.pack(len(record)) + record).digest()
            if sqlite:
                rows[-1] = (*last[:8], bytearray(sealed), bytearray(record))
            else:
                rows[-1] = (*last[:8], sealed, record)
        return rows  # type: ignore[no-any-return]

    return rows_c


def check(rows_c: Any, cases: int = 200) -> None:
    from eventsourcing.persistence import StoredEvent

    rng = random.Random(5)
    topics = ["ledger.custody:CustodyRecord.CustodyRecorded", "t", "é/ünïcode:Topic", ""]
    for case in range(cases):
        events = [
            StoredEvent(uuid.UUID(bytes=os.urandom(16)), rng.randint(1, 2**40),
                        rng.choice(topics), os.urandom(rng.randint(0, 300)))
            for _ in range(rng.randint(1, 40))
        ]  # fmt: skip
        ids = sorted(rng.sample(range(1, 10**6), len(events)))
        head = rng.choice([0, rng.randint(1, 10**6)])
        head_hash = hashlib.sha256(str(case).encode()).digest()

        def seal(first: int, count: int, entries: str) -> bytes:
            return b"signed act record " + entries.encode()

        for sqlite in (True, False):
            for s in (None, seal):
                got = rows_c(ids, events, head, head_hash, s, sqlite=sqlite)
                want = chain_rows(ids, events, head, head_hash, s, sqlite=sqlite)
                assert got == want, (case, sqlite, s)
                assert [list(map(type, r)) for r in got] == [list(map(type, r)) for r in want]
