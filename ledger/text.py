"""Text that people type and text that people read (issue 14): one place for what may be
entered and how it is shown.

* :func:`clean_text` is how free text enters the ledger: whitespace collapsed, control
  characters refused (a name holding ``ESC [2J`` would clear the screen of whoever lists
  it), bounded in length (``LIMITS``), and -- for reasons and descriptions -- refused when
  it holds something that looks like a library card number or a date of birth, which
  identify the patron: the patron is given in the patron fields (sealed under the
  patron's key and erased by ``patron forget``), never in clear.
* :func:`printable` is how any text reaches a terminal: control characters (and the
  Unicode controls that reorder text) shown escaped, never sent raw. Everything Custodes
  prints for people goes through it (``cli.output``, the error messages).
* :func:`csv_cell` neutralizes spreadsheet formulas in CSV cells (OWASP "CSV Injection").
* :func:`counted` puts a count and its noun in agreement ("1 item", "3 items").
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from ledger.errors import InvalidInput

# What a field may hold at most, in characters, after whitespace is collapsed. A name
# fits a table cell; a reason or a description is a paragraph, not a document (a
# document is recorded by its SHA-256, e.g. the court order's scan).
NAME = "name"  # people, agencies, courts, recipients, camera ids and locations
REFERENCE = "reference"  # case, docket, badge and hold references, methods
REASON = "reason"  # reasons, notes, how guardianship was confirmed
DESCRIPTION = "description"  # what a request asks for, an order's scope, an emergency
LIMITS = {NAME: 120, REFERENCE: 200, REASON: 2000, DESCRIPTION: 4000}

# Unicode's bidirectional controls reorder what a terminal shows (the "Trojan Source"
# trick); they are escaped on output and refused at entry like C0/C1 controls.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
_CONTROLS_BUT_NEWLINE = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")

# A library card number: 8 or more digits, possibly grouped by spaces, dashes (any of
# Unicode's: NFKC keeps an en dash an en dash), dots, underscores, slashes, plus signs or
# commas between digits, or a phone number's parentheses ("2100 0123 4567",
# "21000-12345", "2100.012345", "2100/033/333", "(217) 555-0100"), or run on from a word
# ("card2100012345"). Text is compared in its NFKC form with every Unicode decimal digit
# read as its ASCII digit (``folded``), so full-width, Arabic-Indic and Devanagari digits
# are digits. ISO, dotted and slashed dates and date-times are not card numbers (unless
# digits are joined to them: ``_set_dates_aside``), nor are the digits of a reference that starts with letters and a dash (a request R-2026-0001, a case
# MPD-2026-001187), nor times ("10:30, 11:45": a colon, or a comma and a space, is not a
# separator). A phone number is found too: a patron's belongs in the sealed fields.
_DASHES = "\u2010-\u2015\u2212-"
_SEPARATOR = rf"(?:\)?(?:[ ._/+{_DASHES}]|,(?=[0-9]))?\(?)"
# Eight digits or more in one unbroken run are a card number after a dash too (red team,
# session 18: "IR-21000123456789" passed as a reference's digits).
_CARD = re.compile(
    rf"(?<![0-9{_DASHES}])[0-9](?:{_SEPARATOR}[0-9]){{7,}}(?![0-9])|(?<![0-9])[0-9]{{8,}}(?![0-9])"
)
# A compact date of this century or the last, alone, before a time or before a short
# sequence number, as cameras, phones and scanners name files (IMG_20261205_143210.jpg,
# PXL_20261205_143210123.jpg, Scan_20261205.pdf) and as references carry them
# (IR-20261205-01); fourteen digits unbroken stay a card number (the session 18 review).
# The time or number follows an underscore or a dash, not a space: "card 20150612 1234"
# is a card number's grouping (the session 19 review).
_COMPACT_DATE = (
    r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:[_-](?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9](?:[0-9]{3})?)?|-[0-9]{1,3})?"
)
_COMPACT = re.compile(_COMPACT_DATE)
# The time after a date with separators: ISO's (2026-11-01T08:30:00.123-06:00, or after a
# space), or as phones name screenshots, after a dash or an underscore with dashes, dots
# or nothing between its parts (Screenshot_2026-11-01-14-32-10.png,
# signal-2026-11-01-143210.jpg), and then not joined to more digits (the year of a range's
# second date is not a time): a time is part of the date, not digits joined to it.
_CLOCK = (
    r"(?:[T ][0-9]{2}(?::[0-9]{2}){1,2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
    r"|[T_-](?:[01][0-9]|2[0-3])(?:[-.]?[0-5][0-9]){1,2}(?![-./_][0-9]))"
)
_SEPARATED_DATES = (
    rf"(?<![0-9])(?:[0-9]{{4}}[-./][0-9]{{2}}[-./][0-9]{{2}}{_CLOCK}?"
    r"|[0-9]{1,2}[./][0-9]{1,2}[./][0-9]{4}"
    # the compact form with a time (a sweep's run id: sweep-20261212T150000Z-d5ccc7)
    r"|[0-9]{8}T[0-9]{4}(?:[0-9]{2})?Z?)(?![0-9])"
)
_DATES_APART = re.compile(_SEPARATED_DATES)
_DATES = re.compile(rf"{_SEPARATED_DATES}|(?<![0-9]){_COMPACT_DATE}(?![0-9])")
# What joins digits to a date with separators into one run (the red team, session 22:
# "2100-01-23-456789" passed, the date set aside and six digits left): a dash, dot,
# slash or plus sign, as between a card number's groups. Not a space: "on 2026-11-01 3
# clips were viewed" is a date and a count; nor an underscore, which joins a scan's
# name to its counter ("order_2026-11-01_01.pdf"), not a card number's groups.
_JOIN = re.compile(f"[./+{_DASHES}]")

# A date of birth, named as such beside a date (session 22: "DOB 1990-01-02" in a
# description was recorded in clear): the word before the date ("born on 2 January 1990",
# "date of birth: 01/02/1990", "d.o.b. 2/1/1990") or just after it ("1990-01-02 (DOB)").
# The word alone is fine ("the order asks for the patron's date of birth"), and so is a
# date alone ("on 1990-01-02", "order dated 2026-03-01").
_BIRTH_WORD = (
    r"(?<![^\W_])(?:d\.?\s?o\.?\s?b|date[\s_-]*of[\s_-]*birth|birth[\s_-]*date|birthday|born)"
    r"(?![^\W_])"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?"
# A date written as one eight-digit number, YYYYMMDD, MMDDYYYY or DDMMYYYY, of this
# century or the last (red team, session 22: "DOB 01021990" passed; it is not a card
# number either, seven digits once its leading zero is set aside).
_MM = r"(?:0[1-9]|1[0-2])"
_DD = r"(?:0[1-9]|[12][0-9]|3[01])"
_YYYY = r"(?:19|20)[0-9]{2}"
_ANY_DATE = (
    r"(?<![0-9])(?:[0-9]{4}[-./ ][0-9]{1,2}[-./ ][0-9]{1,2}"
    r"|[0-9]{1,2}[-./ ][0-9]{1,2}[-./ ](?:[0-9]{4}|[0-9]{2})"
    rf"|{_YYYY}{_MM}{_DD}|{_MM}{_DD}{_YYYY}|{_DD}{_MM}{_YYYY}"
    rf"|{_DAY}[\s-]*(?:of\s+)?{_MONTH}[\s,-]*[0-9]{{2,4}}"
    rf"|{_MONTH}\s*{_DAY},?\s*[0-9]{{4}})(?![0-9])"
)
# Up to five short words may come between the word and the date (red team, session 22:
# "whose date of birth per the ID is 1990-01-02" and "born, according to the card, on
# 2 January 1990" passed): words of letters ("patron's" and "I.D." are one word each),
# apart by spaces, commas, colons, parentheses or dashes but not by the end of a
# sentence, so "born in Chicago. Order dated 2026-03-01" is a birthplace and an order's
# date. A digit ends the words ("born in the library's 1990 anniversary year, on
# 2026-03-01"). Every word and gap is bounded and letters never count as a gap, so a long
# text is read in linear time (tested on 20,000 characters).
_GAP = r"(?:(?![.;!?])[\W_]){1,6}"
_GAP_WORD = r"(?:[^\W\d_]{1,15}(?:['’][^\W\d_]{1,15})?|(?:[^\W\d_]{1,3}\.){1,4})"
_OCCASION = r"(?:party|parties|celebrations?|cakes?|events?|programs?|story|stories)\b"
_BIRTH = re.compile(
    rf"(?P<word>{_BIRTH_WORD})(?:(?<=\.[bB])\.)?"
    # not words after "birthday" that make it an occasion: "her birthday party is on
    # 2026-03-01" is a party's date (the review of session 22's change)
    rf"(?:[\W_]{{0,6}}|(?!(?<=day)[\W_]{{1,6}}{_OCCASION})(?:{_GAP}{_GAP_WORD}){{1,5}}{_GAP})"
    rf"{_ANY_DATE}"
    rf"|{_ANY_DATE}[\W_]{{0,4}}(?P<after>{_BIRTH_WORD})",
    re.IGNORECASE,
)
# A counter padded with zeros (doc00012345.pdf) is not a card number: fewer than eight
# digits count once the leading zeros are set aside.
_SIGNIFICANT = 8

# OWASP: a cell starting with one of these is a formula (or becomes one) in Excel,
# LibreOffice and Google Sheets; a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it, for what people read: "1 item", "100 items",
    "2 copies" (``plural`` where adding an s is wrong), never "item(s)"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


# The first words of the acts named by a command (``request show``, ``report access``):
# a refusal quotes them, so it reads "may not use “report access”", not "may not report
# access". Other acts are named by a phrase ("verify the ledger") and read as they are.
_COMMAND_GROUPS = frozenset({
    "backup", "camera", "footage", "keys", "patron", "policy", "projections", "report",
    "request", "retention", "staff", "totp", "witness",
})  # fmt: skip
_COMMANDS = frozenset({"checkpoint", "history", "log", "prove"})


def attempted(action: str) -> str:
    """An attempted act in a sentence: "use “request show”" for a command, the phrase
    itself otherwise ("verify the ledger")."""
    if action in _COMMANDS or action.split(" ", 1)[0] in _COMMAND_GROUPS:
        return f"use “{action}”"
    return action


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe for a terminal: every control character shown as ``\\x1b``-style
    escape (newlines kept when asked), so stored text can never drive the screen."""
    pattern = _CONTROLS_BUT_NEWLINE if keep_newlines else _CONTROLS
    return pattern.sub(_escape, text)


