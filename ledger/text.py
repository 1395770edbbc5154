"""Text that people type and text that people read (issue 14): one place for what may be
entered and how it is shown.

* :func:`csv_cell` neutralizes spreadsheet formulas in CSV cells (OWASP "CSV Injection").
"""

from __future__ import annotations

# OWASP: a cell starting with one of these is a formula (or becomes one) in Excel,
# LibreOffice and Google Sheets; a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
