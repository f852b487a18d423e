"""`ediary privacy retention`: pseudonymise the pupils whose retention period has passed.

Run nightly by provisioning/server/systemd/ediary-privacy-retention.timer.
"""

from __future__ import annotations

import datetime as dt

import click

from ediary.audit.recording import Actor
from ediary.cli.common import (
    database_errors,
    database_url_option,
    make_app,
    require_schema,
    resolve_url,
)
from ediary.db import db
from ediary.people.queries import today as school_day
from ediary.privacy import retention


@click.group("privacy")
def privacy_group() -> None:
    """Parents' privacy rights: retention of pupils' personal data."""


@privacy_group.command("retention")
@database_url_option
@click.option("--dry-run", is_flag=True, help="Only list what would change.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="The day to count from.")
@click.option(
    "--years",
    type=int,
    default=retention.KEEP_YEARS,
    show_default=True,
    help="Years kept after a pupil left (archive category B5 of the wykaz akt).",
)
def retention_command(
    database_url: str | None, dry_run: bool, today: dt.datetime | None, years: int
) -> None:
    """Pseudonymise pupils who left more than YEARS years ago: name to "Uczeń #id", PESEL,
    address, birth place and identity document cleared, guardians unlinked, with history."""
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    day = today.date() if today else school_day()
    with app.app_context(), database_errors(url):
        pupils = retention.due(day, years)
        for pupil in pupils:  # ids only: no personal data in the output (it goes to the logs)
            click.echo(f"pupil {pupil.id} (left {pupil.left_on})")
            if not dry_run:
                retention.pseudonymise(Actor.system(), pupil)
        if dry_run:
            db.session.rollback()
            click.echo(f"dry run: {len(pupils)} pupil(s) would be pseudonymised")
        else:
            db.session.commit()
            click.echo(f"{len(pupils)} pupil(s) pseudonymised")
