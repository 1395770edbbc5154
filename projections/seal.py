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
digest and compares: linear in the tables' size, with no replay.

**Buckets.** A big table's seal is also split into *buckets* (``Bucketing``, declared in the
table's ``info["seal_buckets"]``): the same count and digest per UTC day of one datetime
column (``NULL`` in a bucket of its own), or, with ``kept_by``, per day of that column for
rows whose ``kept_by`` column is NULL and per day of ``kept_by`` (``+`` before the day) for
the others: e.g. unpurged segments by the day of their deadline, purged ones by the day of
their purge; with ``group``, the rows keyed by day (not those kept by ``kept_by``) per
value of that column too (``VALUE|DAY``: one camera's footage by day of recording). The
buckets are kept by the same deltas (a row that changes bucket leaves its
old bucket's sum and enters the new one's), live in the same seal row under the same HMAC
and position, and sum to the table's total. A page that reads a table only through a
range of buckets (``read_range``: the query is restricted, in SQL, by the range's own
predicate ``DayRange.where``) has only those rows checked (``check_range``): the rows the
predicate selects now, hashed, against the sum of the sealed buckets it covers.

Why that is sound: the page's answer is a function of the multiset ``M`` of rows the
predicate ``P`` selects (the query is ``Q AND P``: a row outside ``P`` cannot be in it or
change it), and the check computes the digest of exactly that multiset, as the database
evaluates ``P`` on the rows as they are. The seal holds the digest of the rows the
projection wrote that satisfy ``P`` (for every row the projection writes, its bucket key,
computed in Python from the stored value, lies in the range exactly when the database's
comparison selects it: the same ISO day, ``UtcDateTime``'s storage format). So a row
deleted, edited or inserted with SQL changes the answer only by changing ``M``: a row
deleted or edited *out of* the range was in ``M`` (its old value satisfied ``P``) and is no
longer there as it was; a row inserted or edited *into* the range is in ``M`` and in no
sealed bucket the range covers; an edit inside the range replaces one row of ``M`` by
another. Each changes the digest of ``M`` (a forged sum needs the key). A grouped range's
predicate compares the group column with its value exactly (``=``), which is what the
key holds: the same string as stored. The bucket sums
themselves are under the seal's HMAC and position (a bucket edited, moved or replayed from
an earlier seal fails like the seal). A query that shows the first ``n`` rows in the order
of the bucketing's column (``first_rows``) is checked on the prefix of days up to the
``n``-th row's day (of whole hours up to its hour, for an ``hourly`` bucketing, whose
keys are UTC hours: a day's bounds sort around its hours' keys, so a range of days covers
the same buckets either way): every row that could precede it lies in the prefix, so the checked
prefix determines the first ``n`` (fewer than ``n`` rows: the whole table is checked).
The late purges' buckets are per UTC hour (``hour_key``): a count of them over whole hours is
the sum of the sealed counts (``sealed_late_count``), read from the seal under its HMAC
and position, no row read at all (so none can change it).
A ``late`` range (the purges done late, ``Bucketing.late``) has no exact SQL predicate: its
``where`` is a superset (the purges of those days the database's date arithmetic finds
late, with a minute's margin), and both the page and the check keep only the rows that
``Bucketing.is_late`` judges late on the values as a query reads them (the check converts
the raw values with the column types' own result processing), the judgement that chose
their bucket. So the page's answer is a function of that filtered multiset, which is what
the check hashes; a row edited out of the superset or out of lateness leaves its sealed
bucket short, one edited into both is extra.
A seal written before buckets existed, or before one of its table's bucketings was
declared, gains them (``add_buckets``) from a scan whose total equals the sealed total,
i.e. only when the rows are exactly the sealed ones; until then a range read is checked
whole, and the catch-up's deltas leave a missing bucketing missing (``write_seal``). Only when a table does
not match is the projection rebuilt from the events into a scratch in-memory store
(``Views(scratch=True)``) up to the same position and compared row by row, to name each
row that is missing, edited or extra (``diagnose``). A mismatch raises
``ReadModelTampered``: the command exits 3 and writes, signs and records nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    cast,
    func,
    literal,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.types import NullType

from ledger.chunks import chunks
from ledger.errors import LedgerError
from projections import versions as ver

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
        # The MAC's state after its key block, copied per row (cheaper than keying anew).
        self._keyed = hashlib.blake2b(key=self.key, digest_size=32)
        self.pk = [c.name for c in table.primary_key.columns]
        self.pk_index = [self.names.index(c) for c in self.pk]
        self.bucketings = bucketings(table)
        self.bucket_at = [
            (
                b,
                self.names.index(b.column),
                self.names.index(b.kept_by) if b.kept_by else None,
                self.names.index(b.group) if b.group else None,
            )
            for b in self.bucketings
        ]
        # (bucketing, [kept_by, due, fallback] column indexes) of the late-splitting ones,
        # and per column the database's own conversion of a raw value (``use_dialect``)
        self.late_at = [
            (b, [self.names.index(c) for c in (b.kept_by or "", *b.late)])
            for b in self.bucketings
            if b.late is not None
        ]
        self.typed: dict[int, Callable[[Any], Any]] = {}
        self.dialect: Any = None
        if not self.pk or any(
            _normalizer(c) not in (_STR, _INT) for c in table.primary_key.columns
        ):
            raise ValueError(
                f"read model {table.name}: a sealed table needs a primary key of strings "
                "and integers (the same value as written and as read back)"
            )

    def use_dialect(self, dialect: Any) -> RowHasher:
        """Convert raw values as ``dialect`` does for a query (a late purge is judged on
        the values a page reads)."""
        if dialect is not self.dialect:
            columns = list(self.table.columns)
            for _b, at in self.late_at:
                for i in at:
                    proc = columns[i].type.dialect_impl(dialect).result_processor(dialect, None)
                    self.typed[i] = proc if proc is not None else _same
            self.dialect = dialect
        return self

    def _late(self, raw: Sequence[Any], b: Bucketing) -> bool:
        at = next(at for x, at in self.late_at if x is b)
        try:
            kept, due, fallback = (self.typed[i](raw[i]) for i in at)
            return b.is_late(kept, due, fallback)
        except (ValueError, TypeError, AttributeError, KeyError):
            return False  # not a stored time (someone else's row): never late

    def normalized(self, row: Mapping[Any, Any]) -> tuple[Any, ...]:
        """A typed row (SQLAlchemy's values) in one form, for comparing rows across
        databases (``diagnose``)."""
        return tuple(n(row.get(name)) for n, name in zip(self.normalizers, self.names, strict=True))

    def digest_raw(self, raw: Sequence[Any]) -> int:
        """A row as ``raw_select`` returns it."""
        mac = self._keyed.copy()
        mac.update(repr(tuple(raw)).encode())
        return int.from_bytes(mac.digest(), "big")

    def buckets_raw(self, raw: Sequence[Any]) -> list[tuple[str, str]]:
        """A raw row's bucket in each of its table's bucketings: (bucketing, key)."""
        return [
            (
                b.name,
                b.key(
                    raw[i],
                    None if k is None else raw[k],
                    b.late is not None
                    and k is not None
                    and raw[k] is not None
                    and self._late(raw, b),
                    None if g is None else raw[g],
                ),
            )
            for b, i, k, g in self.bucket_at
        ]

    def raw_key(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(raw[i] for i in self.pk_index)

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in self.pk)

    def show_key(self, key: tuple[Any, ...]) -> str:
        return ", ".join(f"{c}={_show(v)}" for c, v in zip(self.pk, key, strict=True))


_RAW_SELECTS: dict[Table, Any] = {}


def raw_select(table: Table) -> Any:
    """``SELECT`` every column of ``table`` in its order, values as the driver gives them
    (made once per table: a page notes rows with it many times)."""
    found = _RAW_SELECTS.get(table)
    if found is None:
        found = _RAW_SELECTS[table] = select(
            *(type_coerce(c, NullType()).label(c.name) for c in table.columns)
        )
    return found


def _show(v: Any) -> str:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    return str(v)


# ---- buckets ----------------------------------------------------------------------------

# The key of a row whose day column is NULL, and of a value that is not a stored UTC time
# (only ever a row written by someone else: it lands in no range a page checks).
NULL_DAY = "-"
ODD_DAY = "?"
KEPT_PREFIX = "+"
LATE_PREFIX = "!"
# Between a group's value and the day in a grouped bucket's key (``Bucketing.group``): the
# last one in the key, as no day key holds it.
GROUP_SEP = "|"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}")


def hour_key(v: Any) -> str:
    """``day_key`` and the UTC hour: ``YYYY-MM-DDTHH`` (a late purge's bucket)."""
    if isinstance(v, datetime):
        v = v.astimezone(UTC) if v.tzinfo is not None else v
        return f"{v.date().isoformat()}T{v.hour:02d}"
    if isinstance(v, str) and _HOUR.fullmatch(v[:13]):
        return f"{v[:10]}T{v[11:13]}"
    return day_key(v)


def day_key(v: Any) -> str:
    """The UTC day of a stored datetime, as ``raw_select`` returns it: the ISO text SQLite
    stores (its first ten characters) or PostgreSQL's naive UTC ``timestamp``."""
    if v is None:
        return NULL_DAY
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo is not None else v).date().isoformat()
    if isinstance(v, str) and _DAY.fullmatch(v[:10]):
        return v[:10]
    return ODD_DAY


