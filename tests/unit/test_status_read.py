"""``ledger.status`` reads what ``custodes status`` prints without the ledger application:
its constants and its reading of database URLs must stay those of the ledger's."""

from __future__ import annotations

import inspect

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger import status
from ledger.site import SITE_ID, Site
from ledger.store import ChainedApplicationRecorder, redact_url


def test_the_site_id_and_topics_are_the_sites() -> None:
    assert status.SITE_ID == SITE_ID
    events = {
        get_topic(cls)
        for cls in vars(Site).values()
        if inspect.isclass(cls) and issubclass(cls, Aggregate.Event)
    }
    assert events - {get_topic(Site.Event), get_topic(Site.Created)} == status.SITE_TOPICS
    assert get_topic(Site.SiteInitialised) == status.SITE_INITIALISED
    from ledger.staff import CLEAR_TOPICS

    assert status.SITE_TOPICS & CLEAR_TOPICS == status.SITE_CLEAR_TOPICS


def test_the_table_and_head_query_are_the_recorders(tmp_path: object) -> None:
    from ledger.app import open_ledger
    from ledger.datadir import DataDir

    datadir = DataDir.create(tmp_path / "d")  # type: ignore[operator]
    ledger = open_ledger(datadir)
    try:
        recorder = ledger.recorder
        assert isinstance(recorder, ChainedApplicationRecorder)
        assert recorder.table == status.EVENTS_TABLE
        assert recorder._head_sql.replace(", act", "") == status.HEAD_SQL
    finally:
        ledger.close()


URLS = [
    "sqlite:////srv/custodes/ledger.sqlite?timeout=15",
    "sqlite:///relative/ledger.sqlite",
    "sqlite+pysqlite:///x.db?timeout=2.5",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://u:secret@h/db",
    "postgresql+psycopg://u:p%40ss%3Aw@h:5433/db?sslmode=require&application_name=a+b",
    "postgresql+psycopg://u@h/db?options=-csearch_path%3Dlib_mahomet",
    "postgresql+psycopg://u@h/db?options=-c+statement_timeout%3D5+-csearch_path%3Dlib_a",
    "postgresql+psycopg://u@[::1]:5432/db",
    "postgresql+psycopg://me@/db?host=/var/run/postgresql",
    "postgresql+psycopg://a%20b:pw@h/db?z=1&a=2&a=3",
    "postgresql+psycopg:///db",
    "postgresql://u:pw@h/db",
]


@pytest.mark.parametrize("url", URLS)
def test_a_url_is_read_and_shown_as_sqlalchemy_reads_and_shows_it(url: str) -> None:
    parsed = status.parse_url(url)
    assert parsed is not None
    assert parsed.redacted() == redact_url(url)


def test_a_url_sqlalchemy_refuses_is_left_to_it() -> None:
    assert redact_url("postgresql+psycopg://u@h:port/db") == "<unparseable database URL>"
    assert status.parse_url("postgresql+psycopg://u@h:port/db") is None
    assert status.parse_url("not a url") is None
