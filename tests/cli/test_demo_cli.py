"""`custodes demo` as a new user meets it: the report covers every day the demo recorded
(the refused restroom camera, the sweep's purges), and each "Look around" line runs as
printed from a shell whose PATH does not hold the virtual environment."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
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


def test_every_look_around_line_runs_as_printed(demo: tuple[Path, str]) -> None:
    """Typed into one terminal, as a reader would: login asks for the printed passphrase,
    the commands after it run signed in (the sign-in is bound to the terminal session)."""
    _, printed = demo
    typed = printed.split("\n  Dana Director: ", 1)[1].split("\n", 1)[0]
    lines = printed.split("Look around (", 1)[1].split("Or in a browser", 1)[0].splitlines()[1:]
    commands = [line.strip() for line in lines if line.startswith("  /")]
    assert len(commands) == 8 and commands[0].endswith("login 'Dana Director'"), lines
    assert any("source " in line and "/bin/activate" in line for line in lines)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "TERM": "dumb"}
    status, output = _in_a_terminal(" && ".join(commands), env, answer=typed)
    assert status == 0, output
    assert "Signed in as Dana Director" in output and "OK: " in output


def test_the_printed_serve_line_opens_the_dashboard(demo: tuple[Path, str]) -> None:
    """The browser line, run as printed: the dashboard answers on 127.0.0.1:8470 (or the
    test's free port) and the demo's Director can sign in there (issue 17)."""
    import shlex
    import socket
    import urllib.request

    _, printed = demo
    line = printed.split("Or in a browser", 1)[1].splitlines()[1].strip()
    assert line.endswith(" serve") and "--data-dir" in line
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    server = subprocess.Popen(
        [*shlex.split(line), "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "<h1>Sign in</h1>" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.stderr is not None
    assert f"http://127.0.0.1:{port}/" in server.stderr.read()


def _in_a_terminal(script: str, env: dict[str, str], *, answer: str) -> tuple[int, str]:
    """Run ``script`` in a new terminal session; type ``answer`` at the passphrase prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a shell in a terminal of its own
        os.chdir("/")
        os.execve("/bin/sh", ["/bin/sh", "-c", script], env)
    output, answered, deadline = b"", False, time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal closed: the shell is done
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Passphrase for Dana Director" in output:
                os.write(fd, answer.encode() + b"\n")
                answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_an_unknown_profile_is_a_usage_error_naming_the_profiles(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import custodes

    result = CliRunner().invoke(
        custodes, ["demo", "--profile", "riverbend", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no profile 'riverbend'" in result.output and "riverbend-7-day" in result.output
    assert not (tmp_path / "o").exists()
