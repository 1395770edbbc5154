"""custodes policy ... as a Director would use it (R28, issue 15), on SQLite and PostgreSQL
(tests/cli/conftest.py): init adopts version 1; adopt, show, history, diff with --json; a
non-Director, a past date, a parameters file that does not fit the schema (naming the
key) or a text that is not the approved one is refused and the refusal recorded (exit 1),
nothing adopted; a forged
citation makes verify --deep exit 3 with its position and kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.cli.test_disclosure_fidelity_cli import Cli as FidelityCli

NOW = "2026-11-02T15:00:00Z"
TOMORROW = "2026-11-03T15:00:00Z"
D, S = "Dana Director", "Sam Staff"


class Cli(FidelityCli):
    """The disclosure tests' runner, with JSON and counting helpers."""

    def json(self, *args: str, now: str = NOW) -> Any:
        return json.loads(self(*args, "--json", now=now).stdout)

    def count(self) -> int:
        return len(self.json("log", "--limit", "100000", "--as", D))


def _setup(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli("init", "--director", D, "--library", "Riverbend Public Library")
    cli("staff", "add", S, "--role", "staff")
    cli("policy", "profiles", "--write", str(tmp_path / "p7"), "--profile", "riverbend-7-day")
    return cli


def _adopt(cli: Cli, *extra: str, params: str = "params.toml", code: int = 0) -> Result:
    p = cli.tmp / "p7"
    return cli("policy", "adopt", "--text", str(p / "policy.txt"), "--params", str(p / params),
               "--approved-by", "Board of Trustees", "--approval-ref", "minutes 2026-11-01 item 7",
               *extra, code=code)  # fmt: skip


def test_adopt_show_history_and_diff_round_trip(tmp_path: Path) -> None:
    cli = _setup(tmp_path)
    v1 = cli.json("policy", "show")
    assert (v1["version"], v1["profile"]) == (1, "mahomet-30-day")
    assert v1["params"]["footage"]["retention_days"] == 30 and "thirty days" in v1["text"]

    made = json.loads(_adopt(cli, "--effective", "2026-11-03", "--json").stdout)
    assert made["version"] == 2 and made["effective_at"] == "2026-11-03T06:00:00Z"
    assert cli.json("policy", "show")["version"] == 1  # not yet in force
    assert cli.json("policy", "show", now=TOMORROW)["version"] == 2
    assert cli.json("policy", "show", "--as-of", "2026-11-02T20:00")["version"] == 1
    history = cli.json("policy", "history")["versions"]
    assert [(v["version"], v["approval_ref"]) for v in history] == [
        (1, "initial policy: Custodes profile mahomet-30-day"),
        (2, "minutes 2026-11-01 item 7"),
    ]
    diff = cli.json("policy", "diff", "1", "2")
    assert diff["text_changed"] is True
    assert {"key": "footage.retention_days", "old": 30, "new": 7} in diff["params"]
    shown = cli("policy", "show", "--version", "2").stdout
    assert "minutes 2026-11-01 item 7" in shown and "footage.retention_days: 7" in shown
    settings = cli.json("retention", "settings", now=TOMORROW)
    assert (settings["retention_days"], settings["policy_version"]) == (7, 2)
    assert "OK" in cli("verify", "--deep", now=TOMORROW).stdout


def test_a_mistyped_far_date_is_superseded_by_name(tmp_path: Path) -> None:
    cli = _setup(tmp_path)
    _adopt(cli, "--effective", "2027-10-01")  # meant 2026-12-01
    refused = _adopt(cli, "--effective", "2026-12-01", code=1)
    assert "say so with --supersedes 2" in refused.stderr
    _adopt(cli, "--effective", "2026-12-01", "--supersedes", "2")
    history = cli("policy", "history").stdout
    assert "v2  superseded by v3, never in force (was to be from 2027-10-01 00:00 CDT)" in history
    assert [v["superseded_by"] for v in cli.json("policy", "history")["versions"]] == [
        None,
        3,
        None,
    ]
    assert "superseded:   by version 3" in cli("policy", "show", "--version", "2").stdout


def test_refusals_and_bad_files_are_recorded_and_nothing_adopted(tmp_path: Path) -> None:
    cli = _setup(tmp_path)
    refused = _adopt(cli, "--effective", "2026-11-02", "--as", S, code=1)
    assert refused.stderr.startswith("Error: POLICY-ADOPTION")
    past = _adopt(cli, "--effective", "2026-10-01", code=1)
    assert "in the past" in past.stderr
    p = tmp_path / "p7"
    (p / "audio.toml").write_text(
        (p / "params.toml").read_text().replace("audio_recording = false", "audio_recording = true")
    )
    audio = _adopt(cli, "--effective", "2026-11-02", params="audio.toml", code=1)
    assert "CAMERA-NO-AUDIO" in audio.stderr and "footage.audio_recording" in audio.stderr
    denied = [e["details"] for e in cli.json("log", "--kind", "AccessDenied", "--as", D)]
    assert [d["rule_id"] for d in denied] == [
        "POLICY-ADOPTION",
        "POLICY-ADOPTION",
        "CAMERA-NO-AUDIO",
    ]
    assert {d["policy_version"] for d in denied} == {1}

    # A file that does not fit the schema: refused naming the key, exit 1, the refusal
    # recorded, nothing adopted (issue 15).
    (p / "typo.toml").write_text(
        (p / "params.toml").read_text().replace("flag_max_days", "flag_days")
    )
    typo = _adopt(cli, "--effective", "2026-11-02", params="typo.toml", code=1)
    assert "POLICY-PARAMETERS" in typo.stderr
    assert "unknown key footage.flag_days" in typo.stderr
    (p / "type.toml").write_text(
        (p / "params.toml").read_text().replace("retention_days = 7", 'retention_days = "7"')
    )
    wrong = _adopt(cli, "--effective", "2026-11-02", params="type.toml", code=1)
    assert "footage.retention_days must be a whole number" in wrong.stderr
    (p / "bound.toml").write_text(
        (p / "params.toml").read_text().replace("flag_max_days = 90", "flag_max_days = 5000")
    )
    bound = _adopt(cli, "--effective", "2026-11-02", params="bound.toml", code=1)
    assert "footage.flag_max_days = 5000 is outside 1..3650" in bound.stderr
    sha = _adopt(cli, "--effective", "2026-11-02", "--text-sha256", "0" * 64, code=1)
    assert "POLICY-ADOPTION" in sha.stderr and "not the approved text" in sha.stderr
    log = cli.json("log", "--kind", "AccessDenied", "--as", D)
    assert [(d["rule_id"], e["actor"]) for e in log[3:] if (d := e["details"])] == [
        ("POLICY-PARAMETERS", D), ("POLICY-PARAMETERS", D), ("POLICY-PARAMETERS", D),
        ("POLICY-ADOPTION", D),
    ]  # fmt: skip
    assert "footage.flag_days" in log[3]["details"]["message"]
    before = cli.count()
    old = cli("retention", "settings", "--retention-days", "45", code=1)
    assert "custodes policy adopt" in old.stderr
    assert cli.count() == before + 1  # only the log read itself (R27)
    assert [v["version"] for v in cli.json("policy", "history")["versions"]] == [1]


def test_verify_deep_exits_3_on_a_forged_citation(tmp_path: Path) -> None:
    from ledger.app import open_ledger
    from ledger.datadir import DataDir
    from tests.integration.test_policy_versions import _forge_citation

    cli = _setup(tmp_path)
    _adopt(cli, "--effective", "2026-11-02")
    cli("camera", "add", "lobby-1", "--location", "Lobby", "--zone", "public", "--signage-posted")
    ledger = open_ledger(DataDir.open(cli.data))
    try:
        position = _forge_citation(ledger, cli.data, "CameraRegistered", 1)
    finally:
        ledger.close()
    assert "OK" in cli("verify").stdout  # the chain and the signatures are consistent
    damaged = cli("verify", "--deep", code=3)
    out = damaged.stdout + damaged.stderr
    assert f"position {position}" in out and "policy" in out
    assert "cites policy version 1, but version 2 was in force" in out
