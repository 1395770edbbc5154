"""Witnesses over loopback HTTP with a real ledger: `custodes checkpoint` collects
cosignatures, `verify --against` and `restore --against` check them against the witness
policy; a rewrite, a rolled-back ledger, a stale witness and a wrong log key."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.witness.cosignature import cosignatures, log_vkey
from ledger.witness.server import WitnessServer
from ledger.witness.state import WitnessDir, origin_hash
from tests.chain_rewrite import rechain_from
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, open_test_ledger
from tests.integration.test_proofs import TABLE, _drop_tree


def _add_entries(data_dir: Path, n: int) -> None:
    """``n`` more entries, one act each (cameras with names not used before)."""
    ledger = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    try:
        for _ in range(n):
            ledger.register_camera(
                f"cam-{uuid.uuid4().hex[:8]}",
                location="Lobby",
                zone="public",
                signage_posted=True,
                actor=DIRECTOR,
            )
    finally:
        ledger.close()


def cli(data: Path, *args: str, code: int | None = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def origin_and_key(data: Path):  # noqa: ANN201
    dd = DataDir.open(data)
    ledger = open_test_ledger(dd, clock=ManualClock(NOW))
    try:
        return ledger.site().log_origin, dd.public_key()
    finally:
        ledger.close()


class Running:
    def __init__(self, witness: WitnessDir) -> None:
        self.witness = witness
        self.server = WitnessServer(("127.0.0.1", 0), witness, ManualClock(NOW), log=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def witnesses(tmp_path: Path, data_dir: Path) -> Iterator[dict[str, Running]]:
    """Two witnesses on loopback that trust this ledger's key."""
    origin, key = origin_and_key(data_dir)
    running = {}
    for name in ("neighbour", "board"):
        w = WitnessDir.create(tmp_path / f"w-{name}", f"{name}.example/witness")
        w.add_log(log_vkey(origin, key))
        running[name] = Running(w)
    yield running
    for r in running.values():
        r.stop()


def write_policy(path: Path, data: Path, witnesses: dict[str, Running], quorum: str) -> Path:
    origin, key = origin_and_key(data)
    lines = [f"log {log_vkey(origin, key).text()}"]
    for name, r in witnesses.items():
        lines.append(f"witness {name} {r.witness.vkey.text()} {r.server.url}")
    lines.append(quorum)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_round_trip_cosigns_and_verify_against_checks_the_quorum(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    policy = write_policy(
        tmp_path / "p.policy", data_dir, witnesses, "group both all neighbour board\nquorum both"
    )
    _add_entries(data_dir, 1)
    made = cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c"),
        "--force",
    )
    assert "Witness quorum (2 of (witness neighbour, witness board)) met" in made.stderr
    note = (tmp_path / "c").read_text()
    keys = [r.witness.vkey for r in witnesses.values()]
    assert set(cosignatures(note, keys)) == {"neighbour.example/witness", "board.example/witness"}
    for r in witnesses.values():
        assert r.witness.latest(origin_and_key(data_dir)[0]).size == 6  # type: ignore[union-attr]

    ok = cli(
        data_dir,
        "verify",
        "--against",
        str(tmp_path / "c"),
        "--witness-policy",
        str(policy),
        "--json",
    )
    assert json.loads(ok.stdout)["witnesses"] == {
        "neighbour": int(NOW.timestamp()),
        "board": int(NOW.timestamp()),
    }
    # The same checkpoint with one cosignature removed no longer meets the quorum: exit 1.
    lines = note.splitlines(keepends=True)
    (tmp_path / "one").write_text("".join(lines[:-1]))
    short = cli(
        data_dir,
        "verify",
        "--against",
        str(tmp_path / "one"),
        "--witness-policy",
        str(policy),
        code=1,
    )
    assert "is not cosigned as the witness policy requires" in short.stderr
    # A cosignature that does not verify is tampering: exit 3.
    encoded = lines[-1].split(" ")[2].strip()
    blob = bytearray(base64.b64decode(encoded))
    blob[-1] ^= 1
    forged = note.replace(encoded, base64.b64encode(bytes(blob)).decode())
    (tmp_path / "forged").write_text(forged)
    bad = cli(
        data_dir,
        "verify",
        "--against",
        str(tmp_path / "forged"),
        "--witness-policy",
        str(policy),
        code=3,
    )
    assert "does not verify" in bad.stderr


