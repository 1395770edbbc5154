"""Reading confidential details is an act too (R27): who read what, recorded and signed.

A request's record, the Appendix 9 form filled from it, a patron's details, a subject's
history with its details, the log with event details: each is shown only to an
authenticated member whose role may see it, and each showing is recorded before anything
is shown. Listings without confidential details need an authenticated member but are not
recorded.
"""

from __future__ import annotations

from datetime import datetime

from ledger.domain import LedgerAggregate

# What may be read, by whom. The Director decides every request and counsel reviews them
# (R3, R6); the member who took a request in may see what they entered (``may_also``).
READERS: dict[str, tuple[str, ...]] = {
    "request": ("director", "counsel"),
    "appendix9": ("director", "counsel"),
    "history": ("director", "counsel"),
    "log": ("director", "counsel"),
    "patron": ("director",),
    # an evidence package of footage downloaded from the dashboard: who made exports (R16,
    # R18; the policy version's archive viewers are checked first)
    "evidence export": ("director", "business_manager"),
}


# Who lists every request (``custodes request list``, the dashboard's requests and home
# pages): the members who read the disclosure register (``report disclosures``, R20):
# the Director, the Business Manager and counsel. Any other member lists only the
# requests they took in themselves (the signed actor of ``RequestOpened``), the ones
# whose records they may read (``may_also`` above), not the free-text "received by".
LIST_EVERY_REQUEST: tuple[str, ...] = ("director", "business_manager", "counsel")


class Reading(LedgerAggregate):
    class ConfidentialRecordRead(LedgerAggregate.Created):
        record: str  # one of READERS
        subject: str  # request reference, subject id, "log" ...
        detail: str  # e.g. the output format or the filter used

    def __init__(
        self,
        actor: str,
        actor_role: str,
        occurred_at: datetime | None,
        record: str,
        subject: str,
        detail: str,
    ) -> None:
        self.record = record
        self.subject = subject
