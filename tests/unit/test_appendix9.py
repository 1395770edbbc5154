"""Appendix 9, the officer's request form: renders, and says what it must say."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

from projections.appendix9 import latin1, render_appendix9

FORM = {
    "form_id": "A9-2026-0007",
    "request_at": "2026-03-10 14:05 CDT",
    "release_at": "2026-03-10 14:40 CDT",
    "officer_name": "Dana O\u2019Reilly",
    "officer_rank": "Sergeant",
    "badge_number": "4471",
    "agency": "Mahomet Police Department",
    "agency_phone": "(217) 555-0142",
    "id_examined": True,
    "sworn_officer": True,
    "court_order_impractical": True,
    "imminent_danger": True,
    "identification_purpose": True,
    "role_sought": "victim",
    "emergency_description": "Missing child \u2014 last seen at 13:15 near the \u201cteen room\u201d.",
    "information_requested": ["name", "address", "phone", "card_number"],
    "information_released": ["name", "address", "phone"],
    "director_name": "Pat Example",
    "director_title": "Director",
}


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def extracted_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_a_filled_form_renders_on_one_page_with_officer_and_citation(tmp_path: Path) -> None:
    out = tmp_path / "a9.pdf"
    render_appendix9(FORM, out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1
    text = extracted_text(out)
    assert "Dana O'Reilly" in text
    assert "75 ILCS 70/1(a)(2)" in text
    assert 'Missing child -- last seen at 13:15 near the "teen room".' in text
    assert "may seek subsequent judicial review" in text
    assert "name, address, phone" in text


def test_a_blank_form_prints_lines_to_fill_in_and_fits_one_page(tmp_path: Path) -> None:
    out = tmp_path / "blank.pdf"
    render_appendix9({}, out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1
    text = extracted_text(out)
    if text is not None:
        assert "Officer's Request for Confidential Information" in text
        assert "Officer signature" in text


def test_a_long_description_flows_to_a_second_page_without_splitting_a_box(
    tmp_path: Path,
) -> None:
    out = tmp_path / "long.pdf"
    render_appendix9({**FORM, "emergency_description": "An urgent situation. " * 120}, out)
    assert page_count(out.read_bytes()) == 2


def test_non_latin1_text_is_transliterated() -> None:
    assert latin1("a \u2014 b \u201cq\u201d \u2018s\u2019 \u2026 \u0141\u00f3d\u017a") == (
        "a -- b \"q\" 's' ... Lódz"
    )
