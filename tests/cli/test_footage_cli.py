"""The footage commands through click: exit codes, stderr text, --json."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
import pytest

from cli.main import custodes
from ledger.clock import ManualClock
from tests.conftest import SETUP
from tests.identity import CustodesRunner
from tests.integration.footage_helpers import CAMERA, DIRECTOR, STAFF, clip

NOW = "2026-11-02T15:00:00Z"
LATER = "2026-12-20T15:00:00Z"


@pytest.fixture
def run(tmp_path: Path):
    data = tmp_path / "data"
    runner = CustodesRunner()

    def invoke(*args: str, now: str = NOW, env: dict[str, str | None] | None = None):
        return runner.invoke(
            custodes,
            ["--data-dir", str(data), *args],
            obj=ManualClock(datetime.fromisoformat(now)),
            env=env,
        )

    setup = SETUP.isoformat()  # the library's set-up predates its footage
    assert invoke("init", "--director", DIRECTOR, now=setup).exit_code == 0
    assert (
        invoke("staff", "add", STAFF, "--role", "staff", "--as", DIRECTOR, now=setup).exit_code == 0
    )
    r = invoke(
        "camera",
        "add",
        CAMERA,
        "--location",
        "Main lobby",
        "--zone",
        "public",
        "--signage-posted",
        "--as",
        DIRECTOR,
        now=setup,
    )
    assert r.exit_code == 0, r.output
    return invoke


def test_a_privacy_zone_camera_exits_1_citing_the_rule(run) -> None:
    r = run(
        "camera",
        "add",
        "lr-1",
        "--location",
        "Locker room",
        "--zone",
        "locker_room",
        "--signage-posted",
        "--as",
        DIRECTOR,
    )
    assert r.exit_code == 1
    assert r.stderr == (
        "Error: CAMERA-PRIVACY-ZONE (720 ILCS 5/26-4; Policy V-B): no camera may be placed in "
        "a locker room\n"
    )
    cams = json.loads(run("camera", "list", "--json").stdout)
    assert [(c["camera_id"], c["signage_posted"]) for c in cams] == [(CAMERA, True)]


def test_ingest_list_hold_sweep_and_report(run, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    clip(inbox, 0)
    clip(inbox, 1, audio=True)
    r = run("footage", "ingest", str(inbox), "--camera", CAMERA, "--as", STAFF, "--json")
    assert r.exit_code == 1
    outcomes = json.loads(r.stdout)
    assert [o["status"] for o in outcomes] == ["ingested", "refused"]
    assert "1 ingested, 0 recorded after interruption, 0 already recorded, 1 refused." in r.stderr
    assert "refused: CAMERA-NO-AUDIO (720 ILCS 5/14-2; Policy V-B)" in r.stderr
    assert r.stderr.rstrip().endswith("Error: 1 file refused; see above")
    sid = outcomes[0]["segment_id"]

    rows = json.loads(run("footage", "list", "--json").stdout)
    assert [(x["segment_id"], x["status"]) for x in rows] == [(sid, "retained")]

    r = run(
        "footage",
        "hold",
        "place",
        sid,
        "--kind",
        "legal",
        "--reason",
        "suit",
        "--reference",
        "L-1",
        "--as",
        DIRECTOR,
    )
    assert r.exit_code == 0, r.output
    hold = r.stdout.strip()
    assert run("retention", "sweep", "--service", now=LATER).exit_code == 2  # needs --yes
    r = run("retention", "sweep", "--yes", "--service", now=LATER)
    assert r.exit_code == 0 and "0 due; 0 purged" in r.stderr
    lifted = "2026-12-20T14:57:00Z"  # three minutes before LATER
    r = run("footage", "hold", "release", hold, "--reason", "settled", "--as", STAFF, now=lifted)
    assert r.exit_code == 1 and "FOOTAGE-HOLD-RELEASE-DIRECTOR" in r.stderr
    assert (
        run(
            "footage", "hold", "release", hold, "--reason", "settled", "--as", DIRECTOR, now=lifted
        ).exit_code
        == 0
    )
    # due once the hold is lifted and the clocks' 2 minutes have passed (session 18)
    r = run("retention", "sweep", "--yes", "--service", "--json", now=lifted)
    assert r.exit_code == 0 and json.loads(r.stdout)["outcomes"] == [], r.output
    r = run("retention", "sweep", "--yes", "--service", "--json", now=LATER)
    assert r.exit_code == 0, r.output
    assert [o["status"] for o in json.loads(r.stdout)["outcomes"]] == ["purged"]
    rows = json.loads(run("footage", "list", "--status", "purged", "--json", now=LATER).stdout)
    assert [x["segment_id"] for x in rows] == [sid]

    # Audio refused at ingest is a recorded refusal, but no attempt to see footage.
    report = json.loads(run("report", "access", "--from", "2026-11-01", "--json").stdout)
    assert report["refused"] == []
    refused = json.loads(run("log", "--kind", "AccessDenied", "--json", now=LATER).stdout)
    assert [x["details"]["rule_id"] for x in refused][0] == "CAMERA-NO-AUDIO"
    assert run("verify", now=LATER).exit_code == 0  # verified after its acts
    rebuilt = run("projections", "rebuild", "--processes", "2")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "events in 2 processes" in rebuilt.output
    one = json.loads(run("projections", "rebuild", "--processes", "1", "--json").stdout)
    assert one["processes"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (
                "footage",
                "flag",
                "0123456789ab",
                "--incident",
                "IR-1",
                "--reason",
                "x",
                "--as",
                STAFF,
            ),
            "Error: segment '0123456789ab' is not recorded; list segments with: custodes footage list\n",
        ),
        (
            ("footage", "ingest", "nothing.mp4", "--camera", "attic", "--as", STAFF),
            "Error: camera 'attic' is not registered. See the registered cameras with: custodes "
            "camera list; a Director registers a new one with: custodes camera add CAMERA_ID "
            "--location TEXT --zone public --signage-posted --as NAME\n",
        ),
        (
            ("footage", "view", "0123456789ab", "--reason", "x", "--as", "Nobody"),
            "Error: STAFF-ACTIVE (Policy V-A, V-B): 'Nobody' is not a registered staff member; only "
            "active staff may act (a Director adds staff with: custodes staff add NAME --role ROLE)\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(run, args: tuple[str, ...], message: str) -> None:
    r = run(*args)
    assert (r.exit_code, r.stderr) == (1, message)


def test_an_empty_reason_and_a_bad_date_change_nothing(run, tmp_path: Path) -> None:
    r = run(
        "footage", "ingest", str(clip(tmp_path, 0)), "--camera", CAMERA, "--as", STAFF, "--json"
    )
    sid = json.loads(r.stdout)[0]["segment_id"]
    r = run("footage", "flag", sid, "--incident", "IR-1", "--reason", " ", "--as", STAFF)
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: flagging segment {sid}: a reason is required; pass --reason TEXT\n",
    )
    r = run("footage", "flag", sid, "--incident", "IR-1", "--reason", "theft", "--until",
            "01/02/2027", "--as", STAFF)  # fmt: skip
    assert r.exit_code == 2 and "'01/02/2027' is not a date or a time" in r.stderr
    assert json.loads(run("footage", "list", "--json").stdout)[0]["flags"] == []


def test_every_footage_command_has_help_with_an_example() -> None:
    names = ("camera", "footage", "retention", "projections")

    def walk(cmd: click.Command, path: str) -> None:
        assert cmd.help and "Example:" in cmd.help, path
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    custodes.load()
    for name in names:
        walk(custodes.commands[name], name)
    walk(custodes.commands["report"].commands["access"], "report access")


def test_footage_copies_never_lists_a_copies_table_changed_with_sql(run, tmp_path: Path) -> None:
    """R29, as `footage list`: a live copy's row deleted with plain SQL would hide a
    decrypted copy from the list; `footage copies` exits 3 naming the table instead."""
    from tests.cli.db_helpers import execute

    clip(tmp_path / "inbox", 0)
    r = run("footage", "ingest", str(tmp_path / "inbox"), "--camera", CAMERA, "--as", DIRECTOR,
            "--json")  # fmt: skip
    sid = json.loads(r.stdout)[0]["segment_id"]
    viewed = run("footage", "view", sid, "--reason", "a patron fell", "--purpose", "safety",
                 "--as", DIRECTOR)  # fmt: skip
    assert viewed.exit_code == 0, viewed.output
    listed = run("footage", "copies", "--json", "--as", DIRECTOR)
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)["copies"]) == 1
    execute(tmp_path / "data", "DELETE FROM proj_access_copies")
    forged = run("footage", "copies", "--json", "--as", DIRECTOR)
    assert forged.exit_code == 3, forged.output
    assert "proj_access_copies" in forged.stderr and forged.stdout == ""


def test_a_viewing_from_an_ssh_session_is_recorded_as_remote(run, tmp_path: Path) -> None:
    """Red-team (redteam9): Policy V-B keeps the log "for remote access and viewing of
    archived footage", but the command line took the viewer's word (--remote): the
    Director viewing from home over SSH was logged as not remote. The web decides it from
    the connection; the command line from the SSH session sshd set up."""
    clip(tmp_path / "inbox", 0)
    r = run("footage", "ingest", str(tmp_path / "inbox"), "--camera", CAMERA, "--as", DIRECTOR,
            "--json")  # fmt: skip
    sid = json.loads(r.stdout)[0]["segment_id"]
    ssh: dict[str, str | None] = {"SSH_CONNECTION": "203.0.113.7 50022 192.0.2.10 22"}
    desk: dict[str, str | None] = {"SSH_CONNECTION": None, "SSH_CLIENT": None}
    view = ("footage", "view", sid, "--reason", "a patron fell", "--purpose", "safety",
            "--as", DIRECTOR)  # fmt: skip
    assert run(*view, env=ssh).exit_code == 0
    assert run("footage", "done", sid, "--as", DIRECTOR).exit_code == 0
    assert run(*view, env=desk).exit_code == 0  # at the library's desk
    frame = ("footage", "frame", sid, "--at", "0.1", "--out", str(tmp_path / "still.png"),
             "--reason", "a patron fell", "--purpose", "safety", "--as", DIRECTOR)  # fmt: skip
    assert run(*frame, env={**desk, "SSH_CLIENT": "203.0.113.7 50022 22"}).exit_code == 0
    log = run("report", "access", "--from", "2026-11-01", "--to", "2026-11-30", "--json",
              "--as", DIRECTOR)  # fmt: skip
    assert log.exit_code == 0, log.output
    assert [v["remote"] for v in json.loads(log.stdout)["viewings"]] == [True, False, True]


def test_a_copy_moved_away_before_done_is_recorded_not_found_and_reported(
    run, tmp_path: Path
) -> None:
    """Outside review (sessions 17-18): a viewing copy moved out of viewing/ before
    ``footage done`` was recorded destroyed. Now ``done`` says so (exit 1, recorded as not
    found), the compliance report names it, and verify-report proves the item."""
    clip(tmp_path / "inbox", 0)
    r = run("footage", "ingest", str(tmp_path / "inbox"), "--camera", CAMERA, "--as", DIRECTOR,
            "--json")  # fmt: skip
    sid = json.loads(r.stdout)[0]["segment_id"]
    run("footage", "view", sid, "--reason", "a patron fell", "--purpose", "safety",
        "--as", DIRECTOR)  # fmt: skip
    [copy] = json.loads(run("footage", "copies", "--json", "--as", DIRECTOR).stdout)["copies"]
    Path(copy["path"]).rename(tmp_path / "on-a-usb-stick.mp4")
    done = run("footage", "done", sid, "--as", DIRECTOR)
    assert done.exit_code == 1, done.output
    assert "1 viewing copy" in done.stderr and "not there to destroy" in done.stderr
    assert json.loads(run("footage", "copies", "--json", "--as", DIRECTOR).stdout)["copies"] == []
    out = tmp_path / "report.json"
    made = run("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02",
               "--format", "json", "--out", str(out), "--as", DIRECTOR)  # fmt: skip
    assert made.exit_code == 0, made.output
    [item] = [a for a in json.loads(out.read_text())["attention"]
              if a["rule_id"] == "FOOTAGE-VIEWING-COPY"]  # fmt: skip
    assert item["subject_id"] == sid and item["severity"] == "warning"
    assert (
        copy["path"] in item["text"] and "not there when Custodes came to destroy" in item["text"]
    )
    key = tmp_path / "library.pem"
    key.write_text(run("keys", "export-public").stdout)
    checked = run("verify-report", str(out), "--key", str(key), "--events")
    assert checked.exit_code == 0, checked.output
