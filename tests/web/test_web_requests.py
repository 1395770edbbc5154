"""Requests in the browser: intake, the readable record (reads recorded, R27), the
Director's decision and the release with the passphrase again, two browsers at once,
roles refused and recorded, text shown inert (issue 17, item 3)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.identity import DIRECTOR, passphrase
from tests.web.conftest import COUNSEL, MANAGER, STAFF, head, kinds_since, post, sign_in, token

SCRIPT = "<script>alert('x')</script>"


def _intake(client: FlaskClient, library: dict[str, Any], **over: str) -> Any:
    data = {
        "requester_kind": "law_enforcement",
        "requester": "Det. Ray, Mahomet PD",
        "received_by": STAFF,
        "records": "footage",
        "description": "lobby footage of the morning of 1 November",
        "footage": library["segment"],
        "case_number": "2026-CF-9",
        **over,
    }
    return post(client, "/requests/new", data, form_page="/requests/new")


def _opened(client: FlaskClient, library: dict[str, Any], **over: str) -> str:
    response = _intake(client, library, **over)
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/requests/(R-\d{4}-\d{4})", response.headers["Location"])
    assert found
    return found.group(1)


def _decide(client: FlaskClient, ref: str, **over: str) -> Any:
    data = {"decision": "approve", "reason": "an open investigation of a theft",
            "passphrase": passphrase(DIRECTOR), **over}  # fmt: skip
    html = client.get(f"/requests/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    return client.post(
        f"/requests/{ref}/decide",
        data={**data, "seen": seen.group(1), "csrf_token": token(html)},
    )


def test_staff_take_a_request_in_and_read_what_they_entered(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    ref = _opened(staff, library)
    page = staff.get(f"/requests/{ref}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Det. Ray, Mahomet PD" in html
    assert "Field by field" in html and "Record the decision" not in html  # not a Director
    assert kinds_since(library["data_dir"], start)[-1] == "ConfidentialRecordRead"
    home = staff.get("/").get_data(as_text=True)
    assert ref in home and "Needs your attention" not in home  # their own tasks only


def test_a_member_who_may_not_read_a_request_is_refused_and_it_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    manager = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    response = manager.get(f"/requests/{ref}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "READ-CONFIDENTIAL" in html and "was recorded" in html
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_the_director_decides_with_her_passphrase_again_then_releases(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    director = sign_in(app, DIRECTOR)
    home = director.get("/").get_data(as_text=True)
    assert f'href="/requests/{ref}"' in home  # awaiting her decision
    start = head(library["data_dir"])
    assert _decide(director, ref).status_code == 302
    kinds = kinds_since(library["data_dir"], start)
    assert kinds[-1] == "DisclosureDecided"
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "approved by Dana Director" in html and "Record the release" in html
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    response = director.post(
        f"/requests/{ref}/release",
        data={"footage": library["segment"], "to": "Det. Ray", "method": "in person",
              "passphrase": passphrase(DIRECTOR), "seen": seen.group(1),
              "csrf_token": token(html)},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Releases" in html and "to Det. Ray" in html


def test_a_wrong_passphrase_at_the_decision_is_recorded_and_nothing_decided(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = _decide(director, ref, passphrase="not her passphrase")
    assert response.status_code == 403
    assert "Nothing was decided" in response.get_data(as_text=True)
    kinds = kinds_since(library["data_dir"], start)
    assert "AuthenticationFailed" in kinds and "DisclosureDecided" not in kinds


def test_a_decision_without_the_csrf_token_is_refused_and_nothing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = director.post(
        f"/requests/{ref}/decide",
        data={"decision": "approve", "reason": "r", "passphrase": passphrase(DIRECTOR)},
    )
    assert response.status_code == 400
    assert head(library["data_dir"]) == start


def test_staff_and_counsel_cannot_decide_and_the_attempt_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    for name in (STAFF, COUNSEL):
        client = sign_in(app, name)
        html = client.get(f"/requests/{ref}").get_data(as_text=True)
        start = head(library["data_dir"])
        response = client.post(
            f"/requests/{ref}/decide",
            data={"decision": "approve", "reason": "why not", "passphrase": passphrase(name),
                  "csrf_token": token(html)},
        )  # fmt: skip
        assert response.status_code == 403
        kinds = kinds_since(library["data_dir"], start)
        assert "AccessDenied" in kinds and "DisclosureDecided" not in kinds


def test_two_browsers_deciding_at_once_one_wins_and_the_other_is_told_why(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _opened(sign_in(app, STAFF), library)
    first, second = sign_in(app, DIRECTOR), sign_in(app, DIRECTOR)
    html = second.get(f"/requests/{ref}").get_data(as_text=True)  # opened before the first
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    assert _decide(first, ref).status_code == 302
    start = head(library["data_dir"])
    response = second.post(
        f"/requests/{ref}/decide",
        data={"decision": "deny", "reason": "second thoughts", "seen": seen.group(1),
              "passphrase": passphrase(DIRECTOR), "csrf_token": token(html)},
    )  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "approved" in text and "while you had this page open" in text
    assert "DisclosureDecided" not in kinds_since(library["data_dir"], start)


def test_html_typed_into_any_text_field_is_shown_as_text(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    ref = _opened(staff, library, requester=SCRIPT, description=f"asks for {SCRIPT}")
    for client in (staff, sign_in(app, DIRECTOR)):
        for path in (f"/requests/{ref}", "/requests", "/"):
            html = client.get(path).get_data(as_text=True)
            assert "<script>" not in html
        assert "&lt;script&gt;" in client.get(f"/requests/{ref}").get_data(as_text=True)


def test_bad_intake_keeps_what_was_typed_and_records_nothing(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    response = _intake(staff, library, footage="no-such-segment")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was recorded" in html
    assert "Det. Ray, Mahomet PD" in html  # what was typed is still in the form
    assert head(library["data_dir"]) == start


def test_verify_now_is_for_oversight_roles(app: Flask, library: dict[str, Any]) -> None:
    director = sign_in(app, DIRECTOR)
    assert post(director, "/verify", {}, form_page="/").status_code == 302
    assert "OK," in director.get("/").get_data(as_text=True)
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    assert post(staff, "/verify", {}, form_page="/").status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_a_directors_form_without_its_opened_at_version_is_stale_and_nothing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    """The stale check comes after authorization: the Director may decide and release, so
    a form that does not say which version it was opened on is stale (409, nothing
    recorded); staff and counsel without it are still refused and recorded (above)."""
    ref = _opened(sign_in(app, STAFF), library)
    director = sign_in(app, DIRECTOR)

    def unversioned(path: str, data: dict[str, str]) -> None:
        html = director.get(f"/requests/{ref}").get_data(as_text=True)
        start = head(library["data_dir"])
        response = director.post(
            path, data={**data, "passphrase": passphrase(DIRECTOR), "csrf_token": token(html)}
        )
        text = response.get_data(as_text=True)
        assert response.status_code == 409, text
        # it says what happened: the form is unversioned, not that someone acted meanwhile
        assert "does not say which version" in text and "while you had" not in text
        kinds = kinds_since(library["data_dir"], start)
        assert not {"DisclosureDecided", "DisclosureReleased", "AccessDenied"} & set(kinds)

    unversioned(f"/requests/{ref}/decide", {"decision": "approve", "reason": "a theft"})
    assert _decide(director, ref).status_code == 302  # with its version, it is recorded
    unversioned(f"/requests/{ref}/release",
                {"footage": library["segment"], "to": "Det. Ray", "method": "in person"})  # fmt: skip

    # a release made from another page meanwhile: the late form says it was released
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    data = {"footage": library["segment"], "to": "Det. Ray", "method": "in person",
            "passphrase": passphrase(DIRECTOR), "seen": seen.group(1), "csrf_token": token(html)}  # fmt: skip
    assert director.post(f"/requests/{ref}/release", data=data).status_code == 302
    late = director.post(f"/requests/{ref}/release", data=data)
    assert late.status_code == 409
    assert "has changed since this page was opened: it was released" in late.get_data(as_text=True)


def test_staff_list_the_requests_they_took_in_by_their_signed_intake_not_the_typed_name(
    app: Flask, library: dict[str, Any]
) -> None:
    """The same rule as `custodes request list` (``request_list_scope``): staff see the
    requests whose intake they signed, whatever "received by" says."""
    staff = sign_in(app, STAFF)
    theirs = _opened(staff, library, received_by=DIRECTOR)  # typed as Dana's
    director = sign_in(app, DIRECTOR)
    hers = _opened(director, library, received_by=STAFF)  # typed as Sam's, taken in by Dana
    for path in ("/requests", "/"):
        html = staff.get(path).get_data(as_text=True)
        assert f'href="/requests/{theirs}"' in html, path
        assert f'href="/requests/{hers}"' not in html, path
    listed = director.get("/requests").get_data(as_text=True)
    assert f'href="/requests/{theirs}"' in listed and f'href="/requests/{hers}"' in listed


def _refuse_appends(data_dir: Any) -> None:
    """The database itself refuses every new ledger entry (a trigger), as a database
    that may no longer be written to does."""
    from tests.cli.db_helpers import database_url, execute

    if database_url(data_dir).startswith("sqlite"):
        execute(data_dir, "CREATE TRIGGER refuse BEFORE INSERT ON ledger_events "
                "BEGIN SELECT RAISE(ABORT, 'appends refused'); END")  # fmt: skip
        return
    execute(data_dir, "CREATE FUNCTION refuse_appends() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'appends refused'; END $$ LANGUAGE plpgsql")  # fmt: skip
    execute(data_dir, "CREATE TRIGGER refuse BEFORE INSERT ON ledger_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_appends()")  # fmt: skip


def test_verify_now_that_the_database_cannot_record_says_so(
    app: Flask, library: dict[str, Any]
) -> None:
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    _refuse_appends(library["data_dir"])
    response = post(director, "/verify", {}, form_page="/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert f"OK: the {start} entries verify" in html
    assert "not recorded" in html and "appends refused" in html
    assert head(library["data_dir"]) == start
    assert "never recorded" in director.get("/").get_data(as_text=True)


def test_the_disclosure_record_of_a_release_downloads_as_a_zip_the_recipient_checks(
    app: Flask, library: dict[str, Any], tmp_path: Any
) -> None:
    import io
    import subprocess
    import zipfile

    staff = sign_in(app, STAFF)
    ref = _opened(staff, library)
    director = sign_in(app, DIRECTOR)
    assert _decide(director, ref).status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Disclosure record" not in html  # nothing released yet
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    director.post(
        f"/requests/{ref}/release",
        data={"footage": library["segment"], "to": "Det. Ray", "method": "in person",
              "passphrase": passphrase(DIRECTOR), "seen": seen.group(1),
              "csrf_token": token(html)},
    )  # fmt: skip
    # Staff took the request in but did not release it: no record for them, and a
    # forged post is refused and recorded.
    page = staff.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Download the disclosure record" not in page
    start = head(library["data_dir"])
    refused = staff.post(
        f"/requests/{ref}/record", data={"release": "1", "csrf_token": token(page)}
    )
    assert refused.status_code == 403 and "READ-CONFIDENTIAL" in refused.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start)[-1] == "AccessDenied"
    # Nor the Business Manager, who does not read request records on the web (web
    # red-team F7: his forged post got the record, its details unrecorded as a read).
    manager = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    own = manager.get("/").get_data(as_text=True)  # his session's token
    refused = manager.post(
        f"/requests/{ref}/record", data={"release": "1", "csrf_token": token(own)}
    )
    assert refused.status_code == 403 and "READ-CONFIDENTIAL" in refused.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]

    page = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Download the disclosure record (zip)" in page and "release 1:" in page
    start = head(library["data_dir"])
    response = director.post(
        f"/requests/{ref}/record", data={"release": "1", "csrf_token": token(page)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    assert kinds_since(library["data_dir"], start)[-1] == "RecordIssued"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as z:
        z.extractall(tmp_path / "got")
    [package] = list((tmp_path / "got").iterdir())
    assert package.name.startswith(f"record-{ref}-")
    done = subprocess.run(
        ["python3", "-I", "verify.py"], cwd=package, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"release 1 of {ref} to Det. Ray" in done.stdout
    # No copy stays behind in the data directory.
    left = library["data_dir"] / "exports" / "records-in-progress"
    assert not left.exists() or not any(left.iterdir())


def test_a_posted_field_beyond_the_decision_is_refused_and_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F6: the form's own check turned it away (400) before the ledger saw
    it, so the refusal the command line records was not recorded."""
    ref = _opened(sign_in(app, STAFF), library)
    director = sign_in(app, DIRECTOR)
    assert _decide(director, ref).status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    start = head(library["data_dir"])
    response = director.post(
        f"/requests/{ref}/release",
        data={"footage": library["segment"], "fields": "titles", "to": "Det. Ray",
              "method": "in person", "passphrase": passphrase(DIRECTOR),
              "seen": seen.group(1), "csrf_token": token(html)},
    )  # fmt: skip
    assert response.status_code == 403, response.get_data(as_text=True)
    assert "Titles was not requested or decided" in response.get_data(as_text=True)
    kinds = kinds_since(library["data_dir"], start)
    assert kinds[-1] == "AccessDenied" and "DisclosureReleased" not in kinds


