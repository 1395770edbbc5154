"""The standard-library verifier shipped in evidence packages (ledger/evidence_verifier.py):
its Ed25519 against RFC 8032's vectors and `cryptography` on random keys and messages,
its canonical JSON against RFC 8785 and the `rfc8785` package, and its entry hash and
content digest against the ledger's own."""

from __future__ import annotations

import json
import random
import struct

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import evidence_verifier as v
from ledger.canonical_json import CanonicalJsonError, canonical_json, number
from ledger.chain import entry_hash
from ledger.evidence import content_digest
from tests.soak import size

# RFC 8032 section 7.1, TESTs 1, 2 and 3 (SECRET KEY, PUBLIC KEY, MESSAGE, SIGNATURE).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_ed25519_verifies_the_rfc_8032_vectors_and_nothing_else(
    secret: str, public: str, message: str, signature: str
) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.sign(bytes.fromhex(message)).hex() == signature  # the vector is right
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert v.ed25519_verify(pk, msg, sig)
    assert not v.ed25519_verify(pk, msg + b"x", sig)
    for i in (0, 31, 32, 63):
        bad = bytearray(sig)
        bad[i] ^= 0x01
        assert not v.ed25519_verify(pk, msg, bytes(bad))


def test_ed25519_agrees_with_cryptography_on_random_keys_and_messages() -> None:
    rng = random.Random(8032)
    for _ in range(150):
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        public = key.public_key().public_bytes_raw()
        message = rng.randbytes(rng.randrange(0, 300))
        signature = key.sign(message)
        assert v.ed25519_verify(public, message, signature)
        other = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
        assert not v.ed25519_verify(other.public_bytes_raw(), message, signature)
        flipped = bytearray(signature)
        flipped[rng.randrange(64)] ^= 1 << rng.randrange(8)
        assert not v.ed25519_verify(public, message, bytes(flipped))


def test_ed25519_refuses_malformed_inputs() -> None:
    _, public, message, signature = (bytes.fromhex(x) for x in RFC8032[1])
    assert not v.ed25519_verify(public[:31], message, signature)
    assert not v.ed25519_verify(public, message, signature[:63])
    # S >= L (the group order) is not a valid signature, even if it verifies mod L.
    s = int.from_bytes(signature[32:], "little") + v._L
    assert not v.ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little"))
    # A y coordinate >= p is not a canonical point encoding.
    assert not v.ed25519_verify((2**255 - 1).to_bytes(32, "little"), message, signature)


RFC8785_SAMPLE_IN = (
    '{"numbers": [1E30, 4.50, 6, 2e-3, 0.000000000000000000000000001], '
    '"escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", '
    '"other": [null, true, false]}'
)
RFC8785_SAMPLE_OUT = (
    '{"escaping":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/","numbers":[1e+30,4.5,6,0.002,1e-27],'
    '"other":[null,true,false]}'
)
# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("impl", [canonical_json, lambda x: v.canonical_json(x).encode()])
def test_canonical_json_is_rfc_8785s_sample(impl) -> None:  # noqa: ANN001
    assert impl(json.loads(RFC8785_SAMPLE_IN)).decode() == RFC8785_SAMPLE_OUT


@pytest.mark.parametrize(("bits", "text"), RFC8785_NUMBERS)
def test_numbers_are_rfc_8785s_appendix_b(bits: str, text: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert number(value) == text
    assert v._jcs_number(value) == text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) - 2, 2**53 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=size(200, 400), deadline=None)  # CUSTODES_SOAK=1: 400
@given(json_values)
def test_both_canonical_jsons_agree_with_the_rfc8785_package(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises((CanonicalJsonError, v.Failed)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
    assert v.canonical_json(value).encode("utf-8") == expected


def test_values_without_a_canonical_form_are_refused() -> None:
    for bad in (float("nan"), float("inf"), 2**53, {1: "x"}, "\ud800"):
        with pytest.raises(CanonicalJsonError):
            canonical_json(bad)


def test_integral_floats_and_non_ascii_text_are_written_as_other_languages_write_them() -> None:
    assert canonical_json({"fps": 10.0, "caption": "café", "a": 5}) == (
        '{"a":5,"caption":"café","fps":10}'.encode()
    )


@settings(max_examples=size(100, 200), deadline=None)  # CUSTODES_SOAK=1: 200
@given(
    st.integers(1, 2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(1, 2**63 - 1),
    st.binary(min_size=16, max_size=16),
    st.integers(1, 2**63 - 1),
    st.text(max_size=60),
    st.binary(min_size=32, max_size=32),
    st.none() | st.binary(max_size=300),
)
def test_the_scripts_entry_hash_is_the_ledgers(
    position: int,
    prev: bytes,
    nid: int,
    oid: bytes,
    version: int,
    topic: str,
    digest: bytes,
    act: bytes | None,
) -> None:
    """When the chain format changes (docs/FORMAT.md, "Entry bytes"), this fails until
    the shipped verifier follows it."""
    fields = (position, prev, nid, oid, version, topic, digest, act)
    assert v.entry_hash(*fields) == entry_hash(*fields)


def test_the_scripts_content_digest_is_the_ledgers() -> None:
    clips = [
        {
            "segment_id": "3fa2c81d09ab",
            "original_sha256": "a" * 64,
            "sha256": "b" * 64,
            "file": "clips/3fa2c81d09ab.redacted.mp4",
            "redaction": {"fps": 10.0, "caption": "R-2026-0004 Café", "regions": [[0, 0, 4, 3]]},
        },
        {
            "segment_id": "77b0e4a1c2d3",
            "original_sha256": "c" * 64,
            "sha256": "c" * 64,
            "file": "clips/77b0e4a1c2d3.mp4",
            "redaction": None,
        },
    ]
    ours = content_digest(clips, "R-2026-0004", "2026-11-05T15:00:00.000000Z")
    assert v.content_digest(clips, "R-2026-0004", "2026-11-05T15:00:00.000000Z") == ours


def test_the_standalone_verifier_copies_the_ledgers_constants_exactly() -> None:
    """verify.py ships alone (standard library only), so it keeps its own copy of what the
    exporter writes; the two copies must not drift apart."""
    from ledger import evidence

    for name in (
        "MANIFEST_FORMAT", "MANIFEST_FORMAT_2", "RECORDED_FIELDS", "RECORDED_RELEASE_FIELDS",
        "FORMAT_2_CAVEAT", "EXPORT_NAMESPACE", "RECORD_FORMAT", "RECORD_NAMESPACE",
        "RECORD_DOMAIN", "SUMS", "SIGNATURE",
    ):  # fmt: skip
        assert getattr(v, name) == getattr(evidence, name), name
