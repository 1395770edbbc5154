"""``custodes status`` without loading the ledger: its size and head with the DB-API alone.

Opening the ledger application imports SQLAlchemy's ORM and eventsourcing and builds every
event class, over a second before a command's first line of work (issue 16, speed a
person feels). What ``status`` prints needs none of that: the chain's head and row count
are two queries, and the library's name and time zone are in the site's first event. This
module reads them with ``sqlite3`` or ``psycopg`` directly and checks what opening the
ledger would: the events key belongs to the ledger, and every event of the site decrypts
(AES-256-GCM authenticates it) and decodes, numbered 1, 2, 3, ... with the site's topics.

What it prints of the chain is the head *as stored*: ``status`` does not verify the
chain (``custodes verify`` does, over every entry). It checks only what one row costs
(``head_problem``, well under a millisecond): the head row's own entry hash, its state
digest and its link to the row before it. An edited ``position`` or head hash shows there
as a failed head check (the command then exits 3), not as a longer chain. The stored
Merkle tree's size says how far the last verify, checkpoint or backup got; it is a
stored claim too.

It answers only the ordinary case. For anything else (a database URL it does not handle
in the same way SQLAlchemy would, a missing table, a damaged row, a wrong key) it returns
None and the command opens the ledger as before, which reports the problem in its own
words (exit 1, or exit 3 with where verification finds damage). So a fast answer is never
a different answer.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote
from uuid import UUID

from ledger.chain import DIGEST_SIZE, GENESIS, entry_hash, state_digest
from ledger.datadir import DataDir

# The application's events table: its name "Ledger" lower-cased, then "_events"
# (ledger.store.ChainedFactory). A consortium member's schema comes from the URL's
# search_path, so the name is never qualified here.
EVENTS_TABLE = "ledger_events"
# ledger.site.SITE_ID and the topics of the site's events (tests/unit/test_status_read.py
# keeps both equal to the classes'), without building those classes.
SITE_ID = UUID("3d0b8217-0e47-580b-aa7d-44aa87fc1589")
SITE_INITIALISED = "ledger.site:Site.SiteInitialised"
SITE_TOPICS = frozenset(
    {
        SITE_INITIALISED,
        "ledger.site:Site.PolicyAdopted",
        "ledger.site:Site.SiteSettingsChanged",
        "ledger.site:Site.SecuritySettingsChanged",
        "ledger.site:Site.WitnessPolicySet",
        "ledger.site:Site.ClockCorrected",
    }
)
# stored in clear, not encrypted (ledger.mapper, ledger.staff.CLEAR_TOPICS)
SITE_CLEAR_TOPICS = frozenset({"ledger.site:Site.ClockCorrected"})
HEAD_SQL = (
    f"SELECT position, entry_hash FROM {EVENTS_TABLE} "
    "WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
)
COUNT_SQL = f"SELECT count(*) FROM {EVENTS_TABLE}"
# The head row's chain fields (originator id as 16 bytes), and its predecessor's hash.
HEAD_ROW_SQL = (
    "SELECT id, {oid}, originator_version, topic, state_digest, prev_hash, act, state "
    f"FROM {EVENTS_TABLE} WHERE position = {{p}}"
)
PREV_SQL = f"SELECT entry_hash FROM {EVENTS_TABLE} WHERE position = {{p}}"
TREE_SQL = f"SELECT size FROM {EVENTS_TABLE}_tree WHERE id = 1"
# What status says of the chain it prints (docs/RELIABILITY.md, "What status shows").
NOT_VERIFIED = (
    "chain length and head are as stored, not verified (status checks only the head "
    "row's own hash and link); custodes verify checks every entry"
)
SITE_SQL = (
    f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
    "WHERE originator_id = {p} ORDER BY originator_version"
)

# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url), so a URL is split here
# exactly as the ledger's engine splits it.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A database URL as SQLAlchemy's ``make_url`` splits it."""

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: tuple[tuple[str, str], ...]

    def redacted(self) -> str:
        """The URL as ``ledger.store.redact_url`` shows it (``URL.render_as_string``
        with the password hidden)."""
        s = self.drivername + "://"
        if self.username is not None:
            s += quote(self.username, safe=" +")
            if self.password is not None:
                s += ":***"
            s += "@"
        if self.host is not None:
            s += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            s += f":{self.port}"
        if self.database is not None:
            s += "/" + self.database
        if self.query:
            # sorted by key, a repeated key's values in their order (a stable sort)
            ordered = sorted(self.query, key=lambda kv: kv[0])
            s += "?" + "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in ordered)
        return s


