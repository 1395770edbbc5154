"""The dashboard reads the read models checked against their seals (R29), as the command
line does: a row changed with plain SQL is never shown on the footage list, the home page
or the requests list; the page says the read models do not match the ledger, names the
table, and nothing is recorded (issue 17 review, item 1)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.cli.db_helpers import execute
from tests.identity import DIRECTOR
from tests.web.conftest import STAFF, head, post, sign_in

FORGERIES = {
    # the segment's deadline moved far away: it would no longer be due
    "retention_segments": "UPDATE proj_retention_segments "
    "SET keep_until = '2099-01-01 00:00:00.000000'",
    # footage kept for a month made to look overdue for purge (a violation on the home
    # page, which checks only the segments whose retention has ended: seal buckets)
    "retention_overdue": "UPDATE proj_retention_segments "
    "SET keep_until = '2000-01-01 00:00:00.000000'",
    # the request's row deleted: it would vanish from the register
    "disclosures": "DELETE FROM proj_disclosures",
    # the request made the Director's own: it would be listed as one she took in (the
    # home page picks hers from the register it read for the attention list)
    "request_entries": "UPDATE proj_request_entries SET entered_by = 'Dana Director'",
}


def _request(app: Flask, library: dict[str, Any]) -> None:
    data = {"requester_kind": "public", "requester": "A reporter", "received_by": STAFF,
            "records": "footage", "description": "the lobby", "footage": library["segment"]}  # fmt: skip
    staff = sign_in(app, STAFF)
    response = post(staff, "/requests/new", data, form_page="/requests/new")
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/footage", "retention_segments"),
        ("/", "retention_overdue"),
        ("/", "disclosures"),
        ("/", "request_entries"),
        ("/requests", "disclosures"),
    ],
)
def test_a_page_never_shows_a_read_model_changed_with_sql(
    app: Flask, library: dict[str, Any], path: str, table: str
) -> None:
    _request(app, library)
    director = sign_in(app, DIRECTOR)
    assert director.get(path).status_code == 200  # the read models caught up, sealed
    execute(library["data_dir"], FORGERIES[table])
    start = head(library["data_dir"])
    response = director.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 500, html
    assert "Read models do not match the ledger (R29)" in html
    assert "proj_" + table.replace("_overdue", "_segments") in html
    assert head(library["data_dir"]) == start  # nothing recorded


def test_the_home_page_lists_the_requests_this_member_took_in(
    app: Flask, library: dict[str, Any]
) -> None:
    _request(app, library)  # taken in by staff
    director = sign_in(app, DIRECTOR)
    data = {"requester_kind": "public", "requester": "A neighbour", "received_by": DIRECTOR,
            "records": "footage", "description": "the car park", "footage": library["segment"]}  # fmt: skip
    assert post(director, "/requests/new", data, form_page="/requests/new").status_code == 302
    mine = director.get("/").get_data(as_text=True).split('id="mine"', 1)[1]
    assert mine.count('<tr><td><a href="/requests/') == 1  # hers, not staff's
    staff = sign_in(app, STAFF).get("/").get_data(as_text=True).split('id="mine"', 1)[1]
    assert staff.count('<tr><td><a href="/requests/') == 1


@pytest.mark.parametrize("path", ["/", "/footage"])
def test_read_models_of_an_earlier_version_ask_for_the_upgrade_step(
    app: Flask, library: dict[str, Any], path: str
) -> None:
    """Read models made before rows carried ``asof_from``: the page was "Not accepted"
    (400) with the command line's words ("this command"); it is the server's upgrade
    step, not the reader's mistake: 503, what to run, nothing recorded."""
    import projections.base

    director = sign_in(app, DIRECTOR)
    assert director.get(path).status_code == 200
    execute(library["data_dir"], "ALTER TABLE proj_retention_segments DROP COLUMN asof_from")
    projections.base._SCHEMA_SEEN.clear()  # noqa: SLF001 - as a server started after the upgrade
    start = head(library["data_dir"])
    response = director.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert "Not available right now" in html
    assert "proj_retention_segments" in html and "custodes projections rebuild" in html
    assert "Not accepted" not in html and "this command" not in html
    assert head(library["data_dir"]) == start  # nothing recorded


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's scratch files
def test_a_page_while_a_rebuild_fills_its_scratch_files_says_not_ready(
    app: Flask, library: dict[str, Any]
) -> None:
    """A rebuild on SQLite writes some read models into scratch files of its own until
    it ends: a page meanwhile is 503, "being rebuilt right now", nothing recorded; once
    the rebuild is gone the page is shown again."""
    from sqlalchemy import create_engine, make_url

    from ledger.datadir import DataDir
    from projections import scratch
    from projections.base import most_rows_first, rebuild_groups, rebuild_lock
    from projections.registry import all_projections

    director = sign_in(app, DIRECTOR)
    assert director.get("/footage").status_code == 200
    url = DataDir.open(library["data_dir"]).database_url
    database = str(make_url(url).database)
    engine = create_engine(url)
    start = head(library["data_dir"])
    with rebuild_lock(engine):  # as the rebuild's process holds it
        made = scratch.create(database, most_rows_first(rebuild_groups(all_projections(), 2))[1])
        response = director.get("/footage")
        html = response.get_data(as_text=True)
        assert response.status_code == 503, html
        assert "Not available right now" in html and "being rebuilt right now" in html
        assert "Reload the page when the rebuild has finished" in html
        assert head(library["data_dir"]) == start  # nothing recorded
        scratch.remove(made)  # as the rebuild's merge does
    engine.dispose()
    assert director.get("/footage").status_code == 200
