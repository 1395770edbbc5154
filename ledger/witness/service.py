"""The witness's ``add-checkpoint`` (C2SP tlog-witness), independent of HTTP: the same
function answers the HTTP server and ``custodes witness cosign`` on a file.

Request body (tlog-witness): ``old <size>\\n``, zero to 63 base64 consistency proof
lines, an empty line, then the signed checkpoint. Answers, in the spec's order:

* 400 the body is malformed, or the old size is larger than the checkpoint's;
* 404 the origin is unknown; 403 no signature from the log's trusted key verifies;
* 409 (``Content-Type: text/x.tlog.size``, body ``<size>\\n``) the old size is not the
  size of the latest checkpoint this witness cosigned for that log (0 if none);
* 422 a size-0 checkpoint whose root is not SHA-256(""), a proof sent with old size 0,
  equal sizes with different roots, or a consistency proof that does not verify;
* 200 with the witness's cosignature line, after the new state was stored.

The check against the stored size and the store of the new checkpoint are one critical
section (``WitnessDir.locked``), so concurrent requests cannot roll the state back.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from ledger.checkpoint import EM_DASH, CheckpointInvalid, split_note, verify_note
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, MerkleError, verify_consistency
from ledger.witness.cosignature import (
    VerifierKey,
    WitnessError,
    cosign,
    parse_checkpoint_text,
    parse_decimal,
)
from ledger.witness.state import WitnessDir

MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = TEXT

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Request:
    old_size: int
    proof: list[bytes]
    note: str


class BadRequest(WitnessError):
    """The request body does not follow the add-checkpoint format (400)."""


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The add-checkpoint request body a log sends (the client's half of the format)."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


def parse_request(body: bytes) -> Request:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise BadRequest("the request has no empty line before the checkpoint")
    lines = head.split("\n")
    first, proof_lines = lines[0], lines[1:]
    if not first.startswith("old "):
        raise BadRequest("the request does not start with an 'old <size>' line")
    try:
        old_size = parse_decimal(first[4:], "old size")
    except WitnessError as e:
        raise BadRequest(str(e)) from None
    if len(proof_lines) > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for n, line in enumerate(proof_lines, 1):
        try:
            value = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise BadRequest(f"consistency proof line {n} is not base64") from None
        if len(value) != HASH_SIZE:
            raise BadRequest(f"consistency proof line {n} is not a {HASH_SIZE}-byte hash")
        proof.append(value)
    return Request(old_size, proof, note)


def add_checkpoint(witness: WitnessDir, body: bytes, now: datetime) -> Response:
    """Answer one add-checkpoint request (see the module doc for the status codes)."""
    if len(body) > MAX_BODY:
        return Response(413, b"request body too large\n")
    try:
        request = parse_request(body)
        text, _ = split_note(request.note)
        checkpoint = parse_checkpoint_text(text)
    except (WitnessError, CheckpointInvalid) as e:
        return Response(400, f"{e}\n".encode())
    log_key = witness.logs.get(checkpoint.origin)
    if log_key is None:
        return Response(404, f"unknown log origin {checkpoint.origin}\n".encode())
    try:
        verify_note(request.note, log_key.public_key, log_key.name)
    except CheckpointInvalid as e:
        return Response(403, f"{e}\n".encode())
    if request.old_size > checkpoint.size:
        return Response(
            400,
            f"old size {request.old_size} exceeds the checkpoint's {checkpoint.size}\n".encode(),
        )
    timestamp = int(now.timestamp())
    if timestamp <= 0:
        raise WitnessError("the witness clock is before 1970; a cosignature needs a timestamp")
    with witness.locked():
        try:
            latest = witness.latest(checkpoint.origin)
        except (OSError, WitnessError) as e:
            return Response(500, f"this witness cannot read its own state: {e}\n".encode())
        size, root = (latest.size, latest.root) if latest else (0, EMPTY_ROOT)
        if request.old_size != size:
            return Response(409, f"{size}\n".encode(), SIZE_CONTENT_TYPE)
        problem = _inconsistency(request, checkpoint.size, checkpoint.root, root)
        if problem is not None:
            witness.record_refused(checkpoint.origin, body, problem, now)
            return Response(422, f"{problem}\n".encode())
        line = cosign(text.encode("utf-8"), witness.key, witness.name, timestamp)
        witness.store(checkpoint.origin, _stored_note(request.note, log_key, line))
    return Response(200, line.encode("utf-8"))


def _inconsistency(request: Request, size: int, new_root: bytes, old_root: bytes) -> str | None:
    if size == 0 and new_root != EMPTY_ROOT:
        return "a checkpoint of size 0 must have the empty tree's root hash"
    if request.old_size == 0 and request.proof:
        return "the consistency proof must be empty when the old size is 0"
    if request.old_size == size and new_root != old_root:
        return (
            f"the checkpoint has the size {size} this witness cosigned, with another root hash: "
            "the log rewrote its history"
        )
    try:
        verify_consistency(request.old_size, size, old_root, new_root, request.proof)
    except MerkleError as e:
        return (
            f"the checkpoint of size {size} is not consistent with the one of size "
            f"{request.old_size} this witness cosigned ({e}): the log rewrote its history"
        )
    return None


def _stored_note(note: str, log_key: VerifierKey, cosignature: str) -> str:
    """What the monitoring endpoint serves: the text, the log's signature lines (its
    trusted name and key ID: verified above) and this witness's cosignature."""
    text, signatures = split_note(note)
    log_lines = "".join(
        f"{EM_DASH} {name} {base64.b64encode(blob).decode()}\n"
        for name, blob in signatures
        if name == log_key.name and blob[:4] == log_key.key_id
    )
    return f"{text}\n{log_lines}{cosignature}"