def parse_url(url: str) -> DatabaseUrl | None:
    """``url`` split as SQLAlchemy splits it, or None where it would refuse it."""
    m = _URL.match(url)
    if m is None:
        return None
    parts = m.groupdict()
    port: int | None = None
    if parts["port"] is not None:
        if not parts["port"].isdigit():  # SQLAlchemy refuses it (or reads "" as no port)
            return None
        port = int(parts["port"])
    query = tuple(parse_qsl(parts["query"])) if parts["query"] is not None else ()
    return DatabaseUrl(
        drivername=parts["name"],
        username=unquote(parts["username"]) if parts["username"] is not None else None,
        password=unquote(parts["password"]) if parts["password"] is not None else None,
        host=parts["ipv4host"] or parts["ipv6host"],
        port=port,
        database=parts["database"],
        query=query,
    )


def quick_status(datadir: DataDir) -> dict[str, Any] | None:
    """What ``custodes status`` prints, read with the DB-API alone; None when this cannot
    answer exactly as opening the ledger would (the caller then opens it)."""
    try:
        url = datadir.database_url
        key = base64.b64decode(datadir.events_key().encode())
        parsed = parse_url(url)
        if parsed is None:
            return None
        conn = connect_plain(parsed)
        if conn is None:
            return None
    except Exception:
        return None
    try:
        found = _read(conn, postgres=parsed.drivername != "sqlite", key=key)
    except Exception:
        return None
    finally:
        conn.close()
    if found is None:
        return None
    position, head, count, library, timezone, head_check, tree_size = found
    return {
        "data_dir": str(datadir.path),
        "database_url": parsed.redacted(),
        "database_schema": datadir.database_schema or "",
        "library": library,
        "timezone": timezone,
        "events": count,
        "chain_length": position,
        "chain_head": head.hex(),
        "head_check": head_check,
        "verified_tree_size": tree_size,
        "chain_note": NOT_VERIFIED,
        "events_key_fingerprint": datadir.events_key_fingerprint(),
    }


def head_problem(
    position: int, head: bytes, row: tuple[Any, ...] | None, prev: bytes | None
) -> str:
    """What is wrong with the head row on its own ("" if nothing): ``row`` is its
    (id, originator id bytes, version, topic, state digest, prev hash, act, state; a
    state of None is not checked), ``prev`` the entry hash of the row at
    ``position - 1`` (None: no such row)."""
    if position == 0:
        return ""
    if row is None:
        return f"no row at position {position}"
    nid, oid, version, topic, digest, prev_hash, act, state = row
    try:
        oid, digest, prev_hash = bytes(oid), bytes(digest), bytes(prev_hash)
        mine = entry_hash(position, prev_hash, nid, oid, version, topic, digest,
                          None if act is None else bytes(act))  # fmt: skip
    except Exception:  # noqa: BLE001 - a value of the wrong type or size: an edit
        return f"the head row (position {position}) holds a value of the wrong type"
    if mine != head:
        return f"the head row's entry hash does not match its fields (position {position})"
    if state is not None and state_digest(bytes(state)) != digest:
        return f"the head row's state does not match its digest (position {position})"
    expected = GENESIS if position == 1 else prev
    if expected is None:
        return f"no entry at position {position - 1}, before the head (position {position})"
    if bytes(expected) != prev_hash:
        return f"the head row (position {position}) does not link to the entry before it"
    return ""


def head_check_text(problem: str) -> str:
    return "FAILED: " + problem if problem else "ok (the head row's own hash and link)"


