"""Who and when (R25, R26), tried as a hostile insider would: a name without its
passphrase, forged and re-signed acts, a revoked key, a second Director, a look-alike
name, claims of impossible times. Each is refused and recorded, or found by ``verify``
at its position and named by kind; SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent
from sqlalchemy import create_engine, text

from ledger.acts import ActRequest, Envelope, Statement, key_id, seal
from ledger.app import Ledger, open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import ClockBehind, InvalidInput, NotPermitted
from ledger.footage import MediaFacts
from ledger.footage_commands import CaptureItem
from ledger.integrity import deep_checker, open_chain, verify_chain
from tests.chain_rewrite import rechain_from
from tests.conftest import NOW, SETUP
from tests.identity import DIRECTOR, enrol, open_test_ledger, passphrase

STAFF, MANAGER = "Sam Staff", "Bo Manager"
TABLE = "ledger_events"


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[Ledger]:
    led = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(SETUP + timedelta(hours=1)))
    enrol(led, STAFF, "staff")
    enrol(led, MANAGER, "business_manager")
    led.register_camera(
        "lobby-1", location="Lobby", zone="public", signage_posted=True, actor=DIRECTOR
    )
    led.clock.set(NOW)
    yield led
    led.close()


def _as_only(data_dir: Path, name: str) -> Ledger:
    """A ledger where only ``name`` signed in, as on that member's own terminal."""
    led = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    led.authenticate(name, passphrase(name).encode())
    return led


def _refusals(led: Ledger) -> list[tuple[str, str, bool]]:
    return [
        (e.actor, e.details["rule_id"], e.details["authenticated"])
        for e in led.read_log(kinds=["AccessDenied"])
    ]


def _verify(data_dir: Path):  # noqa: ANN202
    return verify_chain(open_chain(DataDir.open(data_dir)), extend_tree=False)


def _sql(data_dir: Path, sql: str, **params: object) -> None:
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def _row(data_dir: Path, position: int) -> tuple:
    engine = create_engine(DataDir.open(data_dir).database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text(f"SELECT id, act FROM {TABLE} WHERE position = :p"), {"p": position}
        ).one()
    engine.dispose()
    return row


def _positions(data_dir: Path) -> int:
    return open_chain(DataDir.open(data_dir)).head()[0]


# ---- a name proves nothing ------------------------------------------------------------------


