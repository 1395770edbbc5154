"""A disclosure record package: the record of one release of patron fields, signed and
proved, for the officer or court that received them (``ledger.disclosure_records``).

Order of work, so that a package never claims more than the ledger holds:

1. check the target (a new name or an empty real directory, never a symbolic link), the
   release and who may issue its record (refusals recorded), and verify the ledger --
   nothing written yet;
2. record the disclosure record (its aggregate id commits to the record's digest);
3. verify the ledger again and sign a checkpoint that includes it; write the record, its
   inclusion proof, the checkpoint, the public key, README.txt, verify.py, SHA256SUMS and
   its signature into a hidden temporary directory beside the target, every file 0600;
4. rename the directory onto the target.

A failure in 3 or 4 leaves the record in the ledger and no package: the command says so,
and running it again issues (and records) a new record with a new nonce. Nothing of the
first can be recovered, since its nonce was never stored; the history shows both.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ledger import sitetime
from ledger.errors import LedgerError
from ledger.evidence import SIGNATURE, SUMS, VERIFIER, sums_text, verifier_script
from ledger.evidence_verifier import basis_words, field_words, recipient_words
from ledger.integrity import issue_checkpoint, open_chain, prove, verified
from ledger.outfiles import check_new_directory, make_private, publish_directory, write_bytes

if TYPE_CHECKING:
    from ledger.app import Ledger

README = """Disclosure record from {library}
=====================================================================

Request {request}: release {number}, {released_at}, to {recipient}.
Issued {issued_at} by {issuer}.

What is here
  record.txt        the record in words, to read; verify.py checks that it says what
                    record.json says (record.json is what the ledger commits to)
  record.json       the record: the request, its legal basis with the SHA-256 of the
                    signed documents, the Director's decision, and what was released,
                    to whom, how and when (field names, never their values)
  proof.json        proof that this record is in the library's ledger
  checkpoint.txt    the ledger's signed tree head (Ed25519, C2SP signed note)
  public-key.pem    the library's public signing key
  verify.py         checks all of this with Python 3 alone (no other software)
  SHA256SUMS        SHA-256 of every file above
  SHA256SUMS.sig    the library's signature over SHA256SUMS

Check it without any software from the library (GNU coreutils and OpenSSL 3):

  sha256sum -c SHA256SUMS
  openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\
      -in SHA256SUMS -sigfile SHA256SUMS.sig

The openssl command must print "Signature Verified Successfully". Compare the public
key's fingerprint with the one the library publishes in its compliance reports:

  openssl pkey -pubin -in public-key.pem -outform DER | sha256sum

Then, with Python 3 (3.8 or later, nothing to install):

  python3 -I verify.py

