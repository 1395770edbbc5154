"""What every command shares: the data directory, the clock, the actor, output and errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import click

from cli.auth import actor_option  # noqa: F401 - commands import it from here
from ledger.clock import Clock
from ledger.datadir import DataDir
from ledger.dir_modes import check_usable, tighten
from ledger.text import printable

if TYPE_CHECKING:  # imported when a command opens the ledger: not for --help or status
    from ledger.app import Ledger

F = TypeVar("F", bound=Callable[..., Any])

EXIT_TAMPERED = 3
EXIT_BUSY = 75  # sysexits EX_TEMPFAIL: nothing recorded, try again later


class Tampered(click.ClickException):
    """The ledger failed verification: exit 3 so cron can tell it from other failures."""

    exit_code = EXIT_TAMPERED


class Busy(click.ClickException):
    """The write lock stayed taken through every retry: exit 75, safe to run again."""

    exit_code = EXIT_BUSY


@dataclass
class Context:
    data_dir: Path
    clock: Clock
    _ledger: Ledger | None = None
    _datadir: DataDir | None = None

    def now(self) -> datetime:
        return self.clock()

    def zone(self) -> ZoneInfo:
        """The site's time zone: what is typed without a zone, and everything shown (R24)."""
        return self.ledger().site().zone

    def datadir(self) -> DataDir:
        if self._datadir is None:
            self._datadir = DataDir.open(self.data_dir)
            for note in tighten(self._datadir):  # issue 14: private, and say what changed
                info(note)
            check_usable(self._datadir)  # read-only or full: one line, not a traceback
        return self._datadir

    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.app import open_ledger

            # dbapi: without SQLAlchemy's import where the database allows (issue 16)
            self._ledger = open_ledger(self.datadir(), clock=self.clock, dbapi=True)
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


pass_ctx = click.make_pass_decorator(Context)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(
        f
    )


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Path):
        return str(value)
    return value


def json_text(value: Any) -> str:
    """The JSON ``emit_json`` prints (without its final newline)."""
    return json.dumps(to_jsonable(value), indent=2, sort_keys=True)


def emit_json(value: Any) -> None:
    click.echo(json_text(value))


def json_failures(f: F) -> F:
    """A verifying command's failure said on stdout too, with --json: ``{"ok": false,
    "error": ...}``, the exit code as ever (red team, session 16: ``verify-export --json``
    and ``verify-report --json`` printed nothing on stdout when a check failed, where
    ``verify --json`` says ``"ok": false``). Usage errors stay usage errors."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except (click.exceptions.Exit, click.Abort, click.UsageError):
            raise
        except Exception as e:
            if kwargs.get("as_json"):
                emit_json({"ok": False, "error": printable(str(e), keep_newlines=True)})
            raise

    return wrapper  # type: ignore[return-value]


def info(message: str) -> None:
    click.echo(printable(message, keep_newlines=True), err=True)  # escaped (issue 14)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [
        ["" if c is None else printable(str(c)) for c in r] for r in rows
    ]  # control characters shown escaped, never sent to the terminal (issue 14)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def wraps(f: F) -> Callable[[Callable[..., Any]], F]:
    return lambda g: update_wrapper(g, f)  # type: ignore[return-value]


def remote_session(said: bool) -> bool:
    """Whether a viewing (an export is one too) is remote (Policy V-B keeps its log "for
    remote access and viewing"): said with --remote, or seen in the SSH session sshd set
    up for this login, as the web sees it in the connection. Nothing here marks a remote
    session local."""
    return said or any(os.environ.get(v, "").strip() for v in ("SSH_CONNECTION", "SSH_CLIENT"))
