"""Dates and times on the command line (R24), read by ``ledger.sitetime``.

An option reads what was typed (a syntax error is a usage error at once, exit 2); the
command applies the site's zone once it has opened the ledger, because the zone lives in
the ledger. ``--from``/``--to`` are inclusive everywhere: ``--to 2026-12-01`` runs to the
end of that local day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from ledger import sitetime
from ledger.errors import InvalidTime
from ledger.sitetime import TypedTime

F = TypeVar("F", bound=Callable[..., Any])

WHEN_HELP = "site time unless a zone is given; a date alone is that whole day"


class When(click.ParamType):
    """A date or date-time as typed; the command applies the site's zone."""

    name = "when"

    def __init__(self, *, dates_only: bool = False) -> None:
        self.dates_only = dates_only

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str:
        return "DATE" if self.dates_only else "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, TypedTime | date):
            return value
        try:
            typed = sitetime.parse(str(value))  # click names the option in its message
        except InvalidTime as e:
            self.fail(str(e), param, ctx)
        if self.dates_only:
            if not typed.is_date:
                self.fail(f"{value!r}: give a date (YYYY-MM-DD, e.g. 2026-11-01)", param, ctx)
            return typed.day
        # Named, so an error found once the zone is applied points at the option too.
        option = param.opts[0] if param is not None and param.opts else ""
        return dataclasses.replace(typed, option=option)


WHEN = When()
DAY = When(dates_only=True)


def when_option(*decls: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    """An option taking a date or a time (``2026-12-01``, ``2026-12-01T09:30``)."""
    return click.option(*decls, type=WHEN, default=None, help=f"{help} ({WHEN_HELP}).", **kwargs)


def range_options(what: str) -> Callable[[F], F]:
    """``--from``/``--to``: inclusive; a date is its whole local day."""

    def decorate(f: F) -> F:
        f = click.option(
            "--to",
            "until",
            type=WHEN,
            default=None,
            help=f"{what} up to and including this day or time (site time).",
        )(f)
        return click.option(
            "--from",
            "since",
            type=WHEN,
            default=None,
            help=f"{what} from this day or time on (site time).",
        )(f)

    return decorate


def time_range(
    since: TypedTime | None, until: TypedTime | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC: ``--from``'s first instant to the end of ``--to``'s span."""
    if since is not None and until is not None and since.start(zone) >= until.end(zone):
        raise click.UsageError(f"--from {since.text} is after --to {until.text}; swap them")
    return (
        since.start(zone) if since is not None else None,
        until.end(zone) if until is not None else None,
    )
