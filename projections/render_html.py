"""The compliance report as one self-contained, printable, accessible HTML file, laid out
from the document blocks of ``projections.report_document``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from projections.compliance_model import (
    ComplianceReport,
    write_atomically,
)
from projections.report_document import (
    Block,
    Chart,
    Facts,
    Para,
    Pre,
    Section,
    header_facts,
    report_sections,
    report_title,
)

# --- HTML -------------------------------------------------------------------------------

CSS = """
body{font:11pt/1.4 "Helvetica Neue",Helvetica,Arial,sans-serif;color:#111;margin:2em auto;
max-width:60em;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.25em;border-bottom:2px solid #111;
margin:1.6em 0 .6em;padding-bottom:.15em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1.2em;font-size:.9em}
table.compact{width:auto;min-width:20em}
caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #888;padding:.25em .4em;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
th{overflow-wrap:normal;word-break:normal;hyphens:manual}
thead th{background:#e6e6e6}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0 1em}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0;overflow-wrap:anywhere}
.sev-VIOLATION{font-weight:bold}
img{max-width:100%;height:auto;display:block;margin:.5em 0 1em}
pre{border:1px solid #111;padding:.8em;white-space:pre-wrap;overflow-wrap:anywhere;
font:10pt/1.35 "DejaVu Sans Mono",Menlo,Consolas,monospace;background:#f6f6f6}
p.empty{font-style:italic}
p.strong{font-weight:bold}
@media print{body{margin:0;max-width:none;font-size:10pt}
section#proof{break-before:page}
thead{display:table-header-group}tr,img,pre,dl{break-inside:avoid}
h2{break-after:avoid}caption{break-after:avoid}
@page{size:letter;margin:15mm}}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        return f'<p class="{"strong" if block.strong else "text"}">{_e(block.text)}</p>'
    if isinstance(block, Pre):
        return f'<pre aria-label="{_e(block.label)}">{_e(block.text)}</pre>'
    if isinstance(block, Chart):
        data = base64.b64encode(block.png).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{_e(block.alt)}">'
    if isinstance(block, Facts):
        items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block.items)
        return f'<dl class="facts" aria-label="{_e(block.caption)}">{items}</dl>'
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in block.headers)
    if not block.rows:
        return f'<p class="empty"><strong>{_e(block.caption)}:</strong> {_e(block.empty)}</p>'
    body = []
    for row in block.rows:
        first, rest = row[0], row[1:]
        cells = "".join(f"<td>{_e(c)}</td>" for c in rest)
        body.append(f'<tr><th scope="row" class="sev-{_e(first)}">{_e(first)}</th>{cells}</tr>')
    narrow = ' class="compact"' if block.compact else ""
    return (
        f"<table{narrow}><caption>{_e(block.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_html(report: ComplianceReport, sections: Sequence[Section] | None = None) -> str:
    title = report_title(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        report_body(report, sections=sections),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def report_body(
    report: ComplianceReport,
    *,
    landmark: str = "main",
    sections: Sequence[Section] | None = None,
) -> str:
    """The report's heading, facts and sections (every text escaped), without the page
    around them: the web dashboard shows it inside its own page (``landmark="div"``)."""
    title = report_title(report)
    parts = [
        f"<header><h1>{_e(title)}</h1>{_html_block(header_facts(report))}</header>",
        f"<{landmark}>",
    ]
    for section in report_sections(report) if sections is None else sections:
        parts.append(f'<section id="{section.anchor}" aria-labelledby="h-{section.anchor}">')
        parts.append(f'<h2 id="h-{section.anchor}">{_e(section.title)}</h2>')
        parts.extend(_html_block(b) for b in section.blocks)
        parts.append("</section>")
    parts.append(f"</{landmark}>")
    return "\n".join(parts)


def write_html(
    report: ComplianceReport,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    sections: Sequence[Section] | None = None,
) -> Path:
    return write_atomically(path, render_html(report, sections).encode("utf-8"), force=force)
