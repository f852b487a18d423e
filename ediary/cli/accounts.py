"""`ediary create-user` and `ediary schools`: accounts, made through the operations."""

from __future__ import annotations

import sys

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
from ediary.people.models import Role
from ediary.people.operations import create_user, grant_role
from ediary.schools.models import District, Pupil, School
from ediary.schools.operations import link_guardian

ROLES = ("teacher", "secretary", "school_admin", "district_admin", "parent")


class NoTerminal(click.ClickException):
    exit_code = 2  # a usage mistake, as click's own, but said in one line


def _terminal() -> bool:
    return sys.stdin.isatty()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True, show_default=False
        )
    if not password:
        raise click.UsageError("The password is empty.")
    return password


@click.command("create-user")
@database_url_option
@click.option("--login", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--school", type=int, metavar="ID", help="The school of a staff role.")
@click.option("--district", type=int, metavar="ID", help="The gmina of a district administrator.")
@click.option(
    "--pupil",
    "pupils",
    type=int,
    multiple=True,
    metavar="ID",
    help="A parent's child (repeatable).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    database_url: str | None,
    login: str,
    first_name: str,
    last_name: str,
    role: str,
    school: int | None,
    district: int | None,
    pupils: tuple[int, ...],
    password_stdin: bool,
) -> None:
    """Create an account with a role: staff in a school, an administrator of a gmina, a parent."""
    if role == "district_admin" and (district is None or school is not None):
        raise click.UsageError("--role district_admin needs --district ID (and no --school).")
    if role in ("teacher", "secretary", "school_admin") and (
        school is None or district is not None
    ):
        raise click.UsageError(f"--role {role} needs --school ID (and no --district).")
    if role == "parent" and (school is not None or district is not None):
        raise click.UsageError("--role parent takes --pupil ID for each child, not a school.")
    if pupils and role != "parent":
        raise click.UsageError("--pupil links a parent to a child; use it with --role parent.")
    url = resolve_url(database_url)
    if not password_stdin and not _terminal():
        # Without a terminal the prompt would read (and echo) whatever stdin holds, or abort.
        raise NoTerminal(
            "There is no terminal to ask for the password on; pipe it in with --password-stdin."
        )
    password = _read_password(password_stdin)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        actor = Actor.system(Channel.CLI)
        where = ""
        if school is not None:
            found = db.session.get(School, school)
            if found is None:
                raise click.ClickException(f"There is no school with id {school}.")
            where = f" in {found.name}"
        if district is not None:
            gmina = db.session.get(District, district)
            if gmina is None:
                raise click.ClickException(f"There is no gmina (district) with id {district}.")
            where = f" of {gmina.name}"
        children = []
        for pupil_id in pupils:
            child = db.session.get(Pupil, pupil_id)
            if child is None:
                raise click.ClickException(f"There is no pupil with id {pupil_id}.")
            children.append(child)
        user = create_user(
            actor, login=login, first_name=first_name, last_name=last_name, password=password
        )
        if role != "parent":
            grant_role(actor, user, Role(role), school_id=school, district_id=district)
        for child in children:
            link_guardian(actor, user, child)
        db.session.commit()
        if children:
            where = f" of {', '.join(c.full_name for c in children)}"
        click.echo(f"Created {user.login} (id {user.id}): {role}{where}.")


@click.command("schools")
@database_url_option
def schools_command(database_url: str | None) -> None:
    """List the gminas and schools with their ids (for --school and --district)."""
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url):
        for gmina in db.session.scalars(select(District).order_by(District.id)):
            click.echo(f"gmina {gmina.id}: {gmina.name}")
            for school in db.session.scalars(
                select(School).where(School.district_id == gmina.id).order_by(School.id)
            ):
                click.echo(f"  school {school.id}: {school.name} ({school.short_name})")
