"""Words she understands: the tool's own hints work as printed, a typo gets "Did you mean
...?" (never an invitation to register it), a refusal of several fields cites each rule
once, ``request show`` is a readable record, and no temporary path leaks out."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.identity import CustodesRunner, passphrase_file
from tests.integration.footage_helpers import clip

D, S = "Diane Okafor", "Sam Staff"
NOW = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 10:00 CST


def invoke(*args: str, code: int = 0) -> Result:
    # Who acts when no --as is given: this library's Director, signed in by passphrase file.
    env = {"CUSTODES_ACTOR": D, "CUSTODES_PASSPHRASE_FILE": str(passphrase_file(D))}
    result = CustodesRunner().invoke(
        custodes, list(args), obj=ManualClock(NOW), env=None if "--as" in args else env
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    invoke("init", "--director", D, "--data-dir", str(path))
    invoke("staff", "add", S, "--role", "staff", "--as", D, "--data-dir", str(path))
    invoke("camera", "add", "entrance", "--location", "Front door", "--zone", "public",
           "--signage-posted", "--as", D, "--data-dir", str(path))  # fmt: skip
    return path


# ---- --data-dir before or after the command ---------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["status", "--json"],
        ["staff", "list", "--json"],
        ["footage", "hold", "list", "--json"],
        ["report", "access", "--json"],
        ["request", "list", "--json"],
    ],
    ids=lambda c: " ".join(c[:-1]),
)
def test_data_dir_works_before_and_after_the_command(data: Path, command: list[str]) -> None:
    before = invoke("--data-dir", str(data), *command).stdout
    after = invoke(*command, "--data-dir", str(data)).stdout
    assert before == after


def test_data_dir_after_the_command_wins_over_the_one_before(data: Path, tmp_path: Path) -> None:
    shown = invoke("--data-dir", str(tmp_path / "elsewhere"), "status", "--json",
                   "--data-dir", str(data)).stdout  # fmt: skip
    assert json.loads(shown)["data_dir"] == str(data)


def test_the_hint_for_a_missing_ledger_works_as_printed(tmp_path: Path) -> None:
    empty = tmp_path / "new"
    refused = invoke("--data-dir", str(empty), "status", code=1)
    hint = re.search(r"Create one with: (custodes init .*)$", refused.stderr.strip())
    assert hint, refused.stderr
    words = shlex.split(
        hint.group(1).replace("NAME", "'Dana Director'").replace("PATH", str(empty))
    )
    invoke(*words[1:])
    status = json.loads(invoke("status", "--json", "--data-dir", str(empty)).stdout)
    assert status["data_dir"] == str(empty) and status["events"] > 0


# ---- Did you mean ...? ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected", "never"),
    [
        (
            ["footage", "ingest", "CLIP", "--camera", "entrnce", "--as", S],
            "camera 'entrnce' is not registered. Did you mean 'entrance'? (see: custodes "
            "camera list)",
            "camera add entrnce",
        ),
        (
            ["footage", "list", "--camera", "Entrance-"],
            "Did you mean 'entrance'?",
            "camera add",
        ),
        (
            ["footage", "ingest", "CLIP", "--camera", "loading-dock", "--as", S],
            "camera 'loading-dock' is not registered. See the registered cameras with: "
            "custodes camera list; a Director registers a new one with: custodes camera add "
            "CAMERA_ID",
            "camera add loading-dock",
        ),
        (
            ["staff", "add", "Bo Business", "--role", "business_manager", "--as", "Diane Okafr"],
            "'Diane Okafr' is not a registered staff member (did you mean 'Diane Okafor'?)",
            "staff add Diane Okafr",
        ),
        (
            [
                "request",
                "open",
                "--requester-kind",
                "public",
                "--requester",
                "A reporter",
                "--received-by",
                "Sam Staf",
                "--records",
                "footage",
                "--description",
                "x",
                "--as",
                S,
            ],
            "--received-by 'Sam Staf' is not an active staff member. Did you mean 'Sam Staff'?",
            "staff add Sam Staf",
        ),
    ],  # fmt: skip
    ids=[
        "a camera typo",
        "a camera filter typo",
        "no camera close",
        "an actor typo",
        "a receiver typo",
    ],  # fmt: skip
)
def test_a_typo_is_answered_with_the_registered_name(
    data: Path, tmp_path: Path, args: list[str], expected: str, never: str
) -> None:
    args = [str(clip(tmp_path / "in")) if a == "CLIP" else a for a in args]
    result = invoke(*args, "--data-dir", str(data), code=1)
    assert expected in result.stderr
    assert never not in result.stderr


# ---- one refusal, each rule once ----------------------------------------------------------


def test_a_refusal_of_many_fields_is_one_line_citing_each_rule_once(data: Path) -> None:
    ref = invoke(
        "request", "open", "--requester-kind", "public", "--requester", "A reporter",
        "--received-by", S, "--records", "registration,circulation", "--patron", "2100",
        "--description", "everything", "--as", S, "--data-dir", str(data),
    ).stdout.strip()  # fmt: skip
    refused = invoke("request", "decide", ref, "--approve", "--reason", "asked", "--as", D,
                     "--data-dir", str(data), code=1).stderr  # fmt: skip
    assert refused == (
        "Error: FOIA-7-1A (5 ILCS 140/7(1)(a); 75 ILCS 70/1): nothing in this request may be "
        "released: confidential patron records (address, card number, name, phone, "
        "registration record); FOIA-7.5B (5 ILCS 140/7.5(b)): circulation records are exempt "
        "from FOIA disclosure (circulation history, holds, titles)\n"
    )


# ---- request show --------------------------------------------------------------------------


def test_request_show_is_a_readable_record_in_site_time(data: Path) -> None:
    ref = invoke(
        "request", "open", "--requester-kind", "public", "--requester", "A reporter",
        "--received-by", S, "--records", "footage", "--description", "lobby footage",
        "--as", S, "--data-dir", str(data),
    ).stdout.strip()  # fmt: skip
    shown = invoke("request", "show", ref, "--data-dir", str(data)).stdout
    lines = shown.splitlines()
    assert lines[0] == f"{ref}: public request"
    for expected in (
        "  Requester         A reporter",
        f"  Received          2026-12-01 10:00 CST by {S}",
        "FOIA clock (5 ILCS 140/3)",
        "  Respond by        2026-12-08 23:59 CST",
        "  Decision          pending",
    ):
        assert expected in lines, shown
    for noise in ("{", "[", "+00:00", "None", "UTC", "  Case number"):
        assert noise not in shown, noise
    assert (
        json.loads(invoke("request", "show", ref, "--json", "--data-dir", str(data)).stdout)["ref"]
        == ref
    )


# ---- no temporary path in a message ------------------------------------------------------


def test_a_still_outside_the_clip_names_the_segment_not_a_temporary_file(
    data: Path, tmp_path: Path
) -> None:
    ingested = invoke("footage", "ingest", str(clip(tmp_path / "in", start=NOW)), "--camera",
                      "entrance", "--as", S, "--json", "--data-dir", str(data))  # fmt: skip
    segment = json.loads(ingested.stdout)[0]["segment_id"]
    refused = invoke(
        "footage", "frame", segment, "--at", "99", "--out", str(tmp_path / "still.png"),
        "--reason", "identify the vehicle", "--as", D, "--data-dir", str(data), code=1,
    ).stderr  # fmt: skip
    assert refused == (
        f"Error: segment {segment}: 99 s is outside the clip (0 to 1 s); choose a time inside it.\n"
    )
    assert not list((data / "viewing").iterdir())  # and the decrypted copy is gone
