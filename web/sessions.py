"""Browser sessions: a random id in the (signed, HttpOnly, SameSite=Strict) cookie; the
member's unlocked key stays in this process's memory, never in the cookie or on disk.

A session ends at sign-out, after the idle timeout, when the server stops, or as soon as
the ledger no longer holds that key in force (reset, lockout, deactivation), or the
member changed their passphrase since it began (``web.app``).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.acts import Signer


@dataclass
class WebSession:
    signer: Signer
    started: datetime
    last_seen: datetime


class SessionStore:
    def __init__(self, idle: timedelta) -> None:
        self.idle = idle
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def new(self, signer: Signer, now: datetime) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = WebSession(signer, now, now)
        return sid

    def get(self, sid: str | None, now: datetime) -> WebSession | None:
        """The live session of ``sid`` (its idle clock restarted), or None: unknown, or
        idle too long (then forgotten)."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if now - session.last_seen > self.idle:
                del self._sessions[sid]
                return None
            session.last_seen = now
            return session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def drop_member(self, member_id: object) -> None:
        with self._lock:
            for sid in [s for s, v in self._sessions.items() if v.signer.member_id == member_id]:
                del self._sessions[sid]
