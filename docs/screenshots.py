"""Screenshots of the dashboard's main pages for docs/WEB.md, taken in Debian's chromium
from a demo ledger (run `custodes demo --out DIR` first; the viewing and the report it
makes are recorded in that demo ledger, as they would be for a person).

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
        page.get_by_role("button", name="Sign out").click()

        sign_in(DIRECTOR, PASSPHRASES[DIRECTOR])
        shot("home-director")
        page.goto(f"{base}/requests")
        shot("requests")
        page.goto(f"{base}/requests/R-2026-0002")
        shot("request")
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
        page.get_by_role("button", name="Sign out").click()

        sign_in(COUNSEL, PASSPHRASES[COUNSEL])
        page.goto(f"{base}/history?subject=R-2026-0002&as_of=2026-10-20")
        shot("history")
        browser.close()
    server.close()
    app.extensions["custodes"].ledger.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
