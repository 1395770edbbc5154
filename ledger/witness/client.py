"""The log's side of tlog-witness: ask a witness to cosign a checkpoint.

Stateless: the first request says ``old 0`` ("If a client doesn't have information on
the latest cosigned checkpoint, it MAY initially make a request with a old size of zero
to obtain it"); a 409 answer carries the witness's size, and the second request, on the
same keep-alive connection, carries the consistency proof from that size. The returned
cosignature lines are kept only if they verify with the witness key the policy names
("The client MUST ignore any cosignatures from unknown keys").
"""

from __future__ import annotations

import base64
import binascii
import http.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ledger.checkpoint import EM_DASH
from ledger.witness.cosignature import (
    CosignatureInvalid,
    WitnessError,
    add_signature_lines,
    cosignatures,
    parse_decimal,
)
from ledger.witness.policy import Witness
from ledger.witness.service import Response, request_body

TIMEOUT = 10.0
Status = Literal["cosigned", "unreachable", "refused", "ahead", "inconsistent"]


@dataclass(frozen=True)
class Outcome:
    """What one witness answered.

    ``ahead``: it already cosigned a larger tree than this checkpoint's (``size``).
    ``inconsistent``: it answered 422, our tree does not extend what it cosigned.
    """

    witness: str
    url: str
    status: Status
    detail: str
    size: int | None = None
    lines: str = ""


class Connection:
    """One HTTP/1.1 keep-alive connection to a witness's submission prefix."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WitnessError(f"witness URL {url!r} is not an http(s) URL")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.path = parts.path.rstrip("/") + "/add-checkpoint"
        self.conn = cls(parts.hostname, parts.port, timeout=timeout)

    def add_checkpoint(self, body: bytes) -> Response:
        self.conn.request(
            "POST", self.path, body=body, headers={"Content-Type": "text/plain; charset=utf-8"}
        )
        answer = self.conn.getresponse()
        data = answer.read()
        return Response(answer.status, data, answer.getheader("Content-Type") or "")

    def close(self) -> None:
        self.conn.close()


def request_cosignature(
    witness: Witness,
    note: str,
    size: int,
    prove: Callable[[int], list[bytes]],
    *,
    timeout: float = TIMEOUT,
) -> Outcome:
    """Ask ``witness`` (which must have a URL) to cosign ``note``, a checkpoint of ``size``
    leaves; ``prove(old)`` is the consistency proof from ``old`` to ``size`` leaves."""
    if witness.url is None:
        raise WitnessError(f"witness {witness.name} has no URL in the witness policy")
    conn = Connection(witness.url, timeout)

    def out(status: Status, detail: str, **kw: Any) -> Outcome:
        return Outcome(witness.name, witness.url or "", status, detail, **kw)

    try:
        old = 0
        for _ in range(2):
            response = conn.add_checkpoint(request_body(old, prove(old) if old else [], note))
            if response.status != 409:
                break
            try:
                theirs = parse_decimal(response.text.removesuffix("\n"), "the witness's size")
            except WitnessError as e:
                return out("refused", f"409 with a malformed body: {e}")
            if theirs > size:
                return out(
                    "ahead",
                    f"it has already cosigned a tree of {theirs} entries, larger than this "
                    f"checkpoint's {size}",
                    size=theirs,
                )
            if theirs == old:
                return out("refused", f"409 Conflict repeated at size {theirs}")
            old = theirs
    except (OSError, http.client.HTTPException) as e:
        return out("unreachable", f"{type(e).__name__}: {e}")
    finally:
        conn.close()
    if response.status == 422:
        return out("inconsistent", f"422 {response.text.strip()}", size=old)
    if response.status != 200:
        return out("refused", f"{response.status} {response.text.strip()}")
    return _verified(witness, note, response.text, out)


def _is_line_of(witness: Witness, line: str) -> bool:
    """A signature line under the witness's name and key ID (other lines are ignored)."""
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != EM_DASH or parts[1] != witness.key.name:
        return False
    try:
        return base64.b64decode(parts[2], validate=True)[:4] == witness.key.key_id
    except (binascii.Error, ValueError):
        return False


def _verified(witness: Witness, note: str, body: str, out: Callable[..., Outcome]) -> Outcome:
    mine = "".join(f"{line}\n" for line in body.splitlines() if _is_line_of(witness, line))
    try:
        cosigned = cosignatures(add_signature_lines(note, mine), [witness.key])
    except (CosignatureInvalid, WitnessError) as e:
        return out("refused", f"its answer does not verify with its key in the policy: {e}")
    if witness.key.name not in cosigned:
        return out("refused", "its answer holds no cosignature by its key in the policy")
    return out("cosigned", f"cosigned at {cosigned[witness.key.name]}", lines=mine)
