"""Patron use-cases (R22): pseudonyms, sealed details, and ``forget`` (crypto-shredding).

The key that seals a patron's details lives in the data directory (``keys/patrons/``),
never in the database; destroying it erases the details everywhere while the hash chain
still verifies, because the chain covers only digests of the stored events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ledger.application import LedgerBase
from ledger.datadir import SubjectKeys
from ledger.domain import Actor
from ledger.errors import InvalidInput, NotFound
from ledger.reads import LIST_EVERY_REQUEST
from ledger.rules import PATRON_ERASURE
from ledger.text import REASON, clean_text

# ledger.patrons is imported where it is used: a command that touches no patron (a
# footage act) does not pay for building the Patron aggregate's event classes (issue 16).
if TYPE_CHECKING:
    from ledger.patrons import Patron, PatronDetails


class PatronCommands(LedgerBase):
    # ---- patrons (R22) --------------------------------------------------------------------

    def forget_patron(self, card: str, *, reason: str, actor: str) -> str:
        """Destroy the patron's key: their details read as "erased" everywhere from now on."""
        from ledger.patrons import Patron, patron_id

        now = self.clock()
        who = self.authorize(actor, "patron forget", ("director",), PATRON_ERASURE)
        pseudo = self._pseudonym(card)
        patron = self._get(Patron, patron_id(pseudo))
        if patron is None:
            raise NotFound("no patron with that card number is on file; nothing was erased")
        if patron.forgotten:
            raise InvalidInput(f"patron {pseudo} is erased already")
        key_id = patron.key_id
        patron.trigger_event(
            Patron.PatronForgotten,
            pseudonym=pseudo,
            key_id=key_id,
            reason=clean_text(
                reason, kind=REASON, what="the reason", required=False, no_card_numbers=True
            ),
            **self._common(who, now),
        )
        self.save(patron)
        self._patron_keys().destroy(key_id)
        return pseudo

    def patron_details(self, pseudo: str) -> dict[str, str] | None:
        """The patron's details in clear, or None when erased (or unreadable: see
        ``patron_state``)."""
        from ledger.patrons import Patron, patron_id, unseal

        patron = self._get(Patron, patron_id(pseudo))
        if patron is None or patron.forgotten:
            return None
        details = unseal(self._patron_keys().get(patron.key_id), pseudo, patron.sealed_details)
        return details.as_dict() if details else None

    def patron_state(self, pseudo: str) -> str:
        """``present``; ``erased`` (``patron forget`` recorded); or ``missing``: the key is
        gone (or is not the one that sealed the details) although no forget is recorded
        -- deleted by hand, or a key backup restored without it (issue 14)."""
        from ledger.patrons import ERASED, MISSING, Patron, patron_id

        patron = self._get(Patron, patron_id(pseudo))
        if patron is None:
            return MISSING
        if patron.forgotten:
            return ERASED
        return "present" if self.patron_details(pseudo) is not None else MISSING

    def patron_key_problems(self) -> list[str]:
        """One line per patron whose key is missing although no forget is recorded."""
        from ledger.patrons import MISSING, Patron

        problems = []
        for event in self._events_of(Patron.PatronRecorded):
            patron: Patron = self.repository.get(event.originator_id)
            if not patron.forgotten and self.patron_state(patron.pseudonym) == MISSING:
                path = self._patron_keys()._path(patron.key_id)
                problems.append(
                    f"patron {patron.pseudonym}: the key {path} is missing (or not the one "
                    "that sealed the details) but no `patron forget` is recorded: the details "
                    "are unreadable, not erased. Restore the key from your key backup."
                )
        return problems

    def _patron_keys(self) -> SubjectKeys:
        if self.datadir is None:
            raise InvalidInput("this ledger was opened without a data directory")
        return self.datadir.subject_keys("patrons")

    def _pseudonym(self, card: str) -> str:
        from ledger.patrons import normalise_card, pseudonym

        if not normalise_card(card):
            raise InvalidInput("the card number is empty")
        return pseudonym(self.secret("pseudonym"), card)

    def _patron_for(self, card: str, given: PatronDetails, who: Actor, now: datetime) -> Patron:
        """The patron aggregate for this card, with any new details sealed (R22)."""
        from ledger.patrons import (
            Patron,
            PatronDetails,
            key_id_for,
            normalise_card,
            patron_id,
            seal,
        )

        pseudo = self._pseudonym(card)
        patron = cast(Patron | None, self._get(Patron, patron_id(pseudo)))
        keys = self._patron_keys()
        card = normalise_card(card)
        if patron is None:
            key_id = key_id_for(pseudo, 0)
            details = PatronDetails(card, given.name, given.address, given.phone)
            return cast(
                Patron,
                Patron._create(
                    Patron.PatronRecorded,
                    id=patron_id(pseudo),
                    pseudonym=pseudo,
                    key_id=key_id,
                    sealed_details=seal(keys.get_or_create(key_id), pseudo, details),
                    **self._common(who, now),
                ),
            )
        old = None if patron.forgotten else self.patron_details(pseudo)
        # A member who sees only the requests they took in adds what the ledger lacks but
        # changes no detail recorded (red team, session 13: a new request by staff changed
        # the name the Director read on an earlier emergency request).
        keeps = who.role not in LIST_EVERY_REQUEST

        def chosen(field: str) -> str:
            typed, recorded = getattr(given, field), (old or {}).get(field, "")
            return (recorded or typed) if keeps else (typed or recorded)

        merged = PatronDetails(card, chosen("name"), chosen("address"), chosen("phone"))
        if old is not None and merged.as_dict() == old:
            return patron
        key_id = patron.next_key_id() if patron.forgotten else patron.key_id
        patron.trigger_event(
            Patron.PatronDetailsRecorded,
            key_id=key_id,
            sealed_details=seal(keys.get_or_create(key_id), pseudo, merged),
            **self._common(who, now),
        )
        return patron

    def _common(self, who: Actor, now: datetime) -> dict[str, Any]:
        return dict(actor=who.name, actor_role=who.role, occurred_at=None, timestamp=now)
