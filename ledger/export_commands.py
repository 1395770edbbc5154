"""Evidence export commands (R17, R18): who may export which segments, and the record of
what left the library. The export aggregate itself is ``ledger.exports.EvidenceExport``,
imported where it is used: a command that exports nothing (a footage act) does not build
its event classes (issue 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
from uuid import UUID

from ledger import policy, rules
from ledger.application import LedgerBase
from ledger.domain import Actor
from ledger.errors import InvalidInput
from ledger.evidence import MANIFEST_FORMAT, export_id, manifest_digest


@dataclass(frozen=True)
class ExportPermit:
    who: Actor
    request_ref: str
    case_number: str | None
    recipient: str
    purpose: str
    segments: tuple[str, ...]
    view_permits: tuple[Any, ...]
    library: str  # the site as the export was checked: the manifest names it
    log_origin: str

    def manifest(self, clips: list[dict[str, Any]], stamp: str) -> dict[str, Any]:
        """The package's manifest as far as it is known before the export is recorded:
        all that its content digest covers (``ledger.evidence.manifest_digest``), so the
        recipient, the case and each clip's camera and times are committed by the ledger,
        not by the site key alone (red team, session 14). ``stamp``: :func:`exported_at`."""
        return {
            "format": MANIFEST_FORMAT,
            "library": self.library,
            "log_origin": self.log_origin,
            "request": self.request_ref,
            "case_number": self.case_number,
            "recipient": self.recipient,
            "exported_at": stamp,
            "exporter": {"name": self.who.name, "role": self.who.role},
            "purpose": self.purpose,
            "clips": clips,
            "release": {"request": self.request_ref, "recipient": self.recipient},
        }


class _Features(Protocol):
    def request_view(self, ref: str) -> dict[str, Any]: ...
    def release(
        self,
        ref: str,
        *,
        fields: Sequence[str],
        to: str,
        method: str,
        actor: str,
        footage: Sequence[str] = (),
        redaction: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...
    def check_viewing(self, segment_id: str, *, reason: str, purpose: str, actor: str) -> Any: ...
    def record_viewing(
        self,
        permit: Any,
        *,
        kind: str,
        remote: bool,
        at_seconds: float | None = None,
    ) -> None: ...


class ExportCommands(LedgerBase):
    def check_export(
        self, request_ref: str, segments: Sequence[str], *, actor: str
    ) -> ExportPermit:
        """Who may export which segments for this request; refusals are recorded.

        Only the Director or the Business Manager exports (archived footage, R16); only
        segments the Director approved for release on this request (R7, R17).
        """
        features = cast(_Features, self)
        request = features.request_view(request_ref)
        ref = request["ref"]
        who = self.authorize(
            actor,
            "export footage",
            self.policy_params().archive_viewer_roles,  # R16, R28
            rules.FOOTAGE_ARCHIVE_ACCESS,
            subject=ref,
        )
        wanted = tuple(dict.fromkeys(s.strip().lower() for s in segments if s.strip()))
        if not wanted:
            raise InvalidInput("name the segments to export")
        decision = request.get("decision")
        approved = set(decision["approved_footage"]) if decision and decision["approved"] else set()
        missing = [s for s in wanted if s not in approved]
        if missing:
            why = (
                "the Director has not approved a release on it"
                if not decision
                else "the Director denied it"
                if not decision["approved"]
                else f"its approved footage does not include {', '.join(missing)}"
            )
            self.refuse(
                who,
                "export footage",
                rules.POLICY_DENY_BY_DEFAULT,
                f"nothing is exported for {ref}: {why}",
                subject=ref,
            )
        law_enforcement = request["requester_kind"] in ("law_enforcement", "court")
        if law_enforcement:
            d = policy.check_law_enforcement_footage(request.get("case_number"))
            if not d.allowed:
                self.refuse(who, "export footage", d.rule, d.reason, subject=ref)
        purpose = "law_enforcement_request" if law_enforcement else "foia_review"
        permits = tuple(
            features.check_viewing(
                s, reason=f"evidence export for {ref}", purpose=purpose, actor=who.name
            )
            for s in wanted
        )
        site = self.site()
        return ExportPermit(
            who, ref, request.get("case_number"), request["requester"], purpose, wanted, permits,
            site.library, site.log_origin,
        )  # fmt: skip

    def record_export(
        self, permit: ExportPermit, clips: list[dict[str, Any]], *, stamp: str, remote: bool
    ) -> UUID:
        """Record the release on the request (checked again against the Director's
        decision), the export and each derivation; returns the export's aggregate id.
        Each segment's export is a viewing of it (R16), ``remote`` as the exporter's
        session is (Policy V-B).

        ``stamp`` is the export time written in the package's manifest
        (:func:`exported_at`): the export's id commits to the manifest
        (``permit.manifest(clips, stamp)``), so it must be the one the package carries, not
        a second reading of the clock."""
        from ledger.exports import EvidenceExport

        now = self.clock()
        features = cast(_Features, self)
        redactions = [c.get("redaction") or {} for c in clips]
        released = features.release(
            permit.request_ref,
            fields=[],
            footage=list(permit.segments),
            to=permit.recipient,
            method="evidence package (custodes footage export)",
            actor=permit.who.name,
            # What the release says of the redaction: every clip's faces blurred, or not.
            redaction={"faces": bool(clips) and all(r.get("blur_faces") for r in redactions)},
        )
        digest = manifest_digest(permit.manifest(clips, stamp))
        common = dict(actor=permit.who.name, actor_role=permit.who.role, occurred_at=None)
        export = EvidenceExport._create(
            EvidenceExport.EvidenceExported,
            id=export_id(digest),
            timestamp=now,
            request_ref=permit.request_ref,
            case_number=permit.case_number,
            recipient=permit.recipient,
            content_digest=digest,
            segments=list(permit.segments),
            reason=f"evidence export for {permit.request_ref}",
            release_inventory_sha256=released["inventory_sha256"],
            **common,
        )
        for clip in sorted(clips, key=lambda c: c["file"]):
            export.trigger_event(
                EvidenceExport.ClipDerived,
                timestamp=now,
                segment_id=clip["segment_id"],
                original_sha256=clip["original_sha256"],
                sha256=clip["sha256"],
                file=clip["file"],
                redaction=clip["redaction"],
                **common,
            )
        self.save(export)
        for view in permit.view_permits:
            features.record_viewing(view, kind="export", remote=remote)
        return export.id

    def recorded_export(self, export_uuid: UUID) -> dict[str, Any] | None:
        """What the ledger holds of an export (None when it was never recorded)."""
        from ledger.exports import EvidenceExport

        export = self._get(EvidenceExport, export_uuid)
        if export is None:
            return None
        return {
            "request_ref": export.request_ref,
            "content_digest": export.content_digest,
            "release_inventory_sha256": export.release_inventory_sha256,
        }
