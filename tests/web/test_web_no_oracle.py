"""No existence oracle (issue 17 review): a member who may not see a request (not one
who lists every request, and not the member who took it in) gets exactly the page a
reference that does not exist gets, on every route with a request in its path; the
refused attempt on the existing one is recorded, the missing one records nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import DIRECTOR, STAFF, head, kinds_since, post, sign_in, token

MISSING = "R-2099-9999"
GETS = [
    "/requests/{ref}",
    "/requests/{ref}/court-order",
    "/requests/{ref}/counsel-review",
    "/requests/{ref}/foia-extend",
    "/requests/{ref}/emergency",
    "/requests/{ref}/acknowledge",
    "/requests/{ref}/follow-up",
    "/requests/{ref}/appendix9.pdf",
]
POSTS = [
    "/requests/{ref}/decide",
    "/requests/{ref}/release",
    "/requests/{ref}/export",
    "/requests/{ref}/exports/download",
    "/requests/{ref}/record",
    "/requests/{ref}/court-order",
    "/requests/{ref}/counsel-review",
    "/requests/{ref}/foia-extend",
    "/requests/{ref}/emergency",
    "/requests/{ref}/acknowledge",
    "/requests/{ref}/follow-up",
]


def _directors_request(app: Flask) -> str:
    """A request the Director took in: a member of staff may not see it."""
    director = sign_in(app, DIRECTOR)
    data = {"requester_kind": "public", "requester": "A. Neighbour", "received_by": DIRECTOR,
            "records": "registration", "description": "who borrowed it"}  # fmt: skip
    response = post(director, "/requests/new", data, form_page="/requests/new")
    found = re.fullmatch(r"/requests/(R-\d{4}-\d{4})", response.headers["Location"])
    assert found
    return found.group(1)


def _answer(client: FlaskClient, method: str, path: str, ref: str) -> tuple[int, str]:
    if method == "GET":
        response = client.get(path.format(ref=ref))
    else:
        csrf = token(client.get("/requests").get_data(as_text=True))
        response = client.post(path.format(ref=ref), data={"csrf_token": csrf})
    text = response.get_data(as_text=True).replace(ref, "REF")
    # the menu's sign-out form carries a CSRF token that changes with the second, not with
    # the request
    return response.status_code, re.sub(
        r'(name="csrf_token" type="hidden" value=)"[^"]*"', r"\1T", text
    )


@pytest.mark.parametrize("method,path", [("GET", p) for p in GETS] + [("POST", p) for p in POSTS])
def test_a_request_the_member_may_not_see_looks_like_one_that_does_not_exist(
    app: Flask, library: dict[str, Any], method: str, path: str
) -> None:
    ref = _directors_request(app)
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    refused = _answer(staff, method, path, ref)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]  # recorded
    start = head(library["data_dir"])
    missing = _answer(staff, method, path, MISSING)
    assert kinds_since(library["data_dir"], start) == []
    assert refused == missing
    assert refused[0] == 404 and "does not exist" in refused[1]


def test_the_member_who_took_it_in_and_the_oversight_roles_still_see_it(
    app: Flask, library: dict[str, Any]
) -> None:
    from tests.web.conftest import MANAGER

    ref = _directors_request(app)
    assert sign_in(app, DIRECTOR).get(f"/requests/{ref}/court-order").status_code == 200
    manager = sign_in(app, MANAGER)  # lists every request: may know it exists
    assert manager.get(f"/requests/{ref}/court-order").status_code == 200
    assert manager.get(f"/requests/{ref}").status_code == 403  # but not read its record
    staff = sign_in(app, STAFF)
    data = {"requester_kind": "public", "requester": "B. Reader", "received_by": STAFF,
            "records": "registration", "description": "a question"}  # fmt: skip
    mine = post(staff, "/requests/new", data, form_page="/requests/new").headers["Location"]
    assert staff.get(f"{mine}/court-order").status_code == 200
    assert staff.get(mine).status_code == 200


def test_an_error_page_keeps_the_menu_and_drops_the_command_line_pointer(
    app: Flask, library: dict[str, Any]
) -> None:
    response = sign_in(app, DIRECTOR).get(f"/requests/{MISSING}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "does not exist" in html
    assert "custodes request list" not in html  # a terminal's hint, not a browser's
    assert "Sign out" in html and 'href="/requests"' in html
