"""`ediary export-xml` and `ediary archive build|verify`: the diary's XML and the signed
year-end archive (§21-§22 of the regulation on school documentation)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click
from sqlalchemy import select

from ediary.access.roles import is_school_admin
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
from ediary.people.models import User
from ediary.records import archive, export

PASSWORD_VARIABLE = "EDIARY_CERTIFICATE_PASSWORD"  # noqa: S105 - the variable's name, not a password


@click.command("export-xml")
@database_url_option
@click.option("--school", type=int, required=True, metavar="ID")
@click.option("--year", type=int, required=True, metavar="ID", help="The school year's id.")
@click.option("--class", "class_id", type=int, metavar="ID", help="One class only.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_xml_command(
    database_url: str | None, school: int, year: int, class_id: int | None, out: Path
) -> None:
    """Write the diary of a school's year (or one class) as XML, valid against
    docs/dziennik-1.xsd."""
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        scope = export.scope_of(db.session(), school, year, class_id)
        partial = out.with_name(f".{out.name}.partial")
        try:
            with partial.open("wb") as stream:
                summary = export.write(db.session(), scope, stream)
            export.validate(partial)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        click.echo(
            f"{out}: {summary.total} rows, valid against {export.SCHEMA_FILE.name}", err=True
        )


@click.group("archive")
def archive_group() -> None:
    """The signed year-end archive of a school (XML, manifest, CAdES signature)."""


@archive_group.command("build")
@database_url_option
@click.option("--school", type=int, required=True, metavar="ID")
@click.option("--year", type=int, required=True, metavar="ID", help="The school year's id.")
@click.option(
    "--director", required=True, metavar="LOGIN", help="The school administrator signing it."
)
@click.option(
    "--certificate",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help=f"The director's PKCS#12 file; its password from ${PASSWORD_VARIABLE}, else asked for.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def build_command(
    database_url: str | None, school: int, year: int, director: str, certificate: Path, out: Path
) -> None:
    """Build the archive of a finished school year, signed with the director's certificate."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = click.prompt(
            "Certificate password", hide_input=True, default="", show_default=False
        )
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        user = db.session.scalar(select(User).where(User.login == director))
        if user is None or not user.active or not is_school_admin(user, school):
            raise click.ClickException(f"{director!r} is not an administrator of school {school}.")
        now = dt.datetime.now(dt.UTC)
        signer = archive.load_signer(certificate.read_bytes(), password.encode() or None, now)
        record = archive.build(
            Actor(user, Channel.CLI),
            school_id=school,
            year_id=year,
            signer=signer,
            destination=out,
            now=now,
        )
        db.session.commit()
        click.echo(
            f"{out}: signed by {record.signer}; SHA-256 {record.sha256} (recorded in the history)"
        )


@archive_group.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The trust anchor: the certificate (PEM or DER) of the CA that issued the director's.",
)
def verify_command(path: Path, trust: Path) -> None:
    """Check an archive's signature, its chain to the trust anchor, and every file's hash."""
    verdict = archive.verify(path, archive.trust_anchors(trust.read_bytes()))
    for problem in verdict.problems:
        click.echo(f"TAMPERED: {problem}")
    if not verdict.ok:
        sys.exit(1)
    click.echo(f"OK: {verdict.files} file(s) intact, signed by {verdict.signer}")
