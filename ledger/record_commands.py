"""Disclosure record commands: who hands an officer or a court the verifiable record of a
release (``ledger.disclosure_records``, imported where it is used: a command that issues
no record does not build its event classes, issue 16)."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from ledger import rules
from ledger.application import LedgerBase
from ledger.errors import InvalidInput, NotFound
from ledger.text import counted

# Who may hand a record out, besides the member who recorded the release.
ISSUERS = ("director", "business_manager")


class DisclosureRecordCommands(LedgerBase):
    def issue_disclosure_record(
        self, ref: str, *, actor: str, release: int | None = None
    ) -> tuple[dict[str, Any], UUID]:
        """Record a disclosure record of one release of ``ref`` (the last by default) and
        return it with its aggregate id. The Director, the Business Manager or the member
        who recorded that release issues it; anyone else is refused and recorded (R27),
        and a member who may not know of the request is answered as for one that does not
        exist (``request_for``).
        Issuing it again gives a new record (a new nonce), recorded again."""
        from ledger.disclosure import request_id
        from ledger.disclosure_records import (
            DisclosureRecord,
            build_record,
            record_digest,
            record_id,
            request_at_release,
        )

        # a member outside the request's scope learns nothing, as with `request show`
        ref = self.request_for(ref, actor=actor, action="request record")  # type: ignore[attr-defined]
        releases = self._request(ref).releases  # type: ignore[attr-defined]
        if not releases:
            raise InvalidInput(
                f"nothing was released on {ref}: a disclosure record is of a release "
                f"(custodes request release {ref} ...)"
            )
        number = len(releases) if release is None else release
        if not 1 <= number <= len(releases):
            raise NotFound(
                f"{ref} has {counted(len(releases), 'release')}; there is no release {number}"
            )
        member = self.member(actor)
        released_by = releases[number - 1]["by"]
        roles = () if member is not None and member.name == released_by else ISSUERS
        who = self.authorize(actor, "request record", roles, rules.READ_CONFIDENTIAL, subject=ref)
        now = self.clock()
        site = self.site()
        # the request as it stood at that release, not as it is now (a later decision or
        # review is not what the release rested on)
        then = request_at_release(self.repository.event_store.get(request_id(ref)), number)
        assert then is not None, f"{ref} has release {number}"
        record = build_record(
            then,
            library=site.library,
            log_origin=site.log_origin,
            time_zone=site.timezone,
            issued_by={"name": who.name, "role": who.role},
            issued_at=now,
            nonce=secrets.token_hex(32),
        )
        digest = record_digest(record)
        issued = DisclosureRecord._create(
            DisclosureRecord.RecordIssued,
            id=record_id(digest),
            timestamp=now,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            request_ref=ref,
            release=number,
            recipient=record["release"]["to"],
            record_digest=digest,
            release_inventory_sha256=record["release"]["inventory_sha256"],
            record=record,
        )
        self.save(issued)
        return record, issued.id

    def recorded_disclosure_record(self, record_uuid: UUID) -> dict[str, Any] | None:
        """What the ledger holds of a disclosure record (None: never recorded)."""
        from ledger.disclosure_records import DisclosureRecord

        found = self._get(DisclosureRecord, record_uuid)
        if found is None:
            return None
        return {
            "request_ref": found.request_ref,
            "record_digest": found.record_digest,
            "record": found.record,
        }