def test_a_guardian_is_told_a_minors_fines_on_the_web_without_a_decision(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F11: the intake had no guardianship field and the release form
    offered nothing without a decision, so R4's path could not be finished on the web."""
    staff = sign_in(app, STAFF)
    ref = _opened(
        staff, library, requester_kind="parent_guardian", requester="Pat Parent",
        records="fines_fees", description="what the minor owes", footage="", case_number="",
        patron_card="2100012345", patron_name="Kim Minor", minor="y",
        guardianship="birth-certificate", guardianship_note="her name is on it",
    )  # fmt: skip
    html = staff.get(f"/requests/{ref}").get_data(as_text=True)
    assert "birth certificate: her name is on it" in html  # the document chosen, its note
    assert "Record the release" in html and "fines total" in html
    assert "titles" not in html.split('id="release"', 1)[1]
    assert "not needed for the fines and fees" in html  # not "pending"
    assert re.search(r"<input[^>]*name=\"to\"[^>]*value=\"Pat Parent\"", html)  # who asked
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    start = head(library["data_dir"])
    response = staff.post(
        f"/requests/{ref}/release",
        data={"fields": "fines_total", "to": "Pat Parent", "method": "at the desk",
              "passphrase": passphrase(STAFF), "seen": seen.group(1),
              "csrf_token": token(html)},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start)[-1] == "DisclosureReleased"
