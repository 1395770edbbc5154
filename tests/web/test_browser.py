"""The main journeys in a real browser: Debian's chromium driven by Playwright, headless,
against the dashboard served by waitress on 127.0.0.1 (issue 17, tests). Playwright's
own browser download cannot work here: `executable_path` names /usr/bin/chromium, which
.ci/run installs when it is missing.

Set CUSTODES_SCREENSHOTS=DIR to keep screenshots of the pages the journeys pass.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW
from tests.identity import DIRECTOR, open_test_ledger, passphrase
from tests.web.conftest import CAMERA, COUNSEL, MANAGER, STAFF, head, kinds_since

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
SCRIPT_NAME = "<img src=x onerror=\"document.title='pwned'\"><script>alert(1)</script>"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The browser journeys run on SQLite only: the pages' database work is the test
    client tests' (both databases); a browser on each would double the slowest tests."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}?timeout=15"


@pytest.fixture
def server(library: dict[str, Any]) -> Iterator[str]:
    """The dashboard on a free loopback port, on the system clock, as `custodes serve`
    runs it."""
    yield from _serve(library)


@pytest.fixture
def server_then(library: dict[str, Any]) -> Iterator[str]:
    """The same, on the tests' clock (minutes after the clip was recorded): for acts
    bounded by the footage's own deadline, which the system clock is weeks past."""
    yield from _serve(library, ManualClock(NOW + timedelta(minutes=5)))


def _serve(library: dict[str, Any], clock: ManualClock | None = None) -> Iterator[str]:
    from waitress.server import create_server

    from web.app import create_app, waitress_options

    # The server runs on the system clock, weeks after the clip was recorded (at the
    # tests' NOW): a legal hold keeps it viewable past its deadline, as the policy allows.
    ledger = open_test_ledger(DataDir.open(library["data_dir"]), clock=ManualClock(NOW))
    try:
        ledger.place_hold(
            [library["segment"]], kind="legal", reason="suit", reference="L-1", actor=DIRECTOR
        )
    finally:
        ledger.close()
    app = create_app(library["data_dir"], clock=clock)
    srv: Any = create_server(
        app, host="127.0.0.1", port=0, asyncore_use_poll=True, **waitress_options(2)
    )  # poll: closing it from this thread ends its loop without a select() on a closed fd
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        srv.close()
        thread.join(timeout=5)
        app.extensions["custodes"].ledger.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium per test process: launching it takes 1.5-3.5 s, a fresh
    context (``page``) 0.5 s, and a context shares no cookies, storage or cache with
    another, so each test still starts signed out in a browser of its own."""
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    expect.set_options(timeout=15_000)
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    where = os.environ.get("CUSTODES_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(where) / f"{name}.png"), full_page=True)


def played(video: Any, *, at_least: float = 0.3, seconds: float = 15) -> float:
    """How far the <video> got, polled from here (the page's CSP forbids the string
    evaluation that Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    position = 0.0
    while time.monotonic() < deadline:
        position = float(video.evaluate("v => v.ended ? v.duration : v.currentTime"))
        if position > at_least:
            break
        time.sleep(0.1)
    return position


def sign_in(page: Any, base: str, name: str, secret: str) -> None:
    page.goto(f"{base}/")  # not signed in: sent to the sign-in page
    assert "/login" in page.url
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Passphrase").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_intake_then_the_directors_decision_then_the_release(
    server: str, page: Any, library: dict[str, Any], tmp_path: Path
) -> None:
    sign_in(page, server, STAFF, passphrase(STAFF))
    page.wait_for_url(f"{server}/")
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Who is asking").select_option("law_enforcement")
    page.get_by_label("Requester (name, agency)").fill("Det. Ray, Mahomet PD")
    page.get_by_label("footage", exact=True).check()
    page.get_by_label("What they ask for").fill("lobby footage, morning of 1 November")
    page.get_by_label("Footage segment ids (comma-separated)").fill(library["segment"])
    page.get_by_label("Case number").fill("2026-CF-9")
    shot(page, "web-intake")
    page.get_by_role("button", name="Record the request").click()
    page.wait_for_url("**/requests/R-*")
    ref = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("heading", level=1).inner_text().startswith(ref)
    sign_out(page)

    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    expect(page.get_by_role("heading", name="Needs your attention")).to_be_visible()
    shot(page, "web-home")
    page.get_by_role("link", name=ref).first.click()
    page.get_by_label("Approve").check()
    page.get_by_label("Reason").fill("an open theft investigation; lobby only")
    page.locator("#decide-passphrase").fill(passphrase(DIRECTOR))
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("approved by Dana Director").first).to_be_visible()
    release = page.locator("section", has=page.get_by_role("heading", name="Release", exact=True))
    release.get_by_label(library["segment"]).check()
    page.get_by_label("Released to").fill("Det. Ray")
    page.get_by_label("How (in person, mail, secure link...)").fill("in person")
    page.locator("#release-passphrase").fill(passphrase(DIRECTOR))
    start = head(library["data_dir"])
    page.get_by_role("button", name="Record the release").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Releases")).to_be_visible()
    shot(page, "web-request")
    assert "DisclosureReleased" in kinds_since(library["data_dir"], start) or any(
        "Release" in k for k in kinds_since(library["data_dir"], start)
    )
    # The record the officer keeps: downloaded as a zip, checked with python3 alone.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the disclosure record (zip)").click()
    got = tmp_path / download.value.suggested_filename
    download.value.save_as(got)
    with zipfile.ZipFile(got) as z:
        z.extractall(tmp_path / "record")
    [record] = list((tmp_path / "record").iterdir())
    done = subprocess.run(
        ["python3", "-I", "verify.py"], cwd=record, capture_output=True, text=True
    )
    assert done.returncode == 0 and f"release 1 of {ref} to Det. Ray" in done.stdout, done.stderr
    # The officer's signed receipt, of release 1 (R10: each release has its own)
    page.get_by_role("link", name="Record the recipient's signed receipt").click()
    page.get_by_label(
        "The scan of the receipt the recipient signed (PDF or image)"
    ).set_input_files(files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG_SCAN}])
    page.get_by_role("button", name="Record the receipt").click()
    page.wait_for_url(f"**/requests/{ref}")
    expect(page.get_by_text("release 1: signed receipt sha256")).to_be_visible()
    expect(page.get_by_role("link", name="Record the recipient's signed receipt")).to_have_count(0)
    shot(page, "web-request-receipt")
    page.goto(f"{server}/requests")
    shot(page, "web-requests")