@dataclass(frozen=True)
class Bucketing:
    """One split of a table's seal into buckets: by the UTC day of ``column``; with
    ``kept_by``, only the rows whose ``kept_by`` is NULL by ``column``, the others by the
    day of ``kept_by`` itself (key ``+DAY``), or, with ``late`` (a due column and its
    fallback), ``!DAYTHH`` (the UTC hour) for those whose ``kept_by`` is at least ``late_after``
    past their due time (a purge done late). ``narrow(dialect)``: an SQL condition true of every
    such late row (a superset, cheap to scan), or None. ``group``: the rows keyed by the day
    of ``column`` (not those kept by ``kept_by``) are split by that column's value too, key
    ``VALUE|DAY`` (e.g. one camera's unpurged footage by day of recording); a value that is
    not a string (never written by a projection) keys ``?``, in no range. ``hourly``: the
    rows keyed by ``column`` are keyed by its UTC hour (``YYYY-MM-DDTHH``), not its day, so
    a range may end on an hour (``first_rows``' prefix); a range of whole days covers the
    same rows either way (an hour's key sorts inside its day's bounds). ``prefix``: not by
    day at all, but by the text of ``column`` up to its first ``:`` and ``prefix`` characters
    after it (``text_prefix``: ``segment:3f`` for ``segment:3fa0c1d2e4b5``), so that one
    subject's rows lie in one bucket of a few hundred (a ``DayRange`` of one ``prefix``)."""

    name: str
    column: str
    kept_by: str | None = None
    late: tuple[str, str] | None = None
    late_after: timedelta = timedelta(0)
    narrow: Callable[[str], ColumnElement[bool] | None] | None = None
    group: str | None = None
    hourly: bool = False
    prefix: int | None = None

    def __post_init__(self) -> None:
        if self.hourly and (self.kept_by is not None or self.group is not None):
            raise ValueError("hourly buckets: only of a bucketing without kept_by or group")
        if self.prefix is not None and (
            self.prefix < 1 or self.hourly or self.kept_by or self.late or self.group
        ):
            raise ValueError("buckets by a text's prefix: at least one character, nothing else")

    def key(self, value: Any, kept: Any, late: bool = False, group: Any = None) -> str:
        if self.prefix is not None:
            return text_prefix(value, self.prefix)
        if self.kept_by is not None and kept is not None:
            return LATE_PREFIX + hour_key(kept) if late else KEPT_PREFIX + day_key(kept)
        if self.group is None:
            return hour_key(value) if self.hourly else day_key(value)
        return f"{group}{GROUP_SEP}{day_key(value)}" if isinstance(group, str) else ODD_DAY

    def is_late(self, kept: Any, due: Any, fallback: Any) -> bool:
        """``kept`` at least ``late_after`` past ``due`` (or ``fallback`` when it is None):
        typed values, as a query reads them."""
        due = due if due is not None else fallback
        return kept is not None and due is not None and kept >= due + self.late_after


def bucketings(table: Table) -> tuple[Bucketing, ...]:
    return tuple(table.info.get("seal_buckets", ()))


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def day_of(at: datetime) -> date:
    return at.astimezone(UTC).date()


def day_after(at: datetime) -> date:
    """The first UTC midnight at or after ``at``, as a day."""
    d = day_of(at)
    return d if _midnight(d) == at.astimezone(UTC) else d + timedelta(days=1)


def text_prefix(value: Any, n: int) -> str:
    """A ``prefix`` bucketing's key of a stored value: the text up to its first ``:`` and
    ``n`` characters after it (all of it when it has fewer); ``?`` (in no range) for a
    value that is not such a text (never written by a projection)."""
    if not isinstance(value, str) or (colon := value.find(":")) < 0:
        return ODD_DAY
    return value[: colon + 1 + n]


