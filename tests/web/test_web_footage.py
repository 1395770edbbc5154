"""Footage in the browser: cameras, segments filtered, a segment's page, viewing with a
purpose and a reason (recorded; staff refused archived footage and that recorded), the
clip streamed as WebM with no plaintext copy on disk (issue 17, item 4)."""

from __future__ import annotations

import io
from typing import Any

import av
from flask import Flask

from tests.identity import DIRECTOR
from tests.web.conftest import CAMERA, MANAGER, STAFF, head, kinds_since, sign_in, token


def _view(client: Any, segment: str, **over: str) -> Any:
    html = client.get(f"/footage/{segment}").get_data(as_text=True)
    data = {"purpose": "incident_investigation", "reason": "a patron reported a theft", **over}
    return client.post(f"/footage/{segment}", data={**data, "csrf_token": token(html)})


def test_cameras_and_segments_filtered(app: Flask, library: dict[str, Any]) -> None:
    client = sign_in(app, DIRECTOR)
    html = client.get("/footage").get_data(as_text=True)
    assert CAMERA in html and library["segment"] in html and "Main lobby" in html
    assert '<label for="status">Status</label>' in html
    assert library["segment"] in client.get(f"/footage?camera={CAMERA}").get_data(as_text=True)
    assert library["segment"] not in client.get("/footage?status=purged").get_data(as_text=True)
    on_the_day = client.get("/footage?day=2026-11-01").get_data(as_text=True)
    assert library["segment"] in on_the_day
    assert library["segment"] not in client.get("/footage?day=2026-10-01").get_data(as_text=True)
    assert client.get("/footage?camera=no-such-camera").status_code == 404
    # a filter that cannot be read: 400, the form says what is wrong, no list shown
    for query, words in (("status=bogus", "Choose one of: retained"), ("day=2026-02-30", "Not a valid date"),
                         ("day=9999-12-31", "outside the dates a ledger can hold")):  # fmt: skip
        bad = client.get(f"/footage?{query}")
        text = bad.get_data(as_text=True)
        assert bad.status_code == 400 and words in text, text
        assert library["segment"] not in text.split('id="segments"')[1]