def test_five_wrong_passphrases_lock_the_member_out(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from ledger.errors import NotPermitted

    start = head(library["data_dir"])
    ledger = open_ledger(DataDir.open(library["data_dir"]))
    with pytest.raises(NotPermitted, match="1 of 5"):  # a first guess at another computer
        ledger.authenticate(STAFF, b"a wrong passphrase, typed elsewhere")
    ledger.close()
    for n in range(2, 6):
        sign_in(page, server, STAFF, "a wrong passphrase, typed again")
        assert f"{n} of 5" in page.get_by_role("alert").inner_text()
    assert "locked out" in page.get_by_role("alert").inner_text()
    shot(page, "web-lockout")
    # this computer has had its four tries in the window: the next waits, untried
    sign_in(page, server, STAFF, passphrase(STAFF))
    assert "Too many failed sign-ins from this computer" in page.get_by_role("alert").inner_text()
    assert "/login" in page.url
    kinds = kinds_since(library["data_dir"], start)
    assert kinds.count("LockedOut") == 1 and kinds.count("AuthenticationFailed") == 5


def test_a_script_bearing_name_is_shown_as_text(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/requests/new")
    page.get_by_label("Who is asking").select_option("other")
    page.get_by_label("Requester (name, agency)").fill(SCRIPT_NAME)
    page.get_by_label("registration").check()
    page.get_by_label("What they ask for").fill(f"asks for {SCRIPT_NAME}")
    page.get_by_role("button", name="Record the request").click()
    page.wait_for_url("**/requests/R-*")
    for path in (page.url, f"{server}/requests", f"{server}/"):
        page.goto(path)
        assert page.title() != "pwned" and page.dialogs == []  # type: ignore[attr-defined]
    page.goto(f"{server}/requests")
    assert SCRIPT_NAME in page.locator("main").inner_text()  # shown, as typed


def test_the_business_manager_views_footage_and_the_video_advances(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, MANAGER, passphrase(MANAGER))
    page.wait_for_url(f"{server}/")
    page.get_by_role("link", name="Footage").click()
    page.get_by_label("Camera", exact=True).select_option(CAMERA)
    page.get_by_role("button", name="Show").click()
    shot(page, "web-footage")
    page.get_by_role("link", name=library["segment"]).click()
    page.get_by_label("Purpose (R16a: never to monitor staff)").select_option("safety")
    page.get_by_label("Why you view it (recorded)").fill("a patron fell near the door")
    page.get_by_role("button", name="View (recorded)").click()
    video = page.locator("#player")
    video.wait_for()
    assert played(video) > 0.3  # the video advances
    assert video.evaluate("v => v.error === null && v.videoWidth") == 160
    shot(page, "web-segment")


def test_the_director_views_with_a_note_that_it_is_not_staff_monitoring(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/footage/{library['segment']}")
    page.get_by_label("Purpose (R16a: never to monitor staff)").select_option("safety")
    page.get_by_label("Why you view it (recorded)").fill("Sam Staff reported a patron's fall")
    viewing = page.get_by_role("region", name="View this segment")
    viewing.get_by_label("Director: why a reason that names staff is not staff monitoring").fill(
        "Sam is the witness, not the subject"
    )
    shot(page, "web-segment-director-form")
    page.get_by_role("button", name="View (recorded)").click()
    video = page.locator("#player")
    video.wait_for()
    assert played(video) > 0.3  # the video advances
    shot(page, "web-segment-director-note")


def test_a_purpose_asking_about_a_clerk_at_work_is_refused_in_a_sentence(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    """R16a in the browser: the refusal starts with a capital, cites its rule once, and
    says it was recorded (helper-75: "Did Ms. Lopez, the clerk, leave her post?")."""
    sign_in(page, server, MANAGER, passphrase(MANAGER))
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/footage/{library['segment']}")
    page.get_by_label("Purpose (R16a: never to monitor staff)").select_option("other")
    page.get_by_label("Why you view it (recorded)").fill(
        "Patron complaint - did Ms. Lopez, the clerk, leave her post?"
    )
    page.get_by_role("button", name="View (recorded)").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cameras are not used to monitor staff performance")
    assert alert.inner_text().count("FOOTAGE-NO-STAFF-MONITORING") == 0  # cited below, once
    expect(page.get_by_text("This attempt was recorded in the ledger.")).to_be_visible()
    shot(page, "web-staff-monitoring-refused")


def test_counsel_reads_a_history_as_of_a_day(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, COUNSEL, passphrase(COUNSEL))
    page.wait_for_url(f"{server}/")
    page.get_by_role("link", name="Legal review").click()
    page.get_by_label("Subject", exact=False).fill(library["segment"])
    page.get_by_label("As of the end of (site day; empty: now)").fill("2026-11-02")
    page.get_by_role("button", name="Show the history").click()
    expect(page.get_by_role("cell", name="FootageCaptured")).to_be_visible()
    assert "as of" in page.get_by_role("heading", level=2).inner_text()
    shot(page, "web-history")


PDF_SCAN = b"%PDF-1.4\n% the order, scanned\n" + b"0" * 2000
PNG_SCAN = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


def _take_in(page: Any, server: str, records: list[str], **fields: str) -> str:
    page.goto(f"{server}/requests/new")
    page.get_by_label("Who is asking").select_option("law_enforcement")
    page.get_by_label("Requester (name, agency)").fill("Det. Ray, Mahomet PD")
    for r in records:
        page.get_by_label(r, exact=True).check()
    page.get_by_label("What they ask for").fill("who holds this library card")
    page.get_by_label("Patron's card number").fill("2100012345")
    page.get_by_label("Patron's name").fill("Pat Patron")
    page.get_by_role("button", name="Record the request").click()
    page.wait_for_url("**/requests/R-*")
    return str(page.url.rsplit("/", 1)[1])


def _fill_court_order(page: Any, case: str, scan_name: str) -> None:
    """From a request's page: open its court order form and fill it for a judge's order
    covering the patron's registration, the scan uploaded as ``scan_name``."""
    page.get_by_role("link", name="Record a court order, warrant or subpoena").click()
    page.get_by_label("Kind of document").select_option("order")
    page.get_by_label("Yes").check()
    page.get_by_label("Court", exact=True).fill("Champaign County Circuit Court")
    page.get_by_label("Judge", exact=True).fill("Hon. A. Judge")
    page.get_by_label("Case or docket number").fill(case)
    page.get_by_label("Issued (site time").fill("2026-11-01T09:00")
    page.get_by_label("Served (site time").fill("2026-11-02T08:30")
    page.get_by_label("Served by (name, badge, agency)").fill("Det. Ray, #42, Mahomet PD")
    page.get_by_label("Card numbers of the patrons the order names").fill("2100012345")
    covers = page.get_by_role("group", name="Record classes the order covers")
    covers.get_by_label("registration", exact=True).check()
    page.get_by_label("The order's scan (PDF or image)").set_input_files(
        files=[{"name": scan_name, "mimeType": "application/pdf", "buffer": PDF_SCAN}]
    )


def test_a_court_order_is_entered_with_its_scope_then_the_director_decides(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    ref = _take_in(page, server, ["registration"])
    _fill_court_order(page, "2026-CF-123", "order.pdf")
    excludes = page.get_by_role("group", name="Fields the order expressly excludes")
    excludes.get_by_label("phone", exact=True).check()
    shot(page, "web-court-order")
    page.get_by_role("button", name="Record the court order").click()
    page.wait_for_url(f"**/requests/{ref}")
    expect(page.get_by_role("cell", name="LRCA-COURT-ORDER", exact=False).first).to_be_visible()
    refused = page.locator("tr.refused", has_text="phone")
    expect(refused).to_contain_text("refused")
    page.get_by_label("Approve").check()
    page.get_by_label("Reason").fill("a judge's order naming this patron")
    page.locator("#decide-passphrase").fill(passphrase(DIRECTOR))
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("approved by Dana Director").first).to_be_visible()
    shot(page, "web-court-order-decided")


def test_a_scan_named_with_a_date_of_birth_is_refused_with_a_hint_to_rename_it(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    """Session 20: a file name is kept in clear in the ledger; one naming a date of birth
    is refused on the form, nothing recorded, with what to do."""
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    ref = _take_in(page, server, ["registration"])
    _fill_court_order(page, "2026-CF-124", "Subpoena re Pat Patron DOB 1990-01-02.pdf")
    page.get_by_role("button", name="Record the court order").click()
    expect(page.get_by_text("names a date of birth", exact=False)).to_be_visible()
    expect(page.get_by_text("nothing was recorded", exact=False)).to_be_visible()
    # the command the message names is set as code, not shown between backticks
    alert = page.get_by_role("alert")
    assert "`" not in alert.inner_text()
    expect(alert.locator("code", has_text="patron forget").first).to_be_visible()
    shot(page, "web-court-order-dob-refused")
    page.goto(f"{server}/requests/{ref}")
    expect(page.get_by_text("2026-CF-124")).to_have_count(0)


def test_appendix9_is_printed_and_the_officers_signed_scan_uploaded(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    sign_in(page, server, STAFF, passphrase(STAFF))
    page.wait_for_url(f"{server}/")
    ref = _take_in(page, server, ["registration"])
    with page.expect_download() as download:
        page.get_by_role("link", name="Print Appendix 9").click()
    assert download.value.suggested_filename == f"{ref}-appendix9.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    page.get_by_role("link", name="Record the officer's signed Appendix 9").click()
    page.get_by_label("The scan of the signed Appendix 9 form").set_input_files(
        files=[{"name": "signed.png", "mimeType": "image/png", "buffer": PNG_SCAN}]
    )
    page.get_by_label("Officer's name").fill("Lee Officer")
    page.get_by_label("Badge or ID number").fill("4471")
    page.get_by_label("Agency", exact=True).fill("Mahomet PD")
    page.get_by_role("group", name="The officer's identification was examined").get_by_label(
        "Yes"
    ).check()
    for box in ("sworn law enforcement officer", "court order is impractical",
                "imminent danger", "identify a suspect"):  # fmt: skip
        page.get_by_label(box).check()
    page.get_by_label("The person to be identified is a").select_option("suspect")
    page.get_by_label("The emergency, as described on the form").fill("a threat made today")
    shot(page, "web-appendix9")
    start = head(library["data_dir"])
    page.get_by_role("button", name="Record the signed form").click()
    page.wait_for_url(f"**/requests/{ref}")
    assert "EmergencyRequestRecorded" in kinds_since(library["data_dir"], start)
    assert "Lee Officer" in page.locator("main").inner_text()
    # a file that is not a scan is refused, and says so
    page.goto(f"{server}/requests/new")
    ref2 = _take_in(page, server, ["registration"])
    page.goto(f"{server}/requests/{ref2}/emergency")
    page.get_by_label("The scan of the signed Appendix 9 form").set_input_files(
        files=[{"name": "signed.pdf", "mimeType": "application/pdf", "buffer": b"not a scan"}]
    )
    page.get_by_label("Officer's name").fill("Lee Officer")
    page.get_by_label("Badge or ID number").fill("4471")
    page.get_by_label("Agency", exact=True).fill("Mahomet PD")
    page.get_by_label("Yes").check()
    page.get_by_label("The emergency, as described on the form").fill("a threat made today")
    page.get_by_role("button", name="Record the signed form").click()
    assert "not a PDF or an image" in page.get_by_role("alert").inner_text()


def test_staff_flag_a_segment_for_an_incident(
    server_then: str, page: Any, library: dict[str, Any]
) -> None:
    server = server_then
    sign_in(page, server, STAFF, passphrase(STAFF))
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/footage/{library['segment']}")
    page.get_by_label("Incident (e.g. IR-2026-114 wallet theft)").fill("IR-2026-114 wallet theft")
    page.get_by_label("The suspected misbehavior seen").fill("a wallet taken from a bag")
    shot(page, "web-flag")
    start = head(library["data_dir"])
    page.get_by_label("Keep through (site day; empty: the policy's limit)").fill("2026-12-15")
    page.get_by_role("button", name="Flag the segment").click()
    page.wait_for_url(f"**/footage/{library['segment']}")
    assert kinds_since(library["data_dir"], start) == ["FootageFlagged"]
    flags = page.locator("dt", has_text="Flags").locator("xpath=following-sibling::dd[1]")
    assert flags.inner_text().startswith("F-")


def test_on_a_phone_the_pages_stay_as_wide_as_the_screen(
    server: str, chromium: Any, library: dict[str, Any]
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
        page.wait_for_url(f"{server}/")
        wide_tables = seen_times = 0
        for path in ("/", "/footage", "/requests", "/reports/disclosures", "/reports/access",
                     f"/history?subject={library['segment']}"):  # fmt: skip
            page.goto(f"{server}{path}")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
            # a table wider than the screen scrolls inside itself, nothing cut off
            wide_tables += page.evaluate(
                "() => [...document.querySelectorAll('table')]"
                ".filter(t => t.scrollWidth > t.clientWidth).length"
            )
            # a time stays on one line: a narrow cell does not break a date at its hyphens
            times, broken = page.evaluate(
                "() => { const t = [...document.querySelectorAll('time')];"
                " return [t.length, t.filter(e => e.getClientRects().length > 1).length]; }"
            )
            assert broken == 0, f"{path}: {broken} of {times} times wrap over two lines"
            seen_times += times
            shot(page, f"web-phone{path.replace('/', '-').split('?')[0] or '-home'}")
        assert wide_tables > 0  # the check above saw at least one table wider than a phone
        assert seen_times > 0
    finally:
        context.close()


def test_a_clock_set_ahead_is_set_aside_by_the_director_in_the_browser(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    """R26: one act recorded 400 days ahead blocks every act; the Director's home page says
    so and sets the time aside, her passphrase again first."""
    from tests.web.test_web_clock import block

    position = block(library["data_dir"])
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    banner = page.get_by_role("heading", name="Nothing can be recorded now")
    expect(banner).to_be_visible()
    shot(page, "web-clock-blocked")
    page.get_by_label("Why: what set the clock ahead").fill("front desk PC a year ahead")
    page.get_by_label("Your passphrase again").fill(passphrase(DIRECTOR))
    page.get_by_role("button", name="Set the recorded time aside").click()
    page.wait_for_url(f"{server}/")
    expect(banner).to_have_count(0)
    expect(page.get_by_text("The ledger's clock was corrected")).to_be_visible()
    shot(page, "web-clock-corrected")
    assert kinds_since(library["data_dir"], position) == ["ClockCorrected"]


def test_the_directors_report_records_footage_found_gone_and_says_so(
    server: str, page: Any, library: dict[str, Any]
) -> None:
    """Session 28: footage deleted from the vault by hand; the Director makes the report
    on the page: the finding is recorded first (FootageFoundMissing), the page says so
    above the report, and the report lists it as found missing, not "not yet recorded"."""
    data_dir = library["data_dir"]
    [blob] = (data_dir / "footage" / "blobs").iterdir()
    blob.unlink()
    start = head(data_dir)
    sign_in(page, server, DIRECTOR, passphrase(DIRECTOR))
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/reports")
    page.get_by_label("From (site day)").fill("2026-10-01")
    page.get_by_role("button", name="Make the report").click()
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("1 segment found missing from the vault")
    expect(notice).to_contain_text(library["segment"])
    expect(page.locator("article.report")).to_contain_text("found missing on")
    assert "not yet recorded" not in page.locator("article.report").inner_text()
    assert kinds_since(data_dir, start) == ["FootageFoundMissing", "ComplianceReportIssued"]
    shot(page, "web-report-found-missing")
