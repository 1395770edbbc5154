"""The witness's add-checkpoint (C2SP tlog-witness) on its own directory: every status
code the spec gives, the stored state, and the atomic check-and-update."""

from __future__ import annotations

import base64
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.merkle import EMPTY_ROOT, MemoryNodeStore, MerkleAppender, consistency_proof, leaf_hash
from ledger.witness.cosignature import cosignatures, log_vkey
from ledger.witness.service import add_checkpoint, request_body
from ledger.witness.state import WitnessDir, WitnessDirError

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
ORIGIN = "custodes/00000000-0000-4000-8000-000000000001"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)


class Log:
    """A log of ``n`` leaves kept in memory, signing checkpoints like the ledger does."""

    def __init__(self, salt: bytes = b"", key: Ed25519PrivateKey = LOG_KEY) -> None:
        self.store = MemoryNodeStore()
        self.appender = MerkleAppender()
        self.roots = [self.appender.root()]
        self.salt = salt
        self.key = key

    def grow(self, to: int) -> None:
        while self.appender.size < to:
            entry = self.salt + b"entry %d" % self.appender.size
            self.store.put_many(self.appender.append([leaf_hash(entry)]))
            self.roots.append(self.appender.root())

    def note(self, size: int) -> str:
        self.grow(size)
        cp = Checkpoint(ORIGIN, size, self.roots[size], NOW)
        return sign_checkpoint(cp, self.key, ORIGIN)

    def request(self, old: int, size: int, proof: list[bytes] | None = None) -> bytes:
        note = self.note(size)
        if proof is None:
            proof = consistency_proof(old, size, self.store) if old else []
        return request_body(old, proof, note)


@pytest.fixture
def witness(tmp_path: Path) -> WitnessDir:
    w = WitnessDir.create(tmp_path / "witness", "witness.example.org/board")
    w.add_log(log_vkey(ORIGIN, LOG_KEY.public_key()))
    return WitnessDir.open(tmp_path / "witness")


def test_a_new_witness_keeps_its_key_and_state_to_itself(witness: WitnessDir) -> None:
    assert stat.S_IMODE(witness.path.stat().st_mode) == 0o700
    for name in ("witness.key", "witness.json"):
        assert stat.S_IMODE((witness.path / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((witness.path / "state").stat().st_mode) == 0o700
    with pytest.raises(WitnessDirError, match="is not empty"):
        WitnessDir.create(witness.path, "again")


def test_first_cosignature_then_growth_with_a_consistency_proof(witness: WitnessDir) -> None:
    log = Log()
    first = add_checkpoint(witness, log.request(0, 5), NOW)
    assert first.status == 200
    line = first.text
    assert line.startswith("\u2014 witness.example.org/board ") and line.endswith("\n")
    assert cosignatures(log.note(5) + line, [witness.vkey]) == {
        "witness.example.org/board": int(NOW.timestamp())
    }
    latest = witness.latest(ORIGIN)
    assert latest is not None and (latest.size, latest.root) == (5, log.roots[5])
    assert latest.note == log.note(5) + line  # the log's signature and the cosignature

    grown = add_checkpoint(witness, log.request(5, 13), NOW)
    assert grown.status == 200
    assert witness.latest(ORIGIN).size == 13  # type: ignore[union-attr]
    again = add_checkpoint(witness, log.request(13, 13), NOW)  # same tree: cosigned again
    assert again.status == 200


def test_a_wrong_old_size_gets_409_with_the_witnesss_size(witness: WitnessDir) -> None:
    log = Log()
    assert add_checkpoint(witness, log.request(0, 5), NOW).status == 200
    for old in (0, 3, 6):
        conflict = add_checkpoint(witness, log.request(old, 9), NOW)
        assert (conflict.status, conflict.body, conflict.content_type) == (
            409,
            b"5\n",
            "text/x.tlog.size",
        )


def test_a_rewritten_history_gets_422_and_is_kept_as_evidence(witness: WitnessDir) -> None:
    honest, rewritten = Log(), Log(salt=b"forged ")
    assert add_checkpoint(witness, honest.request(0, 6), NOW).status == 200
    rewritten.grow(10)
    body = rewritten.request(6, 10)  # a valid proof of the other history, from size 6
    refused = add_checkpoint(witness, body, NOW)
    assert refused.status == 422
    assert "not consistent with the one of size 6" in refused.text
    assert witness.latest(ORIGIN).size == 6  # type: ignore[union-attr]
    (kept,) = list((witness.path / "refused").iterdir())
    assert kept.read_bytes().endswith(body)
    same_size = add_checkpoint(witness, rewritten.request(6, 6), NOW)
    assert same_size.status == 422
    assert "with another root hash" in same_size.text


@pytest.mark.parametrize("bad", ["flipped", "dropped", "extra"])
def test_a_proof_that_does_not_verify_gets_422(witness: WitnessDir, bad: str) -> None:
    log = Log()
    assert add_checkpoint(witness, log.request(0, 6), NOW).status == 200
    log.grow(11)
    proof = consistency_proof(6, 11, log.store)
    if bad == "flipped":
        proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]
    elif bad == "dropped":
        proof = proof[:-1]
    else:
        proof = [*proof, log.roots[11]]
    assert add_checkpoint(witness, log.request(6, 11, proof), NOW).status == 422
    assert witness.latest(ORIGIN).size == 6  # type: ignore[union-attr]


def test_size_zero_and_old_size_zero_follow_the_spec(witness: WitnessDir) -> None:
    log = Log()
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT, NOW), LOG_KEY, ORIGIN)
    assert add_checkpoint(witness, request_body(0, [], empty), NOW).status == 200
    wrong_empty = sign_checkpoint(Checkpoint(ORIGIN, 0, log.roots[0][::-1], NOW), LOG_KEY, ORIGIN)
    assert add_checkpoint(witness, request_body(0, [], wrong_empty), NOW).status == 422
    log.grow(4)
    with_proof = log.request(0, 4, [log.roots[2]])
    refused = add_checkpoint(witness, with_proof, NOW)
    assert (refused.status, refused.text) == (
        422,
        "the consistency proof must be empty when the old size is 0\n",
    )


