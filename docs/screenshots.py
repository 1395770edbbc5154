"""Screenshots of the dashboard's main pages for docs/WEB.md, taken in Debian's chromium
from a demo ledger (run `custodes demo --out DIR` first; the viewing, the report and the
request it takes in to show the court-order and Appendix 9 forms are recorded in that demo
ledger, as they would be for a person, and so is the Director's verification).

    .venv/bin/python docs/screenshots.py DIR/data docs/screenshots
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from waitress.server import create_server

from cli.scenario import COUNSEL, DIRECTOR, PASSPHRASES, STAFF
from web.app import create_app


def main(data_dir: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(data_dir)
    server: Any = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 800})

        def shot(name: str, *, full: bool = True) -> None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=full)
            print(out / f"{name}.png")

        def sign_in(name: str, secret: str) -> None:
            page.goto(f"{base}/login")
            page.get_by_label("Your name").fill(name)
            page.get_by_label("Passphrase").fill(secret)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()

        sign_in(STAFF, "not the passphrase")
        shot("login-refused", full=False)
        sign_in(STAFF, PASSPHRASES[STAFF])
        shot("home-staff")
        page.goto(f"{base}/requests/new")
        shot("intake")
        # a new law enforcement request: its court-order form and its Appendix 9 page,
        # filled in but not sent
        page.get_by_label("Who is asking").select_option("law_enforcement")
        page.get_by_label("Requester (name, agency)").fill("Det. A. Ray, Mahomet Police")
        page.get_by_label("registration", exact=True).check()
        page.get_by_label("What they ask for").fill("who holds this library card")
        page.get_by_label("Patron's card number").fill("2100012345")
        page.get_by_role("button", name="Record the request").click()
        page.wait_for_url("**/requests/R-*")
        ref = page.url.rsplit("/", 1)[1]
        page.goto(f"{base}/requests/{ref}/court-order")
        page.get_by_label("Kind of document").select_option("warrant")
        page.get_by_label("Yes").check()
        page.get_by_label("Court", exact=True).fill("Champaign County Circuit Court")
        page.get_by_label("Judge", exact=True).fill("Hon. A. Judge")
        page.get_by_label("Case or docket number").fill("2026-CF-123")
        page.get_by_label("Issued (site time").fill("2026-11-01T09:00")
        page.get_by_label("Served (site time").fill("2026-11-02T08:30")
        page.get_by_label("Served by (name, badge, agency)").fill("Det. A. Ray, #42")
        page.get_by_label("Card numbers of the patrons the order names").fill("2100012345")
        page.get_by_role("group", name="Record classes the order covers").get_by_label(
            "registration", exact=True
        ).check()
        page.get_by_role("group", name="Fields the order expressly excludes").get_by_label(
            "phone", exact=True
        ).check()
        shot("court-order")
        page.goto(f"{base}/requests/{ref}/emergency")
        page.get_by_label("Officer's name").fill("Lee Officer")
        page.get_by_label("Badge or ID number").fill("4471")
        page.get_by_label("Agency", exact=True).fill("Mahomet Police")
        shot("appendix9")
        page.get_by_role("button", name="Sign out").click()

        sign_in(DIRECTOR, PASSPHRASES[DIRECTOR])
        page.get_by_role("button", name="Verify the ledger now").click()  # recorded
        page.wait_for_load_state()
        shot("home-director")
        page.goto(f"{base}/requests")
        shot("requests")
        page.goto(f"{base}/requests/R-2026-0002")
        shot("request")
        page.goto(f"{base}/requests/R-2026-0003")
        shot("request-emergency")
        page.goto(f"{base}/footage")
        shot("footage", full=False)
        page.locator("table").nth(1).get_by_role("link").first.click()
        page.get_by_label("Purpose (R16a: never to monitor staff)").select_option("safety")
        page.get_by_label("Why you view it (recorded)").fill("a patron reported a fall")
        page.get_by_role("button", name="View (recorded)").click()
        page.locator("#player").wait_for()
        for _ in range(100):  # until the clip has played a little (CSP: no string eval)
            if page.locator("#player").evaluate("v => v.currentTime") > 0.5:
                break
            page.wait_for_timeout(100)
        page.evaluate("document.getElementById('player').pause()")
        shot("segment-viewing")
        page.goto(f"{base}/reports")
        page.get_by_label("From (site day)").fill("2026-09-29")
        page.get_by_label("To (site day)").fill("2026-11-03")
        page.get_by_role("button", name="Make the report").click()
        page.wait_for_load_state()
        shot("report", full=False)
        page.emulate_media(media="print")
        shot("report-print", full=False)
        page.emulate_media(media="screen")
        page.goto(f"{base}/reports/disclosures?first=2026-09-01&last=2026-11-03")
        shot("disclosures", full=False)
        page.goto(f"{base}/reports/access?first=2026-09-01&last=2026-11-03")
        shot("access", full=False)
        page.goto(f"{base}/reports/statistics?first=2026-01-01&last=2026-11-03")
        shot("statistics", full=False)
        page.goto(f"{base}/footage")
        page.locator("table").nth(1).get_by_role("link").first.click()
        page.locator("#flag").scroll_into_view_if_needed()
        shot("segment-forms")
        page.get_by_role("button", name="Sign out").click()

        sign_in(COUNSEL, PASSPHRASES[COUNSEL])
        page.goto(f"{base}/history?subject=R-2026-0002&as_of=2026-10-20")
        shot("history")
        page.goto(f"{base}/legal")
        shot("legal", full=False)
        browser.close()
    server.close()
    app.extensions["custodes"].ledger.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
