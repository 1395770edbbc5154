"""docs/FORMAT.md's worked example of a signed act: every value it prints is what the
code computes, and its shell commands (POSIX sh, coreutils, OpenSSL 3) verify the
signature as written."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.acts import Envelope, Statement, cores_digest, key_id, open_act, seal

FORMAT = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def _section() -> str:
    text = FORMAT.read_text()
    start = text.index("### Worked example: an act checked with openssl")
    return text[start : text.index("### Key events", start)]


def _blocks(section: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", section, re.S)


def test_the_printed_values_are_what_the_code_computes() -> None:
    section = _section()
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    cores = [hashlib.sha256(b"entry 41").digest(), hashlib.sha256(b"entry 42").digest()]
    statement = Statement(
        first=41, count=2, entries=cores_digest(cores),
        signer=UUID("6f1c2d3e-4a5b-5c6d-8e7f-101112131415"), os_user="dana",
        time=datetime(2026, 11, 2, 15, 0, 0, 123456, tzinfo=UTC),
    )  # fmt: skip
    record = seal(statement, key)
    for value in (raw.hex(), key_id(key.public_key()), *(c.hex() for c in cores)):
        assert value in section.replace("\n", " "), value
    (_, printed_statement), (_, printed_record), (_, script) = _blocks(section)
    assert printed_statement.strip().encode() == statement.to_bytes()
    assert f"({len(statement.to_bytes())} bytes)" in section
    assert printed_record.strip().encode() == record
    assert f"record='{record.decode()}'" in script
    assert f"public_key='{base64.b64encode(raw).decode()}'" in script
    assert open_act(record, key.public_key()) == statement
    assert Envelope.from_bytes(record).kid == key_id(key.public_key())


def test_the_shell_commands_verify_the_signature_and_catch_a_changed_statement() -> None:
    (_, _), (_, _), (lang, script) = _blocks(_section())
    assert lang == "sh"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Signature Verified Successfully"
    # one character of the statement changed (os_user dana -> dane): openssl refuses it
    payload = re.search(r'"payload":"([^"]*)"', script)
    assert payload is not None
    statement = base64.b64decode(payload.group(1))
    changed = base64.b64encode(statement.replace(b'"dana"', b'"dane"')).decode()
    forged = script.replace(payload.group(1), changed)
    assert forged != script
    bad = subprocess.run(["sh", "-c", forged], capture_output=True, text=True, check=False)
    assert bad.returncode != 0
    assert "Signature Verified Successfully" not in bad.stdout
