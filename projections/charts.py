"""Charts for the compliance report, as PNG bytes (matplotlib, Agg).

Deterministic: fixed sizes and DPI, no software/time stamp in the PNG metadata, inputs
sorted before drawing, so the same report gives the same bytes. Printed in black and
white on the board's copier, so every series differs by gray level AND hatching.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ledger import sitetime  # noqa: E402
from projections.compliance_model import CameraTimeline, TimelineBar, Viewing  # noqa: E402

DPI = 150
WIDTH_IN = 7.0
EMPTY_TEXT = "No data in this period"

# status -> (face color, hatch); gray levels stay distinct when photocopied.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "retained": ("#ffffff", ""),
    "purged": ("#d0d0d0", ""),
    "flagged": ("#a0a0a0", "////"),
    "held": ("#606060", "xxxx"),
    "overdue": ("#000000", ""),
}
SERIES_STYLE: tuple[tuple[str, str], ...] = (
    ("#303030", ""),
    ("#ffffff", "////"),
    ("#909090", ""),
    ("#d0d0d0", "xxxx"),
    ("#606060", "...."),
    ("#ffffff", "\\\\\\\\"),
)

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "hatch.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "custodes",
}


def _style() -> Any:
    return plt.rc_context(_RC)  # type: ignore[arg-type]  # stubs want literal rc keys


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # Cropped to what is drawn: a legend placed below the axes leaves no empty band.
    fig.savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata={"Software": None},
        bbox_inches="tight",
        pad_inches=0.08,
    )
    plt.close(fig)
    return buffer.getvalue()


def empty_chart(title: str) -> bytes:
    """A small image saying there is nothing to draw, instead of an empty axis."""
    with _style():
        fig = plt.figure(figsize=(WIDTH_IN, 1.0))
        fig.text(0.5, 0.62, title, ha="center", va="center", fontsize=10, weight="bold")
        fig.text(0.5, 0.28, EMPTY_TEXT, ha="center", va="center", fontsize=9, style="italic")
        return _png(fig)


def _merged_spans(
    bars: Sequence[TimelineBar], zone: ZoneInfo, min_width: timedelta
) -> list[tuple[float, float]]:
    """(left, width) in days for matplotlib, each bar at least ``min_width`` wide so it
    shows on paper; bars that would touch or overlap at that width are drawn as one."""
    spans: list[list[datetime]] = []
    for bar in sorted(bars, key=lambda b: b.recorded_start):
        start = bar.recorded_start.astimezone(zone)
        end = max(bar.recorded_end.astimezone(zone), start + min_width)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(mdates.date2num(a), (b - a) / timedelta(days=1)) for a, b in spans]


def retention_timeline(
    timeline: Sequence[CameraTimeline], zone: ZoneInfo, start: date, end: date
) -> bytes:
    """One row per camera, one bar per segment, shaded by retention status.

    ``start``/``end`` are the report period's site-local days (inclusive); segments
    outside are clipped by the axis.
    """
    title = "Retention timeline per camera"
    lines = sorted((line for line in timeline if line.bars), key=lambda t: t.camera_id)
    if not lines:
        return empty_chart(title)
    x0 = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    x1 = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    # A one-hour clip on a month-wide axis is thinner than a hairline: draw it at least
    # 0.35 % of the axis wide so it shows on paper.
    min_width = (x1 - x0) * 0.0035
    with _style():
        fig, ax = plt.subplots(figsize=(WIDTH_IN, max(2.3, 1.2 + 0.38 * len(lines))))
        for row, line in enumerate(lines):
            # One call per camera and status with every span: a month of a busy camera
            # is tens of thousands of segments, and one call per bar took minutes.
            for status in sorted({b.status for b in line.bars}, key=_status_order):
                face, hatch = STATUS_STYLE[status]
                spans = _merged_spans([b for b in line.bars if b.status == status], zone, min_width)
                ax.broken_barh(
                    spans,
                    (row - 0.32, 0.64),
                    facecolors=face,
                    edgecolors="black",
                    linewidth=0.4,
                    hatch=hatch,
                )
        ax.set_yticks(range(len(lines)), [line.camera_id for line in lines])
        ax.set_ylim(len(lines) - 0.5, -0.5)
        date_axis(ax, zone, x0, x1)
        ax.grid(axis="x", color="#bbbbbb", linewidth=0.4)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left", fontsize=10, weight="bold")
        ax.set_xlabel(f"Recorded (site time, {zone.key})")
        used = sorted({b.status for line in lines for b in line.bars}, key=_status_order)
        handles = [
            Patch(
                facecolor=STATUS_STYLE[s][0],
                hatch=STATUS_STYLE[s][1],
                edgecolor="black",
                linewidth=0.4,
                label=s,
            )
            for s in used
        ]
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.38 if len(lines) < 4 else -0.2),
            ncol=len(handles),
            frameon=False,
            fontsize=8,
        )
        fig.tight_layout()
        return _png(fig)


def date_axis(ax: Any, zone: ZoneInfo, x0: datetime, x1: datetime) -> None:
    """An x axis of site-local dates and times from ``x0`` to ``x1``."""
    ax.set_xlim(mdates.date2num(x0), mdates.date2num(x1))
    # Ticks counted from the period's first day: on the month's own multiples a period
    # starting 29 September put "Sep 29" and "Oct" two days apart, overlapping.
    locator = mdates.AutoDateLocator(tz=zone, minticks=4, maxticks=10, interval_multiples=False)
    ax.xaxis.set_major_locator(locator)
    # Label each tick with what changes: days on a month, hours on a day (a fixed "%b %d"
    # printed one date eight times on a one-day report), the year once.
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(
            locator,
            tz=zone,
            formats=["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%Y", "%Y", "%Y", "%Y"],
        )
    )


def _status_order(status: str) -> int:
    return list(STATUS_STYLE).index(status)


def week_start(moment: datetime, zone: ZoneInfo) -> date:
    """Monday of the site-local week a moment falls in."""
    day = sitetime.local_day(moment, zone)
    return day - timedelta(days=day.weekday())


def viewings_per_week(viewings: Sequence[Viewing], zone: ZoneInfo) -> bytes:
    """Grouped bars: for each week (starting Monday, site time), one bar per person."""
    title = "Archived-footage viewings per person per week"
    if not viewings:
        return empty_chart(title)
    counts = Counter((week_start(v.viewed_at, zone), v.name) for v in viewings)
    weeks = sorted({w for w, _ in counts})
    people = sorted({p for _, p in counts})
    group = 0.8
    width = group / len(people)
    with _style():
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.4))
        for i, person in enumerate(people):
            face, hatch = SERIES_STYLE[i % len(SERIES_STYLE)]
            xs = [w + (i - (len(people) - 1) / 2) * width for w in range(len(weeks))]
            ys = [counts.get((week, person), 0) for week in weeks]
            ax.bar(
                xs,
                ys,
                width=width,
                color=face,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.5,
                label=person,
            )
        ax.set_xticks(range(len(weeks)), [f"week of {w:%b %d}" for w in weeks])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Viewings")
        ax.grid(axis="y", color="#bbbbbb", linewidth=0.4)
        ax.set_axisbelow(True)
        ax.set_title(title, loc="left", fontsize=10, weight="bold")
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return _png(fig)


def requests_by_basis(by_basis: Mapping[str, int]) -> bytes:
    """Horizontal bars: disclosure requests per legal basis, largest first."""
    title = "Disclosure requests by legal basis"
    items = sorted(((k, n) for k, n in by_basis.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return empty_chart(title)
    with _style():
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.0 + 0.35 * len(items)))
        labels = [k.replace("_", " ") for k, _ in items]
        values = [n for _, n in items]
        bars = ax.barh(range(len(items)), values, color="#909090", edgecolor="black", linewidth=0.5)
        ax.bar_label(bars, padding=3, fontsize=8)
        ax.set_yticks(range(len(items)), labels)
        ax.set_ylim(len(items) - 0.5, -0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, max(values) * 1.15 + 0.5)
        ax.set_xlabel("Requests")
        ax.set_title(title, loc="left", fontsize=10, weight="bold")
        fig.tight_layout()
        return _png(fig)
