"""docs/FORMAT.md names every kind of damage the verifier can report, in bold, and
`custodes verify --help` lists them: the auditor's verifier reports the same words."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from click.testing import CliRunner

from cli.main import custodes
from ledger.chain import DamageKind

FORMAT = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def test_every_damage_kind_is_specified_in_format_md() -> None:
    text = FORMAT.read_text()
    missing = [k for k in get_args(DamageKind) if f"**{k}**" not in text]
    assert missing == []


def test_verify_help_names_every_damage_kind() -> None:
    out = CliRunner().invoke(custodes, ["verify", "--help"], terminal_width=200).output
    flat = " ".join(out.split())
    assert [k for k in get_args(DamageKind) if k not in flat] == []


def test_the_types_table_covers_every_column_of_the_events_table() -> None:
    text = FORMAT.read_text()
    table = text[text.index("| column | SQLite storage class") :].split("\n\n")[0]
    for column in (
        "id", "originator_version", "position", "originator_id", "topic", "state",
        "state_digest", "prev_hash", "entry_hash", "act",
    ):  # fmt: skip
        assert f"`{column}`" in table, column
