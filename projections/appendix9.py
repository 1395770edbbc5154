"""Policy V-A Appendix 9: the "Officer's Request for Confidential Information" (R10).

Renders the form an officer signs on an emergency request under 75 ILCS 70/1(a)(2),
prefilled from a plain dict. Anything missing prints as a line or box to fill in by hand;
signatures are always lines. Keys of ``form`` (all optional):

  form_id, library, citation, request_at, release_at, officer_name, officer_rank,
  badge_number, agency, agency_phone, id_examined (bool), sworn_officer,
  court_order_impractical, imminent_danger, identification_purpose (bools: the four
  representations), role_sought ("suspect" | "witness" | "victim"),
  emergency_description, information_requested, information_released (str or list of
  field names), director_name, director_title ("Director" or "Designee").
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from fpdf import FPDF

from ledger.outfiles import PRIVATE, write_bytes

# A fixed creation date: the same form prints the same bytes (``printed_sha256``).
PRINTED_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)

CITATION = "75 ILCS 70/1(a)(2)"
LEFT, WIDTH = 15.0, 185.9  # Letter is 215.9 mm wide
INK, GREY, SHADE = (0, 0, 0), (90, 90, 90), (232, 232, 232)

# First-person wording of the statute's conditions, one checkbox each (R8).
REPRESENTATIONS = (
    ("sworn_officer", "I am a sworn law enforcement officer."),
    (
        "court_order_impractical",
        "It is impractical to secure a court order as a result of an emergency.",
    ),
    (
        "imminent_danger",
        "I have probable cause to believe that there is an imminent danger of physical harm.",
    ),
    (
        "identification_purpose",
        "The information requested is limited to identifying a suspect, witness, or victim "
        "of a crime.",
    ),
)
ACKNOWLEDGEMENT = (
    'I acknowledge receipt of the information listed under "Information released". The '
    "Library did not provide any registration or circulation records that would indicate "
    "materials borrowed, resources reviewed, or services used at the Library. I will use "
    "this information only to identify the suspect, witness, or victim named above."
)
NOTICE = (
    "Notice: under 75 ILCS 70/1(a)(2) the Library may seek subsequent judicial review to "
    "assess compliance with the Library Records Confidentiality Act. Registration and "
    "circulation records are otherwise released only under a court order (75 ILCS "
    "70/1(a)(1))."
)
_ASCII = {
    "\u2014": "--", "\u2013": "-", "\u2012": "-", "\u2010": "-", "\u2018": "'",
    "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u2122": "(TM)", "\u0141": "L", "\u0142": "l",
    "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u20ac": "EUR",
}  # fmt: skip


def latin1(text: object) -> str:
    """Core fonts are Latin-1 only: transliterate dashes, quotes and the rest."""
    out = []
    for ch in str(text):
        ch = _ASCII.get(ch, ch)
        if len(ch) == 1 and ord(ch) > 255:
            ch = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        out.append(ch)
    return "".join(out)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return ", ".join(str(v) for v in items)
    return latin1(value).strip()


class _Form(FPDF):
    form_id = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(*GREY)
        self.cell(WIDTH / 2, 4, latin1(f"Policy V-A, Appendix 9 -- Form {self.form_id}"))
        self.cell(WIDTH / 2, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)


def _need(pdf: FPDF, height: float) -> None:
    """Start a new page rather than split a box or a section across pages."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _heading(pdf: FPDF, title: str, keep_with: float = 12.0) -> None:
    _need(pdf, 8 + keep_with)
    pdf.ln(2)
    pdf.set_fill_color(*SHADE)
    pdf.set_font("Helvetica", "B", 9.5)
    pdf.set_x(LEFT)
    pdf.cell(WIDTH, 5.5, latin1(title.upper()), border=1, fill=True)
    pdf.ln(5.5)


def _boxes(pdf: FPDF, cells: list[tuple[str, object, float]], height: float = 10.0) -> None:
    """A row of boxed fields: small caption at top left, value below (blank if missing)."""
    _need(pdf, height)
    y, x = pdf.get_y(), LEFT
    for label, value, share in cells:
        w = WIDTH * share
        pdf.rect(x, y, w, height)
        pdf.set_xy(x + 1.2, y + 0.8)
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_text_color(*GREY)
        pdf.cell(w - 2.4, 3, latin1(label))
        pdf.set_text_color(*INK)
        pdf.set_font("Helvetica", "", 10)
        pdf.set_xy(x + 1.2, y + 4.0)
        pdf.cell(w - 2.4, 5.5, _text(value))
        x += w
    pdf.set_xy(LEFT, y + height)