def test_an_unknown_log_gets_404_and_a_bad_signature_403(witness: WitnessDir) -> None:
    stranger = Log(key=Ed25519PrivateKey.from_private_bytes(b"\x08" * 32))
    # Signed under the trusted origin by another key: its key ID is unknown, so no
    # signature from the trusted key is present.
    assert add_checkpoint(witness, stranger.request(0, 3), NOW).status == 403
    note = Log().note(3)
    sig = note.rsplit(" ", 1)[1]
    blob = bytearray(base64.b64decode(sig))
    blob[10] ^= 1
    forged = note.replace(sig.strip(), base64.b64encode(bytes(blob)).decode())
    refused = add_checkpoint(witness, request_body(0, [], forged), NOW)
    assert refused.status == 403
    assert "does not verify" in refused.text
    other_origin = Log().note(3).replace(ORIGIN, "custodes/another")
    unknown = add_checkpoint(witness, request_body(0, [], other_origin), NOW)
    assert (unknown.status, unknown.text) == (404, "unknown log origin custodes/another\n")
    assert witness.latest(ORIGIN) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"old 1\n\nnot a note\n", "blank line before its signatures"),
        (b"new 1\n\n", "'old <size>'"),
        (b"old 01\n\n", "leading zeroes"),
        (b"old 0\nnot base64!\n\n", "line 1 is not base64"),
        (b"old 0\nAAAA\n\n", "not a 32-byte hash"),
        (b"old 0", "no empty line"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_requests_get_400(witness: WitnessDir, body: bytes, message: str) -> None:
    note = Log().note(3).encode()
    response = add_checkpoint(witness, body + (note if body.endswith(b"\n\n") else b""), NOW)
    assert response.status == 400
    assert message in response.text


def test_an_old_size_beyond_the_checkpoint_and_too_long_a_proof_get_400(
    witness: WitnessDir,
) -> None:
    log = Log()
    assert add_checkpoint(witness, log.request(5, 3, []), NOW).status == 400
    too_long = log.request(2, 3, [log.roots[1]] * 64)
    response = add_checkpoint(witness, too_long, NOW)
    assert (response.status, response.text) == (400, "more than 63 consistency proof lines\n")


def test_concurrent_requests_cannot_roll_the_state_back(witness: WitnessDir) -> None:
    """tlog-witness's race: two requests from the same old size; only one may pass."""
    log = Log()
    log.grow(40)
    bodies = [log.request(0, size) for size in range(20, 40, 2)]
    results: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def submit(body: bytes) -> None:
        barrier.wait()
        results.append(add_checkpoint(witness, body, NOW).status)

    threads = [threading.Thread(target=submit, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * (len(bodies) - 1)
    assert witness.latest(ORIGIN).size in range(20, 40, 2)  # type: ignore[union-attr]


def test_concurrent_processes_share_the_lock(witness: WitnessDir) -> None:
    """Two processes (fork) with the same old size: the state file lock serialises them."""
    log = Log()
    log.grow(30)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: one request, report its status, exit without cleanup
        status = add_checkpoint(WitnessDir.open(witness.path), log.request(0, 21), NOW).status
        os.write(write, str(status).encode())
        os._exit(0)
    mine = add_checkpoint(witness, log.request(0, 22), NOW).status
    os.waitpid(pid, 0)
    os.close(write)
    theirs = int(os.read(read, 10))
    os.close(read)
    assert sorted([mine, theirs]) == [200, 409]


def test_a_damaged_state_file_is_a_500_not_a_cosignature(witness: WitnessDir) -> None:
    log = Log()
    assert add_checkpoint(witness, log.request(0, 5), NOW).status == 200
    (state,) = (witness.path / "state").glob("*.checkpoint")
    state.write_text("not a checkpoint\n")
    response = add_checkpoint(witness, log.request(5, 9), NOW)
    assert response.status == 500
    assert "cannot read its own state" in response.text


def test_the_http_server_answers_like_the_service_and_closes_on_unread_bodies(
    witness: WitnessDir,
) -> None:
    import http.client

    from ledger.witness.server import WitnessServer

    server = WitnessServer(("127.0.0.1", 0), witness, lambda: NOW, prefix="/w", log=None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        conn = http.client.HTTPConnection(str(host), port, timeout=5)
        log = Log()
        for _ in range(2):  # two requests on one keep-alive connection
            conn.request("POST", "/w/add-checkpoint", body=log.request(0, 4))
            answer = conn.getresponse()
            body = answer.read()
            if answer.status == 409:
                assert (body, answer.getheader("Content-Type")) == (b"4\n", "text/x.tlog.size")
            else:
                assert answer.status == 200 and body.startswith("\u2014 ".encode())
        conn.request("POST", "/w/add-checkpoint", body=b"x" * (64 * 1024 + 1))
        too_big = conn.getresponse()
        assert (too_big.status, too_big.getheader("Connection")) == (413, "close")
        too_big.read()
        conn.close()
        conn = http.client.HTTPConnection(str(host), port, timeout=5)
        conn.request("POST", "/elsewhere", body=b"old 0\n\n")
        wrong = conn.getresponse()
        assert (wrong.status, wrong.getheader("Connection")) == (404, "close")
        wrong.read()
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
