"""Report benchmarks: a month's compliance report, the state ``--as-of`` a date and the
retention sweep's "due for purge" query, on synthetic ledgers of growing size.

The ledger is built through the real application (its command methods, policy checks
included), over twelve months of simulated time at a library with five cameras: footage
captured in batches, a daily retention sweep (``record_purge`` of every segment due, as
the real sweep does), viewings, a staff member refused archived footage, flags, holds,
and disclosure requests (emergency with release, guardian, FOIA with its hold). No video
file is read: segments are ``CaptureItem``s with synthetic hashes.

Run: .venv/bin/python bench/bench_reports.py [--sizes 10000,100000] [--events N]
     [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import platform
import pstats
import random
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.app import Ledger, open_ledger  # noqa: E402
from ledger.clock import ManualClock
from ledger.datadir import DataDir  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.footage import MediaFacts  # noqa: E402
from ledger.footage_commands import CaptureItem  # noqa: E402
from projections.base import Views  # noqa: E402
from projections.compliance import (  # noqa: E402
    build_compliance_report,
    compile_compliance_report,
    report_projections,
)
from projections.registry import all_projections, open_views  # noqa: E402
from projections.render_data import to_json  # noqa: E402
from projections.render_pdf import render_pdf  # noqa: E402
from projections.retention import due_segment_ids  # noqa: E402

START = datetime(2025, 11, 1, 6, 0, tzinfo=UTC)
DAYS = 365
END = START + timedelta(days=DAYS)
D, M, C = "Dana Director", "Bo Manager", "Cora Counsel"
STAFF = ("Sam Staff", "Ria Staff", "Lou Staff")
CAMERAS = ("lobby-1", "lobby-2", "stacks-1", "parking-1", "children-1")
RETENTION_DAYS = 30
LONG_RETENTION_DAYS = 400
# The month reported on: the last whole month of the simulated year.
PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
REPORT_NOW = END + timedelta(hours=1)
AS_OF = START + timedelta(days=DAYS // 2)


def media(seconds: float) -> MediaFacts:
    return MediaFacts("mp4", "mp4v", 3000, 5.0, seconds, 1280, 720)


# ---- building a ledger ----------------------------------------------------------------


class Builder:
    """Appends about ``events`` events over DAYS simulated days, daily, in order."""

    def __init__(self, ledger: Ledger, events: int, mix: str, seed: int = 7) -> None:
        self.ledger = ledger
        self.rng = random.Random(seed)
        # "sweep": steady state, every capture is purged RETENTION_DAYS later, so captures
        # and purges are each ~47% of the log; the rest are viewings, refusals, flags,
        # holds and requests (~6%). "captures": a retention schedule longer than the
        # year (LONG_RETENTION_DAYS), so nothing falls due and captures are ~90%.
        self.sweep = mix == "sweep"
        self.retention_days = RETENTION_DAYS if self.sweep else LONG_RETENTION_DAYS
        self.per_day = events / DAYS
        share = 0.5 if self.sweep else 0.9
        self.captures_per_day = max(5, round(self.per_day * share))
        # a day's footage runs 00:00-20:00 and is ingested at 20:00 (never claimed ahead of
        # the clock, R26)
        self.segment_seconds = 72000 / max(1, self.captures_per_day // len(CAMERAS))
        self.n = 0
        self.due: deque[tuple[datetime, str]] = deque()
        self.live: list[str] = []  # a recent window of unpurged segments
        self.kept: set[str] = set()  # flagged or held: the sweep skips them
        self.kinds: Counter[str] = Counter()

    def setup(self) -> None:
        lg = self.ledger
        lg.clock.set(START)
        lg.initialise(
            director=D, library="Bench Public Library", timezone="America/Chicago",
            retention_days=self.retention_days, passphrase=PASSPHRASE,
        )  # fmt: skip
        for name, role in [(M, "business_manager"), (C, "counsel"), *((s, "staff") for s in STAFF)]:
            key = Ed25519PrivateKey.generate()  # held in memory: the bench acts as everyone
            lg.add_staff(name, role, actor=D, key=key)
            lg.admit(name, key)
        for cam in CAMERAS:
            lg.register_camera(
                cam, location=cam.replace("-", " ").title(), zone="public",
                signage_posted=True, actor=D,
            )  # fmt: skip
        try:
            lg.register_camera(
                "restroom-1", location="Restroom", zone="restroom", signage_posted=True,
                actor=D,
            )  # fmt: skip
        except LedgerError:
            pass

    def day(self, d: int) -> None:
        lg, rng = self.ledger, self.rng
        day0 = START + timedelta(days=d)
        now = day0 + timedelta(hours=20)
        # Footage of the day, recorded at 20:00 in batches of <= 1000.
        items = []
        per_cam = max(1, self.captures_per_day // len(CAMERAS))
        for cam in CAMERAS:
            for k in range(per_cam):
                self.n += 1
                sha = hashlib.sha256(f"segment {self.n}".encode()).hexdigest()
                start = day0 + timedelta(seconds=k * self.segment_seconds)
                items.append(
                    CaptureItem(sha, 50_000_000, cam, start, media(self.segment_seconds),
                                f"{cam}_{self.n}.mp4")
                )  # fmt: skip
        for i in range(0, len(items), 1000):
            lg.clock.set(now)
            for info in lg.record_captures(items[i : i + 1000], actor=STAFF[0]):
                self.due.append((info.retention_deadline, info.segment_id))
                self.live.append(info.segment_id)
        self.kinds["FootageCaptured"] += len(items)
        self.live = self.live[-5 * len(items) :]
        # Viewings (~1%): the Director views footage; staff are refused (all recorded footage
        # is archived footage, R16) and the refusal recorded.
        for _ in range(self._count(0.01)):
            sid = rng.choice(self.live)
            who = D if rng.random() < 0.5 else rng.choice(STAFF)
            try:
                lg.clock.set(now)
                permit = lg.check_viewing(
                    sid, reason="check an incident report", purpose="safety", actor=who,
                )  # fmt: skip
            except LedgerError:
                self.kinds["AccessDenied"] += 1  # staff refused: recorded footage is archived
                continue
            lg.clock.set(now)
            lg.record_viewing(permit, kind="view", remote=rng.random() < 0.2)
            self.kinds["FootageViewed"] += 1
        # Flags (~0.2%), most with an end date.
        for _ in range(self._count(0.002)):
            sid = rng.choice(self.live)
            until = now + timedelta(days=rng.choice((45, 60, 90))) if rng.random() < 0.8 else None
            lg.flag(sid, incident="IR-1", reason="patron reported a fall", actor=rng.choice(STAFF), retain_until=until)  # fmt: skip
            self.kept.add(sid)
            self.kinds["FootageFlagged"] += 1
        # A legal hold every ~10 days (scaled), released 30 days later.
        if rng.random() < max(0.1, self.per_day / 27_400):
            segs = sorted(set(rng.sample(self.live, min(3, len(self.live)))))
            hold = lg.place_hold(
                segs, kind="legal", reason="claim letter from counsel",
                reference=f"CLAIM-{d}", actor=D, review_by=now + timedelta(days=30),
            )  # fmt: skip
            self.kept.update(segs)
            self.kinds["HoldPlaced"] += 1
            if d + 30 < DAYS:
                self.releases.setdefault(d + 30, []).append(hold)
        for hold in self.releases.pop(d, []):
            lg.release_hold(hold, reason="claim settled", actor=D)
            self.kinds["HoldReleased"] += 1
        # Disclosure requests (~0.1%): emergency + release, guardian, FOIA for footage.
        for i in range(self._count(0.001)):
            self._request(now + timedelta(minutes=45 * i))  # recorded times only move on
        # The daily sweep: every segment due, through the aggregate's own check.
        while self.sweep and self.due and self.due[0][0] <= now:
            _deadline, sid = self.due.popleft()
            if sid in self.kept:
                continue
            lg.record_purge(
                sid, method="file removed, key destroyed", blob_removed=True,
                key_destroyed=True, completed_after_interruption=False,
                sweep_run=f"sweep-{d}", actor=lg.act_as_service(),
            )  # fmt: skip
            self.kinds["FootagePurged"] += 1

    releases: dict[int, list[str]]

    def _count(self, share: float) -> int:
        expected = self.per_day * share
        whole = int(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def _request(self, now: datetime) -> None:
        lg, rng = self.ledger, self.rng
        kind = rng.random()
        later = now + timedelta(minutes=30)
        if kind < 0.4:
            lg.clock.set(now)
            ref = lg.open_request(
                requester_kind="law_enforcement", requester="Officer Lee", received_by=STAFF[1],
                records=["registration"], description="threat", actor=STAFF[1], patron_card=f"2100-{rng.randrange(10**6):06d}", patron_name="Quentin Patron",
            )  # fmt: skip
            lg.clock.set(later)
            lg.record_emergency(
                ref, officer_name="Lee", officer_rank="Sgt", badge_number="4471",
                agency="Mahomet PD", agency_phone="555-0100", id_examined=True,
                sworn_officer=True, court_order_impractical=True, imminent_danger=True,
                identification_purpose=True, role_sought="suspect",
                emergency_description="a threat", actor=D,
                signed_form_sha256=hashlib.sha256(f"signed form {ref}".encode()).hexdigest(),
                signed_form_name="appendix9-signed.pdf",
            )  # fmt: skip
            lg.decide(ref, approve=True, reason="all four representations", actor=D)
            lg.release(ref, fields=["name"], to="Sgt Lee", badge="4471", method="in person", actor=D)  # fmt: skip
        elif kind < 0.7:
            lg.clock.set(now)
            ref = lg.open_request(
                requester_kind="parent_guardian", requester="A parent", received_by=STAFF[1],
                records=["fines_fees"], description="fines of a minor", actor=STAFF[1], patron_card=f"2100-{rng.randrange(10**6):06d}", minor=True,
                guardianship="birth certificate",
            )  # fmt: skip
            lg.clock.set(later)
            lg.decide(ref, approve=True, reason="guardian confirmed", actor=D)
        else:
            sid = rng.choice(self.live)
            lg.clock.set(now)
            lg.open_request(
                requester_kind="public", requester="A reporter", received_by=STAFF[1],
                records=["footage"], description="lobby footage", actor=STAFF[1], footage=[sid],
            )  # fmt: skip
            self.kept.add(sid)  # the FOIA path holds the responsive footage
        self.kinds["requests"] += 1


PASSPHRASE = b"the bench director's passphrase"


def open_signed(dd: DataDir) -> Ledger:
    """A built ledger, reopened with the Director signed in (reports are her acts)."""
    ledger = open_ledger(dd, clock=ManualClock(REPORT_NOW))
    ledger.authenticate(D, PASSPHRASE)
    return ledger


def build(root: Path, events: int, mix: str) -> tuple[DataDir, Ledger, dict[str, Any]]:
    dd = DataDir.create(root / "data")
    ledger = open_ledger(dd, clock=ManualClock(START))
    b = Builder(ledger, events, mix)
    b.releases = {}
    t0 = time.perf_counter()
    b.setup()
    for d in range(DAYS):
        b.day(d)
    took = time.perf_counter() - t0
    total = ledger.recorder.max_notification_id() or 0
    return dd, ledger, {"build_s": took, "events": total, "kinds": dict(b.kinds)}


# ---- measuring ------------------------------------------------------------------------


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(dd: DataDir, ledger: Ledger, profile: bool, with_pdf: bool) -> dict[str, Any]:
    r: dict[str, Any] = {}
    prof = cProfile.Profile() if profile else None

    def run(label: str, fn: Any) -> Any:
        if prof is not None:
            prof.enable()
        secs, out = timed(fn)
        if prof is not None:
            prof.disable()
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(18)
            print(f"---- profile: {label}\n{s.getvalue()}", file=sys.stderr)
            prof.clear()
        r[label] = secs
        return out

    # Catch-up from empty: drop every read model, then replay the whole log into them.
    views = Views(ledger, all_projections())
    run("catch_up", views.rebuild)
    compiled, _note = run(
        "compile",
        lambda: compile_compliance_report(
            ledger, period_from=PERIOD[0], period_to=PERIOD[1], actor=D, now=REPORT_NOW,
            signing_key=dd.signing_key(None),
        ),
    )  # fmt: skip
    integrity = compiled.integrity
    report = run(
        "report",
        lambda: build_compliance_report(
            ledger, views, period_from=PERIOD[0], period_to=PERIOD[1], now=REPORT_NOW,
            generated_by=D, integrity=integrity,
        ),
    )  # fmt: skip
    r["report_2nd"] = timed(
        lambda: build_compliance_report(
            ledger, views, period_from=PERIOD[0], period_to=PERIOD[1], now=REPORT_NOW,
            generated_by=D, integrity=integrity,
        )
    )[0]  # fmt: skip
    with views.connect() as conn:
        due_at = REPORT_NOW + timedelta(days=1)
        r["due_ids"], due = timed(lambda: due_segment_ids(conn, due_at))
        r["due_n"] = len(due)
        far = REPORT_NOW + timedelta(days=LONG_RETENTION_DAYS + 30)
        r["due_all_ids"], due = timed(lambda: due_segment_ids(conn, far))
        r["due_all_n"] = len(due)
    r["timeline_bars"] = sum(len(t.bars) for t in report.retention.timeline)
    r["viewings"] = len(report.access.viewings)
    r["attention"] = len(report.attention)
    views.close()
    run("json", lambda: to_json(report))
    if with_pdf:
        pdf = run("pdf", lambda: render_pdf(report))
        r["pdf_kb"] = len(pdf) // 1024
    else:
        r["pdf"], r["pdf_kb"] = float("nan"), 0
    # The replay to AS_OF: the report's read models (what compile_compliance_report
    # builds), then every read model (what `footage list --as-of` opens).
    asof = Views(ledger, report_projections(), as_of=AS_OF)
    run("as_of_views", asof.catch_up)
    r["as_of_all"] = timed(lambda: open_views(ledger, as_of=AS_OF).close())[0]
    mid = (AS_OF - timedelta(days=40)).date()
    r["as_of_report"] = timed(
        lambda: build_compliance_report(
            ledger, asof, period_from=mid, period_to=mid + timedelta(days=30),
            now=REPORT_NOW, generated_by=D, integrity=integrity, as_of=AS_OF,
        )
    )[0]  # fmt: skip
    asof.close()
    return r


COLUMNS = (
    ("events", "events", "{:,}"),
    ("build_s", "build s", "{:.1f}"),
    ("catch_up", "catch-up s", "{:.2f}"),
    ("report", "report s", "{:.2f}"),
    ("report_2nd", "report(2) s", "{:.2f}"),
    ("json", "json s", "{:.2f}"),
    ("pdf", "pdf s", "{:.2f}"),
    ("compile", "compile s", "{:.2f}"),
    ("as_of_views", "as-of s", "{:.2f}"),
    ("as_of_report", "as-of rpt s", "{:.2f}"),
    ("as_of_all", "as-of all s", "{:.2f}"),
    ("due_ids", "due ms", "{:.1f}"),
    ("due_all_ids", "due-all ms", "{:.1f}"),
)


def table(results: list[dict[str, Any]]) -> str:
    out = []
    cells = [[label for _k, label, _f in COLUMNS]]
    for r in results:
        row = []
        for key, _label, fmt in COLUMNS:
            v = r[key] * 1000 if key.startswith("due") else r[key]
            row.append(fmt.format(v))
        cells.append(row)
    for a, b in zip(results, results[1:], strict=False):
        row = [f"x{b['events'] / a['events']:.1f}"]
        for key, _label, _fmt in COLUMNS[1:]:
            row.append(f"x{b[key] / a[key]:.1f}" if a[key] else "-")
        cells.append(row)
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    for c in cells:
        out.append("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=None, help="one size (same as --sizes N)")
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated event counts")
    ap.add_argument(
        "--keep", type=Path, default=None,
        help="keep each ledger in DIR/events-N and reuse it when it exists (build s = 0)",
    )  # fmt: skip
    ap.add_argument(
        "--mix", choices=("sweep", "captures"), default="sweep",
        help="sweep: 30-day retention, daily sweep (purges ~ captures); captures: "
        "400-day retention, no purge, captures ~90%%",
    )  # fmt: skip
    ap.add_argument("--no-pdf", action="store_true", help="skip rendering the PDF")
    ap.add_argument("--profile", action="store_true", help="cProfile each step to stderr")
    args = ap.parse_args()
    sizes = [args.events] if args.events else [int(s) for s in args.sizes.split(",")]
    print(f"# {platform.platform()}, Python {platform.python_version()}, SQLite, "
          f"mix {args.mix}")  # fmt: skip
    results = []
    for size in sizes:
        kept = None if args.keep is None else args.keep / f"{args.mix}-{size}"
        if kept is not None and (kept / "data").exists():
            dd = DataDir.open(kept / "data")
            ledger = open_signed(dd)
            r = {"build_s": 0.0, "events": ledger.recorder.max_notification_id() or 0}
            print(f"reusing {r['events']:,} events in {dd.path}", flush=True)
            r.update(measure(dd, ledger, args.profile, not args.no_pdf))
            ledger.close()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                if kept is not None:
                    root = kept
                    root.mkdir(parents=True)
                dd, ledger, r = build(root, size, args.mix)
                print(f"built {r['events']:,} events in {r['build_s']:.0f} s: {r['kinds']}",
                      flush=True)  # fmt: skip
                r.update(measure(dd, ledger, args.profile, not args.no_pdf))
                ledger.close()
        print(
            f"  {r['events']:,} events: month's report {r['timeline_bars']:,} timeline bars, "
            f"{r['viewings']:,} viewings, {r['attention']:,} attention items, PDF "
            f"{r['pdf_kb']:,} KiB; due now {r['due_n']:,}, due in 430 days {r['due_all_n']:,}",
            flush=True,
        )
        results.append(r)
        print(table(results), flush=True)


if __name__ == "__main__":
    main()