def _checkbox(pdf: FPDF, x: float, y: float, checked: bool | None) -> None:
    pdf.rect(x, y, 3.6, 3.6)
    if checked:
        pdf.line(x + 0.6, y + 0.6, x + 3.0, y + 3.0)
        pdf.line(x + 3.0, y + 0.6, x + 0.6, y + 3.0)


def _choice(pdf: FPDF, options: list[tuple[str, bool]], x: float, y: float) -> float:
    pdf.set_font("Helvetica", "", 9.5)
    for label, checked in options:
        _checkbox(pdf, x, y + 0.4, checked)
        pdf.set_xy(x + 5, y)
        pdf.cell(pdf.get_string_width(label) + 2, 4.4, label)
        x += pdf.get_string_width(label) + 11
    return x


def _text_box(pdf: FPDF, label: str, value: object, min_lines: int) -> None:
    """Captioned box; prints the value, or ruled lines to write on by hand."""
    text, line_h = _text(value), 5.0
    pdf.set_font("Helvetica", "", 10)
    wrapped = pdf.multi_cell(WIDTH - 2.4, line_h, text, dry_run=True, output="LINES")
    lines = len(cast(list[str], wrapped)) if text else min_lines
    _need(pdf, 6.1 + line_h * lines)
    y0 = pdf.get_y()
    pdf.set_xy(LEFT + 1.2, y0 + 0.8)
    pdf.set_font("Helvetica", "", 6.5)
    pdf.set_text_color(*GREY)
    pdf.cell(WIDTH - 2.4, 3, latin1(label))
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(LEFT + 1.2, y0 + 4.6)
    if text:
        pdf.multi_cell(WIDTH - 2.4, line_h, text, align="L")
        y1 = max(pdf.get_y(), y0 + 4.6 + line_h * lines) + 1.5
    else:
        y1 = y0 + 4.6 + line_h * min_lines + 1.5
        pdf.set_draw_color(160, 160, 160)
        for i in range(1, min_lines + 1):
            yy = y0 + 4.6 + line_h * i
            pdf.line(LEFT + 2, yy, LEFT + WIDTH - 2, yy)
        pdf.set_draw_color(*INK)
    pdf.rect(LEFT, y0, WIDTH, y1 - y0)
    pdf.set_xy(LEFT, y1)


def _paragraph(pdf: FPDF, text: str, size: float = 9, style: str = "") -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.set_x(LEFT)
    pdf.multi_cell(WIDTH, 4.4, latin1(text), align="L")


def _signature_row(pdf: FPDF, cells: list[tuple[str, float]]) -> None:
    """Lines to sign on, caption under each line (signatures are never prefilled)."""
    _need(pdf, 11)
    pdf.ln(7)
    y, x = pdf.get_y(), LEFT
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(*GREY)
    for label, share in cells:
        w = WIDTH * share
        pdf.line(x, y, x + w - 6, y)
        pdf.set_xy(x, y + 0.8)
        pdf.cell(w - 6, 3, latin1(label))
        x += w
    pdf.set_text_color(*INK)
    pdf.set_xy(LEFT, y + 4)


def printed_sha256(form: Mapping[str, object]) -> str:
    """The SHA-256 of the form as printed now: a "signed form" with this digest is the
    unsigned printout itself (R10)."""
    return hashlib.sha256(appendix9_pdf(form)).hexdigest()


def render_appendix9(form: Mapping[str, object], out_path: Path, *, force: bool = False) -> None:
    """Write the form to ``out_path``: 0600 (it names the patron's officer and the
    emergency), never through a symbolic link or over a file without ``force``."""
    write_bytes(out_path, appendix9_pdf(form), force=force, mode=PRIVATE)


