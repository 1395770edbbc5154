"""A court order's date scope reads the same in words on the request's page and in its
history: never a bare ``..``."""

from __future__ import annotations

from types import SimpleNamespace

from projections.disclosures import date_scope_words, order_scope_summary


def test_a_date_scope_in_words() -> None:
    assert date_scope_words(None, None) == "not limited"
    assert date_scope_words("2026-01-01", None) == "from 2026-01-01"
    assert date_scope_words(None, "2026-03-31") == "up to 2026-03-31"
    assert date_scope_words("2026-01-01", "2026-03-31") == "2026-01-01 to 2026-03-31"


def test_the_orders_summary_in_the_history_says_the_dates_in_words() -> None:
    order = SimpleNamespace(
        scope_patrons=["p-7703f80d6271a79b"], scope_records=["registration"],
        scope_fields=["name"], scope_from=None, scope_to=None,
        exclude_records=["circulation"], exclude_fields=[],
    )  # fmt: skip
    summary = order_scope_summary(order)
    assert summary == (
        "patrons p-7703f80d6271a79b; records registration, name; dates not limited; "
        "excluding circulation"
    )
    assert ".." not in summary