def test_a_staff_member_naming_the_director_is_refused_and_recorded(
    data_dir: Path, ledger: Ledger
) -> None:
    ledger.close()
    sam = _as_only(data_dir, STAFF)
    for attempt in (
        lambda: sam.add_staff("Evil Twin", "staff", actor=DIRECTOR),
        lambda: sam.deactivate_staff(MANAGER, reason="x", actor=DIRECTOR),
        lambda: sam.register_camera(
            "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        ),
    ):
        with pytest.raises(
            NotPermitted, match="^STAFF-AUTHENTICATED .*Dana Director has not unlocked"
        ):
            attempt()
    assert _refusals(sam)[-3:] == [(DIRECTOR, "STAFF-AUTHENTICATED", False)] * 3
    assert {m.name for m in sam.staff()} == {DIRECTOR, STAFF, MANAGER, "Custodes service"}
    sam.close()
    result = _verify(data_dir)
    assert result.ok, result.damage  # the refusals were attested by the service identity


def test_a_wrong_passphrase_is_recorded_without_passphrase_material_and_locks_out(
    data_dir: Path, ledger: Ledger
) -> None:
    for n in range(1, 5):
        with pytest.raises(NotPermitted, match=f"wrong passphrase for Sam Staff \\({n} of 5"):
            ledger.authenticate(STAFF, b"not Sam's passphrase at all")
    with pytest.raises(NotPermitted, match="^STAFF-LOCKOUT .*now locked out"):
        ledger.authenticate(STAFF, b"not Sam's passphrase at all")
    with pytest.raises(NotPermitted, match="^STAFF-LOCKOUT .*is locked out"):
        ledger.authenticate(STAFF, passphrase(STAFF).encode())  # even the right one, now
    failures = [e.details for e in ledger.read_log(kinds=["AuthenticationFailed"])]
    assert [f["cause"] for f in failures] == ["wrong passphrase"] * 5 + ["locked out"]
    assert [e.kind for e in ledger.read_log(kinds=["LockedOut"])] == ["LockedOut"]
    with pytest.raises(NotPermitted, match="STAFF-AUTHENTICATED .*Sam Staff has not unlocked"):
        ledger.flag(
            "0" * 12, incident="IR-1", reason="x", actor=STAFF
        )  # the key unlocked earlier is void
    ledger.clear_lockout(STAFF, reason="confirmed in person", actor=DIRECTOR)
    assert ledger.authenticate(STAFF, passphrase(STAFF).encode()).name == STAFF
    from tests.cli.db_helpers import every_stored_byte

    assert b"not Sam's passphrase" not in every_stored_byte(data_dir)
    assert passphrase(STAFF).encode() not in every_stored_byte(data_dir)
    assert _verify(data_dir).ok


def test_key_files_edited_truncated_or_swapped_are_refused_and_recorded(
    data_dir: Path, ledger: Ledger
) -> None:
    dd = DataDir.open(data_dir)
    sam, bo = ledger.member(STAFF), ledger.member(MANAGER)
    assert sam is not None and bo is not None and sam.key_id and bo.key_id
    sam_file, bo_file = dd.staff_key_path(sam.key_id), dd.staff_key_path(bo.key_id)
    original = sam_file.read_bytes()
    body = json.loads(original)
    body["ciphertext"] = base64.b64encode(b"x" * 48).decode()
    cases = [
        (json.dumps(body).encode(), "edited or damaged"),
        (original[: len(original) // 2], "damaged or truncated"),
        (bo_file.read_bytes(), "belongs to another member"),
    ]
    for content, message in cases:
        sam_file.write_bytes(content)
        with pytest.raises(NotPermitted, match=f"key file cannot be used: .*{message}"):
            ledger.authenticate(STAFF, passphrase(STAFF).encode())
    sam_file.unlink()
    with pytest.raises(NotPermitted, match="is missing"):
        ledger.authenticate(STAFF, passphrase(STAFF).encode())
    causes = [e.details["cause"] for e in ledger.read_log(kinds=["AuthenticationFailed"])]
    assert causes == ["key file unusable"] * 4
    assert not ledger.member(STAFF).locked_out  # damaged files are not guesses  # type: ignore[union-attr]
    sam_file.write_bytes(original)
    assert ledger.authenticate(STAFF, passphrase(STAFF).encode()).name == STAFF


def test_a_deactivated_members_old_key_and_a_reset_members_old_key_are_refused(
    data_dir: Path, ledger: Ledger
) -> None:
    sam_old = _as_only(data_dir, STAFF)
    old_signer = sam_old._keyring[ledger.member(STAFF).id]  # type: ignore[union-attr]
    sam_old.close()
    ledger.reset_staff(STAFF, reason="forgot passphrase", actor=DIRECTOR,
                       passphrase=b"Sam's brand new passphrase")  # fmt: skip
    with pytest.raises(NotPermitted, match="no longer in force"):
        ledger.unlock_with(old_signer)
    ledger.deactivate_staff(STAFF, reason="left", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="no longer an active staff member"):
        ledger.unlock_with(old_signer)
    with pytest.raises(NotPermitted, match="'Sam Staff' is deactivated"):
        ledger.authenticate(STAFF, b"Sam's brand new passphrase")
    assert [r[1:] for r in _refusals(ledger)] == [("STAFF-AUTHENTICATED", False)] * 2 + [
        ("STAFF-ACTIVE", False)
    ]
    assert _verify(data_dir).ok


# ---- forged, stripped, swapped and re-signed acts (found by verify) -------------------------


def test_a_forged_signature_written_with_sql_is_found_at_its_act(
    data_dir: Path, ledger: Ledger
) -> None:
    before = _positions(data_dir)
    ledger.register_camera(
        "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.close()
    at = before + 1
    nid, record = _row(data_dir, at)
    envelope = Envelope.from_bytes(bytes(record))
    forged = Envelope(envelope.statement, envelope.kid, bytes(64)).to_bytes()
    _sql(data_dir, f"UPDATE {TABLE} SET act = :a WHERE id = :i", a=forged, i=nid)
    plain = _verify(data_dir)
    assert plain.damage is not None and (plain.damage.position, plain.damage.kind) == (at, "edited")
    rechain_from(data_dir, nid, resign=False)  # the insider fixes the hashes, not the signature
    result = _verify(data_dir)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (at, "forged")
    assert "signature" in result.damage.detail


def test_an_act_re_signed_by_a_key_never_enrolled_is_an_unknown_key(
    data_dir: Path, ledger: Ledger
) -> None:
    before = _positions(data_dir)
    ledger.register_camera(
        "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.close()
    nid, _ = _row(data_dir, before + 1)
    stranger = Ed25519PrivateKey.generate()
    rechain_from(data_dir, nid, signer_key=stranger)
    result = _verify(data_dir)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (before + 1, "unknown key")


def test_a_stripped_act_record_leaves_its_entries_unattested(
    data_dir: Path, ledger: Ledger
) -> None:
    before = _positions(data_dir)
    for n in range(2):
        ledger.register_camera(
            f"c{n}", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
    ledger.close()
    nid, _ = _row(data_dir, before + 2)  # the last act: nothing after it to absorb it
    _sql(data_dir, f"UPDATE {TABLE} SET act = NULL WHERE id = :i", i=nid)
    rechain_from(data_dir, nid, resign=False)
    result = _verify(data_dir)
    assert result.damage is not None
    assert (result.damage.position, result.damage.kind) == (before + 2, "unsigned")
    assert result.count == before + 1


def test_an_act_signed_with_a_revoked_key_is_found(data_dir: Path, ledger: Ledger) -> None:
    sam = _as_only(data_dir, STAFF)
    old = sam._keyring[ledger.member(STAFF).id]  # type: ignore[union-attr]
    sam.close()
    ledger.deactivate_staff(STAFF, reason="left", actor=DIRECTOR)
    ledger.close()
    # Sam kept a copy of his key: he appends with plain access to the database.
    recorder = open_chain(DataDir.open(data_dir)).recorder
    recorder.insert_events(
        [StoredEvent(uuid4(), 1, "ledger.footage:Segment.FootageFlagged", b"x")],
        act=ActRequest(old, "sam", ManualClock(NOW)),
    )
    result = _verify(data_dir)
    assert result.damage is not None
    assert result.damage.kind == "revoked key"
    assert result.damage.position == _positions(data_dir)


def test_a_role_that_could_not_record_the_event_is_not_permitted(
    data_dir: Path, ledger: Ledger
) -> None:
    sam = _as_only(data_dir, STAFF)
    signer = sam._keyring[ledger.member(STAFF).id]  # type: ignore[union-attr]
    sam.close()
    ledger.close()
    recorder = open_chain(DataDir.open(data_dir)).recorder
    recorder.insert_events(
        [StoredEvent(uuid4(), 1, "ledger.disclosure:Request.DisclosureDecided", b"x")],
        act=ActRequest(signer, "sam", ManualClock(NOW)),
    )
    result = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "not permitted"
    assert "Sam Staff (staff) may not record DisclosureDecided" in result.damage.detail


def test_deep_verification_finds_an_act_whose_events_name_another_actor(
    data_dir: Path, ledger: Ledger
) -> None:
    # Staff may flag too: Sam re-signing Dana's flag passes the role check.
    segment = ledger.record_capture(_capture(), actor=STAFF).segment_id
    ledger.flag(segment, incident="IR-1", reason="a fall by the door", actor=DIRECTOR)
    flagged_at = _positions(data_dir)
    ledger.close()
    nid, _ = _row(data_dir, flagged_at)
    sam_key = _key_of(data_dir, STAFF)
    rechain_from(data_dir, nid, signer_key=sam_key, signer_name=STAFF)
    assert _verify(data_dir).ok  # without the events key nothing shows
    led = open_ledger(DataDir.open(data_dir), clock=ManualClock(NOW))
    deep = verify_chain(
        open_chain(DataDir.open(data_dir)), extend_tree=False, acts=deep_checker(led.mapper)
    )
    led.close()
    assert deep.damage is not None
    assert (deep.damage.position, deep.damage.kind) == (flagged_at, "forged")
    assert "names 'Dana Director' as its actor but Sam Staff signed" in deep.damage.detail


# ---- one Director, look-alike names (R3, R25) ---------------------------------------------


def test_a_second_director_and_a_look_alike_name_are_refused_and_recorded(ledger: Ledger) -> None:
    with pytest.raises(NotPermitted, match="^ONE-DIRECTOR .*Dana Director is the Director"):
        ledger.add_staff("Evil Twin", "director", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^STAFF-NAMES .*mixes scripts"):
        ledger.add_staff("Dana Dіrector", "staff", actor=DIRECTOR)  # Cyrillic і
    enrol(ledger, "Ceca Oxa", "staff")
    with pytest.raises(
        NotPermitted, match="^STAFF-NAMES .*looks like the existing member 'Ceca Oxa'"
    ):
        ledger.add_staff("Сеса Оха", "staff", actor=DIRECTOR)  # every letter Cyrillic
    with pytest.raises(InvalidInput, match="exists already"):
        ledger.add_staff("ＳＡＭ  staff", "staff", actor=DIRECTOR)  # NFKC: the same name
    assert [r[1] for r in _refusals(ledger)] == ["ONE-DIRECTOR", "STAFF-NAMES", "STAFF-NAMES"]


def test_an_acting_director_decides_only_within_her_delegation_and_cites_it(
    data_dir: Path, ledger: Ledger
) -> None:
    delegation = ledger.delegate_director(
        MANAGER, start=NOW, until=NOW + timedelta(days=2), authority="board minutes 2026-10-20 item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    ledger.register_camera("c2", location="Hall", zone="public", signage_posted=True, actor=MANAGER)
    statement = Statement.from_bytes(
        Envelope.from_bytes(bytes(_row(data_dir, _positions(data_dir))[1])).statement
    )
    assert statement.delegation == delegation
    ledger.clock.set(NOW + timedelta(days=2, minutes=1))  # it ends by itself
    with pytest.raises(
        NotPermitted, match="Bo Manager \\(business manager\\) may not use “camera add”"
    ):
        ledger.register_camera(
            "c3", location="Hall", zone="public", signage_posted=True, actor=MANAGER
        )
    with pytest.raises(InvalidInput, match="cannot start in the past"):
        ledger.delegate_director(
            MANAGER, start=NOW, until=NOW + timedelta(days=9), authority="x", actor=DIRECTOR
        )
    ledger.close()
    assert _verify(data_dir).ok


def test_an_acting_director_cannot_take_over_the_directorship(ledger: Ledger) -> None:
    """Red-team H1: a delegation let the acting Director reset the Director's key,
    deactivate her and enrol a new Director. Each is a recorded refusal; the Director keeps
    her key and office."""
    ledger.delegate_director(
        MANAGER, start=NOW, until=NOW + timedelta(days=2), authority="board minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    director_key = ledger.member(DIRECTOR).key_id
    attempts = [
        lambda: ledger.reset_staff(DIRECTOR, actor=MANAGER, reason="forgot", passphrase=b"x" * 16),
        lambda: ledger.deactivate_staff(DIRECTOR, actor=MANAGER, reason="away"),
        lambda: ledger.add_staff("Nell Newdirector", "director", actor=MANAGER),
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted, match="^ONE-DIRECTOR .*acts for the Director, not over"):
            attempt()
    assert [r[:2] for r in _refusals(ledger)] == [(MANAGER, "ONE-DIRECTOR")] * 3
    director = ledger.member(DIRECTOR)
    assert director.active and director.key_id == director_key
    assert ledger.member("Nell Newdirector") is None


def test_nothing_an_acting_director_does_outlives_her_delegation_as_a_power(
    ledger: Ledger,
) -> None:
    """Red-team (session 13): an acting Director reset the Business Manager's key to a
    passphrase she knew and enrolled a counsel for herself; both outlived the delegation.
    Enrolments, key resets (any member's, the service key), the sign-in settings and the
    witness policy are the Director's own acts: each a recorded refusal, nothing changed.
    Taking a power away (deactivating a member) and unlocking stay within a delegation."""
    from ledger.policy_params import profile_files

    text, params = profile_files("riverbend-7-day")
    enrol(ledger, "Pat Page", "staff")
    ledger.delegate_director(
        STAFF, start=NOW, until=NOW + timedelta(days=2), authority="board minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    manager_key = ledger.member(MANAGER).key_id
    attempts = [
        lambda: ledger.add_staff("Sam Alias", "counsel", actor=STAFF),
        lambda: ledger.add_staff("Sal Staff", "staff", actor=STAFF),
        lambda: ledger.reset_staff(MANAGER, actor=STAFF, reason="forgot", passphrase=b"x" * 16),
        lambda: ledger.reset_service_key(actor=STAFF),
        lambda: ledger.change_security(
            max_failures=20, window_minutes=1, unlock_minutes=10, actor=STAFF
        ),
        lambda: ledger.set_witness_policy("log x", reason="r", actor=STAFF),
        # session 14: a policy version of her own, and the Director's lockout lifted
        lambda: ledger.adopt_policy(
            text=text,
            params_toml=params,
            approved_by="Board",
            approval_ref="none",
            effective=NOW.date(),
            actor=STAFF,
        ),  # fmt: skip
        lambda: ledger.clear_lockout(DIRECTOR, reason="she asked", actor=STAFF),
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted, match="^ONE-DIRECTOR .*nothing done under a delegation"):
            attempt()
    assert [r[:2] for r in _refusals(ledger)] == [(STAFF, "ONE-DIRECTOR")] * len(attempts)
    assert ledger.member("Sam Alias") is None and ledger.member("Sal Staff") is None
    assert ledger.member(MANAGER).key_id == manager_key
    assert len(ledger.policy_history()) == 1
    # She still takes a power away within the delegation.
    ledger.deactivate_staff("Pat Page", actor=STAFF, reason="left")
    assert not ledger.member("Pat Page").active


def test_no_act_under_a_delegation_after_its_end_or_lapse_however_it_is_dated(
    data_dir: Path, ledger: Ledger
) -> None:
    """Red team (session 14): the acting Director, on her own terminal with a clock of
    her choosing, recorded Director-only acts after the Director ended her delegation (or
    after it lapsed and something else was recorded), dated within the clock's two-minute
    tolerance just inside it; the recorder took them and ``verify`` passed. Now her act is
    never timed before the ledger's head, and the verifier judges the delegation by
    position too (``act_check.Delegation.covers``)."""
    ledger.delegate_director(
        STAFF, start=NOW, until=NOW + timedelta(hours=2), authority="minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    ledger.clock.set(NOW + timedelta(minutes=30))
    ledger.register_camera("c-1", location="Hall", zone="public", signage_posted=True, actor=STAFF)
    ledger.clock.set(NOW + timedelta(hours=1))
    ledger.end_delegation(STAFF, reason="back early", actor=DIRECTOR)
    acting = _as_only(data_dir, STAFF)
    try:
        acting.clock.set(NOW + timedelta(hours=1) - timedelta(seconds=30))  # before the end
        # refused as what she is once the end is recorded, and the refusal recorded (the
        # recorder would refuse the act too, but unrecorded: session 14's ClockBehind)
        with pytest.raises(NotPermitted, match="^STAFF-ROLE .*only director may"):
            acting.deactivate_staff(MANAGER, actor=STAFF, reason="after the end")
        assert _refusals(acting)[-1][:2] == (STAFF, "STAFF-ROLE")
        # a lapse: something recorded after "until", then an act dated a second before it
        ledger.clock.set(NOW + timedelta(hours=2, seconds=30))
        ledger.register_camera(
            "c-2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
        acting.clock.set(NOW + timedelta(hours=2) - timedelta(seconds=1))
        refused = len(_refusals(acting))
        with pytest.raises(NotPermitted, match="^STAFF-ROLE"):
            acting.register_camera(
                "c-3", location="Annex", zone="public", signage_posted=True, actor=STAFF
            )
        assert len(_refusals(acting)) == refused + 1
    finally:
        acting.close()
    assert ledger.member(MANAGER).active
    assert _verify(data_dir).ok


def test_the_verifier_judges_a_delegation_by_position_as_well_as_by_time() -> None:
    from ledger.act_check import Delegation

    member = uuid4()
    d = Delegation(member, NOW, NOW + timedelta(hours=2))
    inside = NOW + timedelta(hours=1)
    assert d.covers(member, inside, None)
    assert d.covers(member, inside, inside - timedelta(minutes=1))
    assert not d.covers(uuid4(), inside, None)  # another member
    assert not d.covers(member, NOW + timedelta(hours=2), None)  # at "until"
    # recorded after something later than itself: not before the head, ever
    assert not d.covers(member, inside, inside + timedelta(seconds=1))
    # after the log passed "until", nothing more under it, however it is dated
    assert not d.covers(member, NOW + timedelta(hours=2) - timedelta(seconds=1),
                        NOW + timedelta(hours=2, seconds=30))  # fmt: skip
    d.ended = True  # a DelegationEnded came before: by position, whatever the time
    assert not d.covers(member, inside, None)


def test_ending_a_delegation_ends_the_one_named_never_a_guess(ledger: Ledger) -> None:
    """Red-team M5: with a current delegation and one to come, end-delegation ended the
    one to come and left the current one running."""
    current = ledger.delegate_director(
        MANAGER, start=NOW, until=NOW + timedelta(days=2), authority="minutes 4", actor=DIRECTOR
    )
    later = ledger.delegate_director(
        MANAGER, start=NOW + timedelta(days=10), until=NOW + timedelta(days=12),
        authority="minutes 5", actor=DIRECTOR,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match=f"holds 2 delegations \\({current} from .*{later} "):
        ledger.end_delegation(MANAGER, reason="back early", actor=DIRECTOR)
    assert (
        ledger.end_delegation(MANAGER, reason="back early", actor=DIRECTOR, delegation_id=current)
        == current
    )
    with pytest.raises(NotPermitted, match="may not use “camera add”"):
        ledger.register_camera("c9", location="Hall", zone="public", signage_posted=True,
                               actor=MANAGER)  # fmt: skip
    # The one left is the one to end by default.
    assert ledger.end_delegation(MANAGER, reason="not needed", actor=DIRECTOR) == later
    with pytest.raises(InvalidInput, match="holds no delegation to end"):
        ledger.end_delegation(MANAGER, reason="again", actor=DIRECTOR)


def test_the_director_hands_over_and_the_old_key_signs_nothing_more(
    data_dir: Path, ledger: Ledger
) -> None:
    ledger.hand_over("Lee Successor", authority="board minutes 2027-01-12 item 3", actor=DIRECTOR,
                     passphrase=b"Lee's own new passphrase")  # fmt: skip
    with pytest.raises(NotPermitted, match="Dana Director has not unlocked|is deactivated"):
        ledger.register_camera(
            "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
    ledger.authenticate("Lee Successor", b"Lee's own new passphrase")
    ledger.register_camera(
        "c2", location="Hall", zone="public", signage_posted=True, actor="Lee Successor"
    )
    assert [(m.name, m.role, m.active) for m in ledger.staff() if m.role == "director"] == [
        ("Dana Director", "director", False),
        ("Lee Successor", "director", True),
    ]
    ledger.close()
    assert _verify(data_dir).ok


def test_a_hand_over_ends_every_delegation_the_outgoing_director_gave(
    data_dir: Path, ledger: Ledger
) -> None:
    """Red team (session 14): a staff member named acting Director by the outgoing
    Director went on deactivating members as acting Director under her successor."""
    ledger.delegate_director(
        STAFF, start=NOW, until=NOW + timedelta(days=300), authority="minutes item 4",
        actor=DIRECTOR,
    )  # fmt: skip
    ledger.delegate_director(
        MANAGER, start=NOW + timedelta(days=301), until=NOW + timedelta(days=302),
        authority="minutes item 5", actor=DIRECTOR,
    )  # fmt: skip
    ledger.hand_over("Lee Successor", authority="board minutes item 3", actor=DIRECTOR,
                     passphrase=b"Lee's own new passphrase")  # fmt: skip
    for name in (STAFF, MANAGER):
        assert all(v["ended"] is not None for v in ledger.member(name).delegations.values())
    with pytest.raises(NotPermitted):
        ledger.deactivate_staff(MANAGER, actor=STAFF, reason="acting still")
    assert ledger.member(MANAGER).active
    ledger.close()
    assert _verify(data_dir).ok


# ---- time (R26) -----------------------------------------------------------------------------

MEDIA = MediaFacts("mp4", "mp4v", 50, 5.0, 10.0, 160, 120)


def _capture(start: datetime = NOW - timedelta(hours=1), n: int = 0) -> CaptureItem:
    return CaptureItem(f"{n:064x}", 1000, "lobby-1", start, MEDIA, f"lobby-1_{n}.mp4")


@pytest.mark.parametrize(
    "start, why",
    [
        # Shown in site time: 10 s after 2099-01-01 00:00 UTC is New Year's Eve in Chicago.
        (datetime(2099, 1, 1, tzinfo=UTC), "claims to be recorded until 2098-12-31 18:00:10 CST"),
        (datetime(1970, 1, 1, tzinfo=UTC), "before its camera was registered"),
    ],
    ids=["2099", "1970"],
)
def test_footage_claiming_an_impossible_time_is_refused_and_recorded(
    ledger: Ledger, start: datetime, why: str
) -> None:
    with pytest.raises(NotPermitted, match=f"^CLAIMED-TIMES .*{why}"):
        ledger.record_capture(_capture(start, 7), actor=STAFF)
    assert _refusals(ledger)[-1] == (STAFF, "CLAIMED-TIMES", True)
    assert ledger.find_segment(f"{7:064x}") is None


def test_a_clock_set_back_cannot_record_and_verify_finds_a_backdated_act(
    data_dir: Path, ledger: Ledger
) -> None:
    ledger.register_camera(
        "c1", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.clock.set(NOW - timedelta(hours=1))
    with pytest.raises(ClockBehind, match="behind the ledger's last recorded act"):
        ledger.register_camera(
            "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
        )
    ledger.clock.set(NOW)
    ledger.register_camera(
        "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    ledger.close()
    nid, _ = _row(data_dir, _positions(data_dir))
    rechain_from(data_dir, nid, at=NOW - timedelta(days=3))  # an insider backdates the act
    result = _verify(data_dir)
    assert result.damage is not None and result.damage.kind == "clock"
    assert result.damage.position == _positions(data_dir)


def _key_of(data_dir: Path, name: str) -> Ed25519PrivateKey:
    led = _as_only(data_dir, name)
    member = led.member(name)
    assert member is not None
    key = led._keyring[member.id].private_key
    led.close()
    return key


def test_the_act_record_names_the_os_user_and_the_clock_at_append(
    data_dir: Path, ledger: Ledger
) -> None:
    from ledger.unlock import os_user

    ledger.clock.set(NOW + timedelta(minutes=3))
    ledger.register_camera(
        "c2", location="Hall", zone="public", signage_posted=True, actor=DIRECTOR
    )
    record = bytes(_row(data_dir, _positions(data_dir))[1])
    statement = Statement.from_bytes(Envelope.from_bytes(record).statement)
    assert (statement.os_user, statement.time) == (os_user(), NOW + timedelta(minutes=3))
    dana = ledger.member(DIRECTOR)
    assert dana is not None and statement.signer == dana.id
    assert Envelope.from_bytes(record).kid == dana.key_id
    # Signing the same statement with the Director's own key reproduces the record: the
    # signature is over exactly these bytes (DSSE PAE, docs/FORMAT.md).
    assert seal(statement, _key_of(data_dir, DIRECTOR)) == record
    assert key_id(_key_of(data_dir, DIRECTOR).public_key()) == dana.key_id
