"""custodes camera ...: the camera registry (R12)."""

from __future__ import annotations

import click

from cli.common import Context, actor_option, emit_json, info, json_option, pass_ctx, table
from ledger.footage import ZONES


@click.group("camera")
def camera_group() -> None:
    """Cameras: where they are, their zone, signage attested (R12).

    \b
    Example:
      custodes camera add lobby-1 --location "Main lobby" --zone public --signage-posted --as "Dana Director"
      custodes camera list
    """


@camera_group.command("add")
@click.argument("camera_id")
@click.option("--location", required=True, help="Where the camera is, in words.")
@click.option("--zone", type=click.Choice(ZONES), required=True, help="Kind of space it sees.")
@click.option(
    "--signage-posted", is_flag=True, help="Attest that entrance signage says cameras are in use."
)
@click.option(
    "--not-private",
    default=None,
    metavar="TEXT",
    help="Why a location whose words name a restroom, changing or locker room, office or "
    "break room is not one (recorded).",
)
@actor_option
@json_option
@pass_ctx
def camera_add(
    ctx: Context,
    camera_id: str,
    location: str,
    zone: str,
    signage_posted: bool,
    not_private: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Register a camera (Director only). Privacy zones (restroom, locker or changing room,
    private office), a location whose words name such a place or a break room (unless
    --not-private says why it is not one) and cameras without attested signage are refused
    and the refusal is recorded (CAMERA-PRIVACY-ZONE, CAMERA-SIGNAGE).

    \b
    Example:
      custodes camera add lobby-1 --location "Main lobby, facing the doors" --zone public --signage-posted --as "Dana Director"
    """
    cam = ctx.ledger().register_camera(
        camera_id,
        location=location,
        zone=zone,
        signage_posted=signage_posted,
        not_private=not_private,
        actor=actor,
    )
    if as_json:
        emit_json(cam)
    info(f"Registered camera {cam.camera_id} ({cam.zone.replace('_', ' ')}, {cam.location}).")


@camera_group.command("list")
@json_option
@actor_option
@pass_ctx
def camera_list(ctx: Context, as_json: bool, actor: str) -> None:
    """List cameras with zone, signage attestation and status.

    \b
    Example:
      custodes camera list --json
    """
    cameras = ctx.ledger().cameras()
    if as_json:
        emit_json(cameras)
        return
    table(
        ["camera", "zone", "signage", "status", "location"],
        [
            (
                c.camera_id,
                c.zone,
                "attested" if c.signage_posted else "no",
                "retired" if c.retired else "active",
                c.location,
            )
            for c in cameras
        ],
    )


@camera_group.command("retire")
@click.argument("camera_id")
@click.option("--reason", required=True, help="Why the camera is taken out of service.")
@actor_option
@pass_ctx
def camera_retire(ctx: Context, camera_id: str, reason: str, actor: str) -> None:
    """Take a camera out of service (Director only); its footage and history stay.

    \b
    Example:
      custodes camera retire lobby-1 --reason "replaced by lobby-2" --as "Dana Director"
    """
    ctx.ledger().retire_camera(camera_id, reason=reason, actor=actor)
    info(f"Retired camera {camera_id}.")


def register(group: click.Group) -> None:
    group.add_command(camera_group)
