"""`ediary activation-code` (a parent's one-time code from the school), `ediary urgent-topics`
(what a school sends even in quiet hours) and `ediary send-notifications` (the e-mail and SMS
sender, outside any request)."""

from __future__ import annotations

import time

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
from ediary.notifications.models import Topic
from ediary.notifications.operations import set_urgent_topics
from ediary.notifications.push import (
    PushSender,
    gateway_from_config,
    new_vapid_private_key,
    vapid_public_key,
)
from ediary.notifications.sender import Sender, gateways_from_config
from ediary.people.activation.operations import CODE_DAYS, issue_activation_code
from ediary.people.models import User
from ediary.schools.models import School


@click.command("activation-code")
@database_url_option
@click.option("--login", required=True, help="The parent's login.")
@click.option(
    "--days", type=click.IntRange(1, 60), default=CODE_DAYS, show_default=True, help="Validity."
)
def activation_code_command(database_url: str | None, login: str, days: int) -> None:
    """Issue a one-time activation code for an account (also the school's password reset).

    Prints only the code on standard output, for a letter or an SMS; every older unused code of
    the account stops working. The server keeps only a hash of it.
    """
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        user = db.session.scalar(select(User).where(User.login == login.strip().lower()))
        if user is None:
            raise click.ClickException(f"There is no account with the login {login!r}.")
        code = issue_activation_code(Actor.system(Channel.CLI), user, days)
        db.session.commit()
        click.echo(code)
        click.echo(
            f"One-time activation code for {user.login}, valid for {days} days: the parent "
            "enters it at /activate with their login and chooses a password.",
            err=True,
        )


@click.command("urgent-topics")
@database_url_option
@click.option("--school", type=int, required=True, metavar="ID")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    type=click.Choice([t.value for t in Topic]),
    help="Repeatable; none means nothing is urgent.",
)
def urgent_topics_command(database_url: str | None, school: int, topics: tuple[str, ...]) -> None:
    """Mark what the school sends at once even in parents' quiet hours (e.g. first_absence)."""
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url), refusals(app):
        found = db.session.get(School, school)
        if found is None:
            raise click.ClickException(f"There is no school with id {school}.")
        set_urgent_topics(Actor.system(Channel.CLI), found, {Topic(t) for t in topics})
        db.session.commit()
        click.echo(f"{found.short_name}: urgent topics: {', '.join(sorted(topics)) or 'none'}")


@click.command("send-notifications")
@database_url_option
@click.option("--loop", is_flag=True, help="Keep sending until stopped (a service).")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds between passes with --loop.",
)
def send_notifications_command(database_url: str | None, loop: bool, interval: float) -> None:
    """Send queued e-mails, SMS and Web Pushes (retries, quiet hours, digests; never twice per
    event).

    Gateways come from EDIARY_SMTP_*, EDIARY_SMSAPI_* and EDIARY_VAPID_PRIVATE_KEY; a channel
    without settings is left queued. Prints one line per pass (counts only: no addresses, no
    names). With --loop a pass that sent something is followed at once by the next.
    """
    url = resolve_url(database_url)
    require_schema(url)
    app = make_app(url)
    with app.app_context(), database_errors(url):
        sender = Sender(app, gateways_from_config(app))
        push_gateway = gateway_from_config(app)
        pusher = PushSender(app, push_gateway) if push_gateway is not None else None
        if not sender.gateways and pusher is None:
            click.echo(
                "No gateway is configured (EDIARY_SMTP_HOST, EDIARY_SMSAPI_TOKEN, "
                "EDIARY_VAPID_PRIVATE_KEY).",
                err=True,
            )
        while True:
            report = sender.run_once()
            line = (
                f"sent {report.sent}, retried {report.retried}, failed {report.failed}, "
                f"held {report.held}, dropped {report.dropped}"
            )
            busy = report.sent > 0
            if pusher is not None:
                pushed = pusher.run_once()
                busy = busy or pushed.sent > 0
                line += (
                    f"; push: sent {pushed.sent}, retried {pushed.retried}, "
                    f"failed {pushed.failed}, held {pushed.held}, dropped {pushed.dropped}"
                )
            if not loop or busy or report.held or report.failed:
                click.echo(line)
            if not loop:
                return
            if not busy:
                time.sleep(interval)


@click.command("vapid-keys")
def vapid_keys_command() -> None:
    """Make the server's Web Push key pair (VAPID, RFC 8292): prints the line for
    /etc/ediary/ediary.env and the public key browsers subscribe with (the portal shows it)."""
    private = new_vapid_private_key()
    click.echo(f"EDIARY_VAPID_PRIVATE_KEY={private}")
    click.echo(f"# public key: {vapid_public_key(private)}")
