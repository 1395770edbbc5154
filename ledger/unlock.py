"""Unlocked for a few minutes, like sudo (R25): type the passphrase once for ten acts.

After a successful passphrase, ``custodes login`` (or the first command that asks) has the
member's own key vouch, in a recorded act, for a fresh **session key** valid for the
site's unlock time (``IdentityCommands.open_session``, ``StaffMember.SessionKeyVouched``),
and keeps only that session key in ``sessions/uid<UID>-sid<SID>.unlock`` in the data
directory (directory 0700, file 0600, never in the database) until it expires or
``custodes logout`` shreds it. The member's own key never leaves the passphrase-sealed
key file. The unlock is bound to the OS user (the file's owner and name) and to the login
session (``getsid``, so another terminal of the same user asks again, as sudo's tty
tickets do), and it is good only while the ledger still holds the vouching key in force
for that member (a reset, lockout or deactivation ends it at once).

Holding the file is holding the session key until its vouched end, and no longer: the
recorder refuses an act it signs after then, and ``verify`` holds one damage (kind
"expired key"), judged by the ledger's order as well as by the act's own time, as it
does a session key whose member's key was revoked. Before session 15 the file held the
member's own key (red team, session 14: whoever read it held that key until the Director
reset it). The file's expiry is not taken on its word either: one further ahead than the
site's unlock time from the file's last change (the kernel's ctime) was edited, and the
file is shredded. Every load also shreds this OS user's other unlock files that have
expired or cannot be read, and an unlock made before the member's last passphrase change
is not used (``made``). Several staff sharing one OS account should sign each command
with ``--passphrase-file`` or use the dashboard (docs/IDENTITY.md).
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.acts import Signer, format_time, key_id, parse_time

FORMAT = "custodes-unlock/2"  # /1 held the member's own key: no longer read
DEFAULT_UNLOCK = timedelta(minutes=10)
MAX_UNLOCK = timedelta(hours=8)
SLACK = timedelta(seconds=5)  # between reading the clock and writing the file


def os_user() -> str:
    """The OS account running this process, from the system's user database (not from
    environment variables, which anyone can set)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


@dataclass(frozen=True)
class Unlock:
    signer: Signer
    expires: datetime
    made: datetime  # when the passphrase was typed (a file from before: its last change)


class UnlockStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "sessions"

    @property
    def path(self) -> Path:
        return self.root / f"uid{os.geteuid()}-sid{os.getsid(0)}.unlock"

    def save(self, signer: Signer, expires: datetime, made: datetime) -> None:
        """Keep ``signer``, a session key (``IdentityCommands.open_session``), never the
        member's own key, until ``expires``."""
        if signer.parent is None or signer.expires is None:
            raise ValueError("an unlock file keeps a session key, never a member's own key")
        self.root.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)
        raw = signer.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        body = {
            "format": FORMAT,
            "member": str(signer.member_id),
            "name": signer.name,
            "role": signer.role,
            "key_id": signer.key_id,
            "parent_key_id": signer.parent,
            "session_expires": format_time(signer.expires),
            "os_user": os_user(),
            "expires": expires.isoformat(),
            "made": made.isoformat(),
            "key": base64.b64encode(raw).decode(),
        }
        temp = self.path.with_name(self.path.name + f".{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, json.dumps(body).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def load(self, now: datetime, *, longest: timedelta = MAX_UNLOCK) -> Unlock | None:
        """The unlock of this OS user and session, if there is a valid one.

        ``longest``: the longest unlock this site gives. An expiry further ahead than that
        of both the clock and the file's last change (its ctime, which the kernel sets) is
        not one this command line wrote: an edited file is refused and shredded, not
        honoured."""
        path = self.path
        self._shred_stale(now)
        try:
            info = path.lstat()
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            self.clear()  # not ours, or readable by others: never trust it
            return None
        try:
            body = json.loads(path.read_bytes())
            if body.get("format") != FORMAT:
                raise ValueError("unknown format")
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(body["key"]))
            signer = Signer(
                UUID(body["member"]), body["name"], body["role"], body["key_id"], key,
                parent=str(body["parent_key_id"]), expires=parse_time(body["session_expires"]),
            )  # fmt: skip
            expires = datetime.fromisoformat(body["expires"])
            made = datetime.fromisoformat(body.get("made") or body["expires"])
            if key_id(key.public_key()) != signer.key_id:
                raise ValueError("key mismatch")
        except (OSError, ValueError, KeyError, TypeError):
            self.clear()
            return None
        written = datetime.fromtimestamp(info.st_ctime, UTC)
        if now >= expires or expires - max(now, written) > longest + SLACK:
            self.clear()
            return None
        return Unlock(signer, expires, min(made, written))

    def _shred_stale(self, now: datetime) -> None:
        """Shred this OS user's unlock files of other sessions that have expired or cannot
        be read (by their own word: a live one edited to last longer is refused by its
        own session's ``load``)."""
        for other in self.root.glob(f"uid{os.geteuid()}-sid*.unlock"):
            if other == self.path:
                continue
            try:
                expires = datetime.fromisoformat(json.loads(other.read_bytes())["expires"])
                stale = now >= expires
            except (OSError, ValueError, KeyError, TypeError):
                stale = True
            if stale:
                self.clear(other)

    def clear(self, path: Path | None = None) -> bool:
        """Overwrite and remove the unlock file (this session's, or ``path``); True if
        there was one."""
        path = path or self.path
        try:
            size = path.lstat().st_size
        except FileNotFoundError:
            return False
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
            try:
                os.write(fd, b"\0" * size)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass
        path.unlink(missing_ok=True)
        return True
