"""A clock set ahead on the dashboard (R26): every page says nothing can be recorded, and
the Director sets the time aside from her home page (``custodes clock correct``'s act),
her passphrase again first. On both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from tests.conftest import NOW
from tests.identity import DIRECTOR, open_test_ledger, passphrase
from tests.web.conftest import STAFF, head, kinds_since, post, sign_in


def block(data_dir: Path) -> int:
    """A staff member's act recorded 400 days ahead (the Python API, her own clock)."""
    ahead = open_test_ledger(DataDir.open(data_dir), clock=ManualClock(NOW + timedelta(days=400)))
    try:
        with pytest.raises(NotPermitted):
            ahead.register_camera(
                "c-ahead", location="Hall", zone="public", signage_posted=True, actor=STAFF
            )
        return ahead.chain_head()[0]
    finally:
        ahead.close()


def test_the_director_sets_the_time_aside_from_her_home_page(
    app: Flask, library: dict[str, Any]
) -> None:
    data_dir = library["data_dir"]
    position = block(data_dir)
    staff = sign_in(app, STAFF)
    home = staff.get("/").get_data(as_text=True)
    assert "Nothing can be recorded now" in home and f"from entry {position} on was" in home
    assert "Only the Director can set it aside" in home and "/clock/correct" not in home

    director = sign_in(app, DIRECTOR)
    home = director.get("/").get_data(as_text=True)
    assert 'action="/clock/correct"' in home
    wrong = post(director, "/clock/correct", {"reason": "BIOS", "passphrase": "not hers"},
                 form_page="/")  # fmt: skip
    assert wrong.status_code == 403
    page = wrong.get_data(as_text=True)
    assert "not recorded" in page and "This attempt was recorded" not in page
    assert head(data_dir) == position  # the blocked ledger took nothing
    done = post(
        director, "/clock/correct",
        {"reason": "front desk PC a year ahead", "passphrase": passphrase(DIRECTOR)},
        form_page="/",
    )  # fmt: skip
    assert done.status_code == 302, done.get_data(as_text=True)
    assert kinds_since(data_dir, position) == ["ClockCorrected"]
    home = director.get("/").get_data(as_text=True)
    assert "Nothing can be recorded now" not in home
    assert "The ledger&#39;s clock was corrected" in home or "clock was corrected" in home


def test_only_the_director_may_post_it(app: Flask, library: dict[str, Any]) -> None:
    position = block(library["data_dir"])
    staff = sign_in(app, STAFF)
    refused = post(staff, "/clock/correct", {"reason": "mine", "passphrase": passphrase(STAFF)},
                   form_page="/")  # fmt: skip
    assert refused.status_code == 403
    assert "RECORDED-TIME" in refused.get_data(as_text=True)
    assert head(library["data_dir"]) == position


def test_an_act_refused_by_the_clock_says_what_to_do_in_the_browser(
    app: Flask, library: dict[str, Any]
) -> None:
    """Reading a subject's history is recorded (R27): blocked, the page says nothing was
    recorded and who can lift it, not the command line's wording alone."""
    position = block(library["data_dir"])
    director = sign_in(app, DIRECTOR)
    shown = director.get(f"/history?subject={library['segment']}")
    assert shown.status_code == 503
    page = shown.get_data(as_text=True)
    assert "Nothing was recorded" in page and "the Director sets it aside (her" in page
    assert head(library["data_dir"]) == position
