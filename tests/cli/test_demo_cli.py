"""`custodes demo` as a new user meets it: the report covers every day the demo recorded
(the refused restroom camera, the sweep's purges), and each "Look around" line runs as
printed from a shell whose PATH does not hold the virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only  # the demo always records on the embedded SQLite


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "run"
    script = Path(sys.executable).with_name("custodes")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODES_")}
    env["PATH"] = "/usr/bin:/bin"  # the venv is not active: `custodes` alone is not found
    done = subprocess.run(
        [str(script), "demo", "--out", str(out)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_the_demo_reports_on_every_day_it_recorded(demo: tuple[Path, str]) -> None:
    out, printed = demo
    html = next(out.glob("compliance-*.html")).read_text()
    assert next(out.glob("compliance-*.html")).name == "compliance-2026-09-29-to-2026-11-03.html"
    assert "29 September to 3 November 2026" in printed and "29 September to 3 November" in html
    assert "1 camera registration was refused (restroom-1)" in html
    assert "8 purged on time" in html
    assert "5 refused and recorded" in html
    assert "2026-10-01 10:00:00\u201310:00:01\u00a0CDT" in html  # one-second clips, seconds shown


def test_every_look_around_line_runs_as_printed(demo: tuple[Path, str], tmp_path: Path) -> None:
    _, printed = demo
    heading, rest = printed.split("Look around as the Director (passphrase: ", 1)[1].split("\n", 1)
    typed = heading.split(";", 1)[0]  # what the reader types when asked
    answer = tmp_path / "typed-passphrase"
    answer.write_text(typed + "\n")
    answer.chmod(0o600)
    lines = rest.splitlines()
    commands = [line.strip() for line in lines if line.startswith("  /")]
    assert len(commands) == 6, lines
    # No terminal here to ask at: the passphrase comes from a 0600 file, as a script's would.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "CUSTODES_PASSPHRASE_FILE": str(answer),
    }
    for command in commands:
        done = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, env=env, cwd="/"
        )
        assert done.returncode == 0, (command, done.stderr)
    assert any("source " in line and "/bin/activate" in line for line in lines)
