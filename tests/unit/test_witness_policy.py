"""Witness policies in the C2SP tlog-policy format: parsing and the quorum rule."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import sign_note
from ledger.witness.cosignature import CosignatureInvalid, cosign, cosigner_vkey, log_vkey
from ledger.witness.policy import (
    PolicyInvalid,
    QuorumNotMet,
    check_note,
    parse_policy,
    require_quorum,
)

KEYS = [Ed25519PrivateKey.from_private_bytes(bytes([i]) * 32) for i in range(1, 8)]
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes([99]) * 32)
LOG = log_vkey("custodes/test", LOG_KEY.public_key()).text()
W = {f"{g}{n}": cosigner_vkey(f"w.example/{g}{n}", KEYS[i]) for i, (g, n) in enumerate(
    [("X", 1), ("X", 2), ("X", 3), ("Y", 1), ("Y", 2), ("Y", 3)]
)}  # fmt: skip
SPEC_EXAMPLE = f"""
# the example policy of tlog-policy.md, with real keys
log {LOG}

witness X1 {W["X1"].text()}
witness X2 {W["X2"].text()}
witness X3 {W["X3"].text()}
group X-witnesses 2 X1 X2 X3

\twitness Y1 {W["Y1"].text()} https://y1.example/witness
witness Y2 {W["Y2"].text()}
witness Y3 {W["Y3"].text()}\t
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""
BODY = b"custodes/test\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime t\n"


def note_cosigned_by(*names: str) -> str:
    note = sign_note(BODY, LOG_KEY, "custodes/test")
    for name in names:
        index = list(W).index(name)
        note += cosign(BODY, KEYS[index], W[name].name, 1000 + index)
    return note


def test_the_specs_example_parses() -> None:
    policy = parse_policy(SPEC_EXAMPLE.encode())
    assert [log.key.name for log in policy.logs] == ["custodes/test"]
    assert [w.name for w in policy.witnesses] == list(W)
    assert policy.witnesses[3].url == "https://y1.example/witness"
    assert policy.groups["X-witnesses"].threshold == 2
    assert policy.groups["Y-witnesses"].threshold == 1
    assert policy.groups["X-and-Y"].threshold == 2
    assert policy.quorum == "X-and-Y"
    assert policy.describe_quorum() == (
        "2 of (2 of (witness X1, witness X2, witness X3), "
        "1 of (witness Y1, witness Y2, witness Y3))"
    )


@pytest.mark.parametrize(
    ("cosigners", "met"),
    [
        ((), False),
        (("X1", "X2"), False),
        (("X1", "Y1"), False),
        (("X1", "X2", "Y3"), True),
        (("X1", "X2", "X3", "Y1", "Y2", "Y3"), True),
        (("X2", "X3", "Y2"), True),
    ],
)
def test_the_quorum_follows_the_groups(cosigners: tuple[str, ...], met: bool) -> None:
    policy = parse_policy(SPEC_EXAMPLE.encode())
    check = check_note(policy, note_cosigned_by(*cosigners))
    assert set(check.cosigned) == set(cosigners)
    assert check.quorum_met is met


def test_quorum_none_needs_no_cosignature_and_one_witness_needs_its_own() -> None:
    assert check_note(parse_policy(b"quorum none\n"), note_cosigned_by()).quorum_met
    single = parse_policy(f"witness X1 {W['X1'].text()}\nquorum X1\n".encode())
    with pytest.raises(
        QuorumNotMet, match=r"requires \(witness X1\); valid cosignatures from: none"
    ):
        require_quorum(single, note_cosigned_by("X2"), "the checkpoint")
    assert require_quorum(single, note_cosigned_by("X1"), "the checkpoint").cosigned == {"X1": 1000}


def test_a_forged_cosignature_of_a_listed_witness_fails_the_whole_note() -> None:
    policy = parse_policy(SPEC_EXAMPLE.encode())
    note = note_cosigned_by("X1", "X2", "Y1")
    forged = note.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(CosignatureInvalid):
        check_note(policy, forged)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("witness A {X1}\n", "no quorum line"),
        ("quorum none\nquorum none\n", "exactly one quorum line"),
        ("quorum A\n", "not a witness or group defined earlier"),
        ("group G any A\nwitness A {X1}\nquorum G\n", "not a witness or group defined"),
        ("witness A {X1}\nwitness A {X2}\nquorum A\n", "already defined"),
        ("witness none {X1}\nquorum none\n", "reserved"),
        ("witness A {X1}\nwitness B {X1}\nquorum A\n", "duplicate vkey"),
        ("witness A {X1}\ngroup G 2 A\nquorum G\n", "threshold '2' must be all, any or 1..1"),
        ("witness A {X1}\ngroup G 0 A\nquorum G\n", "threshold '0'"),
        ("witness A {X1}\ngroup G any A A\nquorum G\n", "listed twice"),
        ("witness A {X1}\ngroup G any none\nquorum G\n", "group member 'none'"),
        ("witness A {LOG}\nquorum A\n", "is not a witness"),
        ("log {X1}\nquorum none\n", "is not a log"),
        ("frobnicate\nquorum none\n", "unknown keyword 'frobnicate'"),
        ("quorum none\r\n", "control character 0x0d"),
    ],
)
def test_malformed_policies_name_the_problem(text: str, message: str) -> None:
    data = text.format(X1=W["X1"].text(), X2=W["X2"].text(), LOG=LOG).encode()
    with pytest.raises(PolicyInvalid, match=message):
        parse_policy(data)


def test_a_policy_names_its_line() -> None:
    with pytest.raises(PolicyInvalid, match="policy line 3: quorum <name>"):
        parse_policy(b"# comment\n\nquorum\n")
