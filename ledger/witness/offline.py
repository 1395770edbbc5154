"""The offline witness's input: what a board member's laptop is handed to cosign.

Three forms, all turned into one tlog-witness add-checkpoint request body, so the offline
witness makes exactly the checks the HTTP witness makes:

* a consistency proof file (``custodes-consistency-proof/1``, from ``custodes prove
  --consistency``): ``old <old_size>``, its path, and its new checkpoint;
* an add-checkpoint request body as sent over HTTP (starts with ``old ``);
* a bare signed checkpoint: ``old 0`` and no proof (a log never cosigned before).
"""

from __future__ import annotations

import json

from ledger.errors import InvalidInput
from ledger.witness.service import request_body


def offline_request(data: bytes) -> bytes:
    if data.startswith(b"old "):
        return data
    if data.lstrip().startswith(b"{"):
        from ledger.proof_files import ConsistencyProof

        try:
            parsed = json.loads(data)
        except ValueError as e:
            raise InvalidInput(f"the file is not JSON ({e})") from e
        proof = ConsistencyProof.from_json(parsed)
        return request_body(proof.old_size, proof.path, proof.new_checkpoint)
    try:
        return request_body(0, [], data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("the file is neither a proof, a request nor a checkpoint") from None