def test_the_witness_refuses_a_rewritten_history_and_checkpoint_exits_3(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running], database_url: str
) -> None:
    policy = write_policy(tmp_path / "p", data_dir, {"board": witnesses["board"]}, "quorum board")
    _add_entries(data_dir, 3)
    cli(data_dir, "checkpoint", "--witness-policy", str(policy), "--out", str(tmp_path / "c1"))
    engine = create_engine(database_url)
    with engine.begin() as conn:  # an insider swaps two payloads, re-chains and re-signs
        s6, s7 = (
            bytes(conn.execute(text(f"SELECT state FROM {TABLE} WHERE id = {i}")).scalar_one())
            for i in (6, 7)
        )
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 6"), {"s": s7})
        conn.execute(text(f"UPDATE {TABLE} SET state = :s WHERE id = 7"), {"s": s6})
    engine.dispose()
    rechain_from(data_dir, 6)
    _drop_tree(database_url)
    _add_entries(data_dir, 1)
    refused = cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c2"),
        code=3,
    )
    assert "witness board (" in refused.stderr and "inconsistent: 422" in refused.stderr
    assert "no longer extends" in refused.stderr
    board = witnesses["board"].witness
    assert board.latest(origin_and_key(data_dir)[0]).size == 8  # type: ignore[union-attr]
    assert len(list((board.path / "refused").iterdir())) == 1
    assert cosignatures((tmp_path / "c2").read_text(), [board.vkey]) == {}


def test_a_rolled_back_ledger_is_reported_by_the_witness_that_saw_more(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running], database_url: str
) -> None:
    policy = write_policy(tmp_path / "p", data_dir, {"board": witnesses["board"]}, "quorum board")
    _add_entries(data_dir, 3)
    cli(data_dir, "checkpoint", "--witness-policy", str(policy), "--out", str(tmp_path / "c1"))
    engine = create_engine(database_url)
    with engine.begin() as conn:  # the tail is cut off and the stored tree with it
        conn.execute(text(f"DELETE FROM {TABLE} WHERE id > 6"))
    engine.dispose()
    _drop_tree(database_url)
    cut = cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c2"),
        code=3,
    )
    assert (
        "it has already cosigned a tree of 8 entries, larger than this checkpoint's 6" in cut.stderr
    )


def test_a_stale_witness_catches_up_with_one_proof_from_its_size(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    policy = write_policy(tmp_path / "p", data_dir, witnesses, "quorum neighbour")
    cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c"),
        "--force",
    )
    origin = origin_and_key(data_dir)[0]
    for _ in range(3):  # the board's witness is offline for three checkpoints
        _add_entries(data_dir, 1)
        cli(
            data_dir,
            "checkpoint",
            "--witness-policy",
            str(policy),
            "--witness",
            "neighbour",
            "--out",
            str(tmp_path / "c"),
            "--force",
        )
    assert witnesses["board"].witness.latest(origin).size == 5  # type: ignore[union-attr]
    assert witnesses["neighbour"].witness.latest(origin).size == 8  # type: ignore[union-attr]
    caught_up = cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c"),
        "--force",
    )
    assert "witness board (" in caught_up.stderr and ": cosigned:" in caught_up.stderr
    assert witnesses["board"].witness.latest(origin).size == 8  # type: ignore[union-attr]