def folded(text: str) -> str:
    """``text`` as it is compared: its NFKC form (full-width digits are ASCII digits) with
    every other Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, ...) read
    as its ASCII digit (red team, session 22: a card number written "٢١٠٠٠١٢٣٤٥٦٧٨٩"
    passed, NFKC keeps those digits as they are), and without Unicode's invisible format
    characters (category Cf: zero-width space, non-joiner and joiner, word joiner, soft
    hyphen, byte order mark; red team, session 22: "2100\u200b0123\u200b4567" passed).
    Only for comparing: what is recorded is the text as typed (``clean_text``), which
    refuses the bidirectional controls among them (``_CONTROLS``) before comparing."""
    normal = unicodedata.normalize("NFKC", text)
    if normal.isascii():
        return normal
    return "".join(_ascii_digit(c) for c in normal if unicodedata.category(c) != "Cf")


def _ascii_digit(char: str) -> str:
    digit = unicodedata.decimal(char, None)
    return char if digit is None else str(digit)


def _set_dates_aside(text: str, dates: re.Pattern[str]) -> str:
    """``text`` with each of ``dates`` read as the word "date", except a date with
    separators that digits are joined to by a separator (``_JOIN``): "2100-01-23-456789"
    is a card number's digits, not a date and six digits (red team, session 22). Two
    dates joined are a range ("2026-11-01-2026-11-30") and both set aside. A compact date
    is read again by ``card_number_in`` instead (the session 19 review)."""
    found = list(dates.finditer(text))
    starts = {m.start() for m in found}
    ends = {m.end() for m in found}

    def joined_after(end: int) -> bool:
        return (
            end + 1 < len(text)
            and _JOIN.fullmatch(text[end]) is not None
            and text[end + 1] in "0123456789"
            and end + 1 not in starts
        )

    def joined_before(start: int) -> bool:
        return (
            start >= 2
            and _JOIN.fullmatch(text[start - 1]) is not None
            and text[start - 2] in "0123456789"
            and start - 1 not in ends
        )

    pieces: list[str] = []
    at = 0
    for match in found:
        start, end = match.span()
        joined = joined_before(start) or joined_after(end)
        if joined and not _COMPACT.fullmatch(match.group()):
            continue  # left as it is, for _CARD to read with the digits joined to it
        pieces += [text[at:start], "date"]
        at = end
    return "".join([*pieces, text[at:]])


