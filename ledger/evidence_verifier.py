#!/usr/bin/env python3
"""Check a Custodes evidence package or disclosure record with the Python standard library
alone.

Shipped inside every package as ``verify.py``; run it where the package is::

    python3 -I verify.py [--public-key LIBRARY-KEY.pem] [PACKAGE-DIRECTORY]

(``-I``: nothing from the environment or the current directory is imported.) It checks,
and prints the first thing that does not check out (exit 3) or ``OK`` (exit 0):

1. ``SHA256SUMS.sig`` is the Ed25519 signature of ``SHA256SUMS`` by the library's key
   (the package's ``public-key.pem``, or the one you name; compare its fingerprint with
   the one the library publishes);
2. every file listed in ``SHA256SUMS`` has that SHA-256, and no other file was added;
3. an evidence package: ``manifest.json``'s clips are the clip files listed, and its
   content digest is that of all it says (format 3; format 2: of its clips, see below);
   a disclosure record: ``record.json``'s digest is computed;
4. ``checkpoint.txt`` is a checkpoint signed by the library's key (C2SP signed note);
5. ``proof.json`` is the inclusion proof (RFC 9162) of the export's (or the record's)
   ledger entry in that checkpoint, and the entry's aggregate id commits to the content
   digest (or the record's digest).

A format-2 manifest's digest covers its request, export time and clips only: its other
fields (recipient, case number, cameras, recording times, exporter) rest on the signature
over ``SHA256SUMS`` alone, and this script says so after ``OK``.

The formats are in the Custodes repository, docs/FORMAT.md. Ed25519 verification is the
reference code of RFC 8032 section 6 (slow, not constant-time: it only verifies public
signatures). This file is itself listed in SHA256SUMS: check the signature with OpenSSL
first (README.txt) if you want to be sure it is the library's own.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import math
import os
import struct
import sys
import uuid

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3
MANIFEST_FORMAT = "custodes-evidence-manifest/3"
MANIFEST_FORMAT_2 = "custodes-evidence-manifest/2"
# What the exporter writes into a format-3 manifest once the export is recorded: not digested.
RECORDED_FIELDS = ("content_digest", "export_event")
RECORDED_RELEASE_FIELDS = ("inventory_sha256",)
FORMAT_2_CAVEAT = (
    f"manifest format {MANIFEST_FORMAT_2}: the ledger commits to its request, export time "
    "and clips only; its recipient, case number, cameras, recording times and exporter "
    "rest on the signature over SHA256SUMS alone"
)
PROOF_FORMAT = "custodes-inclusion-proof/1"
EXPORT_NAMESPACE = uuid.UUID("0b1f5a52-4e0c-4a8e-9a39-3f7f8ad5e0c1")
RECORD_FORMAT = "custodes-disclosure-record/1"
RECORD_NAMESPACE = uuid.UUID("4fe0c093-0521-452c-b1ae-6a5c90880b21")
RECORD_DOMAIN = b"custodes/disclosure-record/v1\x00"
SUMS, SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"
SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")  # DER prefix of an Ed25519 SPKI
EM_DASH = "\u2014"


class Failed(Exception):
    """A check failed: the package was changed, or is not what it claims."""


# ---- Ed25519 verification: RFC 8032 section 6 ------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(s, p):
    q = (0, 1, 1, 0)  # the neutral element
    while s > 0:
        if s & 1:
            q = _point_add(q, p)
        p = _point_add(p, p)
        s >>= 1
    return q


def _point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_G_Y, 0), _G_Y, 1, _recover_x(_G_Y, 0) * _G_Y % _P)


def ed25519_verify(public, message, signature):
    """True when ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _point_decompress(public)
    r = _point_decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h, a)))


# ---- canonical JSON: RFC 8785 (docs/FORMAT.md, "Canonical JSON") -------------------------


