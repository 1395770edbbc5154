"""custodes policy ...: adopt a policy version, show the one in force, its history, diffs
(R28; docs/POLICY.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from cli.auth import actor_option
from cli.common import Context, emit_json, info, json_option, pass_ctx
from cli.output import echo
from cli.when import DAY, WHEN
from ledger import sitetime
from ledger.policy_params import PolicyFileError, profile_files, profiles, read_text_file
from ledger.policy_versions import AdoptedVersion
from ledger.sitetime import TypedTime

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("policy")
def policy_group() -> None:
    """The policy in force: adopted versions every decision cites (R28).

    \b
    Example:
      custodes policy show
      custodes policy adopt --text policy.txt --params params.toml --approved-by "Board of Trustees" --approval-ref "minutes 2026-11-18 item 7" --effective 2026-12-01
    """


def _read(path: Path, what: str) -> str:
    try:
        return read_text_file(path.read_bytes(), where=f"{what} {path}")
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from None


@policy_group.command("adopt")
@click.option("--text", "text_file", type=_FILE, required=True, help="The approved wording.")
@click.option("--params", "params_file", type=_FILE, required=True, help="Parameters (TOML).")
@click.option("--approved-by", required=True, help='Who approved it, e.g. "Board of Trustees".')
@click.option("--approval-ref", required=True, help='Where, e.g. "minutes 2026-11-18 item 7".')
@click.option("--effective", type=DAY, required=True, help="Effective date (site day).")
@click.option(
    "--text-sha256",
    default=None,
    metavar="HEX",
    help="The SHA-256 the board approved; the text must match it.",
)
@click.option("--profile", "label", default="", help="A short name for this policy.")
@click.option(
    "--supersedes",
    type=click.IntRange(2),
    multiple=True,
    metavar="N",
    help="A version adopted for a later date that this one cancels (it never takes effect).",
)
@actor_option
@json_option
@pass_ctx
def policy_adopt(
    ctx: Context,
    text_file: Path,
    params_file: Path,
    approved_by: str,
    approval_ref: str,
    effective: date,
    text_sha256: str | None,
    label: str,
    supersedes: tuple[int, ...],
    actor: str,
    as_json: bool,
) -> None:
    """Adopt a new policy version (the Director; recorded, signed).

    Records the SHA-256 of both files' canonical bytes, the parameters, the approval and
    the effective date. It takes effect at the start of that day (site time), or now if
    that is today or yesterday; an earlier date is refused and the refusal recorded, as is
    anything the law does not allow (audio, cameras in restrooms, circulation records on
    the emergency path), a parameters file with an unknown key, a wrong type or a value
    out of bounds (POLICY-PARAMETERS), and a text that does not match --text-sha256: each
    names the key or rule, exits 1, and nothing is adopted. A version adopted for a later
    date than this one's is superseded by it and never takes effect: name it with
    --supersedes N (otherwise the adoption is refused and recorded), e.g. to correct a
    mistyped effective date.

    \b
    Example:
      custodes policy adopt --text policy.txt --params params.toml --approved-by "Board of Trustees" --approval-ref "minutes 2026-11-18 item 7" --effective 2026-12-01
    """
    text = _read(text_file, "the policy text")
    params = _read(params_file, "the parameters file")
    try:
        version = ctx.ledger().adopt_policy(
            text=text,
            params_toml=params,
            approved_by=approved_by,
            approval_ref=approval_ref,
            effective=effective,
            actor=actor,
            profile=label or params_file.stem,
            expect_text_sha256=text_sha256,
            supersedes=supersedes,
        )
    except PolicyFileError as e:
        raise click.BadParameter(str(e), param_hint="--params") from None
    from ledger.policy_text import check_text

    check = check_text(text, version.params)
    if as_json:
        emit_json(
            _json(version, ctx)
            | {"text_check": {"agreed": check.agreed, "unchecked": check.unchecked}}
        )
        return
    info(
        f"Adopted policy version {version.version}, in force from "
        f"{sitetime.show(version.effective_at, ctx.zone())}."
    )
    for line in check.agreed:
        info(f"  the text agrees: {line}")
    for line in check.unchecked:
        info(f"  not checked against the text: {line}")


@policy_group.command("show")
@click.option("--as-of", type=WHEN, default=None, help="The version in force then.")
@click.option("--version", "number", type=click.IntRange(1), default=None)
@click.option("--text", "with_text", is_flag=True, help="Print the policy's wording too.")
@json_option
@pass_ctx
def policy_show(
    ctx: Context, as_of: TypedTime | None, number: int | None, with_text: bool, as_json: bool
) -> None:
    """The policy version in force (now, or --as-of), or --version N.

    \b
    Example:
      custodes policy show
      custodes policy show --as-of 2026-03-03 --json
    """
    ledger, zone = ctx.ledger(), ctx.zone()
    if number is not None:
        version: AdoptedVersion | None = ledger.policy_version(number)
    else:
        at = as_of.start(zone) if as_of is not None and not as_of.is_date else None
        if as_of is not None and as_of.is_date:
            at = as_of.last_instant(zone)
        version = ledger.policy_in_force(at or ctx.now())
        if version is None:
            raise click.ClickException("no policy version was in force then")
    assert version is not None
    if as_json:
        emit_json(_json(version, ctx, with_text=True))
        return
    _show(version, ctx)
    if with_text:
        echo("")
        echo(version.text.rstrip("\n"))


def _show(v: AdoptedVersion, ctx: Context) -> None:
    zone = ctx.zone()
    echo(f"Policy version {v.version} ({v.profile or 'unnamed'})")
    echo(f"  approved by:  {v.approved_by}, {v.approval_ref}")
    echo(
        f"  effective:    {v.effective_date} (in force from {sitetime.show(v.effective_at, zone)})"
    )
    echo(f"  adopted:      {sitetime.show(v.adopted_at, zone)} by {v.adopted_by}")
    by = ctx.ledger().policies().timeline.superseded.get(v.version)
    if by is not None:
        echo(f"  superseded:   by version {by} before it took effect; never in force")
    echo(f"  text SHA-256: {v.text_sha256}")
    echo(f"  params SHA-256: {v.params_sha256}")
    for section, values in v.params.to_json().items():
        for key, value in values.items():
            shown = _value(value)
            echo(f"  {section}.{key}: {shown}")


def _json(v: AdoptedVersion, ctx: Context, *, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": v.version,
        "profile": v.profile,
        "approved_by": v.approved_by,
        "approval_ref": v.approval_ref,
        "effective_date": v.effective_date.isoformat(),
        "effective_at": sitetime.iso_utc(v.effective_at),
        "adopted_at": sitetime.iso_utc(v.adopted_at),
        "adopted_by": v.adopted_by,
        "text_sha256": v.text_sha256,
        "params_sha256": v.params_sha256,
        "params": v.params.to_json(),
        "superseded_by": ctx.ledger().policies().timeline.superseded.get(v.version),
    }
    if with_text:
        out["text"] = v.text
    return out


@policy_group.command("history")
@json_option
@pass_ctx
def policy_history(ctx: Context, as_json: bool) -> None:
    """Every adopted version, oldest first.

    \b
    Example:
      custodes policy history --json
    """
    versions = ctx.ledger().policy_history()
    if as_json:
        emit_json({"versions": [_json(v, ctx) for v in versions]})
        return
    zone = ctx.zone()
    superseded = ctx.ledger().policies().timeline.superseded
    for v in versions:
        start = sitetime.show(v.effective_at, zone)
        when = (
            f"superseded by v{superseded[v.version]}, never in force (was to be from {start})"
            if v.version in superseded
            else f"in force from {start}"
        )
        echo(
            f"v{v.version}  {when}  footage {v.params.retention_days} days  "
            f"{v.approved_by}, {v.approval_ref}  (adopted by {v.adopted_by})"
        )


@policy_group.command("diff")
@click.argument("old", type=click.IntRange(1))
@click.argument("new", type=click.IntRange(1))
@json_option
@pass_ctx
def policy_diff(ctx: Context, old: int, new: int, as_json: bool) -> None:
    """What changed between two versions: each parameter, and whether the text did.

    \b
    Example:
      custodes policy diff 1 2
    """
    d = ctx.ledger().policy_diff(old, new)
    if as_json:
        emit_json(
            {
                "old": old,
                "new": new,
                "text_changed": d.text_changed,
                "params": [{"key": k, "old": a, "new": b} for k, a, b in d.params],
            }
        )
        return
    echo(f"Policy version {old} -> {new}")
    echo(
        "  text: "
        + (
            f"changed ({d.old.text_sha256[:12]} -> {d.new.text_sha256[:12]})"
            if d.text_changed
            else "unchanged"
        )
    )
    if not d.params:
        echo("  parameters: unchanged")
    for key, a, b in d.params:
        echo(f"  {key}: {_value(a)} -> {_value(b)}")


def _value(v: Any) -> str:
    return (
        "[" + ", ".join(v) + "]"
        if isinstance(v, tuple | list)
        else str(v).lower()
        if isinstance(v, bool)
        else str(v)
    )


@policy_group.command("profiles")
@click.option(
    "--write",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Copy a profile's two files into this directory.",
)
@click.option("--profile", "name", default=None, help="The profile to copy (with --write).")
@pass_ctx
def policy_profiles(ctx: Context, directory: Path | None, name: str | None) -> None:
    """The example profiles shipped with Custodes; --write copies one to start from.

    \b
    Example:
      custodes policy profiles
      custodes policy profiles --write ./policy --profile riverbend-7-day
    """
    if directory is None:
        for p in profiles():
            echo(p)
        return
    if name is None:
        raise click.UsageError("name the profile to copy: --profile NAME")
    from ledger.outfiles import PUBLIC, write_bytes

    text, params = profile_files(name)
    directory.mkdir(parents=True, exist_ok=True)
    for filename, content in (("policy.txt", text), ("params.toml", params)):
        info(f"wrote {write_bytes(directory / filename, content.encode('utf-8'), mode=PUBLIC)}")


def register(group: click.Group) -> None:
    group.add_command(policy_group)