def hour_after(at: datetime) -> datetime:
    """The first whole UTC hour after ``at`` (an hourly range's end holding ``at``)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _bound(b: date) -> datetime:
    """A range's bound as the instant it stands for: a day's UTC midnight, or the whole
    UTC hour itself (a datetime: only in an hourly bucketing's range)."""
    return b.astimezone(UTC) if isinstance(b, datetime) else _midnight(b)


def _bound_key(b: date) -> str:
    """A bound as the bucket keys it is compared with: ``YYYY-MM-DD`` (a day, which sorts
    before every hour of that day) or ``YYYY-MM-DDTHH`` (an hour)."""
    return hour_key(b) if isinstance(b, datetime) else b.isoformat()


@dataclass(frozen=True)
class DayRange:
    """The rows of one bucketing's buckets for the UTC days [first, end) (None: no bound),
    or its NULL bucket (``null``); ``kept``: the buckets of the rows whose ``kept_by`` is
    not NULL (``+DAY``, days of ``kept_by``), not the others'. For an ``hourly``
    bucketing a bound may be a whole UTC hour (an aware ``datetime``) instead of a day."""

    bucketing: Bucketing
    first: date | None = None
    end: date | None = None
    null: bool = False
    kept: bool = False
    # Only the late ones of the kept rows (``Bucketing.late``): ``where`` selects a
    # superset, and the page, like the check, counts only the late rows among them.
    late: bool = False
    # Only the rows (not kept) whose ``bucketing.group`` column is exactly this string
    # (None: every value): a grouped bucketing's buckets of that value.
    group: str | None = None
    # A ``prefix`` bucketing's one bucket of this key (``text_prefix``), and only that:
    # its rows are those whose column's text begins with it (or is it, when the key is
    # shorter than a whole prefix).
    prefix: str | None = None

    def __post_init__(self) -> None:
        n = self.bucketing.prefix
        if (n is not None) != (self.prefix is not None) or (
            self.prefix is not None
            and (
                ":" not in self.prefix
                or text_prefix(self.prefix, n or 0) != self.prefix
                or self.first or self.end or self.null or self.kept or self.late or self.group
            )
        ):  # fmt: skip
            raise ValueError(
                "a range of a prefix bucketing: one bucket's key (text_prefix), and only of one"
            )
        if self.group is not None and (self.bucketing.group is None or self.kept or self.late):
            raise ValueError("a range of one group: only of a grouped bucketing's unkept rows")
        for b in (self.first, self.end):
            # a day bucket holds the whole day: a bound inside it would leave the sealed
            # sum of rows the predicate does not select
            if isinstance(b, datetime) and (
                not self.bucketing.hourly
                or b.tzinfo is None
                or _bound(b) != b.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            ):
                raise ValueError("an hour bound: a whole UTC hour, of an hourly bucketing only")

    def where(self, table: Table, dialect: str | None = None) -> ColumnElement[bool]:
        """The SQL predicate selecting exactly this range's rows (``late``: a superset,
        narrowed by ``Bucketing.narrow`` for ``dialect``)."""
        b = self.bucketing
        if self.prefix is not None and b.prefix is not None:  # (``__post_init__``: both)
            column = table.c[b.column]
            if len(self.prefix) - self.prefix.find(":") - 1 < b.prefix:
                return column == self.prefix  # a text shorter than a whole prefix: itself
            if dialect == "sqlite":
                # Its first bytes, as UTF-8: SQLite's ``substr`` of TEXT stops at a NUL,
                # which a text can hold (red team, session 26), and of a BLOB does not.
                key = self.prefix.encode()
                blob = cast(column, LargeBinary)
                return func.substr(blob, 1, len(key)) == literal(key, LargeBinary)
            # Its first characters, as PostgreSQL counts them in varchar (a text holds no
            # NUL there), whatever the collation.
            return func.substr(column, 1, len(self.prefix)) == self.prefix
        parts: list[ColumnElement[bool]] = []
        if self.late and b.narrow is not None and dialect is not None:
            narrowed = b.narrow(dialect)
            if narrowed is not None:
                parts.append(narrowed)
        if b.kept_by is not None:
            if self.kept or self.late:
                column = table.c[b.kept_by]
            else:
                parts.append(table.c[b.kept_by].is_(None))
                column = table.c[b.column]
        else:
            column = table.c[b.column]
        if self.group is not None and b.group is not None:  # (``__post_init__``: both)
            parts.append(table.c[b.group] == self.group)
        if self.null:
            parts.append(column.is_(None))
        else:
            parts.append(column.is_not(None))
            if self.first is not None:
                parts.append(column >= _bound(self.first))
            if self.end is not None:
                parts.append(column < _bound(self.end))
        return and_(*parts)

    def covers(self, key: str) -> bool:
        """Whether the bucket ``key`` lies in this range (legitimately written rows: exactly
        those ``where`` selects)."""
        if self.prefix is not None:
            return key == self.prefix
        if self.bucketing.group is not None and GROUP_SEP in key:  # a grouped, unkept row's
            group, _sep, key = key.rpartition(GROUP_SEP)
            if self.kept or self.late or self.group not in (None, group):
                return False
        elif self.group is not None:
            return False
        kept = key[:1] in (KEPT_PREFIX, LATE_PREFIX)
        if (self.kept or self.late) != kept or (self.late and key[:1] != LATE_PREFIX):
            return False
        day = key[1:11] if kept else key
        if self.null:
            return day == NULL_DAY
        if day in (NULL_DAY, ODD_DAY):
            return False
        return (self.first is None or day >= _bound_key(self.first)) and (
            self.end is None or day < _bound_key(self.end)
        )


def sealed_late_count(
    seal: Seal, table: Table, bucketing: Bucketing, start: datetime, end: datetime
) -> int | None:
    """The rows of ``bucketing``'s late buckets for the UTC hours in [start, end), from the
    seal itself (None: bounds not on whole hours, or the seal has no buckets for it)."""
    whole = all(t.minute == t.second == t.microsecond == 0 for t in (start, end))
    have = seal.buckets.get(table.name, {}).get(bucketing.name)
    if not whole or have is None:
        return None
    first, last = (t.astimezone(UTC).strftime("%Y-%m-%dT%H") for t in (start, end))
    return sum(
        n
        for k, (n, _d) in have.items()
        if k[:1] == LATE_PREFIX and len(k) == 14 and first <= k[1:] < last
    )


def read_range(conn: Any, query: Any, table: Table, rng: DayRange) -> Any:
    """Run ``query`` restricted to ``rng``'s rows of ``table`` (its one read of that table):
    a checked read (``Views.ranges``) then checks only those buckets of ``table``."""
    statement = query.where(rng.where(table, conn.dialect.name))
    ranged = getattr(conn, "execute_range", None)
    return conn.execute(statement) if ranged is None else ranged(statement, table, rng)


def first_rows(
    conn: Any, query: Any, table: Table, rng: DayRange, order: ColumnElement[Any], n: int
) -> list[Any]:
    """The first ``n`` rows of ``query`` (ordered by ``rng``'s column first, then unique
    columns), restricted to ``rng`` and to the days up to the ``n``-th row's (its hours,
    for an ``hourly`` bucketing): a checked read then checks that prefix only. The
    ``n``-th row's day is looked up
    first, unchecked: it only chooses the prefix, and whatever it says the rows shown
    are the first ``n`` of the checked prefix, which are the first ``n`` of the table when
    the prefix holds ``n`` of them (otherwise the whole range is read)."""
    probe = getattr(conn, "execute_unrecorded", conn.execute)
    nth = probe(
        query.where(rng.where(table, conn.dialect.name))
        .with_only_columns(order)
        .offset(n - 1)
        .limit(1)
    ).first()
    if nth is not None and nth[0] is not None:
        end: date = (
            hour_after(nth[0]) if rng.bucketing.hourly else day_of(nth[0]) + timedelta(days=1)
        )
        end = end if rng.end is None or _bound(end) <= _bound(rng.end) else rng.end
        prefix = DayRange(rng.bucketing, rng.first, end, kept=rng.kept, group=rng.group)
        rows = list(read_range(conn, query.limit(n), table, prefix))
        if len(rows) == n:
            return rows
    return list(read_range(conn, query.limit(n), table, rng))


# ---- a page's changes -------------------------------------------------------------------


# Per bucketing: bucket key -> (rows, digest).
Buckets = dict[str, dict[str, tuple[int, int]]]


def add_to(buckets: Buckets, bucketing: str, key: str, rows: int, digest: int) -> None:
    """Add to one bucket's sums (an emptied bucket is dropped: the seal stays small)."""
    days = buckets.setdefault(bucketing, {})
    n, d = days.get(key, (0, 0))
    n, d = n + rows, (d + digest) % MODULUS
    if n == 0 and d == 0:
        days.pop(key, None)
    else:
        days[key] = (n, d)


@dataclass
class TableDelta:
    rows: int = 0
    digest: int = 0
    buckets: Buckets = field(default_factory=dict)

    def add(
        self,
        h: RowHasher,
        raw: Sequence[Any],
        sign: int,
        known: tuple[int, list[tuple[str, str]]] | None = None,
    ) -> None:
        """Add (``sign`` 1) or take away (-1) one row; ``known``: its digest and buckets,
        computed already (``Sealer.prehash``)."""
        g, buckets = (h.digest_raw(raw), h.buckets_raw(raw)) if known is None else known
        self.rows += sign
        g *= sign
        self.digest += g
        # Summed here, reduced (and emptied buckets dropped) when the seal takes them in
        # (``write_seal``'s ``add_to``).
        mine = self.buckets
        for name, key in buckets:
            days = mine.get(name)
            if days is None:
                days = mine[name] = {}
            n, d = days.get(key, (0, 0))
            days[key] = (n + sign, d + g)


# A touched row whose stored form after the page is not known from the values written
# (a statement the page did not queue, a value of an unexpected type): read back.
UNKNOWN: Any = object()


def _predictor(column: Column[Any], dialect: Any) -> Callable[[Any], Any] | None:
    """The value ``column`` hands ``raw_select`` back for a value given to an insert or
    update (after the column type's bind processing and the database's own storage), or
    ``UNKNOWN`` for a value it cannot be sure of; None: no prediction for this column's
    type (its table's rows are read back). Only the types the read models use, on
    SQLite (pysqlite) and PostgreSQL (psycopg): exactly ``str``, ``int``, ``bool``,
    ``float`` and aware ``datetime`` values; anything else (a subclass, an enum, a
    string for a number) is UNKNOWN, so read back."""
    from projections.base import _SQLITE_DATETIME, UtcDateTime, _utc_sqlite

    sqlite = dialect.name == "sqlite" and dialect.driver == "pysqlite"
    if not sqlite and not (dialect.name == "postgresql" and dialect.driver == "psycopg"):
        return None
    t = column.type
    if isinstance(t, UtcDateTime):
        if sqlite:
            impl = t.load_dialect_impl(dialect).dialect_impl(dialect)
            if getattr(impl, "_storage_format", None) != _SQLITE_DATETIME:
                return None

            def sqlite_instant(v: Any) -> Any:
                if type(v) is not datetime or v.tzinfo is None:
                    return None if v is None else UNKNOWN
                return _utc_sqlite(v)  # TEXT in a NUMERIC column: not a number, kept

            return sqlite_instant

        def pg_instant(v: Any) -> Any:  # TIMESTAMP WITHOUT TIME ZONE: naive UTC
            if type(v) is not datetime or v.tzinfo is None:
                return None if v is None else UNKNOWN
            return v.astimezone(UTC).replace(tzinfo=None)

        return pg_instant
    if type(t) in (String, Text):  # TEXT affinity / text, varchar: the same str
        return _exactly(str)
    if type(t) in (Integer, BigInteger):  # INTEGER affinity / integer, bigint
        return _exactly(int)
    if type(t) is Boolean:  # SQLite: 0 or 1 (NUMERIC affinity); PostgreSQL: bool

        def flag(v: Any) -> Any:
            if v is None:
                return None
            if type(v) is not bool:
                return UNKNOWN
            return int(v) if sqlite else v

        return flag
    if type(t) is Float and not getattr(t, "asdecimal", False):

        def double(v: Any) -> Any:  # REAL / double precision; NaN and -0.0 read back
            if v is None:
                return None
            if type(v) is not float or v != v or (v == 0.0 and math.copysign(1.0, v) < 0):
                return UNKNOWN
            return v

        return double
    return None


def _exactly(pt: type) -> Callable[[Any], Any]:
    def same(v: Any) -> Any:
        return v if v is None or type(v) is pt else UNKNOWN

    return same


class RowPredictor:
    """A table's rows as ``raw_select`` returns them, from the values written (None:
    some column's type is not predicted; the table's rows are read back)."""

    def __init__(self, table: Table, dialect: Any) -> None:
        self.table = table
        self.names = [c.name for c in table.columns]
        self.index = {n: i for i, n in enumerate(self.names)}
        preds = [_predictor(c, dialect) for c in table.columns]
        self.ok = all(p is not None for p in preds)
        self.preds: dict[str, Callable[[Any], Any]] = {
            c.name: p for c, p in zip(table.columns, preds, strict=True) if p is not None
        }
        # Per column left out of an insert: its stored value (a scalar default or
        # NULL), or UNKNOWN (a callable or server default).
        self.omitted: dict[str, Any] = {}
        for c in table.columns:
            if c.server_default is not None:
                self.omitted[c.name] = UNKNOWN
            elif c.default is None:
                self.omitted[c.name] = None
            elif getattr(c.default, "is_scalar", False) and c.name in self.preds:
                self.omitted[c.name] = self.preds[c.name](c.default.arg)  # type: ignore[attr-defined]
            else:
                self.omitted[c.name] = UNKNOWN

    def inserted(self, values: Mapping[str, Any]) -> Any:
        """The stored row an insert of ``values`` makes, or UNKNOWN."""
        row = []
        preds, omitted = self.preds, self.omitted
        for n in self.names:
            v = preds[n](values[n]) if n in values else omitted[n]
            if v is UNKNOWN:
                return UNKNOWN
            row.append(v)
        return tuple(row)

    def updated(self, row: Any, values: Mapping[str, Any]) -> Any:
        """``row`` (stored form) with ``values`` set, or UNKNOWN."""
        if row is UNKNOWN:
            return UNKNOWN
        new = list(row)
        for n, v in values.items():
            p = self.preds[n](v)
            if p is UNKNOWN:
                return UNKNOWN
            new[self.index[n]] = p
        return tuple(new)


# The Python type a value must have for its bound value to be the stored one, per column
# type (``_predictor``'s exact types; Float is left to it: NaN and -0.0 read back).
_BOUND_TYPES: dict[type, type] = {
    String: str,
    Text: str,
    Integer: int,
    BigInteger: int,
    Boolean: bool,
}


class BoundForms:
    """The stored forms of the rows of one insert shape (every column of the table
    given), straight from the values a ``RawBatch`` bound. On SQLite (pysqlite) and
    PostgreSQL (psycopg), a value of exactly its column's Python type (``str``, ``int``,
    ``bool``, an aware ``datetime``; or None) is stored as bound: the bind processor's
    output is what ``raw_select`` reads back (``_predictor``'s rules, the same values).
    The types are checked once per tuple of value types, not value by value; a row with
    any other type is UNKNOWN (read back)."""

    _CACHE: ClassVar[dict[tuple[Any, ...], BoundForms | None]] = {}

    def __init__(self, table: Table, columns: tuple[str, ...], allowed: list[tuple[type, ...]]):
        names = [c.name for c in table.columns]
        order = [columns.index(n) for n in names]
        self.reorder: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = (
            None if order == list(range(len(order))) else itemgetter(*order)
        )
        pk = [names.index(c.name) for c in table.primary_key.columns]
        self.key: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
            (lambda form: (form[pk[0]],)) if len(pk) == 1 else itemgetter(*pk)
        )
        self.given_key = [columns.index(c.name) for c in table.primary_key.columns]
        self.allowed = allowed
        self._ok: dict[tuple[type, ...], bool] = {}

    @classmethod
    def of(cls, table: Table, columns: tuple[str, ...], dialect: Any) -> BoundForms | None:
        cache_key = (table, columns, dialect.name, dialect.driver)
        if cache_key not in cls._CACHE:
            cls._CACHE[cache_key] = cls._make(table, columns, dialect)
        return cls._CACHE[cache_key]

    @classmethod
    def _make(cls, table: Table, columns: tuple[str, ...], dialect: Any) -> BoundForms | None:
        from projections.base import UtcDateTime

        if len(table.columns) < 2 or sorted(columns) != sorted(c.name for c in table.columns):
            return None
        allowed: list[tuple[type, ...]] = []
        for name in columns:
            column = table.c[name]
            t = column.type
            if isinstance(t, UtcDateTime):
                if _predictor(column, dialect) is None:  # another storage format
                    return None
                pt: type = datetime
            else:
                found = _BOUND_TYPES.get(type(t))
                if found is None or _predictor(column, dialect) is None:
                    return None
                pt = found
            allowed.append((pt, type(None)))
        return cls(table, columns, allowed)

    def _types_ok(self, types: tuple[type, ...]) -> bool:
        ok = self._ok.get(types)
        if ok is None:
            ok = self._ok[types] = all(t in a for t, a in zip(types, self.allowed, strict=True))
        return ok

    def rows(
        self, given: list[tuple[Any, ...]], bound: list[tuple[Any, ...]]
    ) -> Iterable[tuple[tuple[Any, ...], Any]]:
        """``(primary key, stored form or UNKNOWN)`` of each row written."""
        ok, reorder, key = self._types_ok, self.reorder, self.key
        for g, b in zip(given, bound, strict=True):
            if ok(tuple(map(type, g))):
                form = b if reorder is None else reorder(b)
                yield key(form), form
            else:
                yield tuple(g[i] for i in self.given_key), UNKNOWN