def _jcs_number(value):
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise Failed(f"the integer {value} has no canonical JSON form")
        value = float(value)
    if not math.isfinite(value):
        raise Failed(f"{value} has no canonical JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    n = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        head = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{head}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def canonical_json(value):
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _jcs_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return (
            "{" + ",".join(f"{canonical_json(k)}:{canonical_json(value[k])}" for k in names) + "}"
        )
    raise Failed(f"{type(value).__name__} is not a JSON value")


# ---- the ledger's formats (docs/FORMAT.md) -----------------------------------------------


def manifest_digest(manifest):
    """A manifest's content digest (docs/FORMAT.md, "Evidence packages"): format 3 over
    its canonical JSON less what is written once the export is recorded, format 2 over
    its request, time and clip lines."""
    if manifest.get("format") == MANIFEST_FORMAT_2:
        return content_digest(manifest["clips"], manifest["request"], manifest["exported_at"])
    body = {k: v for k, v in manifest.items() if k not in RECORDED_FIELDS}
    if isinstance(body.get("release"), dict):
        release = body["release"].items()
        body["release"] = {k: v for k, v in release if k not in RECORDED_RELEASE_FIELDS}
    data = b"custodes/evidence/v3\x00" + canonical_json(body).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def content_digest(clips, request, exported_at):
    """A format-2 manifest's content digest (docs/FORMAT.md, "Evidence packages")."""
    h = hashlib.sha256(b"custodes/evidence/v2\x00")
    h.update(f"{request} {exported_at}\n".encode())
    for clip in sorted(clips, key=lambda c: c["file"]):
        redaction = canonical_json(clip.get("redaction"))
        line = f"{clip['segment_id']} {clip['original_sha256']} {clip['sha256']} {clip['file']} {redaction}\n"
        h.update(line.encode("utf-8"))
    return h.hexdigest()


def inventory_digest(request, release):
    """A release's inventory digest (docs/FORMAT.md, "Disclosure records"): what the
    library's register prints for it."""
    doc = {
        "request": request,
        "fields": sorted(release["fields"]),
        "footage": release["footage"],
        "to": release["to"],
        "method": release["method"],
    }
    if release.get("redacted") is not None:
        doc["redacted"] = release["redacted"]
    if release.get("period") is not None:
        doc["period"] = list(release["period"])
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def entry_hash(
    position, prev_hash, notification_id, originator_id, version, topic, digest, act=None
):
    """The chain entry hash, format v2 (docs/FORMAT.md, "Entry bytes and entry hash");
    ``act`` is the signed act record an act's last entry carries (else empty)."""
    topic_bytes = topic.encode("utf-8")
    act = act or b""
    data = b"".join(
        (
            b"custodes/chain/v2\x00",
            struct.pack(">Q", position),
            prev_hash,
            struct.pack(">Q", notification_id),
            originator_id,
            struct.pack(">Q", version),
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            digest,
            struct.pack(">I", len(act)),
            act,
        )
    )
    return hashlib.sha256(data).digest()


def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Failed(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Failed("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Failed("the inclusion proof does not lead to the checkpoint's root")


def read_checkpoint(note, public):
    """(origin, size, root) of a checkpoint signed by ``public`` under its origin's name."""
    if not note.endswith("\n") or "\n\n" not in note:
        raise Failed("checkpoint.txt is not a signed note")
    cut = note.rfind("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    body = text.split("\n")[:-1]
    if len(body) < 3 or not body[1].isdigit() or (body[1] != "0" and body[1].startswith("0")):
        raise Failed("checkpoint.txt's text is not origin, size, root")
    origin, size, root = body[0], int(body[1]), _unb64(body[2], "the checkpoint root")
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    verified = False
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH:
            raise Failed(f"checkpoint.txt has a malformed signature line {line!r}")
        blob = _unb64(parts[2], "a checkpoint signature", None)
        if parts[1] != origin or blob[:4] != key_id:
            continue  # another key (a witness): not ours to check
        if not ed25519_verify(public, text.encode("utf-8"), blob[4:]):
            raise Failed("checkpoint.txt's signature does not verify: it was altered")
        verified = True
    if not verified:
        raise Failed("checkpoint.txt is not signed by the library's key")
    return origin, size, root


def _unb64(text, what, size=32):
    try:
        raw = base64.b64decode(str(text).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Failed(f"{what} is not base64") from None
    if size is not None and len(raw) != size:
        raise Failed(f"{what} is not {size} bytes")
    return raw


def public_key_from_pem(pem):
    lines = [line.strip() for line in pem.decode("ascii", "replace").splitlines()]
    if "-----BEGIN PUBLIC KEY-----" not in lines or "-----END PUBLIC KEY-----" not in lines:
        raise Failed("the public key is not a PEM public key")
    start, end = lines.index("-----BEGIN PUBLIC KEY-----"), lines.index("-----END PUBLIC KEY-----")
    der = _unb64("".join(lines[start + 1 : end]), "the public key", None)
    if len(der) != 44 or not der.startswith(SPKI_ED25519):
        raise Failed("the public key is not an Ed25519 key")
    return der[12:], hashlib.sha256(der).hexdigest()


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read(root, name):
    try:
        with open(os.path.join(root, name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise Failed(f"{name} is missing from the package") from None


def verify_package(root, public_key_pem=None):
    """Check the package in directory ``root``; a summary line, or Failed."""
    public, fingerprint = public_key_from_pem(public_key_pem or _read(root, "public-key.pem"))
    sums = _read(root, SUMS)
    if not ed25519_verify(public, sums, _read(root, SIGNATURE)):
        raise Failed(f"{SIGNATURE} does not verify: {SUMS} was changed or signed by another key")
    listed = {}
    for n, line in enumerate(sums.decode("utf-8", "replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if (
            not sep
            or len(digest) != 64
            or not name
            or name.startswith("/")
            or ".." in name.split("/")
        ):
            raise Failed(f"{SUMS} line {n} is malformed")
        listed[name] = digest
    for name, digest in listed.items():
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            raise Failed(f"{name} is listed in {SUMS} but missing from the package")
        if _sha256_file(path) != digest:
            raise Failed(f"{name} does not match its SHA-256 in {SUMS}: it was changed")
    present = set()
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path) or not (os.path.isdir(path) or os.path.isfile(path)):
                # a linked directory's files are not walked, a linked file is elsewhere
                raise Failed(
                    f"{os.path.relpath(path, root)} is a symbolic link or a special file: "
                    "a package holds directories and regular files only"
                )
        for name in files:
            present.add(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    extra = sorted(present - set(listed) - {SUMS, SIGNATURE})
    if extra:
        raise Failed(f"{extra[0]} is in the package but not in {SUMS}")
    caveat, record = "", None
    if os.path.isfile(os.path.join(root, "record.json")) and not os.path.isfile(
        os.path.join(root, "manifest.json")
    ):
        record = _record_json(root, listed)
        namespace, digest, what = _disclosure_record(record)
    else:
        namespace, digest, what, caveat = _evidence(root, listed)
    origin, size, root_hash = read_checkpoint(_read(root, "checkpoint.txt").decode("utf-8"), public)
    proof = json.loads(_read(root, "proof.json"))
    if proof.get("format") != PROOF_FORMAT:
        raise Failed(f"proof.json's format is {proof.get('format')!r}, not {PROOF_FORMAT}")
    entry = proof["entry"]
    if uuid.UUID(entry["originator_id"]) != uuid.uuid5(namespace, digest):
        raise Failed(
            f"proof.json is not the proof of this {what[0]}: its entry does not commit to {what[1]}"
        )
    computed = entry_hash(
        int(entry["position"]),
        bytes.fromhex(entry["prev_hash"]),
        int(entry["notification_id"]),
        uuid.UUID(entry["originator_id"]).bytes,
        int(entry["originator_version"]),
        str(entry["topic"]),
        bytes.fromhex(entry["state_digest"]),
        _unb64(entry["act"], "proof.json's act record", None) if entry.get("act") else None,
    )
    if computed != bytes.fromhex(entry["entry_hash"]):
        raise Failed("proof.json's entry fields do not hash to its entry hash")
    if (int(proof["tree_size"]), _unb64(proof["root"], "proof.json's root")) != (size, root_hash):
        raise Failed("proof.json is for another tree than checkpoint.txt")
    path = [_unb64(h, "an inclusion proof hash") for h in proof["inclusion_path"]]
    leaf = hashlib.sha256(b"\x00" + computed).digest()
    verify_inclusion(leaf, int(entry["position"]) - 1, size, path, root_hash)
    if record is not None:  # proven: does record.txt say what it says?
        check_reading_copy(root, listed, record)
    return (
        f"OK: {len(listed)} files match {SUMS} and its signature; {what[2]} is "
        f"entry {entry['position']} of the signed checkpoint of {size} entries of {origin}; "
        f"public key sha256 {fingerprint}"
        + (f"\nNote: {caveat}" if caveat else "")
        + ("" if public_key_pem is not None else f"\nNote: {UNPINNED}")
    )


# The key was not given (red team, session 16: a package made from scratch with a fresh
# key and the library's origin verified against its own public-key.pem, silently).
UNPINNED = (
    "the key checked is the package's own public-key.pem, not one you gave: anyone can "
    "make a package that verifies with its own key. Compare the fingerprint above with the "
    "one the library published, or run again with --public-key FILE."
)


def _evidence(root, listed):
    """An evidence package's manifest: its clips are the clip files listed, its digest its
    own (format 3) or its clips' (format 2)."""
    manifest = json.loads(_read(root, "manifest.json"), object_pairs_hook=_members)
    if manifest.get("format") not in (MANIFEST_FORMAT, MANIFEST_FORMAT_2):
        raise Failed(
            f"manifest.json's format is {manifest.get('format')!r}, not {MANIFEST_FORMAT} "
            f"or {MANIFEST_FORMAT_2}"
        )
    for clip in manifest["clips"]:
        if listed.get(clip["file"]) != clip["sha256"]:
            raise Failed(f"manifest.json's SHA-256 for {clip['file']} does not match")
    files = {clip["file"] for clip in manifest["clips"]}
    extra = sorted(name for name in listed if name.startswith("clips/") and name not in files)
    if extra:
        raise Failed(f"{extra[0]} is in the package but not in manifest.json's clips")
    format_2 = manifest["format"] == MANIFEST_FORMAT_2
    digest = manifest_digest(manifest)
    if digest != manifest["content_digest"]:
        raise Failed(
            "manifest.json's content digest does not match its clips"
            if format_2
            else "manifest.json does not match its content digest: it was changed after the "
            "export was recorded"
        )
    clips = f"{len(manifest['clips'])} clip(s) for {manifest['request']}; the export"
    what = ("export", "these clips", clips)
    return EXPORT_NAMESPACE, digest, what, FORMAT_2_CAVEAT if format_2 else ""


def _strict(name):
    """A JSON object hook: no member named twice (a reader that keeps the first of two
    would see another recipient than the one the digest covers)."""

    def members(pairs):
        names = [key for key, _ in pairs]
        if len(set(names)) != len(names):
            raise Failed(f"{name} names a member twice")
        return dict(pairs)

    return members


_members = _strict("manifest.json")


def _record_json(root, listed):
    if "record.json" not in listed:
        raise Failed(f"record.json is not listed in {SUMS}")
    return json.loads(_read(root, "record.json"), object_pairs_hook=_strict("record.json"))


def _disclosure_record(record):
    """A disclosure record: the digest of record.json's canonical JSON (docs/FORMAT.md)."""
    if record.get("format") != RECORD_FORMAT:
        raise Failed(f"record.json's format is {record.get('format')!r}, not {RECORD_FORMAT}")
    digest = hashlib.sha256(RECORD_DOMAIN + canonical_json(record).encode("utf-8")).hexdigest()
    release = record["release"]
    if inventory_digest(record["request"]["ref"], release) != release["inventory_sha256"]:
        raise Failed("record.json's release does not match its inventory digest")
    said = (
        f"the disclosure record of release {release['number']} of {record['request']['ref']} "
        f"to {release['to']}"
    )
    return RECORD_NAMESPACE, digest, ("disclosure record", "this record", said)


# The words record.txt gives record.json's legal basis and fields in (the library's
# ledger.record_package writes it with these).
BASIS_WORDS = {
    "court_order": "a court order",
    "emergency": "an officer's emergency request (Appendix 9)",
    "guardian": "a parent or guardian of a minor (fines and fees only)",
    "investigation": "footage for an active law enforcement investigation",
    "foia": "a FOIA request (footage redacted)",
    "none": "none",
}
FIELD_WORDS = {
    "card_number": "card number",
    "circulation_history": "circulation history",
    "fines_fees": "fines and fees",
    "itemized_fines": "itemized fines",
}


def recipient_words(release):
    badge = release["recipient_badge"]
    return release["to"] + (f", badge {badge}" if badge else "")


def basis_words(basis):
    return BASIS_WORDS.get(basis, basis.replace("_", " "))


def field_words(fields):
    return ", ".join(FIELD_WORDS.get(f, f.replace("_", " ")) for f in fields) or "none"


def check_reading_copy(root, listed, record):
    """record.txt, the record in words, says what record.json says where a reader acts on
    it: the request, the legal basis and its documents' hashes, the decision, the fields
    released, to whom, how, and the inventory digest (times are shown in the library's
    zone and not compared). Red team, session 22: whoever held the library's key could
    rewrite record.txt's legal basis and fields, sign SHA256SUMS again, and every check
    passed, record.json being the only file the ledger commits to."""
    if "record.txt" not in listed:
        return
    said: dict = {}
    for line in _read(root, "record.txt").decode("utf-8").splitlines():
        label, gap, value = line.partition("  ")
        if gap and label and not label.startswith(" "):
            said.setdefault(label, value.strip())
    request, release, basis = record["request"], record["release"], record["legal_basis"]
    expected = {
        "Legal basis": basis_words(basis["basis"]),
        "Fields released": field_words(release["fields"]),
        "To": recipient_words(release),
        "How": release["method"],
        "Inventory sha256": release["inventory_sha256"],
    }
    if basis.get("court_order"):
        expected["Order document"] = f"sha256 {basis['court_order']['document_sha256']}"
    if basis.get("emergency"):
        expected["Signed Appendix 9"] = f"sha256 {basis['emergency']['signed_form_sha256']}"
    if record.get("decision"):
        expected["Fields approved"] = field_words(record["decision"]["allowed_fields"])
    for label, value in expected.items():
        if said.get(label) != value:
            raise Failed(
                f"record.txt says {label!r} is {said.get(label)!r}, but record.json (the record "
                f"the ledger commits to) says {value!r}"
            )
    verdict = said.get("Decision", "")
    decision = record.get("decision")
    if decision and not verdict.startswith("approved" if decision["approved"] else "denied"):
        raise Failed(f"record.txt's decision ({verdict!r}) is not record.json's")
    if not said.get("Request", "").startswith(f"{request['ref']},"):
        raise Failed("record.txt is of another request than record.json")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Check a Custodes evidence package or disclosure record."
    )
    parser.add_argument("package", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--public-key", help="the library's Ed25519 public key (PEM) to trust")
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a name the terminal cannot show is no failure
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        pem = None
        if args.public_key:
            with open(args.public_key, "rb") as f:
                pem = f.read()
        print(verify_package(args.package, pem))
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (Failed, ValueError, KeyError, TypeError) as e:
        reason = e if isinstance(e, Failed) else f"malformed package ({type(e).__name__}: {e})"
        print(f"FAILED: {reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