It checks the signature and every file, recomputes the record's digest, checks that the
ledger entry in proof.json commits to exactly this record (its aggregate id is derived
from the digest), and proves that entry's inclusion in the signed checkpoint. It prints
OK (exit 0) or the first thing that does not check out (exit 3). The record carries a
random nonce, so the ledger's public entries cannot be used to guess what it says.
"""


class RecordIncomplete(LedgerError):
    """The record is in the ledger but its package could not be written."""


@dataclass(frozen=True)
class RecordResult:
    path: Path
    record: dict[str, Any]
    event_position: int
    checkpoint_size: int


def write_disclosure_record(
    ledger: Ledger, ref: str, *, to: Path, actor: str, signing_key: Any, release: int | None = None
) -> RecordResult:
    """Issue, record and write the disclosure record of one release of ``ref``."""
    datadir = ledger.datadir
    assert datadir is not None
    to = check_new_directory(to)
    reader = open_chain(datadir)
    verified(reader, now=ledger.clock())  # a tampered ledger: exit 3 before anything is recorded
    record, record_uuid = ledger.issue_disclosure_record(ref, actor=actor, release=release)
    work = Path(tempfile.mkdtemp(prefix=f".{to.name}.", suffix=".record", dir=to.parent))
    try:
        now = ledger.clock()
        zone = sitetime.site_zone(record["time_zone"])
        cp, checkpoint = issue_checkpoint(
            reader, origin=ledger.site().log_origin, signing_key=signing_key, now=now
        )
        row = reader.entry(originator=(record_uuid, 1))
        proof = prove(reader, row[0], cp, checkpoint)
        files = {
            "record.json": json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            "record.txt": "\n".join(record_lines(record)) + "\n",
            "proof.json": json.dumps(proof.to_json(), indent=2) + "\n",
            "checkpoint.txt": checkpoint,
            "README.txt": README.format(
                library=record["library"],
                request=record["request"]["ref"],
                number=record["release"]["number"],
                released_at=_shown(record["release"]["at"], zone),
                recipient=record["release"]["to"],
                issued_at=_shown(record["issued"]["at"], zone),
                issuer=record["issued"]["name"],
            ),
        }
        for name, text in files.items():
            write_bytes(work / name, text.encode("utf-8"))
        write_bytes(work / "public-key.pem", datadir.public_key_pem())
        write_bytes(work / VERIFIER, verifier_script())
        sums = sums_text(work, sorted(p.name for p in work.iterdir()))
        write_bytes(work / SUMS, sums.encode())
        write_bytes(work / SIGNATURE, signing_key.sign(sums.encode()))
        make_private(work)
        publish_directory(work, to)
    except Exception as e:
        shutil.rmtree(work, ignore_errors=True)
        raise RecordIncomplete(
            f"the disclosure record of {record['request']['ref']} is recorded in the ledger "
            f"but its package could not be written ({e}); nothing was delivered. Fix the "
            "cause and run the command again: it issues (and records) a new record."
        ) from e
    return RecordResult(to, record, proof.position, cp.size)


def _shown(stamp: str | None, zone: ZoneInfo) -> str:
    """'2026-11-02T15:00:00Z' as '2026-11-02 09:00:00 CST' (site time, with its label)."""
    if not stamp:
        return "-"
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return sitetime.show(moment, zone, seconds=True)


def _words(fields: list[str]) -> str:
    return str(field_words(fields))


def record_lines(record: dict[str, Any]) -> list[str]:
    """record.json in words, for the person who receives it (times in the library's time
    zone, with its label; record.json has them in UTC)."""
    request, release, basis = record["request"], record["release"], record["legal_basis"]
    zone = sitetime.site_zone(record["time_zone"])

    def when(stamp: str | None) -> str:
        return _shown(stamp, zone)

    rows: list[tuple[str, str]] = [
        ("Library", record["library"]),
        ("Request", f"{request['ref']}, from {request['requester']} ({request['requester_kind'].replace('_', ' ')})"),
        ("Received", when(request["received_at"])),
        ("Records asked for", _words(request["records_asked"])),
    ]  # fmt: skip
    if request.get("case_number"):
        rows.append(("Case number", request["case_number"]))
    rows.append(("Legal basis", str(basis_words(basis["basis"]))))
    if order := basis.get("court_order"):
        signed = "signed by the judge" if order["signed_by_judge"] else "NOT signed by a judge"
        rows += [
            ("Court order", f"{order['kind']} of {order['court']}, {order['judge']}, case {order['case']}, {signed}"),
            ("Issued / served", f"{when(order['issued'])} / {when(order['served_at'])}"),
            ("Order document", f"sha256 {order['document_sha256']}"),
            ("Counsel's review", order.get("counsel_review") or "none recorded"),
        ]  # fmt: skip
    if form := basis.get("emergency"):
        ticked = [k.replace("_", " ") for k in ("sworn_officer", "court_order_impractical", "imminent_danger", "identification_purpose") if form[k]]  # fmt: skip
        rows += [
            ("Officer", f"{form['officer_rank']} {form['officer_name']}, badge {form['badge_number']}, {form['agency']}"),
            ("Signed Appendix 9", f"sha256 {form['signed_form_sha256']}"),
            ("Representations", ", ".join(ticked)),
        ]  # fmt: skip
    if decision := record.get("decision"):
        verdict = "approved" if decision["approved"] else "denied"
        rows += [
            ("Decision", f"{verdict} by {decision['by']}, {when(decision['at'])}"),
            ("Fields approved", _words(decision["allowed_fields"])),
        ]
    rows += [
        ("Released", f"release {release['number']}, {when(release['at'])}, by {release['by']}"),
        ("Fields released", _words(release["fields"])),
        ("To", str(recipient_words(release))),
        ("How", release["method"]),
    ]  # fmt: skip
    if release["footage"]:
        rows.append(("Footage", ", ".join(f"{f['segment_id']} sha256 {f['sha256']}" for f in release["footage"])))  # fmt: skip
    if release["redacted"] is not None:
        rows.append(("Faces", "blurred" if release["redacted"] else "not blurred"))
    if release["period"]:
        rows.append(("Records dated", " to ".join(release["period"])))
    rows += [
        ("Inventory sha256", release["inventory_sha256"]),
        ("Record issued", f"{when(record['issued']['at'])} by {record['issued']['name']}"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    title = f"Disclosure record: {request['ref']}, release {release['number']}"
    return (
        [title, "=" * len(title), ""]
        + [f"{label:<{width}}{value}" for label, value in rows]
        + [
            "",
            "The values of the fields (a name, an address) are not in this record: they are what",
            "you were given. record.json is the record that the library's ledger commits to;",
            "README.txt says how to check it.",
        ]
    )
