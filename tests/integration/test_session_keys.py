"""A terminal's unlock keeps a session key the member's own key vouches for in the ledger,
never the member's key (R25), on both databases.

Red team (session 14, HIGH, mitigated then): the unlock file held the member's own signing
key, so whoever read it held that key until the Director reset it. Now the file holds a
session key; the recorder refuses it after its vouched end, and ``verify`` holds an act it
signs then (or after its member's key is revoked) damage, even one recorded through the
Python API around the recorder."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.act_check import ActChecker
from ledger.acts import format_time, key_id, raw_public_key, session_message
from ledger.app import Ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted, SessionEnded
from ledger.integrity import deep_checker, open_chain, verify_chain
from ledger.staff import StaffMember
from ledger.unlock import UnlockStore
from tests.conftest import NOW
from tests.identity import DIRECTOR, enrol, open_test_ledger, passphrase, session

STAFF = "Sam Staff"


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[Ledger]:
    led = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    enrol(led, STAFF, "staff")
    yield led
    led.close()


def _verify(data_dir: Path, ledger: Ledger | None = None):  # type: ignore[no-untyped-def]
    now = NOW + timedelta(days=1)
    checker = deep_checker(ledger.mapper, now=now) if ledger else ActChecker(now=now)
    return verify_chain(open_chain(DataDir.open(data_dir)), acts=checker), checker


def _act(ledger: Ledger, name: str) -> None:
    """An act of the staff member's own key: her attempt to add a camera, refused and
    recorded (signed by her, R23)."""
    with pytest.raises(NotPermitted, match="^STAFF-ROLE"):
        ledger.register_camera(name, location="Hall", zone="public", signage_posted=True,
                               actor=STAFF)  # fmt: skip


def _signed(ledger: Ledger, signer) -> None:  # type: ignore[no-untyped-def]
    """An act signed with ``signer`` through the Python API, around the application's
    checks (an attempt's record, as any member's own key signs)."""
    from uuid import uuid4

    from ledger.acts import ActRequest
    from ledger.refusals import Refusal

    event = Refusal._create(
        Refusal.AccessDenied, id=uuid4(), timestamp=ledger.clock(), actor=STAFF,
        actor_role="staff", occurred_at=None, action="add a camera", subject="c",
        rule_id="STAFF-ROLE", rule_source="Policy", message="refused", authenticated=True,
    )  # fmt: skip
    ledger.save(event, act=ActRequest(signer, "someone", ledger.clock))


def _use(ledger: Ledger, signer) -> None:  # type: ignore[no-untyped-def]
    """Sign the next acts with ``signer`` as the Python API can, around every check."""
    ledger._keyring[signer.member_id] = signer


def test_the_unlock_file_holds_a_session_key_and_its_acts_verify(
    data_dir: Path, ledger: Ledger
) -> None:
    own = ledger.member(STAFF).key_id
    signer = session(ledger, STAFF)
    assert signer.parent == own and signer.key_id != own
    assert signer.expires == NOW + timedelta(minutes=12)  # the unlock's 10 + the 2 minutes
    store = UnlockStore(data_dir)
    store.save(signer, NOW + timedelta(minutes=10), NOW)
    body = json.loads(store.path.read_text())
    kept = Ed25519PrivateKey.from_private_bytes(base64.b64decode(body["key"]))
    assert key_id(kept.public_key()) == signer.key_id != own
    with pytest.raises(ValueError, match="never a member's own key"):
        store.save(ledger._keyring[signer.member_id] and dataclasses.replace(signer, parent=None),
                   NOW + timedelta(minutes=10), NOW)  # fmt: skip

    loaded = store.load(NOW + timedelta(minutes=1))
    assert loaded is not None
    ledger.forget_unlocked()
    ledger.clock.advance(minutes=1)
    ledger.unlock_with(loaded.signer)
    _act(ledger, "with the session key")
    for deep in (None, ledger):
        result, checker = _verify(data_dir, deep)
        assert result.ok, result.damage
        assert checker.signers[STAFF] >= 2  # the vouching act and the session's


def test_an_ended_session_is_refused_and_an_act_recorded_around_the_refusal_is_damage(
    data_dir: Path, ledger: Ledger
) -> None:
    signer = session(ledger, STAFF)
    ledger.clock.advance(minutes=13)  # past the vouched end
    ledger.forget_unlocked()
    with pytest.raises(NotPermitted, match="STAFF-AUTHENTICATED .*session key that has ended"):
        ledger.unlock_with(signer)
    _use(ledger, signer)
    with pytest.raises(NotPermitted, match="STAFF-AUTHENTICATED"):
        ledger.register_camera("c", location="Hall", zone="public", signage_posted=True,
                               actor=STAFF)  # fmt: skip
    with pytest.raises(SessionEnded):  # the recorder, even when the application is skipped
        _signed(ledger, signer)
    _signed(ledger, dataclasses.replace(signer, expires=None))  # the recorder skipped too
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "expired key"
    assert result.damage.position == ledger.chain_head()[0]


def test_a_session_act_timed_inside_but_recorded_after_its_end_is_damage(
    data_dir: Path, ledger: Ledger
) -> None:
    """The signer picks the time: the ledger's order decides (as for delegations)."""
    signer = session(ledger, STAFF)  # vouched until NOW + 12 min
    ledger.clock.set(NOW + timedelta(minutes=13))
    ledger.register_camera(
        "c-1", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.clock.set(NOW + timedelta(minutes=11, seconds=30))  # within the 2 minutes' slack
    _use(ledger, signer)
    with pytest.raises(SessionEnded):  # the application lets it through; the recorder not
        _act(ledger, "backdated into the session")
    _signed(ledger, dataclasses.replace(signer, expires=None))
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "expired key"


def test_a_session_ends_with_its_members_key(data_dir: Path, ledger: Ledger) -> None:
    signer = session(ledger, STAFF)
    ledger.clock.advance(minutes=1)
    ledger.reset_staff(
        STAFF, actor=DIRECTOR, reason="lost laptop", passphrase=b"a new passphrase for Sam 2026"
    )
    with pytest.raises(NotPermitted, match="no longer in force"):
        ledger.unlock_with(signer)
    assert _verify(data_dir)[0].ok  # the reset (a new key beside a live session) verifies
    ledger.clock.advance(minutes=1)
    _signed(ledger, signer)  # around the application's refusal
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "revoked key"
    assert "ended with the key that vouched for it" in result.damage.detail


def _vouch_by_hand(ledger: Ledger, name: str) -> None:
    """A SessionKeyVouched for ``name``, signed with whatever key the keyring holds."""
    member = ledger._get(StaffMember, ledger.member(name).id)
    key = Ed25519PrivateKey.generate()
    kid = key_id(key.public_key())
    expires = format_time(ledger.clock() + timedelta(minutes=10))
    member.trigger_event(
        StaffMember.SessionKeyVouched, key_id=kid,
        public_key=base64.b64encode(raw_public_key(key.public_key())).decode(),
        proof=base64.b64encode(key.sign(session_message(member.id, kid, expires))).decode(),
        parent_key_id=member.key_id, expires=expires, actor=name, actor_role=member.role,
        occurred_at=None, timestamp=ledger.clock(),
    )  # fmt: skip
    ledger.save(member)


def test_only_the_members_own_key_vouches_for_a_session(data_dir: Path, ledger: Ledger) -> None:
    signer = session(ledger, STAFF)
    ledger.forget_unlocked()
    ledger.unlock_with(signer)
    with pytest.raises(NotPermitted, match="own key must vouch"):
        ledger.open_session(STAFF, until=NOW + timedelta(minutes=5))
    _vouch_by_hand(ledger, STAFF)  # a session vouching for another, around the check
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "not permitted"
    assert "only by its member's own key" in result.damage.detail


def test_a_passphrase_change_ends_the_members_sessions(data_dir: Path, ledger: Ledger) -> None:
    """The terminal's check (``changed_since``) stopped the command line; a copy of the file
    used through the Python API is now refused by the application too."""
    signer = session(ledger, STAFF)
    ledger.clock.advance(minutes=1)
    ledger.change_passphrase(
        actor=STAFF, current=passphrase(STAFF).encode(), new=b"a brand new passphrase 2026"
    )
    ledger.forget_unlocked()
    with pytest.raises(NotPermitted, match="session key that has ended"):
        ledger.unlock_with(signer)
    ledger.clock.advance(minutes=1)
    ledger.authenticate(STAFF, b"a brand new passphrase 2026")
    fresh = ledger.open_session(STAFF, until=ledger.clock() + timedelta(minutes=10))
    ledger.forget_unlocked()
    assert ledger.unlock_with(fresh).key_id == fresh.key_id  # a session after the change


def test_verify_holds_a_session_used_after_a_passphrase_change_revoked(
    data_dir: Path, ledger: Ledger
) -> None:
    """Session 15 left this to the commands: the change was encrypted, so ``verify`` could
    not see it. The change now records ``SessionsEnded`` in clear, in the same act."""
    signer = session(ledger, STAFF)
    ledger.clock.advance(minutes=1)
    ledger.change_passphrase(
        actor=STAFF, current=passphrase(STAFF).encode(), new=b"a brand new passphrase 2026"
    )
    assert _verify(data_dir)[0].ok
    ledger.clock.advance(minutes=1)
    _signed(ledger, signer)  # a copied file, inside its window, around the application
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "revoked key"
    assert "with every session of theirs" in result.damage.detail


def test_sessions_are_ended_only_by_their_member(data_dir: Path, ledger: Ledger) -> None:
    """A ``SessionsEnded`` on a member's aggregate in an act of someone else's key."""
    session(ledger, STAFF)
    member = ledger._get(StaffMember, ledger.member(STAFF).id)
    member.trigger_event(
        StaffMember.SessionsEnded, cause="passphrase changed", actor=DIRECTOR,
        actor_role="director", occurred_at=None, timestamp=ledger.clock(),
    )  # fmt: skip
    ledger.save(member)  # signed by the Director's key the keyring holds
    result, _ = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "not permitted"
    assert "only by an act of that member" in result.damage.detail


def test_a_session_admitted_before_a_passphrase_change_elsewhere_is_refused_not_damage(
    data_dir: Path, ledger: Ledger
) -> None:
    """Review of session 16: a command that admitted the terminal's session (a long ingest,
    a second terminal) went on signing after the member changed their passphrase in
    another process, and verify held its next act revoked key, for good. The session is
    checked again as it signs: refused and recorded, and the chain verifies."""
    signer = session(ledger, STAFF)
    ledger.forget_unlocked()
    ledger.unlock_with(signer)  # this process: a command admitted the session
    ledger.clock.advance(minutes=1)
    other = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(ledger.clock()))
    other.change_passphrase(
        actor=STAFF, current=passphrase(STAFF).encode(), new=b"a brand new passphrase 2026"
    )
    other.close()
    ledger.clock.advance(minutes=1)
    with pytest.raises(NotPermitted, match="session ended .* after this command began"):
        ledger.register_camera("c9", location="Hall", zone="public", signage_posted=True,
                               actor=STAFF)  # fmt: skip
    result, _ = _verify(data_dir)
    assert result.ok, result.damage
    kinds = [e.kind for e in ledger.read_log()]
    assert kinds[-1] == "AccessDenied"  # the attempt, attested by the service identity