def card_number_in(text: str) -> str | None:
    """The first thing in ``text`` that looks like a card number, or None."""
    compared = folded(text)
    for match in _CARD.finditer(_set_dates_aside(compared, _DATES)):
        if _significant(match.group()):
            return match.group()
    # A compact date does not hide the digits joined to it (the session 19 review:
    # "card 2100-20150612", "21000 20150612 3"): read again with only the dates that
    # have separators set aside, a run that is more than a compact date is a card number.
    for match in _CARD.finditer(_set_dates_aside(compared, _DATES_APART)):
        if _significant(match.group()) and not _COMPACT.fullmatch(match.group()):
            return match.group()
    return None


def birth_date_in(text: str) -> str | None:
    """The word that names a date of birth beside a date in ``text`` ("DOB", "born"), or
    None (``_BIRTH``)."""
    match = _BIRTH.search(folded(text))
    return None if match is None else match.group("word") or match.group("after")


def _significant(digits: str) -> bool:
    return len(re.sub("[^0-9]", "", digits).lstrip("0")) >= _SIGNIFICANT


# What to do instead, after a refusal of a patron identifier in free text.
_PATRON_FIELDS = (
    "Free text is kept in clear: give the patron in the patron fields instead (--patron "
    "CARD, --patron-name, --patron-address, --patron-phone on `custodes request open`), "
    "which are sealed under the patron's key and erased by `patron forget`, and write "
    "'the patron' here; nothing was recorded"
)


