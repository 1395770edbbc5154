"""The compliance report for machines: JSON (one document) and CSV (one file per table).

JSON keys are the dataclass field names, sorted; times are ISO-8601 UTC with a ``Z``
(``2026-10-14T14:05:00Z``), dates ``YYYY-MM-DD``. The schema is in docs/REPORTS.md and
carries ``schema_version``; a field is never renamed without bumping it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ledger import sitetime
from ledger.outfiles import PRIVATE, PRIVATE_DIR, OutputFailed, OutputRefused, staged
from ledger.text import csv_cell
from projections.compliance_model import ComplianceReport, OutputNotWritable, write_atomically


def plain(value: Any) -> Any:
    """A report's value as its JSON holds it: times in UTC, dates ISO, dataclasses as
    objects of their fields."""
    if isinstance(value, datetime):
        return sitetime.iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def to_dict(report: ComplianceReport) -> dict[str, Any]:
    return plain(report)  # type: ignore[no-any-return]


def to_json(report: ComplianceReport) -> str:
    return json.dumps(to_dict(report), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json(
    report: ComplianceReport, path: str | os.PathLike[str], *, force: bool = False
) -> Path:
    return write_atomically(path, to_json(report).encode("utf-8"), force=force)


# --- CSV --------------------------------------------------------------------------------

Table = tuple[Sequence[str], Callable[[ComplianceReport], list[list[Any]]]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return sitetime.iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return csv_cell("; ".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:.1f}"
    return csv_cell(str(value))


def _rows(items: Sequence[Any], columns: Sequence[str]) -> list[list[Any]]:
    return [[getattr(item, c) for c in columns] for item in items]


ATTENTION = ("severity", "rule_id", "rule_source", "text", "subject_id")
CAMERAS = ("camera_id", "location", "zone", "signage_attested", "status", "registered_at")
HELD = (
    "segment_id",
    "camera_id",
    "recorded_start",
    "recorded_end",
    "reason",
    "kind",
    "reference",
    "age_days",
    "review_by",
    "retention_days",
    "retention_version",
    "deadline",
)
OVERDUE = (
    "segment_id", "camera_id", "deadline", "days_overdue", "retention_days", "retention_version",
)  # fmt: skip
SEGMENTS = (
    "segment_id", "camera_id", "recorded_start", "recorded_end", "retention_days",
    "retention_version", "deadline", "keep_until", "status", "purged_at",
    "purge_retention_days", "purge_policy_version", "listed_for",
)  # fmt: skip
BY_VERSION = (
    "version", "retention_days", "segments", "purged", "first_deadline", "last_deadline",
)  # fmt: skip
PURGES = ("version", "retention_days", "purge_retention_days", "segments")
ACCESS = (
    "name", "role", "viewed_at", "purpose", "reason", "remote", "segment_id", "archived",
    "retention_days", "retention_version", "acting",
)  # fmt: skip
ACCESS_REFUSED = ("name", "role", "at", "rule_id", "message", "signed_in")
DISCLOSURES = (
    "request_id",
    "received_at",
    "requester_kind",
    "basis",
    "decision",
    "decided_at",
    "hours_to_decision",
    "reasons",
    "released_fields",
    "acknowledgement",
    "follow_up",
    "foia_due",
    "legal_basis",
    "refused_at_intake",
    "footage_redaction",
)
REFUSALS = ("at", "actor", "role", "action", "rule_id", "message", "signed_in", "acting")
POLICY_VERSIONS = (
    "version", "profile", "approved_by", "approval_ref", "effective_date", "effective_at",
    "adopted_at", "adopted_by", "text_sha256", "params_sha256", "retention_days",
    "in_force_in_period", "adopted_in_period", "flag_max_days", "archive_viewer_roles",
    "counsel_review_gates_release", "segments_captured",
)  # fmt: skip
CAMERAS_REFUSED = ("camera_id", "actor", "at", "zone", "rule_id", "message")

CSV_TABLES: dict[str, Table] = {
    "attention.csv": (ATTENTION, lambda r: _rows(r.attention, ATTENTION)),
    "cameras.csv": (CAMERAS, lambda r: _rows(r.cameras.rows, CAMERAS)),
    "cameras_refused.csv": (
        CAMERAS_REFUSED,
        lambda r: _rows(r.cameras.refused, CAMERAS_REFUSED),
    ),
    "retention_held.csv": (HELD, lambda r: _rows(r.retention.held, HELD)),
    "retention_overdue.csv": (OVERDUE, lambda r: _rows(r.retention.overdue, OVERDUE)),
    "retention_segments.csv": (SEGMENTS, lambda r: _rows(r.retention.segments, SEGMENTS)),
    "retention_by_version.csv": (BY_VERSION, lambda r: _rows(r.retention.by_version, BY_VERSION)),
    "retention_purges.csv": (PURGES, lambda r: _rows(r.retention.purges, PURGES)),
    "access.csv": (ACCESS, lambda r: _rows(r.access.viewings, ACCESS)),
    "access_refused.csv": (ACCESS_REFUSED, lambda r: _rows(r.access.refused, ACCESS_REFUSED)),
    "disclosures.csv": (DISCLOSURES, lambda r: _rows(r.disclosures.rows, DISCLOSURES)),
    "refusals.csv": (REFUSALS, lambda r: _rows(r.refusals, REFUSALS)),
    "policy_versions.csv": (POLICY_VERSIONS, lambda r: _rows(r.policy.versions, POLICY_VERSIONS)),
}


def csv_text(header: Sequence[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def to_csv_dir(
    report: ComplianceReport, out_dir: str | os.PathLike[str], *, force: bool = False
) -> list[Path]:
    """Write one CSV per table into ``out_dir`` (made, 0700, if it does not exist); return
    their paths.

    Every file is first written to a temporary file beside it; only when all are written
    are they put in place, so a failure leaves none of them (nor a partial one). A file
    of the same name is replaced only with ``force``; a symbolic link is never followed
    (``ledger.outfiles``).
    """
    directory = Path(out_dir)
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise OutputNotWritable(
            f"Cannot write the CSV report to '{directory}': it is not a directory (a file "
            "or a symbolic link). Choose a new directory."
        )
    created = not directory.exists()
    try:
        if created:
            directory.mkdir(mode=PRIVATE_DIR)
        with ExitStack() as stack:
            for name, (header, rows) in CSV_TABLES.items():
                tmp = stack.enter_context(staged(directory / name, force=force, mode=PRIVATE))
                with open(tmp, "w", encoding="utf-8", newline="") as handle:
                    handle.write(csv_text(header, rows(report)))
    except (OutputRefused, OutputFailed, OSError) as exc:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise OutputNotWritable(f"Cannot write the CSV report to '{directory}': {exc}") from exc
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return [directory / name for name in CSV_TABLES]
