"""`ediary kiosk-code`: a one-time enrollment code for a classroom's kiosk."""

from __future__ import annotations

import click
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.cli.common import (
    database_errors,
    database_url_option,
    make_app,
    refusals,
    require_schema,
    resolve_url,
)
from ediary.db import db
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import create_kiosk, issue_enrollment_code
from ediary.schools.models import Room, School


@click.command("kiosk-code")
@database_url_option
@click.option("--school", type=int, required=True, metavar="ID")
@click.option("--room", required=True, metavar="NAME", help='The room\'s name, e.g. "12".')
@click.option(
    "--minutes", type=click.IntRange(1, 24 * 60), default=30, show_default=True, help="Validity."
)
def kiosk_code_command(database_url: str | None, school: int, room: str, minutes: int) -> None:
    """Issue a one-time enrollment code for a room's kiosk (made if the room has none).

    Prints only the code on standard output (the rest goes to standard error), so a script can
    capture it. The server keeps only a hash of it.
    """
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        found = db.session.get(School, school)
        if found is None:
            raise click.ClickException(f"There is no school with id {school}.")
        place = db.session.scalar(select(Room).where(Room.school_id == school, Room.name == room))
        if place is None:
            names = db.session.scalars(select(Room.name).where(Room.school_id == school)).all()
            # Numbered rooms in numeric order, then the named ones.
            names = sorted(names, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))
            known = ", ".join(repr(n) for n in names) or "none"
            raise click.ClickException(
                f"{found.short_name} has no room named {room!r}. Its rooms: {known}."
            )
        actor = Actor.system(Channel.CLI)
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.room_id == place.id))
        if kiosk is None:
            kiosk = create_kiosk(actor, place)
        code = issue_enrollment_code(actor, kiosk, minutes)
        db.session.commit()
        click.echo(code)
        click.echo(
            f"One-time enrollment code for {kiosk.name} ({found.short_name}), valid for "
            f"{minutes} minutes.",
            err=True,
        )