def clean_text(
    value: str | None,
    *,
    kind: str,
    what: str,
    required: bool = True,
    no_card_numbers: bool | None = None,
) -> str:
    """Free text as it is recorded, or InvalidInput naming ``what`` (nothing recorded).

    ``kind`` is one of ``LIMITS``; ``no_card_numbers`` for free text that is not a
    patron field (reasons, descriptions, scope notes, flag reasons): it may hold neither
    a card number nor a date of birth (``birth_date_in``, session 22). A name (a requester,
    a recipient, a court, an officer, a location) never holds a card number unless the
    caller says so (the patron's own name is sealed: ``no_card_numbers=False``).
    """
    if no_card_numbers is None:
        no_card_numbers = kind == NAME
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise InvalidInput(f"{what} is empty")
        return text
    control = _CONTROLS.search(text)
    if control is not None:
        raise InvalidInput(
            f"{what} holds a control character ({_escape(control)}): type plain text "
            "(terminal escape sequences are never recorded); nothing was recorded"
        )
    limit = LIMITS[kind]
    if len(text) > limit:
        raise InvalidInput(
            f"{what} is {len(text):,} characters long; a {kind} may have at most {limit:,}. "
            "Shorten it (a document is recorded by its SHA-256, not pasted); nothing was "
            "recorded"
        )
    # A date of birth named as such is said so before the card number check reads its
    # digits: "DOB 25121990" is eight significant digits too, and the card number's
    # message would show two of its digits at each end.
    if no_card_numbers and (word := birth_date_in(text)) is not None:
        # the word that says so, not the date: the message is shown and may be logged
        raise InvalidInput(
            f"{what} holds what looks like a date of birth ({word!r} and a date), which "
            f"identifies the patron. {_PATRON_FIELDS}"
        )
    if no_card_numbers and (card := card_number_in(text)) is not None:
        shown = f"{card[:2]}…{card[-2:]}"
        raise InvalidInput(
            f"{what} holds what looks like a library card number ({shown}). {_PATRON_FIELDS}"
        )
    return text


def csv_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def register_cell(value: Any) -> Any:
    """A register cell for a spreadsheet (`report disclosures --csv` and the dashboard's
    CSV download): lists joined with ";" (an object in one as JSON), times in UTC, dates
    ISO, text never a formula (``csv_cell``); numbers and None as they are."""
    from ledger import sitetime

    if isinstance(value, list):
        value = ";".join(json.dumps(v, sort_keys=True) if isinstance(v, dict) else str(v)
                         for v in value)  # fmt: skip
    if isinstance(value, datetime):
        return sitetime.iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return csv_cell(value) if isinstance(value, str) else value