def appendix9_pdf(form: Mapping[str, object]) -> bytes:
    """The filled form as PDF bytes (the web dashboard serves them; nothing is written).
    The same form gives the same bytes (no time of printing inside), so the printout is
    told apart from the officer's signed scan (``printed_sha256``, R10)."""
    pdf = _Form(format="Letter", unit="mm")
    pdf.set_creation_date(PRINTED_AS_OF)
    pdf.form_id = _text(form.get("form_id")) or "________"
    pdf.set_margins(LEFT, 11, LEFT)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_line_width(0.3)
    pdf.add_page()

    library = _text(form.get("library")) or "Mahomet Public Library"
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(WIDTH * 0.65, 5.5, latin1(library))
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(WIDTH * 0.35, 5.5, latin1(f"Form no. {pdf.form_id}"), align="R")
    pdf.ln(7)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(WIDTH, 8, "Officer's Request for Confidential Information", align="C")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 9)
    citation = _text(form.get("citation")) or CITATION
    pdf.cell(
        WIDTH,
        5,
        latin1(f"Library Records Confidentiality Act, {citation} -- Policy V-A, Appendix 9"),
        align="C",
    )
    pdf.ln(6)
    pdf.set_line_width(0.6)
    pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    pdf.set_line_width(0.3)
    pdf.ln(1)
    _paragraph(
        pdf,
        "Complete and give to the Library Director (or designee). Without a court order only "
        "information identifying a suspect, witness, or victim is released.",
        8.5,
        "I",
    )

    _heading(pdf, "1. Request")
    _boxes(
        pdf,
        [
            ("Date and time of request", form.get("request_at"), 0.5),
            ("Date and time of release", form.get("release_at"), 0.5),
        ],
    )

    _heading(pdf, "2. Requesting officer")
    _boxes(
        pdf,
        [
            ("Officer name (print)", form.get("officer_name"), 0.5),
            ("Rank / title", form.get("officer_rank"), 0.25),
            ("Badge / ID number", form.get("badge_number"), 0.25),
        ],
    )
    _boxes(pdf, [("Agency", form.get("agency"), 0.5), ("Agency phone", form.get("agency_phone"), 0.25), ("", "", 0.25)])  # fmt: skip
    examined = form.get("id_examined")
    y = pdf.get_y() - 10 + 1
    pdf.set_xy(LEFT + WIDTH * 0.75 + 1.2, y - 0.2)
    pdf.set_font("Helvetica", "", 6.5)
    pdf.set_text_color(*GREY)
    pdf.cell(30, 3, "Officer ID examined by library staff")
    pdf.set_text_color(*INK)
    _choice(
        pdf,
        [("Yes", examined is True), ("No", examined is False)],
        LEFT + WIDTH * 0.75 + 2,
        y + 4.3,
    )
    pdf.set_xy(LEFT, y + 9)

    _heading(pdf, "3. Officer's representations (initial each box that applies)")
    pdf.ln(1.5)
    for key, wording in REPRESENTATIONS:
        _need(pdf, 7)
        y = pdf.get_y()
        _checkbox(pdf, LEFT + 2, y + 0.5, bool(form.get(key)))
        pdf.set_xy(LEFT + 8, y)
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(WIDTH - 36, 4.6, latin1(wording), align="L")
        pdf.set_draw_color(160, 160, 160)
        pdf.line(LEFT + WIDTH - 24, y + 3.6, LEFT + WIDTH - 2, y + 3.6)
        pdf.set_draw_color(*INK)
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_xy(LEFT + WIDTH - 24, y + 3.7)
        pdf.cell(22, 3, "initials", align="C")
        pdf.set_xy(LEFT, max(pdf.get_y(), y + 6.5))
    role = _text(form.get("role_sought")).lower()
    y = pdf.get_y() + 1
    pdf.set_xy(LEFT + 2, y)
    pdf.set_font("Helvetica", "B", 9.5)
    pdf.cell(38, 4.4, "Person to be identified:")
    _choice(
        pdf, [(r.capitalize(), role == r) for r in ("suspect", "witness", "victim")], LEFT + 42, y
    )
    pdf.set_xy(LEFT, y + 7)

    _heading(pdf, "4. The emergency")
    _text_box(pdf, "Description of the emergency", form.get("emergency_description"), 3)

    _heading(pdf, "5. Information")
    _text_box(pdf, "Information requested", form.get("information_requested"), 1)
    if form.get("information_refused"):
        _text_box(
            pdf,
            "Refused by the Library (an emergency request obtains identifying information only)",
            form.get("information_refused"),
            1,
        )
    _text_box(pdf, "Information released (exact fields, completed by the Library)", form.get("information_released"), 2)  # fmt: skip

    _heading(pdf, "6. Officer's acknowledgement of receipt", keep_with=28)
    pdf.ln(1)
    _paragraph(pdf, ACKNOWLEDGEMENT)
    _signature_row(pdf, [("Officer signature", 0.6), ("Date and time signed", 0.4)])

    _heading(pdf, "7. Library", keep_with=32)
    _boxes(
        pdf,
        [
            ("Director or designee (print name)", form.get("director_name"), 0.6),
            ("Director / Designee", form.get("director_title"), 0.4),
        ],
    )
    _signature_row(pdf, [("Signature of Director or designee", 0.6), ("Date and time", 0.4)])
    pdf.ln(2)
    _paragraph(pdf, NOTICE, 8.5, "I")

    return bytes(pdf.output())
