"""Card numbers stay out of clear free text (issue 14, finding 4): a description, scope,
reason or flag reason holding one is refused with a hint to the patron fields and
nothing is recorded; in the patron fields it is sealed. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import count_events, every_stored_byte
from tests.conftest import NOW
from tests.identity import CustodesRunner

D = "Dana Director"
CARD = "2100-0777-1234"


def run(data: Path, *args: str, code: int = 0) -> Result:
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", str(data), *args], obj=ManualClock(NOW)
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_card_numbers_are_refused_in_free_text_and_sealed_in_the_patron_fields(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    run(data, "init", "--director", D)
    before = count_events(data)
    refused = run(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester",
        "Ofc. Lee", "--received-by", D, "--records", "registration", "--description",
        f"who holds card {CARD}?", "--as", D, code=1,
    )  # fmt: skip
    assert "the description holds what looks like a library card number (21…34)" in (refused.stderr)
    assert "--patron CARD" in refused.stderr
    assert count_events(data) == before

    opened = run(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester",
        "Ofc. Lee", "--received-by", D, "--records", "registration", "--patron", CARD,
        "--description", "who holds the patron's card?", "--as", D, "--json",
    )  # fmt: skip
    ref = json.loads(opened.stdout)["ref"]
    scan = tmp_path / "order.pdf"
    scan.write_bytes(b"%PDF-1.7 the order")
    scope = run(
        data, "request", "court-order", ref, "--kind", "order", "--signed-by-judge",
        "--court", "Circuit Court", "--judge", "Hon. A. Judge", "--case", "2026-CF-123",
        "--issued", "2026-11-01T09:00", "--served-at", "2026-11-02T08:30",
        "--served-by", "Det. Ray", "--scope-patron", CARD, "--scope-records", "registration",
        "--scope-note", f"registration for card {CARD}, October 2026",
        "--document", str(scan), "--as", D, code=1,
    )  # fmt: skip
    assert "the scope note holds what looks like a library card number" in scope.stderr
    decided = run(data, "request", "decide", ref, "--deny", "--reason", f"card {CARD}",
                  "--as", D, code=1)  # fmt: skip
    assert "the reason (--reason) holds what looks like a library card number" in decided.stderr
    stored = every_stored_byte(data)
    for form in (CARD, CARD.replace("-", "")):
        assert form.encode() not in stored


def test_a_date_of_birth_or_a_card_number_in_disguise_is_refused_and_no_key_is_left(
    tmp_path: Path,
) -> None:
    """Red team (session 22): "DOB 1990-01-02" in a description, a card number behind a
    date ("2100-01-23-456789") and one in Arabic-Indic digits were recorded in clear, and
    the refused `request open` had already written the patron's key. Each is refused,
    nothing is recorded and the keys directory is as it was."""
    data = tmp_path / "data"
    run(data, "init", "--director", D)
    before = count_events(data)
    keys = sorted(str(p) for p in (data / "keys").rglob("*"))
    for description, says in [
        ("who is the patron, DOB 1990-01-02?", "a date of birth ('DOB' and a date)"),
        ("date of birth 01/02/1990, who is it?", "a date of birth ('date of birth'"),
        ("who holds card 2100-01-23-456789?", "a library card number (21…89)"),
        ("who holds card ٢١٠٠٠١٢٣٤٥٦٧٨٩?", "a library card number (21…89)"),
    ]:
        refused = run(
            data, "request", "open", "--requester-kind", "law_enforcement", "--requester",
            "Ofc. Lee", "--received-by", D, "--records", "registration", "--patron", CARD,
            "--description", description, "--as", D, code=1,
        )  # fmt: skip
        assert f"the description holds what looks like {says}" in refused.stderr
        assert "--patron CARD" in refused.stderr and "nothing was recorded" in refused.stderr
        assert "1990" not in refused.stderr
    assert count_events(data) == before
    assert sorted(str(p) for p in (data / "keys").rglob("*")) == keys
    # an ordinary date is fine, and the patron's key is written with the request
    run(
        data, "request", "open", "--requester-kind", "law_enforcement", "--requester",
        "Ofc. Lee", "--received-by", D, "--records", "registration", "--patron", CARD,
        "--description", "order dated 2026-03-01 for the patron seen on 2026-02-27",
        "--as", D,
    )  # fmt: skip
    assert len(list((data / "keys" / "patrons").glob("*.key"))) == 1