def test_a_witness_with_another_key_for_our_origin_refuses_403(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    origin, _ = origin_and_key(data_dir)
    wrong = WitnessDir.create(tmp_path / "w-wrong", "wrong.example/witness")
    wrong.add_log(log_vkey(origin, Ed25519PrivateKey.generate().public_key()))
    running = Running(wrong)
    try:
        policy = write_policy(tmp_path / "p", data_dir, {"wrong": running}, "quorum wrong")
        made = cli(
            data_dir,
            "checkpoint",
            "--witness-policy",
            str(policy),
            "--out",
            str(tmp_path / "c"),
            "--force",
        )
        assert "witness wrong (" in made.stderr and ": refused: 403" in made.stderr
        assert "Witness quorum (witness wrong) NOT met" in made.stderr
        assert wrong.latest(origin) is None
        short = cli(
            data_dir,
            "verify",
            "--against",
            str(tmp_path / "c"),
            "--witness-policy",
            str(policy),
            code=1,
        )
        assert "is not cosigned as the witness policy requires (witness wrong)" in short.stderr
    finally:
        running.stop()


def test_a_policy_for_another_ledger_is_refused(data_dir: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    origin, _ = origin_and_key(data_dir)
    other = log_vkey(origin, Ed25519PrivateKey.generate().public_key())
    (tmp_path / "p").write_text(f"log {other.text()}\nquorum none\n")
    refused = cli(data_dir, "checkpoint", "--witness-policy", str(tmp_path / "p"), code=1)
    assert (
        f"the witness policy does not list this ledger ({origin}) with its public key"
        in refused.stderr
    )


def test_the_monitoring_endpoint_serves_the_latest_cosigned_checkpoint(
    data_dir: Path, tmp_path: Path, witnesses: dict[str, Running]
) -> None:
    board = witnesses["board"]
    policy = write_policy(tmp_path / "p", data_dir, {"board": board}, "quorum board")
    origin, key = origin_and_key(data_dir)
    url = f"{board.server.url}/{origin_hash(origin)}/checkpoint"
    with pytest.raises(urllib.request.HTTPError) as missing:
        urllib.request.urlopen(url, timeout=5)
    assert missing.value.code == 404
    cli(
        data_dir,
        "checkpoint",
        "--witness-policy",
        str(policy),
        "--out",
        str(tmp_path / "c"),
        "--force",
    )
    with urllib.request.urlopen(url, timeout=5) as answer:
        served = answer.read().decode()
    assert served == (tmp_path / "c").read_text()
    assert cosignatures(served, [board.witness.vkey]) == {
        "board.example/witness": int(NOW.timestamp())
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_witness_serve_runs_as_a_command_on_loopback(data_dir: Path, tmp_path: Path) -> None:
    origin, key = origin_and_key(data_dir)
    wdir = tmp_path / "w"
    env = {**os.environ, "CUSTODES_WITNESS_DIR": str(wdir)}
    exe = [sys.executable, "-m", "cli.main"]
    made = subprocess.run(
        [*exe, "witness", "init", "--name", "cmd.example/w"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    added = subprocess.run(
        [*exe, "witness", "add-log", log_vkey(origin, key).text()],
        env=env,
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    server = subprocess.Popen(
        [*exe, "witness", "serve", "--listen", "127.0.0.1:0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
        assert banner.startswith("Witness cmd.example/w listening on http://127.0.0.1:")
        url = banner.split(" on ")[1].strip().removesuffix("/add-checkpoint")
        (tmp_path / "p").write_text(f"witness w {vkey} {url}\nquorum w\n")
        made_cp = cli(
            data_dir,
            "checkpoint",
            "--witness-policy",
            str(tmp_path / "p"),
            "--out",
            str(tmp_path / "c"),
            "--force",
        )
        assert "Witness quorum (witness w) met" in made_cp.stderr
    finally:
        server.send_signal(signal.SIGTERM)  # (SIGINT may be ignored: a background job's)
        try:
            assert server.wait(timeout=30) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert server.stderr is not None
    assert server.stderr.read().endswith("Witness cmd.example/w stopped\n")
    assert stat_mode(wdir) == 0o700


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
