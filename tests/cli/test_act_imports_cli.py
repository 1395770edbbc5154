"""A one-event act as a person runs it (issue 16, speed a person feels): recorded,
signed and chained as before, without importing what it does not use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.integrity import open_chain
from tests.conftest import NOW
from tests.identity import DIRECTOR, CustodesRunner, passphrase_file

# Never needed by a footage act: SQLAlchemy, its ORM and eventsourcing-sqlalchemy (the
# act's events go through ledger.dbapi_store on sqlite3 or psycopg), SQLAlchemy-Utils,
# and the request, patron, export and issued-report aggregates (imported where a command
# uses them).
UNUSED = (
    "sqlalchemy",
    "eventsourcing_sqlalchemy",
    "sqlalchemy_utils",
    "ledger.disclosure",
    "ledger.patrons",
    "ledger.exports",
    "ledger.report_records",
)


def run(data_dir: Path, *args: str) -> Result:
    return CustodesRunner().invoke(
        custodes, ["--data-dir", str(data_dir), *args], obj=ManualClock(NOW)
    )


def _act_in_a_process(data_dir: Path, *args: str) -> tuple[int, str, str, set[str]]:
    """``custodes ARGS`` in its own process, and every module it imported. The test's
    keys are sealed with the cheap KDF (tests/conftest.py); the child reads them so."""
    probe = (
        "import sys\n"
        "from ledger import credentials\n"
        "cheap = credentials.KdfParams(memory_kib=64, iterations=1, lanes=1)\n"
        "credentials.KDF_PARAMS = credentials.KDF_MINIMUM = cheap\n"
        "from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "CUSTODES_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR))}
    done = subprocess.run(
        [sys.executable, "-c", probe, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return done.returncode, done.stdout, done.stderr, set(done.stderr.split())


def test_a_camera_add_is_recorded_without_what_it_does_not_use(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = run(data_dir, "init", "--director", DIRECTOR)
    assert made.exit_code == 0, made.output
    code, out, err, modules = _act_in_a_process(
        data_dir, "camera", "add", "cam-1", "--location", "Lobby", "--zone", "public",
        "--signage-posted", "--as", DIRECTOR,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    assert "ledger.dbapi_store" in modules  # the act did open the ledger, on the DB-API
    assert sorted(m for m in modules if m in UNUSED or m.split(".")[0] in UNUSED) == []
    listed = run(data_dir, "camera", "list", "--json", "--as", DIRECTOR)
    assert listed.exit_code == 0, listed.output
    assert "cam-1" in listed.output
    chain = open_chain(DataDir.open(data_dir))
    result = chain.verify()
    assert result.ok, result.damage
    assert result.count == chain.count_rows()
    engine = chain.recorder.datastore.engine
    assert engine is not None
    engine.dispose()


def test_a_process_that_never_imported_the_request_module_reads_a_request(
    tmp_path: Path,
) -> None:
    """The request aggregate is imported where used, not with the application: a process
    decoding a stored request event finds its class from the topic (the mapper imports
    ``ledger.disclosure``), and an act on a request in such a process is recorded."""
    data_dir = tmp_path / "data"
    made = run(data_dir, "init", "--director", DIRECTOR)
    assert made.exit_code == 0, made.output
    code, out, err, modules = _act_in_a_process(
        data_dir, "request", "open", "--requester-kind", "public", "--requester", "Someone",
        "--received-by", DIRECTOR, "--records", "circulation", "--description", "asked",
        "--as", DIRECTOR,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    assert "ledger.disclosure" in modules
    code, out, err, modules = _act_in_a_process(
        data_dir, "log", "--details", "--kind", "RequestOpened", "--as", DIRECTOR
    )
    assert code == 0, err[-2000:]
    assert "ledger.disclosure" in modules  # imported to decode the event
    assert "RequestOpened" in out
