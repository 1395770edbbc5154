"""What the commands share about output: text for people through :func:`echo` (escaped,
issue 14), and --force for files they write (the rules are in ``ledger.outfiles``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ledger.text import printable

F = TypeVar("F", bound=Callable[..., Any])


def force_option(f: F) -> F:
    """--force: replace an existing file at --out (never a symbolic link, never a folder)."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace the output file if it exists (a symbolic link is always refused).",
    )(f)


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """Print text for people: control characters escaped (``ledger.text.printable``), so
    a name or reason that holds a terminal escape shows as text and never drives the
    terminal. Every human line of output goes through here (JSON is escaped by json)."""
    click.echo(printable(str(message), keep_newlines=True), err=err, nl=nl)