def connect_plain(url: DatabaseUrl, *, any_thread: bool = False) -> Any:
    """A DB-API connection made as the ledger's engine makes it, for the URLs whose
    translation is plain: SQLite's pysqlite with at most ``timeout`` (in autocommit
    mode: a transaction is begun explicitly), PostgreSQL's psycopg (3) with one host.
    None for any other. ``any_thread``: a SQLite connection usable from other threads
    than its creator's (its user serialises them)."""
    query = dict(url.query)
    if len(query) != len(url.query):
        return None  # a repeated key: SQLAlchemy passes a list
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        path = url.database
        if url.username is not None or url.password is not None or url.host or url.port:
            return None
        if not path or path == ":memory:" or set(query) - {"timeout"}:
            return None
        import sqlite3

        timeout = float(query.get("timeout", 5.0))
        # mode=rw: an existing database only; the ledger would create a missing one.
        return sqlite3.connect(
            f"file:{quote(path)}?mode=rw",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=not any_thread,
        )
    if url.drivername == "postgresql+psycopg":
        if {"host", "port"} & set(query):
            return None  # SQLAlchemy's multi-host form
        import psycopg

        args: dict[str, Any] = {
            k: v
            for k, v in (
                ("user", url.username),
                ("password", url.password),
                ("host", url.host),
                ("port", url.port),
                ("dbname", url.database),
            )
            if v  # as SQLAlchemy's URL.translate_connect_args: no empty values
        }
        args.update(query)  # as SQLAlchemy passes them: libpq parameters (options=...)
        return psycopg.connect(**args)
    return None


def _read(
    conn: Any, *, postgres: bool, key: bytes
) -> tuple[int, bytes, int, str, str, str, int | None] | None:
    """(chain length, head hash, rows, library, time zone, head check, stored tree size)
    in one read-only snapshot."""
    p = "%s" if postgres else "?"
    cur = conn.cursor()
    if postgres:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:
        cur.execute("BEGIN")
    try:
        cur.execute(HEAD_SQL)
        head = cur.fetchone()
        cur.execute(COUNT_SQL)
        count = cur.fetchone()[0]
        cur.execute(
            SITE_SQL.format(p="%s" if postgres else "?"),
            (SITE_ID if postgres else SITE_ID.bytes,),
        )
        site_rows = cur.fetchall()
        row = prev = None
        if head is not None and type(head[0]) is int:
            oid = "uuid_send(originator_id)" if postgres else "originator_id"
            cur.execute(HEAD_ROW_SQL.format(oid=oid, p=p), (head[0],))
            found = cur.fetchone()
            # a NULL state is checked as empty (it then fails its digest)
            row = None if found is None else (*found[:7], found[7] or b"")
            cur.execute(PREV_SQL.format(p=p), (head[0] - 1,))
            found = cur.fetchone()
            prev = None if found is None else found[0]
        try:
            cur.execute(TREE_SQL)
            tree = cur.fetchone()
        except Exception:  # noqa: BLE001 - no tree table yet (never verified): last query
            tree = None
    finally:
        conn.rollback()
    if head is None:
        position, head_hash = 0, GENESIS
    else:
        position, raw = head
        if type(position) is not int or not isinstance(raw, bytes | memoryview):
            return None
        head_hash = bytes(raw)
        if len(head_hash) != DIGEST_SIZE:
            return None
    if type(count) is not int:
        return None
    site = _site(site_rows, key)
    if site is None:
        return None
    check = head_check_text(head_problem(position, head_hash, row, prev))
    tree_size = tree[0] if tree is not None and type(tree[0]) is int else None
    return position, head_hash, count, *site, check, tree_size


def _site(rows: list[tuple[Any, ...]], key: bytes) -> tuple[str, str] | None:
    """(library, time zone) from the site's events, each decrypted and decoded as the
    ledger's mapper would (AES-GCM, eventsourcing's nonce + tag + ciphertext layout, then
    JSON); None if there is no site or any of its events would not load."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not rows:
        return None
    cipher = AESGCM(key)
    first: dict[str, Any] | None = None
    for expected, (version, topic, state) in enumerate(rows, start=1):
        if version != expected or topic not in SITE_TOPICS:
            return None
        if (version == 1) != (topic == SITE_INITIALISED):
            return None
        blob = bytes(state)
        try:
            if topic in SITE_CLEAR_TOPICS:
                decoded = json.loads(blob)
            else:
                if len(blob) < 28:
                    return None
                nonce, tag, sealed = blob[:12], blob[12:28], blob[28:]
                decoded = json.loads(cipher.decrypt(nonce, sealed + tag, None))
        except (InvalidTag, ValueError):
            return None
        if not isinstance(decoded, dict):
            return None
        if version == 1:
            first = decoded
    assert first is not None
    library, timezone = first.get("library"), first.get("timezone")
    if not isinstance(library, str) or not isinstance(timezone, str):
        return None
    return library, timezone
