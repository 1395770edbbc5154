"""``custodes request show``: the request's record as text (sections from
projections.request_record), labels aligned, long values wrapped."""

from __future__ import annotations

import textwrap
from typing import Any
from zoneinfo import ZoneInfo

from projections.request_record import request_sections

LABEL_WIDTH = 18  # the longest label and a space
WIDTH = 100


def request_record(view: dict[str, Any], zone: ZoneInfo) -> list[str]:
    """The lines of the record; ``view`` is ``Ledger.request_view``."""
    title, sections = request_sections(view, zone)
    lines = [title]
    for heading, rows in sections:
        lines += ["", heading]
        for label, value in rows:
            lines += textwrap.wrap(
                value,
                width=WIDTH,
                initial_indent=f"  {label:<{LABEL_WIDTH}}",
                subsequent_indent=" " * (LABEL_WIDTH + 2),
                break_long_words=False,
                break_on_hyphens=False,
            )
    return lines
