"""The home page's integrity panel (issue 17 review): the last whole-chain verification
is recorded in the ledger (web and command line), survives a restart and is shared with
``custodes verify --record``; a failed one shows as failed, also when the ledger cannot take it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import execute
from tests.identity import CustodesRunner
from tests.integration.test_witness_loopback import witnesses as witnesses  # noqa: F401
from tests.web.conftest import COUNSEL, DIRECTOR, STAFF, head, kinds_since, post, sign_in


def _integrity(client: Any) -> str:
    html = client.get("/").get_data(as_text=True)
    return html[html.index('id="integrity"') : html.index('id="mine"')]


def test_a_web_verification_is_recorded_and_survives_a_restart(
    app: Flask, library: dict[str, Any], clock: ManualClock
) -> None:
    from web.app import create_app, desk

    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    assert post(director, "/verify", {}, form_page="/").status_code == 302
    assert kinds_since(library["data_dir"], start) == ["LedgerVerified"]
    restarted = create_app(library["data_dir"], clock=clock)
    try:
        panel = _integrity(sign_in(restarted, DIRECTOR))
    finally:
        with restarted.app_context():
            desk().ledger.close()
    assert f"by {DIRECTOR} (web, OS user " in panel
    assert f"OK, the {start} entries before it verify" in panel
    assert "CST" in panel or "CDT" in panel  # site time, with its zone


def test_a_command_line_verification_shows_on_the_home_page(
    app: Flask, library: dict[str, Any]
) -> None:
    """Nobody signed in at the terminal (cron): the service identity records it."""
    start = head(library["data_dir"])
    run = CustodesRunner().invoke(
        custodes,
        ["--data-dir", str(library["data_dir"]), "verify", "--record"],
        obj=ManualClock(app_now(app)),
    )
    assert run.exit_code == 0, run.output
    assert kinds_since(library["data_dir"], start) == ["LedgerVerified"]
    panel = _integrity(sign_in(app, DIRECTOR))
    assert "by the service identity (command line, OS user " in panel
    assert f"OK, the {start} entries before it verify" in panel


def app_now(app: Flask) -> Any:
    from web.app import desk

    with app.app_context():
        return desk().now()


def test_a_tampered_chain_shows_its_failed_verification(
    app: Flask, library: dict[str, Any], clock: ManualClock
) -> None:
    """Kept in the data directory, never appended to the damaged chain; shown as failed,
    after an earlier OK, and after a restart."""
    from web.app import create_app, desk

    director = sign_in(app, DIRECTOR)
    assert post(director, "/verify", {}, form_page="/").status_code == 302
    execute(library["data_dir"], "UPDATE ledger_events SET prev_hash = entry_hash WHERE id = 9")
    start = head(library["data_dir"])
    clock.advance(timedelta(minutes=1))
    assert post(director, "/verify", {}, form_page="/").status_code == 302
    assert head(library["data_dir"]) == start  # nothing appended
    assert (Path(library["data_dir"]) / "verification-failure.json").exists()
    restarted = create_app(library["data_dir"], clock=clock)
    try:
        for client in (director, sign_in(restarted, DIRECTOR)):
            panel = _integrity(client)
            assert "ledger verification FAILED at position 9" in panel
            assert "kept in the data directory" in panel
            assert "OK," not in panel
    finally:
        with restarted.app_context():
            desk().ledger.close()


def test_a_failure_file_dated_ahead_does_not_outrank_later_verifications(
    app: Flask, library: dict[str, Any]
) -> None:
    """Anyone who can write the data directory can write the failure file, but not make
    it hide every later verification by dating it years ahead."""
    director = sign_in(app, DIRECTOR)
    body = {"at": "2099-01-01T00:00:00+00:00", "actor": "someone", "actor_role": "",
            "entries": 3, "problem": "ledger verification FAILED at position 4: edited",
            "via": "command line", "os_user": "x"}  # fmt: skip
    (Path(library["data_dir"]) / "verification-failure.json").write_text(json.dumps(body))
    assert post(director, "/verify", {}, form_page="/").status_code == 302
    panel = _integrity(director)
    assert "FAILED" not in panel and "OK, the" in panel


def test_staff_see_no_integrity_panel(app: Flask, library: dict[str, Any]) -> None:
    html = sign_in(app, STAFF).get("/").get_data(as_text=True)
    assert 'id="integrity"' not in html


def test_the_proof_download_is_witnessed_and_the_home_page_shows_the_quorum(
    app: Flask, library: dict[str, Any], tmp_path: Path, witnesses: Any
) -> None:
    """As `custodes prove N --checkpoint` takes a checkpoint from `custodes checkpoint`:
    the proof's checkpoint carries the policy's witnesses' cosignatures, and the home
    page shows them against the policy's quorum."""
    from ledger.witness.cosignature import cosignatures
    from tests.integration.test_witness_loopback import cli, write_policy

    policy = write_policy(tmp_path / "p", library["data_dir"], witnesses, "quorum board")
    cli(library["data_dir"], "witness", "policy", "set", str(policy), "--reason", "board",
        "--as", DIRECTOR)  # fmt: skip
    director = sign_in(app, DIRECTOR)
    assert "none yet" in _integrity(director)
    proof = post(director, "/legal/proof", {"event": "3"}, form_page="/legal")
    assert proof.status_code == 200, proof.get_data(as_text=True)
    note = json.loads(proof.data)["checkpoint"]
    keys = [w.witness.vkey for w in witnesses.values()]
    assert set(cosignatures(note, keys)) == {"board.example/witness", "neighbour.example/witness"}
    panel = _integrity(director)
    assert "2 of 2 witnesses cosigned (board, neighbour); policy needs witness board: met" in panel


def test_a_quorum_not_met_and_no_policy_are_said(
    app: Flask, library: dict[str, Any], tmp_path: Path, witnesses: Any
) -> None:
    from tests.integration.test_witness_loopback import cli, write_policy

    counsel = sign_in(app, COUNSEL)
    assert post(counsel, "/legal/checkpoint", {}, form_page="/legal").status_code == 200
    assert "no witness policy" in _integrity(sign_in(app, DIRECTOR))
    witnesses["board"].stop()  # the board's witness does not answer
    policy = write_policy(tmp_path / "p", library["data_dir"], witnesses, "quorum board")
    cli(library["data_dir"], "witness", "policy", "set", str(policy), "--reason", "board",
        "--as", DIRECTOR)  # fmt: skip
    cli(library["data_dir"], "checkpoint", "--out", str(tmp_path / "c"), code=None)
    panel = _integrity(sign_in(app, DIRECTOR))
    assert "1 of 2 witnesses cosigned (neighbour); policy needs witness board: " in panel
    assert '<strong class="violation">NOT met</strong>' in panel


def test_a_kept_checkpoint_whose_signature_fails_is_not_shown_as_signed(
    app: Flask, library: dict[str, Any]
) -> None:
    counsel = sign_in(app, COUNSEL)
    assert post(counsel, "/legal/checkpoint", {}, form_page="/legal").status_code == 200
    kept = Path(library["data_dir"]) / "last.checkpoint"
    body = kept.read_text().split("\n")
    body[1] = str(int(body[1]) + 1)  # a larger size than was signed
    kept.write_text("\n".join(body))
    panel = _integrity(sign_in(app, DIRECTOR))
    assert "the kept checkpoint is not shown: checkpoint rejected" in panel
