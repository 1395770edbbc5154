"""What the commands share about output: --force for files they write (the rules are in
``ledger.outfiles``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def force_option(f: F) -> F:
    """--force: replace an existing file at --out (never a symbolic link, never a folder)."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace the output file if it exists (a symbolic link is always refused).",
    )(f)
