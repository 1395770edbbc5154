"""A small library for the dashboard's tests: the Director, a Business Manager, a member
of staff and counsel (each with a test passphrase), a camera and one footage segment;
the web application on a ManualClock, and browsers (Flask test clients) signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from capture.ingest import ingest_paths
from ledger.app import Ledger, open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW
from tests.identity import DIRECTOR, enrol, passphrase
from tests.integration.footage_helpers import CAMERA, MANAGER, STAFF, clip, footage_ledger

COUNSEL = "Cora Counsel"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')  # any form's


@pytest.fixture
def library(data_dir: Path, tmp_path: Path) -> dict[str, Any]:
    ledger = footage_ledger(data_dir)
    enrol(ledger, COUNSEL, "counsel", actor=DIRECTOR)
    summary = ingest_paths(ledger, [clip(tmp_path / "clips")], camera=CAMERA, actor=DIRECTOR)
    [segment] = [o.segment_id for o in summary.outcomes if o.segment_id]
    ledger.close()
    return {"data_dir": data_dir, "segment": segment}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW + timedelta(minutes=5))


@pytest.fixture
def app(library: dict[str, Any], clock: ManualClock) -> Iterator[Flask]:
    from web.app import create_app, desk

    app = create_app(library["data_dir"], clock=clock)
    with app.app_context():
        ledger = desk().ledger
    yield app
    ledger.close()


def token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(app: Flask, name: str, secret: str | None = None, **extra: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"name": name, "passphrase": secret or passphrase(name), "csrf_token": token(page),
              **extra},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any], *, form_page: str) -> Any:
    """Submit a form as a browser does: with the token of the page the form is on."""
    html = client.get(form_page).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": token(html)})


def kinds_since(data_dir: Path, position: int) -> list[str]:
    ledger = reader(data_dir)
    try:
        return [e.kind for e in ledger.read_log(start=position + 1)]
    finally:
        ledger.close()


def reader(data_dir: Path) -> Ledger:
    return open_ledger(DataDir.open(data_dir))


def head(data_dir: Path) -> int:
    ledger = reader(data_dir)
    try:
        return ledger.chain_head()[0]
    finally:
        ledger.close()


__all__ = ["CAMERA", "COUNSEL", "DIRECTOR", "MANAGER", "STAFF"]
