"""custodes init / verify / log: the ledger itself (status: cli/status_cmd.py)."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from cli.auth import new_passphrase, new_passphrase_option
from cli.common import (
    Context,
    Tampered,
    actor_option,
    emit_json,
    info,
    json_option,
    pass_ctx,
    table,
)
from cli.output import echo
from cli.proofs import witness_policy_option, witness_policy_sha256_option
from cli.when import range_options, time_range
from ledger import sitetime
from ledger.act_check import ActChecker, Correction
from ledger.app import open_ledger
from ledger.chain import Damage, VerifyResult
from ledger.datadir import DataDir
from ledger.dir_modes import tighten
from ledger.errors import InvalidTime
from ledger.integrity import (
    LedgerTampered,
    deep_checker,
    judge_against,
    open_chain,
    read_checkpoint,
    verify_against,
    verify_and_extend,
    verify_chain,
)
from ledger.names import NameRefused, check_name
from ledger.sitetime import TypedTime

# Event numbers are 64-bit signed integers in both databases: a larger --start is a
# usage error, not a database error (issue 14).
MAX_EVENT = 2**63 - 1


@click.command("init")
@click.option("--director", required=True, metavar="NAME", help="The first Director.")
@click.option("--library", default="Public Library", show_default=True, help="Library name.")
@click.option(
    "--timezone", default="America/Chicago", show_default=True, help="Site time zone (display)."
)
@click.option(
    "--profile",
    default="mahomet-30-day",
    show_default=True,
    help="The shipped policy profile adopted as version 1 (custodes policy profiles).",
)
@click.option(
    "--retention-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Override the profile's footage retention in version 1 (default: the profile's).",
)
@click.option(
    "--protect-signing-key",
    is_flag=True,
    help="Encrypt the checkpoint-signing key with a passphrase (asked for, or "
    "CUSTODES_SIGNING_PASSPHRASE); every checkpoint and export will need it.",
)
@new_passphrase_option
@pass_ctx
def init(
    ctx: Context,
    director: str,
    library: str,
    timezone: str,
    profile: str,
    retention_days: int | None,
    protect_signing_key: bool,
    new_passphrase_file: Path | None,
) -> None:
    """Create a new ledger in the data directory, with its keys and first Director.

    The same act adopts policy version 1: the shipped profile (the default is the Mahomet
    Public Library's Policy V, 30-day footage retention); adopt your own with
    custodes policy adopt (docs/POLICY.md).

    The Director chooses her passphrase now (asked twice, or --new-passphrase-file for
    scripts): it seals her signing key, which signs this first act and every act of hers.

    \b
    Example:
      custodes --data-dir /srv/custodes init --director "Dana Director" --library "Mahomet Public Library"
    """
    try:
        sitetime.site_zone(timezone)
    except InvalidTime as e:
        raise click.BadParameter(str(e), param_hint="--timezone") from None
    from ledger.policy_params import profiles

    if profile not in profiles():
        raise click.BadParameter(
            f"no profile {profile!r}; choose one of {', '.join(profiles())}", param_hint="--profile"
        )
    try:
        director = check_name(director, "director")
    except NameRefused as e:
        raise click.BadParameter(str(e), param_hint="--director") from None
    director_passphrase = new_passphrase(new_passphrase_file, director)
    passphrase: bytes | None = None
    if protect_signing_key:
        value = os.environ.get("CUSTODES_SIGNING_PASSPHRASE") or click.prompt(
            "Passphrase for the signing key", hide_input=True, confirmation_prompt=True, err=True
        )
        if len(value) < 8:
            raise click.BadParameter(
                "the passphrase must have at least 8 characters", param_hint="--protect-signing-key"
            )
        passphrase = value.encode()
    existing = ctx.data_dir.expanduser()
    was = stat.S_IMODE(existing.stat().st_mode) if existing.is_dir() else None
    datadir = DataDir.create(ctx.data_dir, signing_passphrase=passphrase)
    if was is not None and was != 0o700:
        info(f"tightened {datadir.path} from mode {was:04o} to 0700 (private data)")
    ledger = open_ledger(datadir, clock=ctx.clock)
    try:
        _refuse_occupied(ledger, datadir, made=was is None)
        signer = ledger.initialise(
            director=director,
            library=library,
            timezone=timezone,
            retention_days=retention_days,
            passphrase=director_passphrase,
            profile=profile,
        )
        service = ledger.service_signer()
    finally:
        ledger.close()
    for note in tighten(datadir):  # a SQLite database outside the directory, made just now
        info(note)
    info(f"Initialised a Custodes ledger in {datadir.path}")
    info(
        f"Director: {director}, signing key {signer.key_id} (write this down: it is the "
        f"ledger's root of trust); service key {service.key_id}."
    )
    info(f"Back up {datadir.keys}/ now: without it events cannot be read.")


def _refuse_occupied(ledger: Any, datadir: DataDir, *, made: bool) -> None:
    """A database (or a consortium's schema) that holds a ledger already is refused before
    anything is recorded, by name: it failed on decrypting the other ledger's first event
    ("Invalid cipher tag"), and left the new data directory behind (red team, session 17).
    What ``DataDir.create`` made is removed again (the directory was new or empty; its
    keys have encrypted nothing), and the directory too when it was new (``made``)."""
    entries = ledger.recorder.max_notification_id() or 0
    if not entries:
        return
    schema = datadir.database_schema
    where = f"schema {schema} of the database" if schema else "the database"
    ledger.close()
    for child in datadir.path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    if made:
        datadir.path.rmdir()
    raise click.ClickException(
        f"{where} holds a ledger already ({entries:,} entries): nothing was recorded and the "
        f"new data directory's keys were removed. Give this library a schema of its own "
        "(CUSTODES_DATABASE_SCHEMA), or open that ledger with its own data directory"
    )


@click.command("verify")
@click.option(
    "--against",
    "against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also prove the ledger extends this signed checkpoint (consistency proof).",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also decrypt every event (needs the events key): each names its act's signer as "
    "its actor, its time lies within its act's, and it cites the policy version in force "
    "(damage kind 'policy'); and replay every read model from the events and compare it "
    "row by row.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Also record the outcome for the dashboard (cron, the office PC): an OK as a "
    "signed event (the member signed in at this terminal, else the service identity), a "
    "failure beside the chain in the data directory. Without it, verify writes nothing.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 4 (not 0) when the chain verifies but there are warnings: a read model that "
    "does not match it (R29), a missing vault or key file. For cron, which alerts on any "
    "exit but 0.",
)
@witness_policy_option
@witness_policy_sha256_option("the checked ledger")
@json_option
@pass_ctx
def verify(
    ctx: Context,
    against: Path | None,
    deep: bool,
    record: bool,
    strict: bool,
    witness_policy: Path | None,
    policy_sha256: str | None,
    as_json: bool,
) -> None:
    """Verify the whole hash chain and every signed act (no key needed). Exit 3 if it was
    tampered with.

    Reports the FIRST bad position and the kind of damage: edited, deleted, inserted,
    reordered, truncated; tree (the stored Merkle tree disagrees with the entries); unsigned, forged, unknown key, revoked key, expired key (a
    session key after its end), not permitted (a
    role that could not record that kind of event), clock (a recorded time that went
    back); not this ledger (the data directory's events key cannot read its first entry:
    the database holds another library's ledger); with --deep also policy (an event citing
    a policy version that was not the one in force, docs/POLICY.md) and each disclosure
    record handed out against the release it describes (docs/DISCLOSURES.md). See
    docs/FORMAT.md.

    With the chain intact, also warns (exit 0; exit 4 with --strict) of read models that
    do not match it (R29): each table and row, missing, edited or extra; `custodes
    projections rebuild` repairs them (docs/REPORTS.md).

    Verifying writes nothing unless --record is given (a copy handed to a lawyer stays
    exactly as it was); --record keeps the outcome for the dashboard's home page.

    With --against, the checkpoint's cosignatures are judged by the witness policy you
    bring (--witness-policy FILE, or --witness-policy-sha256 HEX: the text this ledger
    recorded with that digest); without either, by the policy this ledger says was in
    force at the checkpoint's size, with a warning that it is the checked ledger's own
    claim. The output names the policy's SHA-256 and where it came from.

    \b
    Example:
      custodes verify || echo "ledger damaged"
      custodes verify --strict --record || mail -s "custodes" director  # cron
      custodes verify --record       # from cron: the dashboard shows the last outcome
      custodes verify --against board-2026-11.checkpoint
      custodes verify --against board-2026-12.checkpoint --witness-policy witnesses.policy
    """
    if policy_sha256 is not None:
        if against is None:
            raise click.UsageError(
                "--witness-policy-sha256 checks the checkpoint named by --against"
            )
        if witness_policy is not None and _given_on_command_line("witness_policy"):
            raise click.UsageError("give --witness-policy or --witness-policy-sha256, not both")
        witness_policy = None  # the digest given here wins over CUSTODES_WITNESS_POLICY
    if against is not None:
        if record:
            raise click.UsageError("--record keeps whole-chain verifications, not --against")
        _verify_against(ctx, against, witness_policy, policy_sha256, as_json)
        return
    if witness_policy is not None and _given_on_command_line("witness_policy"):
        raise click.UsageError("--witness-policy checks the checkpoint named by --against")
    reader = open_chain(ctx.datadir())
    total = reader.head()[0]
    if type(total) is not int:  # a damaged head: the walk says where
        total = 0
    with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr) as bar:
        step = max(total // 100, 1)

        def progress(position: int, _hash: bytes) -> None:
            if position % step == 0:
                bar.update(step)

        now = ctx.now()  # an act recorded after this was recorded by a clock set ahead
        acts = deep_checker(ctx.ledger().mapper, now=now) if deep else ActChecker(now=now)
        # the checkpoint kept in the data directory is checked in the same walk (its root)
        kept, kept_problem = _kept_checkpoint(ctx)
        outcome = verify_and_extend(
            reader, progress, acts=acts, roots_at={kept.size} if kept is not None else ()
        )
        result = outcome.verify
    if result.ok and (foreign := _not_this_ledger(ctx)) is not None:
        result = VerifyResult(0, result.head_hash, Damage(1, "not this ledger", foreign))
    recorded = _record_verification(ctx, result, deep) if record else None
    data = {
        "ok": result.ok,
        "entries": result.count,
        "acts": result.acts,
        "deep": deep,
        "head": result.head_hash.hex(),
        "damage": _damage_json(result.damage),
    }
    if result.damage is None:
        damage, problem = _read_model_damage(ctx, deep)
        data["read_models"] = [
            {"table": f.table, "kind": f.kind, "row": f.row, "detail": f.detail} for f in damage
        ]
        data["warnings"] = (
            _vault_and_key_warnings(ctx)
            + _kept_checkpoint_warnings(kept, kept_problem, outcome)
            + [f"read model damaged (R29): {f.describe()}" for f in damage]
            + ([problem] if problem else [])
        )
    data["recorded"] = recorded
    # the Director's clock corrections (R26): recorded acts, not damage; listed every time
    data["clock_corrections"] = [c.to_json() for c in acts.corrections]
    if as_json:
        emit_json(data)
    if recorded is None:
        pass  # nothing asked for, nothing written
    elif result.ok and recorded != "in the ledger":
        info(f"warning: this verification was not recorded in the ledger ({recorded})")
    elif not result.ok:
        info(f"the failure is {recorded}")
    if result.damage is not None:
        d = result.damage
        raise Tampered(
            f"ledger verification FAILED at position {d.position}: {d.kind} ({d.detail}); "
            f"{result.count} entries before it verify"
        )
    for warning in data["warnings"]:
        info(f"warning: {warning}")
    if not as_json:
        echo(
            f"OK: {result.count} entries verify, in {result.acts} signed "
            f"act{'' if result.acts == 1 else 's'}"
            + (" (every event decrypted and checked)" if deep else "")
            + f"; head {result.head_hash.hex()}"
        )
        for c in acts.corrections:
            echo(_correction_line(c))
    if strict and data["warnings"]:
        raise Warned(
            f"the chain verifies, with {len(data['warnings'])} warning(s) above (--strict)"
        )


def _not_this_ledger(ctx: Context) -> str | None:
    """Whether the database holds a ledger this data directory's events key cannot read
    (``Ledger.not_this_ledger``); None too where there is no events key to read it with
    (an auditor's copy of the database and public key)."""
    try:
        ledger = ctx.ledger()
    except Exception:  # no events key here, or it fails its own check: said elsewhere
        return None
    return ledger.not_this_ledger()


def _correction_line(c: Correction) -> str:
    """In UTC: ``verify`` needs no events key, so not the site's zone either."""
    return (
        f"clock corrected at entry {c.position} by {c.by} "
        f"({c.recorded.isoformat(timespec='seconds')}): the time of {c.acts} act(s) from "
        f"entry {c.from_position} on, recorded up to {c.set_aside.isoformat(timespec='seconds')}"
        f", set aside (reason: {c.reason})"
    )


_KEPT = "the checkpoint kept in the data directory (last.checkpoint)"


def _kept_checkpoint(ctx: Context) -> tuple[Any, str]:
    """The last checkpoint the library signed and kept in the data directory
    (``custodes checkpoint``, the legal page), or why it cannot be read (its signature or
    form fails: nothing in it is trusted); (None, "") when there is none."""
    from ledger.witness.ledger_side import LAST_CHECKPOINT

    datadir = ctx.datadir()
    path = datadir.path / LAST_CHECKPOINT
    if not path.exists():
        return None, ""
    try:
        cp = read_checkpoint(path.read_text(), datadir.public_key(), ctx.ledger().site().log_origin)
    except Exception as e:  # its signature or form fails: say so, trust nothing in it
        return None, f"{_KEPT} cannot be read as one the library signed: {e}"
    return cp, ""


def _kept_checkpoint_warnings(kept: Any, problem: str, outcome: Any) -> list[str]:
    """Whether the chain still extends the kept checkpoint, judged from the same walk
    (its root at the checkpoint's size): a chain cut at its tail, with the stored tree made
    to agree, verifies alone (red team, session 14). A warning, not damage: an older backup
    restored over a newer checkpoint reads the same, and only a checkpoint kept elsewhere
    (``--against``) settles which. Before session 15 this walked the chain a second time."""
    if problem:
        return [problem]
    if kept is None:
        return []
    try:
        judge_against(outcome, kept)
    except LedgerTampered as e:
        return [
            f"the chain does not extend {_KEPT}, signed at {kept.size} entries: {e}. Cut or "
            "rewritten since, or an older backup restored: check it against a checkpoint "
            "kept elsewhere (custodes verify --against FILE)"
        ]
    return []


class Warned(click.ClickException):
    """``verify --strict``: the chain verifies, but there were warnings (exit 4)."""

    exit_code = 4


def _record_verification(ctx: Context, result: VerifyResult, deep: bool) -> str:
    """Record the outcome (the dashboard shows the last one). One that passed goes into
    the ledger, signed by the member signed in at this terminal (custodes login), else by
    the service identity (cron); if the ledger cannot take it (the read-only auditor
    role, no keys here), it is recorded nowhere. A failure is never appended to the
    chain it found damaged: it is kept in the data directory. Where it went, for --json
    and a note on stderr."""
    from ledger.verification_commands import keep_failure

    unlock = _unlock_here(ctx)
    if not result.ok:
        by = "command line" if unlock is None else str(unlock.signer.name)
        kept = keep_failure(ctx.datadir().path, result, by=by, via="command line", at=ctx.now())
        return f"kept in {kept}: nothing is appended to a chain that fails verification"
    try:
        ledger = ctx.ledger()
        who = ledger.unlock_with(unlock.signer).name if unlock else ledger.act_as_service()
        ledger.record_verification(result, deep=deep, via="command line", actor=who)
    except Exception as e:  # the verification's own outcome and exit code stand
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return "in the ledger"


def _unlock_here(ctx: Context) -> Any:
    """The member signed in for this OS user and terminal session (custodes login),
    without asking for a passphrase; None when nobody is. A failure's note names them
    as is (no ledger to check them against); an OK is signed only after the ledger
    accepts the unlock (``unlock_with``)."""
    from ledger.unlock import UnlockStore

    return UnlockStore(ctx.datadir().path).load(ctx.now())


def _damage_json(damage: Damage | None) -> dict[str, Any] | None:
    if damage is None:
        return None
    return {"position": damage.position, "kind": damage.kind, "detail": damage.detail}


def _vault_and_key_warnings(ctx: Context) -> list[str]:
    """What the chain cannot show: footage or patron keys gone from the data directory
    with no purge or forget recorded (issue 14). Warnings, not failures: the chain is
    intact; the data directory is not what the ledger says."""
    from cli.footage import audit_footage, copy_findings

    try:
        ledger = ctx.ledger()
        return (
            [f.describe() for f in audit_footage(ledger)]
            + ledger.patron_key_problems()
            + copy_findings(ledger)
        )
    except Exception as e:  # the chain verified; an audit that cannot run says so
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return [f"the footage vault and patron keys were not audited: {first}"]


def _read_model_damage(ctx: Context, deep: bool) -> tuple[list[Any], str]:
    """Every read-model table checked against its seal (R29), damage named row by row;
    ``deep``: also every read model replayed from the events and compared row by row
    (catches even rows rewritten by someone holding the events key). A warning, not a
    failure: the chain is intact, and `projections rebuild` repairs the read models from
    it; reports refuse to print from them meanwhile (exit 3)."""
    from projections.registry import open_views
    from projections.seal import check_projections, diagnose

    try:
        views = open_views(ctx.ledger())
        try:
            found = check_projections(views, views.projections)
            if deep:
                for p in views.projections:
                    found += [f for f in diagnose(views, p, views.position(p)) if f not in found]
            return found, ""
        finally:
            views.close()
    except Exception as e:  # e.g. no events key here, or a read-only role: say so
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return [], f"the read models were not checked: {first}"


def _given_on_command_line(name: str) -> bool:
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(name)
    return source == ParameterSource.COMMANDLINE


def _verify_against(
    ctx: Context,
    path: Path,
    witness_policy: Path | None,
    policy_sha256: str | None,
    as_json: bool,
) -> None:
    try:
        _check_against(ctx, path, witness_policy, policy_sha256, as_json)
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as e:
        if as_json:  # the result is printed whatever it is
            damage = e.damage if isinstance(e, LedgerTampered) else _first_damage(ctx)
            emit_json({"ok": False, "damage": _damage_json(damage), "error": str(e)})
        raise


def _first_damage(ctx: Context) -> Damage | None:
    try:
        return verify_chain(open_chain(ctx.datadir()), extend_tree=False).damage
    except Exception:  # the database itself is unusable: the error says so
        return None


def _check_against(
    ctx: Context,
    path: Path,
    witness_policy: Path | None,
    policy_sha256: str | None,
    as_json: bool,
) -> None:
    from ledger.witness import policy_source as ps
    from ledger.witness.ledger_side import check_log, check_witnesses

    datadir = ctx.datadir()
    reader = open_chain(datadir)
    ledger = ctx.ledger()
    origin = ledger.site().log_origin
    note = path.read_text()
    cp = read_checkpoint(note, datadir.public_key(), origin)
    digest = None if policy_sha256 is None else ps.check_sha256(policy_sha256)
    chosen = None if witness_policy is None else ps.from_file(witness_policy)
    if chosen is not None:
        check_log(chosen.policy, origin, datadir.public_key())
    outcome = verify_against(reader, cp)
    warnings: list[str] = []
    if chosen is None:
        # Read after the proof: the first cp.size entries are the checkpoint's own.
        recorded = ps.recorded_policies(ledger)
        if digest is not None:
            fix = "give the policy file with --witness-policy."
            chosen = ps.with_sha256(recorded, digest, "the checked ledger", fix)
        else:
            chosen = ps.in_force_at(recorded, cp.size, "the checked ledger")
            later = [r for r in recorded if r.position > cp.size]
            if chosen is None and later:
                warnings.append(
                    f"no witness policy was in force at the checkpoint's size {cp.size} "
                    f"(the ledger records one from position {later[0].position}): its "
                    "cosignatures were not checked; --witness-policy FILE checks them"
                )
    if chosen is not None and chosen.own_claim:
        warnings.append(ps.OWN_CLAIM_WARNING)
    witnessed: dict[str, int] | None = None
    if chosen is not None:
        what = f"the checkpoint {path.name}"
        checked = check_witnesses(chosen.policy, note, origin, datadir.public_key(), what)
        witnessed = checked.cosigned
    data: dict[str, Any] = {
        "ok": True,
        "entries": outcome.tree_size,
        "root": (outcome.tree_root or b"").hex(),
        "checkpoint_size": cp.size,
        "checkpoint_time": cp.time,
    }
    if chosen is not None:
        data["witnesses"] = witnessed
        data["policy_sha256"] = chosen.sha256
        data["policy_source"] = chosen.source
        data["policy_from"] = chosen.where
    data["warnings"] = warnings
    for warning in warnings:
        info(f"warning: {warning}")
    if as_json:
        emit_json(data)
    else:
        echo(
            f"OK: {outcome.tree_size} entries verify and extend the checkpoint of "
            f"{cp.size} entries signed {sitetime.show(cp.time, ctx.zone(), seconds=True)}"
        )
        if chosen is not None and witnessed is not None:
            echo(f"Cosigned as the witness policy requires by: {', '.join(sorted(witnessed))}")
            echo(f"Witness policy SHA-256 {chosen.sha256}, from {chosen.where}.")


@click.command("log")
@click.option("--kind", "kinds", multiple=True, help="Only this event kind (repeatable).")
@click.option("--by", "by", default=None, metavar="NAME", help="Only events by this staff member.")
@range_options("Events recorded")
@click.option(
    "--start", type=click.IntRange(1, MAX_EVENT), default=1, show_default=True, help="First event."
)
@click.option(
    "--limit", type=click.IntRange(1, MAX_EVENT), default=50, show_default=True, help="Page size."
)
@click.option(
    "--details",
    is_flag=True,
    help="Show what each event recorded (Director and counsel; the reading is recorded).",
)
@json_option
@actor_option
@pass_ctx
def log(
    ctx: Context,
    kinds: tuple[str, ...],
    by: str | None,
    since: TypedTime | None,
    until: TypedTime | None,
    start: int,
    limit: int,
    details: bool,
    as_json: bool,
    actor: str,
) -> None:
    """Events oldest first, a page at a time: when, what kind, by whom.

    With --details or --json, also what each event recorded: that is confidential, so
    only the Director and counsel may, and each reading is recorded (R27).

    \b
    Example:
      custodes log --kind AccessDenied --from 2026-11-01 --to 2026-11-30
      custodes log --details --start 120 --limit 10 --as "Dana Director"
    """
    zone = ctx.zone()
    since_dt, until_dt = time_range(since, until, zone)
    ledger = ctx.ledger()
    if details or as_json:
        ledger.record_read("log", f"log from {start}", actor=actor, detail=f"limit {limit}")
    entries = list(
        ledger.read_log(
            start=start, limit=limit, kinds=kinds, actor=by, since=since_dt, until=until_dt
        )
    )
    if as_json:
        emit_json(entries)
        return
    headers = ["#", "recorded", "kind", "actor", "role"]
    table(
        headers + (["details"] if details else []),
        [
            (
                e.notification_id,
                sitetime.show(e.recorded_at, zone, seconds=True),
                e.kind,
                e.actor,
                e.actor_role,
                *([_summary(e.details, zone)] if details else []),
            )
            for e in entries
        ],
    )
    if len(entries) == limit:
        info(f"More events may follow: --start {entries[-1].notification_id + 1}")


def _summary(details: dict, zone: ZoneInfo) -> str:
    text = ", ".join(
        f"{k}={sitetime.show(v, zone) if isinstance(v, datetime) else v}"
        for k, v in details.items()
        if v not in (None, "", [], {})
    )
    return text if len(text) <= 80 else text[:77] + "..."


def register(group: click.Group) -> None:
    for command in (init, verify, log):
        group.add_command(command)
