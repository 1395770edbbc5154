"""The rules page is the code's own catalogue, and every requirement id the docs cite is
explained in it (the project's docs stand alone)."""

from __future__ import annotations

import re
from pathlib import Path

from cli.rules_cmd import rules_markdown
from ledger.rules import REQUIREMENTS, RULES

ROOT = Path(__file__).resolve().parents[2]


def test_docs_rules_md_is_generated_from_ledger_rules() -> None:
    assert (ROOT / "docs" / "RULES.md").read_text() == rules_markdown(), (
        "regenerate it: custodes rules --markdown > docs/RULES.md"
    )


def test_every_requirement_a_rule_or_a_page_cites_is_explained() -> None:
    cited = {q for r in RULES.values() for q in r.requirements}
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    for page in pages:
        cited |= set(re.findall(r"\bR\d+[ab]?\b", page.read_text()))
    assert cited - set(REQUIREMENTS) == set()