def test_the_business_manager_views_with_a_reason_and_the_clip_plays_from_memory(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    response = _view(client, library["segment"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert kinds_since(library["data_dir"], start) == ["FootageViewed"]
    src = html.split('<video id="player" src="', 1)[1].split('"', 1)[0]
    clip = client.get(src)
    assert clip.status_code == 200 and clip.mimetype == "video/webm"
    with av.open(io.BytesIO(clip.data)) as c:
        assert c.streams.video[0].codec_context.name == "vp8"
        assert sum(1 for _ in c.decode(video=0)) == 5  # 1 s at 5 fps
        assert c.duration is not None and abs(c.duration / av.time_base - 1.0) < 0.05
    part = client.get(src, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    viewing = library["data_dir"] / "viewing"
    assert not viewing.exists() or not any(viewing.iterdir())  # nothing on disk
    assert sign_in(app, DIRECTOR).get(src).status_code == 404  # another session's clip


def test_staff_are_refused_archived_footage_and_it_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, STAFF)
    start = head(library["data_dir"])
    response = _view(client, library["segment"])
    assert response.status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_viewing_to_monitor_staff_is_refused_and_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = _view(client, library["segment"], purpose="other",
                     reason="check how the staff performance is at the desk")  # fmt: skip
    assert response.status_code == 403 and "FOOTAGE-NO-STAFF-MONITORING" in response.get_data(
        as_text=True
    )
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    # the refusal reads as a sentence on the page, not as a terminal's "refused: cameras..."
    assert '<p class="notice problem" role="alert">Cameras are not used to monitor' in (
        response.get_data(as_text=True)
    )


def test_a_viewing_without_the_csrf_token_records_nothing(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = client.post(
        f"/footage/{library['segment']}", data={"purpose": "safety", "reason": "a fall"}
    )
    assert response.status_code == 400
    assert head(library["data_dir"]) == start


def test_the_director_records_why_a_reason_naming_staff_is_not_staff_monitoring(
    app: Flask, library: dict[str, Any]
) -> None:
    """As `custodes footage view --not-staff-monitoring`: the same use-case, the same
    check and the same event, the Director's note kept in it."""
    from tests.web.conftest import reader

    client = sign_in(app, DIRECTOR)
    assert "not staff monitoring" in client.get(f"/footage/{library['segment']}").get_data(
        as_text=True
    )
    note = "Sam is the witness, not the subject"
    start = head(library["data_dir"])
    response = _view(client, library["segment"], purpose="safety",
                     reason="Sam Staff reported a patron's fall", not_staff_monitoring=note)  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    ledger = reader(library["data_dir"])
    try:
        [viewed] = list(ledger.read_log(start=start + 1))
    finally:
        ledger.close()
    assert viewed.kind == "FootageViewed" and viewed.details["staff_note"] == note
    assert viewed.details["copy_path"] is None  # nothing on disk to track


def test_the_clip_is_transcoded_while_the_ledger_is_free(
    app: Flask, library: dict[str, Any], monkeypatch: Any
) -> None:
    """The ledger's lock is held to check and to record the viewing only: another
    browser's request may use the ledger while a clip is being transcoded."""
    import threading

    import web.footage
    from web.app import desk

    with app.app_context():
        gate = desk().gate
    free: list[bool] = []
    transcode = web.footage.webm_of

    def watched(plaintext: bytes, *, name: str) -> bytes:
        other = threading.Thread(target=lambda: free.append(_try(gate)))
        other.start()
        other.join()
        return transcode(plaintext, name=name)

    monkeypatch.setattr(web.footage, "webm_of", watched)
    response = _view(sign_in(app, MANAGER), library["segment"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert free == [True]


def _try(lock: Any) -> bool:
    if lock.acquire(timeout=2):
        lock.release()
        return True
    return False


def test_a_viewing_without_a_reason_is_refused_and_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F6: a blank reason was turned away by the form, not recorded."""
    client = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    response = _view(client, library["segment"], reason="   ")
    assert response.status_code == 403, response.get_data(as_text=True)
    assert "A reason is required" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_a_clip_stops_when_its_viewer_is_deactivated(app: Flask, library: dict[str, Any]) -> None:
    """Web red-team F8: the clip streamed on until the member's next page."""
    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from tests.identity import passphrase

    client = sign_in(app, MANAGER)
    html = _view(client, library["segment"]).get_data(as_text=True)
    src = html.split('<video id="player" src="', 1)[1].split('"', 1)[0]
    assert client.get(src).status_code == 200
    ledger = open_ledger(
        DataDir.open(library["data_dir"]), clock=app.extensions["custodes"].ledger.clock
    )
    ledger.authenticate(DIRECTOR, passphrase(DIRECTOR).encode())
    ledger.deactivate_staff(MANAGER, actor=DIRECTOR, reason="left the library")
    ledger.close()
    start = head(library["data_dir"])
    assert client.get(src).status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_messages_in_the_browser_carry_no_command_line_options() -> None:
    """Web red-team F11: "pass --reason TEXT" and "(custodes ...)" are for a terminal."""
    from web.app import for_browser

    assert for_browser("a reason is required; pass --reason TEXT. Nothing was recorded.") == (
        "a reason is required. Nothing was recorded."
    )
    assert for_browser("the reason (--reason) is needed") == "the reason is needed"
    assert for_browser("no decision yet (custodes request decide R-1 --approve ...)") == (
        "no decision yet"
    )
    assert for_browser("unknown (see: custodes request list)") == "unknown"
    kept = "the Director unlocks with: custodes staff unlock 'Sam Staff'"
    assert for_browser(kept) == kept  # what to tell the Director stays


def test_a_message_on_a_page_is_a_sentence_with_its_commands_set_as_code() -> None:
    """A ledger message starts lowercase and names commands in backticks, for a terminal;
    a page shows a capital and code, and escapes what the message quotes."""
    from web.app import as_notice

    assert as_notice("no `patron forget` is recorded; restore keys/ (see: custodes verify)") == (
        "No <code>patron forget</code> is recorded; restore keys/"
    )
    assert as_notice("reason '<b>x</b>' refused; run `a<b`") == (
        "Reason &#39;&lt;b&gt;x&lt;/b&gt;&#39; refused; run <code>a&lt;b</code>"
    )
    assert as_notice("an odd ` stays") == "An odd ` stays"
    assert as_notice("FOOTAGE-NO-STAFF-MONITORING (Policy V-B): cameras are not") == (
        "FOOTAGE-NO-STAFF-MONITORING (Policy V-B): Cameras are not"
    )
