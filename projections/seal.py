"""Sealed read models (R29): a report never trusts a ``proj_*`` row that nothing checked.

Every read-model table carries a *seal*: the number of its rows and a keyed multiset
digest of them, ``sum(MAC_k(row)) mod 2**256`` over every row (MSet-Add-Hash; Clarke et
al. 2003; the MAC is keyed BLAKE2b), in ``proj_seals``, one row per projection, together
with the log position the projection has reached and an HMAC-SHA256 over the whole (``k``
is derived by HKDF from ``keys/events.key``, which never enters the database). The seal
is kept *incrementally* by the catch-up that writes the rows, in the same transaction
(``projections.base``): an inserted row adds its MAC, an updated row swaps its old MAC
for its new one, a deleted row subtracts it. Nothing else in the data can produce a valid seal: a row
deleted, edited or inserted with plain SQL leaves the table's digest different from its
seal, and a seal edited, moved or copied from another position fails its HMAC or its
position check.

A check (``check_projections``) reads every row of the tables a command read, recomputes the
digest and compares: linear in the tables' size, with no replay. Only when a table does
not match is the projection rebuilt from the events into a scratch in-memory store
(``Views(scratch=True)``) up to the same position and compared row by row, to name each
row that is missing, edited or extra (``diagnose``). A mismatch raises
``ReadModelTampered``: the command exits 3 and writes, signs and records nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.types import NullType

from ledger.chunks import chunks
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.app import Ledger
    from projections.base import Projection, Views

MODULUS = 1 << 256
SEAL_INFO = b"custodes read-model seal v1"

SEALS_METADATA = MetaData()
seals = Table(
    "proj_seals",
    SEALS_METADATA,
    Column("projection", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    # {"table": [rows, digest hex], ...}, canonical JSON
    Column("tables", Text, nullable=False),
    Column("mac", String(64), nullable=False),
)


class ReadModelTampered(LedgerError):
    """A read model does not match the chain (exit 3): names each table and row."""

    def __init__(self, findings: Sequence[Finding], *, repair: str = "") -> None:
        self.findings = tuple(findings)
        shown = "; ".join(f.describe() for f in self.findings[:10])
        more = len(self.findings) - 10
        super().__init__(
            "read models do not match the ledger (R29): "
            + shown
            + (f"; and {more} more" if more > 0 else "")
            + ". Nothing was written or signed. Run `custodes verify` to see the whole "
            "damage, and "
            + (repair or "`custodes projections rebuild`")
            + " to rebuild the read models from the ledger."
        )


@dataclass(frozen=True)
class Finding:
    """One damaged read-model row (``kind`` missing, edited or extra) or seal."""

    table: str
    kind: str
    row: str
    detail: str = ""

    def describe(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.table}: {self.kind} row {self.row}{extra}"


# ---- the key and a row's HMAC -----------------------------------------------------------


def seal_key(ledger: Ledger) -> bytes:
    """The seal key: HKDF-SHA256 of the events key (kept in keys/, never in the DB)."""
    if ledger.datadir is not None:
        source = ledger.datadir.events_key()
    else:
        source = ledger.env.get("CIPHER_KEY") or ""
    if not source:
        raise LedgerError("read models cannot be sealed: no events key")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(
        source.encode()
    )


def _instant(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    return v


def _scalar(pt: type) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        return v if v is None or type(v) is pt else pt(v)

    return convert


_STR, _INT = _scalar(str), _scalar(int)


def _same(v: Any) -> Any:
    return v


def _normalizer(column: Column[Any]) -> Callable[[Any], Any]:
    """A value given to an insert or update, as the same column reads it back (an aware
    UTC datetime, a float, an int, a bool, a str), so both hash alike."""
    if isinstance(column.type, DateTime) or isinstance(
        getattr(column.type, "impl_instance", None), DateTime
    ):
        return _instant
    try:
        pt: Any = column.type.python_type
    except NotImplementedError:
        return _same
    if pt is str:
        return _STR
    if pt is int:
        return _INT
    if pt in (float, bool):
        return _scalar(pt)
    return _same


class RowHasher:
    """Keyed hashes (BLAKE2b keyed with the seal key: a MAC) of one table's rows: of the
    ``repr`` of the row's values as the database driver returns them, in the table's
    column order (``raw_select``: no type processing, so every column is covered, new
    ones included, without code here, and a scan is cheap). The write path reads the
    rows it wrote back the same way, so both sides hash the same bytes."""

    def __init__(self, key: bytes, table: Table) -> None:
        self.table = table
        self.names = [c.name for c in table.columns]
        self.normalizers = [_normalizer(c) for c in table.columns]
        self.key = hashlib.blake2b(table.name.encode(), key=key, digest_size=32).digest()
        self.pk = [c.name for c in table.primary_key.columns]
        self.pk_index = [self.names.index(c) for c in self.pk]
        if not self.pk or any(
            _normalizer(c) not in (_STR, _INT) for c in table.primary_key.columns
        ):
            raise ValueError(
                f"read model {table.name}: a sealed table needs a primary key of strings "
                "and integers (the same value as written and as read back)"
            )

    def normalized(self, row: Mapping[Any, Any]) -> tuple[Any, ...]:
        """A typed row (SQLAlchemy's values) in one form, for comparing rows across
        databases (``diagnose``)."""
        return tuple(n(row.get(name)) for n, name in zip(self.normalizers, self.names, strict=True))

    def digest_raw(self, raw: Sequence[Any]) -> int:
        """A row as ``raw_select`` returns it."""
        data = repr(tuple(raw)).encode()
        return int.from_bytes(hashlib.blake2b(data, key=self.key, digest_size=32).digest(), "big")

    def raw_key(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(raw[i] for i in self.pk_index)

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in self.pk)

    def show_key(self, key: tuple[Any, ...]) -> str:
        return ", ".join(f"{c}={_show(v)}" for c, v in zip(self.pk, key, strict=True))


def raw_select(table: Table) -> Any:
    """``SELECT`` every column of ``table`` in its order, values as the driver gives them."""
    return select(*(type_coerce(c, NullType()).label(c.name) for c in table.columns))


def _show(v: Any) -> str:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    return str(v)


# ---- a page's changes -------------------------------------------------------------------


@dataclass
class TableDelta:
    rows: int = 0
    digest: int = 0


@dataclass
class Sealer:
    """What one page changes in the sealed tables. ``PageWriter`` reports each row
    before it first changes it (``touch``: its stored form then, or None for a new
    row); ``finish`` reads the touched rows back as they are now. The seal moves by the
    difference, so it follows exactly what the page wrote (and keeps any difference
    someone else made before: a tampered row stays a mismatch)."""

    key: bytes
    hashers: dict[str, RowHasher] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    # per table: primary key -> raw row before the page touched it (None: not there)
    before: dict[str, dict[tuple[Any, ...], Sequence[Any] | None]] = field(default_factory=dict)
    deltas: dict[str, TableDelta] = field(default_factory=dict)

    def hasher(self, table: Table) -> RowHasher:
        h = self.hashers.get(table.name)
        if h is None:
            h = self.hashers[table.name] = RowHasher(self.key, table)
            self.tables[table.name] = table
        return h

    def touch_new(self, table: Table, key: tuple[Any, ...]) -> None:
        """A row about to be inserted under this primary key (not there before)."""
        self.hasher(table)
        self.before.setdefault(table.name, {}).setdefault(key, None)

    def touch_where(self, conn: Connection, table: Table, where: Any) -> None:
        """The rows ``where`` selects, about to be updated or deleted: read them first."""
        h = self.hasher(table)
        seen = self.before.setdefault(table.name, {})
        for raw in conn.execute(raw_select(table).where(where)):
            seen.setdefault(h.raw_key(raw), tuple(raw))

    def finish(self, conn: Connection) -> None:
        """Read every touched row back and turn before/after into each table's delta."""
        for name, seen in self.before.items():
            table, h = self.tables[name], self.hashers[name]
            d = self.deltas.setdefault(name, TableDelta())
            for raw in seen.values():
                if raw is not None:
                    d.rows -= 1
                    d.digest -= h.digest_raw(raw)
            cols = [table.c[c] for c in h.pk]
            keys = list(seen)
            for chunk in chunks(keys):
                cond = (
                    cols[0].in_([k[0] for k in chunk])
                    if len(cols) == 1
                    else tuple_(*cols).in_(chunk)
                )
                for raw in conn.execute(raw_select(table).where(cond)):
                    d.rows += 1
                    d.digest += h.digest_raw(raw)
            d.digest %= MODULUS
        self.before = {}


def select_rows(conn: Connection, table: Table, where: Any) -> list[dict[str, Any]]:
    q = select(table) if where is None else select(table).where(where)
    return [dict(r._mapping) for r in conn.execute(q)]


# ---- the seal row -----------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    projection: str
    position: int
    tables: dict[str, tuple[int, int]]  # table -> (rows, digest)


def _tables_json(tables: Mapping[str, tuple[int, int]]) -> str:
    return json.dumps(
        {t: [n, f"{d:064x}"] for t, (n, d) in tables.items()},
        sort_keys=True,
        separators=(",", ":"),
    )


def _payload(seal: Seal) -> bytes:
    return json.dumps(
        [seal.projection, seal.position, _tables_json(seal.tables)], separators=(",", ":")
    ).encode()


def seal_mac(key: bytes, seal: Seal) -> str:
    return hmac.new(key, b"seal\x00" + _payload(seal), hashlib.sha256).hexdigest()


def empty_seal(p: Projection) -> Seal:
    return Seal(p.name, 0, {t.name: (0, 0) for t in p.metadata.sorted_tables})


class SealInvalid(Exception):
    """The stored seal itself fails (its HMAC, or it is missing where it must be)."""


def read_seal(conn: Connection, key: bytes, p: Projection, position: int) -> Seal:
    """The projection's seal, checked (HMAC, position). A projection that has never
    caught up (position 0, no seal) has the empty seal."""
    row = conn.execute(select(seals).where(seals.c.projection == p.name)).first()
    if row is None:
        if position == 0:
            return empty_seal(p)
        raise SealInvalid(f"no seal for read model {p.name!r} at position {position}")
    tables = {t: (int(n), int(d, 16)) for t, (n, d) in json.loads(row.tables).items()}
    seal = Seal(p.name, int(row.position), tables)
    if not hmac.compare_digest(seal_mac(key, seal), row.mac):
        raise SealInvalid(f"the seal of read model {p.name!r} fails its HMAC")
    if seal.position != position:
        raise SealInvalid(
            f"the seal of read model {p.name!r} is for position {seal.position}, "
            f"its rows are tracked at {position}"
        )
    for t in p.metadata.sorted_tables:
        seal.tables.setdefault(t.name, (0, 0))
    return seal


def write_seal(
    conn: Connection, key: bytes, p: Projection, old: Seal, position: int, deltas: Sealer
) -> None:
    tables = dict(old.tables)
    for name, d in deltas.deltas.items():
        rows, digest = tables.get(name, (0, 0))
        tables[name] = (rows + d.rows, (digest + d.digest) % MODULUS)
    new = Seal(p.name, position, tables)
    values = {"position": position, "tables": _tables_json(tables), "mac": seal_mac(key, new)}
    if conn.execute(seals.update().where(seals.c.projection == p.name).values(**values)).rowcount:
        return
    conn.execute(seals.insert().values(projection=p.name, **values))


# ---- sealed marks -----------------------------------------------------------------------
# A *mark* is a tracking row that is not a projection's position: ``(rebuilding)`` (a
# rebuild begun and not finished) and ``(no versions) NAME`` (a projection whose row
# versions do not cover the whole log). The app role may INSERT and UPDATE the tracking
# table, so a mark is believed only with its seal: a row of ``proj_seals`` under the
# mark's own name, with its position and an HMAC over both (``tables`` is ``{}``). A mark
# without a valid seal (forged), a seal without its mark (a mark hidden by renaming or
# zeroing it) and a seal that fails its HMAC are damage, reported like a tampered row.

MARK_PREFIX = "("


def mark_mac(key: bytes, name: str, position: int) -> str:
    payload = json.dumps([name, position], separators=(",", ":")).encode()
    return hmac.new(key, b"mark\x00" + payload, hashlib.sha256).hexdigest()


def _upsert(conn: Connection, table: Table, name: str, **values: Any) -> None:
    # UPDATE, then INSERT: the app role may not DELETE (README, grants.sql).
    if conn.execute(table.update().where(table.c.projection == name).values(**values)).rowcount:
        return
    conn.execute(table.insert().values(projection=name, **values))


def set_mark(conn: Connection, key: bytes, name: str, position: int) -> None:
    """Set the mark ``name`` at ``position``, sealed, in the caller's transaction."""
    from projections.base import tracking

    _upsert(conn, tracking, name, position=position)
    _upsert(conn, seals, name, position=position, tables="{}", mac=mark_mac(key, name, position))


def clear_mark(conn: Connection, name: str) -> None:
    """Remove the mark and its seal (the owner's rebuild: DELETE)."""
    from projections.base import tracking

    conn.execute(tracking.delete().where(tracking.c.projection == name))
    conn.execute(seals.delete().where(seals.c.projection == name))


def read_mark(conn: Connection, key: bytes, name: str) -> tuple[int | None, Finding | None]:
    """The mark's position if it is set and sealed (None: not set), or what is wrong."""
    from projections.base import tracking

    t = conn.execute(select(tracking.c.position).where(tracking.c.projection == name)).first()
    s = conn.execute(select(seals).where(seals.c.projection == name)).first()
    tracked = None if t is None else int(t.position)
    row = f"projection={name}"
    if s is None:
        if tracked is None:
            return None, None
        return None, Finding(
            tracking.name, "extra", row, f"position {tracked}: a mark with no seal (forged)"
        )
    sealed = int(s.position)
    if s.tables != "{}" or not hmac.compare_digest(mark_mac(key, name, sealed), s.mac):
        return None, Finding(
            seals.name, "edited", row, f"position {sealed}: the mark's seal fails its HMAC"
        )
    if tracked is None:
        return None, Finding(
            tracking.name, "missing", row, f"position {sealed}: sealed, but no tracking row"
        )
    if tracked != sealed:
        return None, Finding(
            tracking.name, "edited", row, f"position {tracked}, sealed at position {sealed}"
        )
    return tracked, None


def checked_mark(conn: Connection, key: bytes, name: str) -> int | None:
    """``read_mark``, raising ``ReadModelTampered`` (exit 3) on damage. A rebuild that
    cannot trust its own mark starts over only when told to (``--restart``)."""
    position, finding = read_mark(conn, key, name)
    if finding is not None:
        raise ReadModelTampered(
            [finding], repair="`custodes projections rebuild --restart` (as the owner)"
        )
    return position


def check_marks(conn: Connection, key: bytes, checked: Iterable[str] = ()) -> list[Finding]:
    """Every mark and every mark's seal in the database (a handful of rows), plus any
    seal row that is neither a valid mark seal nor a valid projection seal (a mark's
    seal renamed to hide it). The seals of the projections ``checked`` are left to
    ``read_seal`` (one finding each, not two)."""
    skip = set(checked)
    from projections.base import tracking

    names = {
        str(n)
        for n in conn.execute(select(tracking.c.projection)).scalars()
        if str(n).startswith(MARK_PREFIX)
    }
    findings: list[Finding] = []
    for row in conn.execute(select(seals)):
        name = str(row.projection)
        if name.startswith(MARK_PREFIX):
            names.add(name)
        elif name not in skip and not _valid_projection_seal(key, row):
            findings.append(
                Finding(
                    seals.name,
                    "extra",
                    f"projection={name}",
                    f"position {row.position}: fails its HMAC",
                )
            )
    for name in sorted(names):
        _position, finding = read_mark(conn, key, name)
        if finding is not None:
            findings.append(finding)
    return findings


def _valid_projection_seal(key: bytes, row: Any) -> bool:
    try:
        tables = {t: (int(n), int(d, 16)) for t, (n, d) in json.loads(row.tables).items()}
        seal = Seal(str(row.projection), int(row.position), tables)
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(seal_mac(key, seal), str(row.mac))


# ---- the check --------------------------------------------------------------------------


def table_digest(conn: Connection, hasher: RowHasher) -> tuple[int, int]:
    rows = digest = 0
    h = hasher.digest_raw
    for raw in conn.execution_options(yield_per=5000).execute(raw_select(hasher.table)):
        rows += 1
        digest += h(raw)
    return rows, digest % MODULUS


def check_projections(
    views: Views, projections: Sequence[Projection], only: Iterable[str] | None = None
) -> list[Finding]:
    """Every table of these projections (or only those named) against its seal; a
    projection with a table that differs is diagnosed row by row against a scratch
    rebuild. Returns the findings (empty: all match)."""
    wanted = None if only is None else set(only)
    from projections.base import tracked_position

    key = views.seal_key()
    findings: list[Finding] = []
    if wanted is None:
        with views.engine.connect() as conn:
            findings.extend(check_marks(conn, key, (p.name for p in projections)))
    for p in projections:
        # The stored tables themselves (not views as of a position, ``Views.at``).
        with views.engine.connect() as conn:
            position = tracked_position(conn, p.name)
            try:
                seal = read_seal(conn, key, p, position)
            except SealInvalid as e:
                findings.extend(
                    _diagnose_or(views, p, position, Finding(seals.name, "edited", p.name, str(e)))
                )
                continue
            bad = []
            for table in p.metadata.sorted_tables:
                if wanted is not None and table.name not in wanted:
                    continue
                if table_digest(conn, RowHasher(key, table)) != seal.tables[table.name]:
                    bad.append(table.name)
        if bad:
            findings.extend(
                _diagnose_or(
                    views,
                    p,
                    position,
                    *(Finding(t, "edited", "(unknown)", "rows do not match the seal") for t in bad),
                )
            )
    return findings


def _diagnose_or(views: Views, p: Projection, position: int, *fallback: Finding) -> list[Finding]:
    found = diagnose(views, p, position)
    return found or list(fallback)


def diagnose(views: Views, p: Projection, position: int) -> list[Finding]:
    """Rebuild ``p`` from the events up to ``position`` in a scratch store and compare
    every table row by row with the stored one: missing, edited and extra rows."""
    from projections.base import Views as ViewsClass

    scratch = ViewsClass(views.ledger, [p], scratch=True)
    try:
        scratch.catch_up(stop=position)
        findings: list[Finding] = []
        key = b"diagnose"
        with views.engine.connect() as stored, scratch.connect() as fresh:
            for table in p.metadata.sorted_tables:
                h = RowHasher(key, table)
                want = {h.key_of(r): r for r in select_rows(fresh, table, None)}
                have = {h.key_of(r): r for r in select_rows(stored, table, None)}
                for k in sorted(want.keys() - have.keys(), key=repr):
                    findings.append(Finding(table.name, "missing", h.show_key(k)))
                for k in sorted(want.keys() & have.keys(), key=repr):
                    a, b = h.normalized(want[k]), h.normalized(have[k])
                    if a != b:
                        cols = [
                            f"{n}: {_show(want[k][n])!r} -> {_show(have[k][n])!r}"
                            for n, x, y in zip(h.names, a, b, strict=True)
                            if x != y
                        ]
                        findings.append(
                            Finding(table.name, "edited", h.show_key(k), "; ".join(cols))
                        )
                for k in sorted(have.keys() - want.keys(), key=repr):
                    findings.append(Finding(table.name, "extra", h.show_key(k)))
        return findings
    finally:
        scratch.close()
