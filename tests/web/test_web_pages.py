"""Every page as a person meets it: each field has a label, one <h1> and headings in
order, no inline script or style; the home page counts what it does not list (issue 17,
item 4)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask

from capture.ingest import ingest_paths
from ledger.clock import ManualClock
from tests.conftest import NOW
from tests.identity import DIRECTOR
from tests.integration.footage_helpers import CAMERA, clip
from tests.web.conftest import STAFF, head, kinds_since, sign_in


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.labels: set[str] = set()
        self.headings: list[int] = []
        self.inline: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append(str(a.get("id")))
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in ("h1", "h2", "h3"):
            self.headings.append(int(tag[1]))
        if tag == "script" or tag == "style" or "style" in a or any(k.startswith("on") for k in a):
            self.inline.append(tag)


def _pages(library: dict[str, Any]) -> list[str]:
    return ["/", "/requests", "/requests/new", "/footage", f"/footage/{library['segment']}",
            "/reports", "/history", f"/history?subject={library['segment']}"]  # fmt: skip


def test_every_field_has_a_label_and_headings_are_in_order(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, DIRECTOR)
    fields = 0
    for path in ["/login", *_pages(library)]:
        response = (app.test_client() if path == "/login" else client).get(path)
        assert response.status_code == 200, path
        page = Page()
        page.feed(response.get_data(as_text=True))
        unlabelled = [f for f in page.fields if f not in page.labels]
        assert not unlabelled, (path, unlabelled)
        fields += len(page.fields)
        assert page.headings.count(1) == 1, path
        assert all(b - a <= 1 for a, b in itertools.pairwise(page.headings)), path
        assert page.inline == [], (path, page.inline)
        assert len(page.ids) == len(set(page.ids)), (path, page.ids)
    assert fields > 20  # the forms were there to check


def test_the_home_page_lists_overdue_footage_and_staff_do_not_see_it(
    app: Flask, library: dict[str, Any], clock: ManualClock
) -> None:
    clock.advance(timedelta(days=60))
    html = sign_in(app, DIRECTOR).get("/").get_data(as_text=True)
    assert "FOOTAGE-RETENTION" in html and library["segment"] in html
    assert "Needs your attention" not in sign_in(app, STAFF).get("/").get_data(as_text=True)


def test_the_home_page_lists_this_weeks_refusals(app: Flask, library: dict[str, Any]) -> None:
    staff = sign_in(app, STAFF)
    assert staff.get(f"/history?subject={library['segment']}").status_code == 403
    html = sign_in(app, DIRECTOR).get("/").get_data(as_text=True)
    refusals = html.split('id="refusals"', 1)[1].split("</section>", 1)[0]
    assert "Sam Staff (staff)" in refusals and "READ-CONFIDENTIAL" in refusals


def test_the_home_page_shows_five_overdue_segments_and_counts_the_others(
    app: Flask, library: dict[str, Any], clock: ManualClock, tmp_path: Path
) -> None:
    ledger = footage_ledger_after(library["data_dir"])
    try:
        clips = [clip(tmp_path / "more", n) for n in range(1, 7)]
        ingest_paths(ledger, clips, camera=CAMERA, actor=DIRECTOR)
    finally:
        ledger.close()
    clock.advance(timedelta(days=60))  # all seven overdue
    html = sign_in(app, DIRECTOR).get("/").get_data(as_text=True)
    attention = html.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "8 items, most serious first" in attention  # and the schedule authority, not configured
    assert attention.count("days overdue") == 5
    assert library["segment"] in attention  # the oldest recording first
    assert "…and 2 more FOOTAGE-RETENTION items like these." in attention


def footage_ledger_after(data_dir: Path) -> Any:
    """The library's ledger, its clock a minute past the library's last act (R26)."""
    from ledger.datadir import DataDir
    from tests.identity import open_test_ledger

    return open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(minutes=1)))


def test_history_refuses_staff_alike_for_a_subject_that_exists_and_one_that_does_not(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F5: 403 for a real subject and 404 for a missing one told staff which
    requests, holds and patrons exist."""
    staff = sign_in(app, STAFF)
    real = staff.get(f"/history?subject={library['segment']}")
    missing = staff.get("/history?subject=R-2026-0099")
    assert real.status_code == missing.status_code == 403
    start = head(library["data_dir"])
    staff.get("/history?subject=H-00000000")
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]  # recorded alike
