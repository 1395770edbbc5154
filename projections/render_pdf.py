"""The compliance report as a printable PDF (fpdf2, US Letter) for the Director and board.

Body text is core Helvetica, which only covers Latin-1: typographic punctuation is
transliterated (an em dash becomes "--"), and any cell that still needs Unicode is set in
DejaVu Sans, which ships with matplotlib. The signed checkpoint is printed verbatim in
DejaVu Sans Mono: its signature line starts with an em dash (C2SP signed-note) and a
transliterated checkpoint would no longer verify if retyped.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, TableCellFillMode, WrapMode

from projections.compliance_model import (
    ComplianceReport,
    ReportError,
    period_text,
    write_atomically,
)
from projections.report_document import (
    Block,
    Chart,
    Facts,
    Para,
    Pre,
    Section,
    Table,
    header_facts,
    report_sections,
    report_title,
)

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
MONO = "DejaVuMono"
UNI = "DejaVu"
MARGIN = 15.0  # mm
CELL_LINE_MM = 4.4
# A table row never splits across pages: a cell longer than this many lines is cut
# (about 11 cm at 9 pt, so a row always fits a page with its table's heading).
MAX_CELL_LINES = 24
BODY_PT = 9.0
SMALL_PT = 8.0
CHART_SHRINK = 0.75  # a chart may shrink to this much of its size to end a page

TRANSLITERATION = str.maketrans(
    {
        "\u2014": "--",
        "\u2013": "-",
        "\u2012": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": ",",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2026": "...",
        "\u2022": "*",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
    }
)


def latin1(text: str) -> str:
    """Text for a core font: typographic punctuation spelled in Latin-1."""
    return text.translate(TRANSLITERATION)


def needs_unicode(text: str) -> bool:
    try:
        latin1(text).encode("latin-1")
    except UnicodeEncodeError:
        return True
    return False


class ReportPDF(FPDF):
    def __init__(self, report: ComplianceReport) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.report = report
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 4)
        for name, file in ((MONO, "DejaVuSansMono.ttf"), (UNI, "DejaVuSans.ttf")):
            path = FONT_DIR / file
            if not path.is_file():
                raise ReportError(
                    f"The font {file} is missing from matplotlib's data ({FONT_DIR}); "
                    "reinstall matplotlib."
                )
            self.add_font(name, "", str(path))
        self.add_font(UNI, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        h = report.header
        self.set_title(latin1(report_title(report)))
        self.set_author(latin1(h.generated_by))
        self.set_subject(f"Compliance report {period_text(report)}")
        self.set_creator("Custodes")
        self.set_lang("en-US")
        self.set_creation_date(h.generated_at)

    def text_font(self, text: str, style: str = "", size: float = BODY_PT) -> str:
        """Set Helvetica, or DejaVu Sans when the text needs it; return what to print."""
        if needs_unicode(text):
            self.set_font(UNI, "B" if "B" in style else "", size)
            return text
        self.set_font("Helvetica", style, size)
        return latin1(text)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        h = self.report.header
        left = self.text_font(h.library, "B", SMALL_PT)
        self.set_y(MARGIN - 4)
        self.cell(self.epw / 2, 5, left, align="L")
        self.set_font("Helvetica", "", SMALL_PT)
        self.cell(self.epw / 2, 5, f"Compliance report, {period_text(self.report)}", align="R")
        self.line(MARGIN, MARGIN + 1.5, self.w - MARGIN, MARGIN + 1.5)
        self.set_y(MARGIN + 4)

    def footer(self) -> None:
        self.set_y(-(MARGIN - 2))
        h = self.report.header
        self.line(MARGIN, self.get_y() - 1, self.w - MARGIN, self.get_y() - 1)
        left = self.text_font(
            f"{h.library}, compliance report {period_text(self.report)}", "", SMALL_PT
        )
        self.cell(self.epw * 0.7, 5, left, align="L")
        self.set_font("Helvetica", "", SMALL_PT)
        self.cell(self.epw * 0.3, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    # --- blocks ------------------------------------------------------------------------

    def room_left(self) -> float:
        return self.page_break_trigger - self.get_y()

    def keep_room(self, needed: float) -> None:
        if self.room_left() < needed:
            self.add_page()

    def needed(self, block: Block) -> float:
        """Room to keep below a heading, so it never ends a page alone (mm)."""
        if isinstance(block, Table):
            if block.compact:  # a short list of counts: never split
                return 16 + 5.5 * len(block.rows)
            # The caption with the header row and the first rows (up to two).
            return 22 + 10 * min(len(block.rows), 2) if block.rows else 14
        if isinstance(block, Chart):
            width_px, height_px = png_size(block.png)
            return self.epw * height_px / width_px * CHART_SHRINK + 2
        if isinstance(block, Facts):
            return 6 * min(len(block.items), 3)
        return 12

    def heading(self, title: str, first: Block | None = None) -> None:
        self.keep_room(12 + (self.needed(first) if first is not None else 16))
        self.start_section(latin1(title), level=0)
        text = self.text_font(title, "B", 14)
        self.cell(self.epw, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_line_width(0.5)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.set_line_width(0.2)
        self.ln(3)

    def caption(self, text: str) -> None:
        self.keep_room(22)
        printed = self.text_font(text, "B", 10)
        self.multi_cell(self.epw, 5, printed, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, block: Para) -> None:
        printed = self.text_font(block.text, "B" if block.strong else "", 10)
        self.multi_cell(self.epw, 5, printed, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def facts(self, block: Facts, label_width: float = 42) -> None:
        for label, value in block.items:
            self.keep_room(6)
            y = self.get_y()
            self.set_x(MARGIN)
            self.multi_cell(label_width, 5, self.text_font(label, "B"), new_x="RIGHT", new_y="TOP")
            self.set_xy(MARGIN + label_width, y)
            self.multi_cell(
                self.epw - label_width,
                5,
                self.text_font(value),
                align="L",
                wrapmode=WrapMode.CHAR if " " not in value else WrapMode.WORD,
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_y(max(self.get_y(), y + 5))
        self.ln(3)

    def table_block(self, block: Table) -> None:
        self.keep_room(self.needed(block))
        self.caption(block.caption)
        if not block.rows:
            self.set_font("Helvetica", "I", BODY_PT)
            self.multi_cell(self.epw, 5, latin1(block.empty), new_x="LMARGIN", new_y="NEXT")
            self.ln(3)
            return
        self.set_font("Helvetica", "", BODY_PT)
        table_width = self.epw * (0.55 if block.compact else 1.0)
        inner = [table_width * w / sum(block.widths) - 2.6 for w in block.widths]
        heading_style = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
        with self.table(
            col_widths=block.widths,
            width=table_width,
            align="LEFT",
            text_align="LEFT",
            line_height=CELL_LINE_MM,
            padding=(1.0, 1.2),
            headings_style=heading_style,
            repeat_headings=1,
            borders_layout=TableBordersLayout.ALL,
            cell_fill_color=(246, 246, 246),
            cell_fill_mode=TableCellFillMode.ROWS,
        ) as table:
            head = table.row()
            for h in block.headers:
                head.cell(latin1(h))
            for values in block.rows:
                row = table.row()
                for value, room in zip(values, inner, strict=True):
                    if needs_unicode(value):
                        self.set_font(UNI, "", BODY_PT - 0.5)
                        text = self.fit_cell(self.break_at_hyphens(value, room), room)
                        row.cell(text, style=FontFace(family=UNI, size_pt=BODY_PT - 0.5))
                    else:
                        self.set_font("Helvetica", "", BODY_PT)
                        row.cell(self.fit_cell(self.break_at_hyphens(latin1(value), room), room))
        self.ln(4)

    def cell_lines(self, text: str, room: float) -> int:
        lines = self.multi_cell(room, CELL_LINE_MM, text, dry_run=True, output="LINES")
        return len(lines)  # type: ignore[arg-type]

    def fits_unwrapped(self, text: str, room: float) -> bool:
        """True when no line of ``text`` needs wrapping in ``room`` and there are few
        enough lines: then the cell fits without the dry run of fpdf2's line breaking
        (which measures every character; most cells are a few words)."""
        lines = text.split("\n")
        width = room - 2 * self.c_margin  # what multi_cell leaves for the text
        return len(lines) <= MAX_CELL_LINES and all(
            self.get_string_width(line) <= width for line in lines
        )

    def fit_cell(self, text: str, room: float) -> str:
        """The cell's text, cut to ``MAX_CELL_LINES`` lines with a note pointing at the
        JSON and CSV reports, which hold it in full: a table row cannot be split across
        pages, and one taller than a page made fpdf2 refuse the whole report (issue 14)."""
        if self.fits_unwrapped(text, room) or self.cell_lines(text, room) <= MAX_CELL_LINES:
            return text

        def cut(keep: int) -> str:
            rest = len(text) - keep
            return (
                f"{text[:keep].rstrip()}... [{rest:,} more characters: the full text is in "
                "this report's JSON and CSV]"
            )

        low, high = 0, len(text)  # the longest prefix whose cut text still fits
        while low < high:
            middle = (low + high + 1) // 2
            if self.cell_lines(cut(middle), room) <= MAX_CELL_LINES:
                low = middle
            else:
                high = middle - 1
        return cut(low)

    def break_at_hyphens(self, text: str, room: float) -> str:
        """Break words wider than the column after a hyphen (rule ids, request ids).

        fpdf2 would otherwise cut them at an arbitrary letter ("FOLLOW|UP").
        """
        lines = []
        for line in text.split("\n"):
            words = []
            for word in line.split(" "):
                if "-" in word and self.get_string_width(word) > room:
                    words.append(self._split_hyphenated(word, room))
                else:
                    words.append(word)
            lines.append(" ".join(words))
        return "\n".join(lines)

    def _split_hyphenated(self, word: str, room: float) -> str:
        parts = [p + "-" for p in word.split("-")]
        parts[-1] = parts[-1][:-1]
        out, current = [], ""
        for part in parts:
            if current and self.get_string_width(current + part) > room:
                out.append(current)
                current = part
            else:
                current += part
        out.append(current)
        return "\n".join(out)

    def chart(self, block: Chart) -> None:
        width_px, height_px = png_size(block.png)
        width = self.epw
        height = width * height_px / width_px
        # Shrink a little rather than leave the rest of the page empty.
        fits = min(1.0, (self.room_left() - 2) / height)
        if fits >= CHART_SHRINK:
            width, height = width * fits, height * fits
        self.keep_room(height + 2)
        self.image(io.BytesIO(block.png), x=MARGIN, w=width, h=height, alt_text=latin1(block.alt))
        self.ln(3)

    def checkpoint(self, block: Pre) -> None:
        lines = block.text.rstrip("\n").split("\n")
        longest = max((len(line) for line in lines), default=1)
        inner = self.epw - 8
        # DejaVu Sans Mono advances 0.602 em; 1 pt = 0.3528 mm. Fit the longest line
        # (the signature) on one line so the note prints as it is, down to 6.5 pt.
        size = max(6.5, min(10.0, inner / (longest * 0.602 * 0.3528)))
        height = (len(lines) + 1) * size * 0.3528 * 1.45 + 8
        self.keep_room(height)
        self.set_font(MONO, "", size)
        self.set_fill_color(246, 246, 246)
        self.multi_cell(
            self.epw,
            size * 0.3528 * 1.45,
            block.text.rstrip("\n"),
            border=1,
            fill=True,
            padding=4,
            wrapmode=WrapMode.CHAR,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(3)

    def block(self, block: Block) -> None:
        if isinstance(block, Table):
            self.table_block(block)
        elif isinstance(block, Facts):
            self.facts(block)
        elif isinstance(block, Chart):
            self.chart(block)
        elif isinstance(block, Pre):
            self.checkpoint(block)
        else:
            self.para(block)


def png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ReportError("a chart is not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# The first page is the Director's: the summary and what needs her attention. Later
# sections follow on when a good part of a page is still free (a heading with its first
# table rows or chart), so no page is left nearly empty; the proof starts its own page.
SECTION_ROOM = 40.0  # mm
FIRST_PAGE = ("summary", "attention")


def render_pdf(report: ComplianceReport, sections: Sequence[Section] | None = None) -> bytes:
    """The report as PDF bytes. ``sections``: ``report_sections(report)`` when the caller
    has them already (the demo writes the HTML too: the charts are drawn once)."""
    pdf = ReportPDF(report)
    pdf.add_page()
    title = pdf.text_font(report_title(report), "B", 18)
    pdf.multi_cell(pdf.epw, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.facts(header_facts(report), label_width=32)
    pdf.set_line_width(0.5)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.ln(4)
    for section in report_sections(report) if sections is None else sections:
        if section.anchor == "proof":
            pdf.add_page()
        elif section.anchor not in FIRST_PAGE:
            pdf.ln(4)
            pdf.keep_room(SECTION_ROOM)
        elif section.anchor != FIRST_PAGE[0]:
            pdf.ln(3)
        pdf.heading(section.title, section.blocks[0] if section.blocks else None)
        for block in section.blocks:
            pdf.block(block)
    return bytes(pdf.output())


def write_pdf(
    report: ComplianceReport,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    sections: Sequence[Section] | None = None,
) -> Path:
    return write_atomically(path, render_pdf(report, sections), force=force)