@dataclass
class Sealer:
    """What one page changes in the sealed tables. ``PageWriter`` reports each row
    before it first changes it (``touch_new``/``touch_where``: its stored form then, or
    None for a new row) and every row it writes: the rows it queued (``inserted``,
    ``updated``) in their stored form computed from the values written (``RowPredictor``:
    what ``raw_select`` would read), any other write as UNKNOWN. ``finish`` reads back
    only the UNKNOWN rows. The seal moves by the difference, so it follows exactly what
    the page wrote (and keeps any difference someone else made: a tampered row, or one
    written by another process meanwhile, stays a mismatch)."""

    key: bytes
    hashers: dict[str, RowHasher] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    # per table: primary key -> raw row before the page touched it (None: not there)
    before: dict[str, dict[tuple[Any, ...], Sequence[Any] | None]] = field(default_factory=dict)
    # per table: primary key -> the row's stored form now (UNKNOWN: read it back)
    now: dict[str, dict[tuple[Any, ...], Any]] = field(default_factory=dict)
    deltas: dict[str, TableDelta] = field(default_factory=dict)
    # per table: its RowPredictor (None: none for this database, or its rows read back)
    predictors: dict[str, RowPredictor | None] = field(default_factory=dict)
    # False: every touched row is read back (``read_back``), as before RowPredictor
    compute: bool = True
    # id(stored form) -> (that form, (its digest, its buckets)): the forms
    # ``PageWriter.stage`` hashed before the page's first write (``prehash``), found by
    # identity in ``finish``.
    digests: dict[int, tuple[Any, tuple[int, list[tuple[str, str]]]]] = field(default_factory=dict)
    # Tests: check every computed row against the row read back (``_verify``), and
    # count per table the rows computed and read back.
    verify: ClassVar[bool] = False
    verified: ClassVar[dict[str, int]] = {}
    reread: ClassVar[dict[str, int]] = {}

    def hasher(self, table: Table) -> RowHasher:
        h = self.hashers.get(table.name)
        if h is None:
            h = self.hashers[table.name] = RowHasher(self.key, table)
            self.tables[table.name] = table
        return h

    def predictor(self, table: Table, dialect: Any) -> RowPredictor | None:
        name = table.name
        if name not in self.predictors:
            p = RowPredictor(table, dialect) if self.compute else None
            self.predictors[name] = p if p is not None and p.ok else None
        return self.predictors[name]

    def touch_new(self, table: Table, key: tuple[Any, ...]) -> None:
        """A row about to be written under this primary key, not through ``inserted``
        (not there before, or already noted): read back at the end."""
        self.hasher(table)
        self.before.setdefault(table.name, {}).setdefault(key, None)
        self.now.setdefault(table.name, {})[key] = UNKNOWN

    def touch_where(
        self, conn: Connection, table: Table, where: Any, *, unknown: bool = True
    ) -> list[tuple[Any, ...]]:
        """The rows ``where`` selects, about to be updated or deleted: read them first.
        ``unknown``: the write that follows is not predicted (read them back at the
        end). Returns their keys."""
        return self._note(table, conn.execute(raw_select(table).where(where)), unknown)

    def touch_keys(
        self,
        conn: Connection,
        table: Table,
        names: Sequence[str],
        keys: list[tuple[Any, ...]],
        *,
        unknown: bool = True,
        null_column: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """``touch_where`` for the rows whose columns ``names`` hold one of ``keys``
        (and ``null_column`` is NULL), read on the driver's cursor (``read_back``)."""
        return self._note(table, read_back(conn, table, names, keys, null_column), unknown)

    def _note(self, table: Table, rows: Iterable[Any], unknown: bool) -> list[tuple[Any, ...]]:
        h = self.hasher(table)
        seen = self.before.setdefault(table.name, {})
        now = self.now.setdefault(table.name, {})
        keys = []
        for raw in rows:
            k = h.raw_key(raw)
            row = tuple(raw)
            seen.setdefault(k, row)
            now[k] = UNKNOWN if unknown else row
            keys.append(k)
        return keys

    def known(self, table: Table, key: tuple[Any, ...]) -> bool:
        """Whether the row under ``key`` has been noted (its stored form is tracked)."""
        return key in self.now.get(table.name, ())

    def inserted(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """These rows were just inserted (not there before, unless already noted), their
        stored forms predicted value by value (``RowPredictor``) or read back."""
        h = self.hasher(table)
        before = self.before.setdefault(table.name, {})
        now = self.now.setdefault(table.name, {})
        p = self.predictor(table, conn.dialect)
        for values in rows:
            try:
                k = tuple([values[c] for c in h.pk])
            except KeyError:
                raise NotImplementedError(
                    f"sealed read models: an insert into {table.name} must give its primary key"
                ) from None
            before.setdefault(k, None)
            now[k] = UNKNOWN if p is None else p.inserted(values)

    def bound_forms(
        self, table: Table, columns: tuple[str, ...], dialect: Any
    ) -> BoundForms | None:
        """The ``BoundForms`` of inserts of ``columns`` into ``table`` (None: predict
        them value by value, ``inserted``)."""
        if not self.compute:
            return None
        return BoundForms.of(table, columns, dialect)

    def inserted_forms(self, table: Table, forms: Iterable[tuple[tuple[Any, ...], Any]]) -> None:
        """Rows just inserted, as ``(primary key, stored form or UNKNOWN)``."""
        self.hasher(table)
        before = self.before.setdefault(table.name, {})
        now = self.now.setdefault(table.name, {})
        for k, form in forms:
            before.setdefault(k, None)
            now[k] = form

    def updated(
        self, conn: Connection, table: Table, key: tuple[Any, ...], values: Mapping[str, Any]
    ) -> None:
        """The row under primary key ``key`` was just updated with ``values``."""
        now = self.now.setdefault(table.name, {})
        if key not in now:
            return  # no such row: the update changed nothing
        p = self.predictor(table, conn.dialect)
        now[key] = UNKNOWN if p is None else p.updated(now[key], values)

    def copied(
        self,
        conn: Connection,
        table: Table,
        versions: Table,
        closed: Mapping[tuple[Any, ...], int],
    ) -> None:
        """Each row of ``table`` under a key of ``closed`` was just copied into
        ``versions`` (its columns first, in order, then ``asof_to``), closed at
        ``closed[key]``, if it was written before that (``PageWriter._copy``, which has
        read every row of them the page did not know). The copy's stored form is the
        row's, followed by that position."""
        rows = self.now.get(table.name, {})
        self.hasher(versions)
        vbefore = self.before.setdefault(versions.name, {})
        vnow = self.now.setdefault(versions.name, {})
        at_from = [c.name for c in table.columns].index(ver.FROM)
        exact = self.predictor(versions, conn.dialect) is not None and [
            c.name for c in versions.columns
        ] == [*(c.name for c in table.columns), ver.TO]
        for k, at in closed.items():
            row = rows.get(k, UNKNOWN)
            if row is UNKNOWN:
                continue  # not there: nothing was copied
            since = row[at_from]
            if since >= at:
                continue  # written by this event already: its version was copied then
            vk = (*k, since)
            vbefore.setdefault(vk, None)
            vnow[vk] = (*row, at) if exact and type(at) is int else UNKNOWN

    def _verify(
        self,
        conn: Connection,
        table: Table,
        h: RowHasher,
        now: Mapping[tuple[Any, ...], Any],
        unknown: list[tuple[Any, ...]],
    ) -> None:
        """Tests: every computed row's digest against the row read back."""
        skip = set(unknown)
        computed = {k: now[k] for k in self.before[table.name] if k not in skip}
        stored = {h.raw_key(r): tuple(r) for r in read_back(conn, table, h.pk, list(computed))}
        for k, row in computed.items():
            got = stored.get(k)
            if got is None or h.digest_raw(got) != h.digest_raw(row):
                raise AssertionError(f"{table.name} {k!r}: computed {row!r}, stored {got!r}")
        Sealer.verified[table.name] = Sealer.verified.get(table.name, 0) + len(computed)
        Sealer.reread[table.name] = Sealer.reread.get(table.name, 0) + len(unknown)

    def prehash(self, table: Table, forms: Iterable[Any], dialect: Any) -> None:
        """Hash these stored forms of ``table``'s rows and find their buckets now (before
        the page's writes: on SQLite, before its write lock), for ``finish`` to find by
        identity."""
        h, digests = self.hasher(table).use_dialect(dialect), self.digests
        digest, buckets = h.digest_raw, h.buckets_raw
        for form in forms:
            digests[id(form)] = (form, (digest(form), buckets(form)))

    def finish(self, conn: Connection) -> None:
        """Turn before/now into each table's delta, reading back the UNKNOWN rows."""
        digests = self.digests
        for name, seen in self.before.items():
            table, h = self.tables[name], self.hashers[name].use_dialect(conn.dialect)
            d = self.deltas.setdefault(name, TableDelta())
            for raw in seen.values():
                if raw is not None:
                    d.add(h, raw, -1)
            now = self.now.get(name, {})
            unknown = []
            for k in seen:
                row = now.get(k, UNKNOWN)
                if row is UNKNOWN:
                    unknown.append(k)
                else:
                    known = digests.get(id(row))
                    d.add(h, row, 1, None if known is None or known[0] is not row else known[1])
            for raw in read_back(conn, table, h.pk, unknown):
                d.add(h, raw, 1)
            d.digest %= MODULUS
            if Sealer.verify:
                self._verify(conn, table, h, now, unknown)
        self.before = {}
        self.now = {}
        self.digests = {}


def read_back(
    conn: Connection,
    table: Table,
    pk: Sequence[str],
    keys: list[tuple[Any, ...]],
    null_column: str | None = None,
) -> Iterable[Sequence[Any]]:
    """The rows of ``table`` with these primary keys (or these values of the columns
    ``pk``; and ``null_column`` NULL, if given), values as the driver gives them
    (``raw_select``'s), ``IN_CHUNK`` keys a query. On SQLite and psycopg the SQL is written once
    per chunk size and run on the driver's own cursor (in the same transaction): a
    rebuild reads back every row it writes, and SQLAlchemy's statement handling per
    chunk cost more than the reads."""
    dialect = conn.dialect
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None or dialect.driver not in ("pysqlite", "psycopg"):
        cols = [table.c[c] for c in pk]
        for chunk in chunks(keys):
            cond: Any = (
                cols[0].in_([k[0] for k in chunk]) if len(cols) == 1 else tuple_(*cols).in_(chunk)
            )
            if null_column is not None:
                cond = cond & table.c[null_column].is_(None)
            yield from conn.execute(raw_select(table).where(cond))
        return
    q = dialect.identifier_preparer
    head = f"SELECT {', '.join(q.quote(c.name) for c in table.columns)} FROM {q.format_table(table)} WHERE "
    if null_column is not None:
        head += f"{q.quote(null_column)} IS NULL AND "
    if len(pk) == 1:
        head += f"{q.quote(pk[0])} IN ("
        one = mark
    else:
        head += f"({', '.join(q.quote(c) for c in pk)}) IN (VALUES "
        one = f"({', '.join([mark] * len(pk))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        sql: dict[int, str] = {}
        for chunk in chunks(keys):
            text = sql.get(len(chunk))
            if text is None:
                text = sql[len(chunk)] = head + ", ".join([one] * len(chunk)) + ")"
            cursor.execute(text, [v for k in chunk for v in k])
            yield from cursor.fetchall()
    finally:
        cursor.close()


def select_rows(conn: Connection, table: Table, where: Any) -> list[dict[str, Any]]:
    q = select(table) if where is None else select(table).where(where)
    return [dict(r._mapping) for r in conn.execute(q)]


# ---- the seal row -----------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    projection: str
    position: int
    tables: dict[str, tuple[int, int]]  # table -> (rows, digest)
    # table -> its buckets (only tables whose seal has them: ``has_buckets``)
    buckets: dict[str, Buckets] = field(default_factory=dict)
    # The chain's entry hash (hex) at ``position``: the log the rows were made from (red
    # team, session 14: a log cut at its tail and written on again reused the positions,
    # and the read models, tracked past the cut, never saw the new events). None: position
    # 0, or a seal written before it was bound (``bind_to_chain`` binds it on open).
    entry: str | None = None


# The key of ``entry`` in a seal's ``tables`` text: no table is named so (names of tables
# never start with "(").
CHAIN_KEY = "(chain)"


def _tables_json(
    tables: Mapping[str, tuple[int, int]],
    buckets: Mapping[str, Buckets] | None = None,
    entry: str | None = None,
) -> str:
    """``{"table": [rows, digest hex], ...}``; a table with buckets has a third element,
    ``{"bucketing": {"key": [rows, digest hex], ...}, ...}`` (empty buckets left out);
    the chain's entry at the seal's position under ``CHAIN_KEY`` as ``[entry hex]``."""
    out: dict[str, list[Any]] = {} if entry is None else {CHAIN_KEY: [entry]}
    for t, (n, d) in tables.items():
        item: list[Any] = [n, f"{d:064x}"]
        if buckets and t in buckets:
            item.append(
                {
                    name: {k: [bn, f"{bd:064x}"] for k, (bn, bd) in days.items()}
                    for name, days in buckets[t].items()
                }
            )
        out[t] = item
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _parse_tables(
    text: str,
) -> tuple[dict[str, tuple[int, int]], dict[str, Buckets], str | None]:
    tables: dict[str, tuple[int, int]] = {}
    buckets: dict[str, Buckets] = {}
    parsed = json.loads(text)
    chain = parsed.pop(CHAIN_KEY, None)
    if chain is not None and not (
        isinstance(chain, list) and len(chain) == 1 and isinstance(chain[0], str)
    ):
        raise ValueError("the seal's chain entry is not one text")
    for t, entry in parsed.items():
        tables[t] = (int(entry[0]), int(entry[1], 16))
        if len(entry) > 2:
            buckets[t] = {
                name: {k: (int(bn), int(bd, 16)) for k, (bn, bd) in days.items()}
                for name, days in entry[2].items()
            }
    return tables, buckets, None if chain is None else chain[0]


def _payload(seal: Seal) -> bytes:
    return json.dumps(
        [seal.projection, seal.position, _tables_json(seal.tables, seal.buckets, seal.entry)],
        separators=(",", ":"),
    ).encode()


def has_buckets(seal: Seal, table: Table) -> bool:
    """Whether the seal has every bucketing of ``table`` (a seal from before buckets, or
    before a bucketing was added, has not: its range reads are checked whole)."""
    have = seal.buckets.get(table.name)
    return have is not None and all(b.name in have for b in bucketings(table))


def seal_mac(key: bytes, seal: Seal) -> str:
    return hmac.new(key, b"seal\x00" + _payload(seal), hashlib.sha256).hexdigest()


def _text_mac(key: bytes, projection: str, position: int, text: str) -> str:
    """``seal_mac`` of the seal whose canonical ``tables`` text is ``text`` (not made again)."""
    payload = json.dumps([projection, position, text], separators=(",", ":")).encode()
    return hmac.new(key, b"seal\x00" + payload, hashlib.sha256).hexdigest()


# Seals read and found valid, by exactly what was read (the key, the projection, the row's
# position, ``tables`` text and ``mac``): parsing and checking a seal with a camera's
# buckets cost ~4 ms at 100k events and a page reads one several times. The same bytes
# give the same verdict, so a seal changed in any way is read and checked anew.
_VALID_SEALS: dict[tuple[bytes, str, int, str, str], Seal] = {}
_VALID_SEALS_KEPT = 16


def empty_seal(p: Projection) -> Seal:
    tables = p.metadata.sorted_tables
    return Seal(
        p.name,
        0,
        {t.name: (0, 0) for t in tables},
        {t.name: {b.name: {} for b in bucketings(t)} for t in tables if bucketings(t)},
    )


class SealInvalid(Exception):
    """The stored seal itself fails (its HMAC, or it is missing where it must be)."""


# The chain's entry hash (hex) at a log position, None when the log has no such entry.
ChainEntry = Callable[[int], str | None]


def read_seal(
    conn: Connection, key: bytes, p: Projection, position: int, chain: ChainEntry | None = None
) -> Seal:
    """The projection's seal, checked (HMAC, position; with ``chain``, that the log still
    has at that position the entry the seal was written after: ``check_chain``). A
    projection that has never caught up (position 0, no seal) has the empty seal."""
    row = conn.execute(select(seals).where(seals.c.projection == p.name)).first()
    if row is None:
        if position == 0:
            return empty_seal(p)
        raise SealInvalid(f"no seal for read model {p.name!r} at position {position}")
    read = (key, p.name, int(row.position), str(row.tables), str(row.mac))
    seal = _VALID_SEALS.get(read)
    if seal is None:
        seal = _checked_seal(key, p, *read[2:])
        if len(_VALID_SEALS) >= _VALID_SEALS_KEPT:
            _VALID_SEALS.pop(next(iter(_VALID_SEALS)))
        _VALID_SEALS[read] = seal
    if seal.position != position:
        raise SealInvalid(
            f"the seal of read model {p.name!r} is for position {seal.position}, "
            f"its rows are tracked at {position}"
        )
    if chain is not None:
        check_chain(seal, chain)
    # a copy (a caller may add to its dicts), its buckets' days shared: never changed
    return Seal(
        seal.projection,
        seal.position,
        dict(seal.tables),
        {t: dict(have) for t, have in seal.buckets.items()},
        seal.entry,
    )


def check_chain(seal: Seal, chain: ChainEntry) -> None:
    """The log still holds, at the seal's position, the entry the seal was written after:
    else the read models were made from another log (one cut at its tail, perhaps written
    on again, so its positions were used twice) and the events after the cut never reached
    them. A seal not yet bound (``entry`` None; ``bind_to_chain`` binds it) passes when
    the log reaches its position."""
    if seal.position == 0:
        return
    now = chain(seal.position)
    if now is None:
        raise SealInvalid(
            f"read model {seal.projection!r} is sealed at log position {seal.position}, but "
            "the log has no entry there: it was cut after the read models were made"
        )
    if seal.entry is not None and now != seal.entry:
        raise SealInvalid(
            f"read model {seal.projection!r} was made from a log whose entry "
            f"{seal.position} is not the log's entry {seal.position} now: the log was cut "
            "and written on again, and the events since the cut never reached the read models"
        )


def _checked_seal(key: bytes, p: Projection, position: int, text: str, mac: str) -> Seal:
    """The seal stored as ``text`` and ``mac`` at ``position``, its HMAC checked: over the
    text as stored (what ``_store_seal`` writes, canonical), else over the canonical
    text of what it parses to (as before; a MAC over another text needs the key)."""
    try:
        tables, buckets, entry = _parse_tables(text)
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise SealInvalid(f"the seal of read model {p.name!r} cannot be read ({e})") from None
    seal = Seal(p.name, position, tables, buckets, entry)
    if not hmac.compare_digest(_text_mac(key, p.name, position, text), mac) and not (
        hmac.compare_digest(seal_mac(key, seal), mac)
    ):
        raise SealInvalid(f"the seal of read model {p.name!r} fails its HMAC")
    for t in p.metadata.sorted_tables:
        seal.tables.setdefault(t.name, (0, 0))
        if bucketings(t) and seal.tables[t.name] == (0, 0) and not has_buckets(seal, t):
            seal.buckets[t.name] = {b.name: {} for b in bucketings(t)}  # no rows: none
    return seal


def write_seal(
    conn: Connection,
    key: bytes,
    p: Projection,
    old: Seal,
    position: int,
    deltas: Sealer,
    entry: str | None,
) -> None:
    tables = dict(old.tables)
    buckets = {t: {b: dict(days) for b, days in have.items()} for t, have in old.buckets.items()}
    for name, d in deltas.deltas.items():
        rows, digest = tables.get(name, (0, 0))
        tables[name] = (rows + d.rows, (digest + d.digest) % MODULUS)
        if name in buckets:  # a seal without them gains them by a scan (``add_buckets``)
            for bucketing, days in d.buckets.items():
                if bucketing not in buckets[name]:
                    continue  # declared since the seal was written: ``add_buckets`` adds it whole
                for k, (n, g) in days.items():
                    add_to(buckets[name], bucketing, k, n, g)
    _store_seal(conn, key, Seal(p.name, position, tables, buckets, entry))


def _store_seal(conn: Connection, key: bytes, seal: Seal, *, mac: str | None = None) -> int:
    """Write the seal row (UPDATE, else INSERT); ``mac``: only over the seal with that
    HMAC (returns 0 when another process changed it meanwhile)."""
    text = _tables_json(seal.tables, seal.buckets, seal.entry)
    values = {
        "position": seal.position,
        "tables": text,
        "mac": _text_mac(key, seal.projection, seal.position, text),
    }
    q = seals.update().where(seals.c.projection == seal.projection)
    if mac is not None:
        return conn.execute(q.where(seals.c.mac == mac).values(**values)).rowcount
    if conn.execute(q.values(**values)).rowcount:
        return 1
    conn.execute(seals.insert().values(projection=seal.projection, **values))
    return 1


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
        tables, buckets, entry = _parse_tables(row.tables)
        seal = Seal(str(row.projection), int(row.position), tables, buckets, entry)
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(seal_mac(key, seal), str(row.mac))


def seal_by_scan(
    conn: Connection,
    key: bytes,
    p: Projection,
    position: int,
    digests: Mapping[str, Scan],
    entry: str | None,
) -> None:
    """Write ``p``'s seal at ``position`` from its tables' digests and buckets as a scan
    finds them (``table_digest``): what a rebuild writes once at its end instead of
    sealing each batch. The seal then holds exactly what the check recomputes."""
    tables = {t.name: digests[t.name].sums for t in p.metadata.sorted_tables}
    buckets = {t.name: digests[t.name].buckets for t in p.metadata.sorted_tables if bucketings(t)}
    _store_seal(conn, key, Seal(p.name, position, tables, buckets, entry))


# ---- the check --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """What a scan of a table (or of a range of it) finds: rows, digest, buckets."""

    rows: int
    digest: int
    buckets: Buckets

    @property
    def sums(self) -> tuple[int, int]:
        return self.rows, self.digest


def table_digest(
    conn: Connection,
    hasher: RowHasher,
    *,
    where: Any = None,
    buckets: bool = False,
    only: DayRange | None = None,
) -> Scan:
    """The rows (``where`` selects; None: all) counted and digested; ``buckets``: their
    buckets too (a rebuild's seal, ``add_buckets``); ``only``: only the rows whose bucket
    that range covers (a ``late`` range's superset filtered as the page filters it)."""
    rows = digest = 0
    h = hasher.digest_raw
    hasher.use_dialect(conn.dialect)
    q = raw_select(hasher.table)
    if where is not None:
        q = q.where(where)
    if conn.dialect.name == "postgresql":
        # The cursor below is read to its end: planned for its first tenth (the default),
        # a range the planner overestimates was read by scanning the whole table.
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
    found: Buckets = {}
    for raw in conn.execute(q, execution_options={"yield_per": 5000}):
        if only is not None and not only.covers(dict(hasher.buckets_raw(raw))[only.bucketing.name]):
            continue
        g = h(raw)
        rows += 1
        digest += g
        if buckets:
            for name, key in hasher.buckets_raw(raw):
                add_to(found, name, key, 1, g)
    if buckets:
        for b in hasher.bucketings:
            found.setdefault(b.name, {})
    return Scan(rows, digest % MODULUS, found)


def range_sums(seal: Seal, table: Table, rng: DayRange) -> tuple[int, int]:
    """The sealed rows and digest of the buckets ``rng`` covers."""
    rows = digest = 0
    for key, (n, d) in seal.buckets[table.name][rng.bucketing.name].items():
        if rng.covers(key):
            rows += n
            digest += d
    return rows, digest % MODULUS


def check_projections(
    views: Views,
    projections: Sequence[Projection],
    only: Iterable[str] | None = None,
    ranges: Mapping[str, Iterable[DayRange]] | None = None,
) -> list[Finding]:
    """Every table of these projections (or only those named) against its seal, and the
    tables of ``ranges`` (read only in these ranges) in those ranges' buckets (the whole
    table when its seal has no buckets yet); a projection with a table that differs is
    diagnosed row by row against a scratch rebuild. Returns the findings (empty: all
    match)."""
    wanted = None if only is None else set(only)
    ranges = ranges or {}
    from projections.base import tracked_position

    key = views.seal_key()
    chain = views.chain_entries()
    findings: list[Finding] = []
    if wanted is None:
        with views.engine.connect() as conn:
            findings.extend(check_marks(conn, key, (p.name for p in projections)))
    for p in projections:
        # The stored tables themselves (not views as of a position, ``Views.at``).
        with views.engine.connect() as conn:
            position = tracked_position(conn, p.name)
            try:
                seal = read_seal(conn, key, p, position, chain)
            except SealInvalid as e:
                findings.extend(
                    _diagnose_or(views, p, position, Finding(seals.name, "edited", p.name, str(e)))
                )
                continue
            bad = []
            for table in p.metadata.sorted_tables:
                whole = wanted is None or table.name in wanted
                if not whole and table.name not in ranges:
                    continue
                if not whole and has_buckets(seal, table):
                    hasher = RowHasher(key, table)
                    dialect = conn.dialect.name
                    if any(
                        table_digest(
                            conn, hasher, where=r.where(table, dialect), only=r if r.late else None
                        ).sums
                        != range_sums(seal, table, r)
                        for r in ranges[table.name]
                    ):
                        bad.append(table.name)
                elif table_digest(conn, RowHasher(key, table)).sums != seal.tables[table.name]:
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


# ---- seals from before buckets ------------------------------------------------------------


def add_buckets(views: Views) -> list[str]:
    """Give each sealed projection's seal the buckets it lacks (a ledger sealed before
    buckets existed, or before a bucketing was declared): per table, one scan counts its
    rows into buckets, and the seal gains them only when the scan's total equals the
    sealed total (the rows are exactly the sealed ones, so are their buckets), at the
    same position, over the seal unchanged since it was read (its HMAC: another process
    that extended it meanwhile wins, and the next open tries again). A table whose rows
    do not match is left without buckets: its reads stay whole-table checks, which
    report it. Returns the projections whose seals gained buckets."""
    from projections.base import tracked_position

    key = views.seal_key()
    done = []
    for p in views.projections:
        tables = [t for t in p.metadata.sorted_tables if bucketings(t)]
        if not tables:
            continue
        with views.engine.begin() as conn:
            row = conn.execute(select(seals.c.mac).where(seals.c.projection == p.name)).first()
            if row is None:
                continue  # never sealed yet: its first seal has buckets (``empty_seal``)
            try:
                seal = read_seal(conn, key, p, tracked_position(conn, p.name))
            except SealInvalid:
                continue  # reported by the next check
            todo = [t for t in tables if not has_buckets(seal, t)]
            scans = {t.name: table_digest(conn, RowHasher(key, t), buckets=True) for t in todo}
            if not todo or any(scans[t.name].sums != seal.tables[t.name] for t in todo):
                continue
            buckets = {**seal.buckets, **{t.name: scans[t.name].buckets for t in todo}}
            new = Seal(p.name, seal.position, seal.tables, buckets, seal.entry)
            if _store_seal(conn, key, new, mac=str(row.mac)):
                done.append(p.name)
    return done


def bind_to_chain(views: Views) -> list[str]:
    """Bind each seal written before seals named the log's entry at their position (before
    session 14) to the entry the log holds there now, over the seal unchanged since it was
    read (its HMAC). What it cannot prove: that the log was not cut before this first open
    (``verify --against`` a checkpoint held elsewhere does). A seal at a position the log
    does not reach is left unbound, and ``check_chain`` cannot pass it either: the check
    reports it as it reports any seal ahead of the log. Returns the projections bound."""
    from projections.base import tracked_position

    key = views.seal_key()
    done = []
    for p in views.projections:
        with views.engine.begin() as conn:
            row = conn.execute(select(seals.c.mac).where(seals.c.projection == p.name)).first()
            if row is None:
                continue
            try:
                seal = read_seal(conn, key, p, tracked_position(conn, p.name))
            except SealInvalid:
                continue  # reported by the next check
            if seal.entry is not None or seal.position == 0:
                continue
            entry = views.chain_entry(seal.position)
            if entry is None:
                continue
            new = Seal(p.name, seal.position, seal.tables, seal.buckets, entry)
            if _store_seal(conn, key, new, mac=str(row.mac)):
                done.append(p.name)
    return done
