"""Identity pieces without a database: the permission table, sealed key files, names."""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import pkgutil
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.utils import get_topic, resolve_topic

import ledger
from ledger import credentials
from ledger.acts import ActInvalid, Envelope, Statement, key_id
from ledger.domain import LedgerAggregate
from ledger.errors import InvalidInput
from ledger.names import NameRefused, check_name, look_alike, skeleton
from ledger.permissions import ALL_ROLES, GATE_TOPICS, SIGNERS, may_sign
from tests.identity import CHEAP_KDF


def _event_classes() -> set[str]:
    for module in pkgutil.iter_modules(ledger.__path__):
        importlib.import_module(f"ledger.{module.name}")
    found: set[str] = set()

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            for name, obj in vars(sub).items():
                concrete = name not in ("Event", "Created")
                if inspect.isclass(obj) and issubclass(obj, LedgerAggregate.Event) and concrete:
                    found.add(get_topic(obj))
            walk(sub)

    walk(LedgerAggregate)
    return found


def test_every_kind_of_event_says_which_roles_may_sign_it() -> None:
    events = _event_classes()
    assert events - set(SIGNERS) == set(), "new event kinds need a row in ledger/permissions.py"
    assert set(SIGNERS) - events == set(), "the table names kinds that no longer exist"
    assert all(set(roles) <= set(ALL_ROLES) and roles for roles in SIGNERS.values())
    assert all(resolve_topic(t) for t in GATE_TOPICS)


def test_the_service_identity_signs_the_sweep_attempts_and_verifications_only() -> None:
    service = {t for t in SIGNERS if may_sign("service", t)}
    assert service == GATE_TOPICS | {
        "ledger.footage:Segment.FootagePurged",
        "ledger.footage:Segment.FootageFoundMissing",
        "ledger.footage:Segment.ViewingCopiesDestroyed",  # before a purge, or expired (R16b)
        "ledger.verification_records:VerificationRecord.LedgerVerified",  # cron's verify
    }
    assert not may_sign("staff", "ledger.disclosure:Request.DisclosureDecided")
    assert may_sign("director", "ledger.disclosure:Request.DisclosureDecided")


KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
MEMBER = uuid4()


def _sealed(params: credentials.KdfParams = CHEAP_KDF) -> bytes:
    return credentials.wrap(
        KEY, b"a long enough passphrase", member_id=MEMBER, name="Sam", params=params
    )


def _open(data: bytes, secret: bytes = b"a long enough passphrase", **kw: object):  # noqa: ANN202
    return credentials.unwrap(
        data, secret, member_id=MEMBER, key_id_expected=key_id(KEY.public_key()),
        minimum=CHEAP_KDF, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_sealed_key_opens_with_its_passphrase_only() -> None:
    data = _sealed()
    assert key_id(_open(data).public_key()) == key_id(KEY.public_key())
    with pytest.raises(credentials.WrongPassphrase):
        _open(data, b"another passphrase entirely")
    body = json.loads(data)
    assert body["kdf"]["alg"] == "argon2id" and body["aead"] == "AES-256-GCM"
    assert "a long enough passphrase" not in data.decode()


@pytest.mark.real_kdf
def test_the_real_parameters_are_at_least_64_mib_and_3_passes_and_weaker_files_are_refused() -> (
    None
):
    assert (
        credentials.KDF_MINIMUM.memory_kib >= 64 * 1024 and credentials.KDF_MINIMUM.iterations >= 3
    )
    weak = credentials.wrap(KEY, b"a long enough passphrase", member_id=MEMBER, name="Sam",
                            params=credentials.KdfParams(1024, 1, 1))  # fmt: skip
    with pytest.raises(credentials.KeyFileUnusable, match="weaker than allowed"):
        credentials.unwrap(weak, b"a long enough passphrase", member_id=MEMBER,
                           key_id_expected=key_id(KEY.public_key()))  # fmt: skip


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: {**b, "member": str(uuid4())}, "edited or damaged"),
        (lambda b: {**b, "kdf": {**b["kdf"], "iterations": 9}}, "edited or damaged"),
        (lambda b: {**b, "ciphertext": base64.b64encode(b"x" * 48).decode()}, "edited or damaged"),
    ],
    ids=["member", "parameters", "ciphertext"],
)
def test_an_edited_key_file_is_reported_as_damaged_not_as_a_wrong_passphrase(
    change, message
) -> None:  # type: ignore[no-untyped-def]
    body = change(json.loads(_sealed()))
    with pytest.raises(credentials.KeyFileUnusable, match=message):
        _open(json.dumps(body).encode())


def test_a_key_file_rewritten_with_a_fresh_checksum_still_fails_its_aead() -> None:
    body = json.loads(_sealed())
    body.pop("check")
    body["name"] = "Someone Else"
    body["check"] = credentials._check(body)
    with pytest.raises(credentials.WrongPassphrase):  # the header is the AEAD's associated data
        _open(json.dumps(body).encode())


@pytest.mark.parametrize(
    "passphrase, new, message",
    [
        ("", False, "empty"),
        ("   ", True, "empty"),
        ("short", True, "at least 12"),
        ("x" * 1025, False, "longer than 1024"),
    ],
)
def test_passphrases_are_bounded(passphrase: str, new: bool, message: str) -> None:
    with pytest.raises(credentials.PassphraseRefused, match=message):
        credentials.check_passphrase(passphrase, new=new)


def test_names_are_normalized_and_look_alikes_found() -> None:
    assert check_name("  Ｄａｎａ   Director ") == "Dana Director"
    with pytest.raises(NameRefused, match="mixes scripts"):
        check_name("Dana Dіrector")
    with pytest.raises(InvalidInput, match="control character"):
        check_name("Dana\u202eDirector")
    assert skeleton("Сеса Оха") == skeleton("Ceca Oxa")
    assert look_alike("Сеса Оха", ["Ceca Oxa"]) == "Ceca Oxa"
    assert look_alike("Ceca Oxa", ["Ceca Oxa"]) is None  # the same name is not a look-alike
    assert check_name("Иван Петров") == "Иван Петров"  # one script per word is fine


@pytest.mark.parametrize("twin", ["B0 Business", "BO Business", "b0 business"])
def test_a_digit_for_a_letter_is_a_look_alike_in_either_case(twin: str) -> None:
    """Red-team finding 16: "B0 Business" (a zero) was accepted beside "Bo Business"."""
    expected = None if twin == "BO Business" else "Bo Business"  # BO: the same name
    assert look_alike(twin, ["Bo Business"]) == expected
    assert look_alike("Bob Business", ["Bo Business"]) is None


def test_act_records_must_be_canonical() -> None:
    from datetime import UTC, datetime

    from ledger.acts import seal

    st = Statement(1, 1, "0" * 64, MEMBER, "dana", datetime(2026, 11, 2, tzinfo=UTC))
    record = seal(st, KEY)
    assert Envelope.from_bytes(record).to_bytes() == record
    with pytest.raises(ActInvalid, match="canonical"):
        Envelope.from_bytes(record.replace(b'{"payload"', b'{ "payload"'))
    with pytest.raises(ActInvalid):
        Statement.from_bytes(st.to_bytes().replace(b'"count":1', b'"count":0'))
