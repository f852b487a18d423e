"""The `ediary` command: migrate, seed the demo, create users, issue kiosk codes, serve, check.

A user's mistake (a bad argument, an unknown school, a refused operation) ends with a one-line
message and a non-zero exit status, never a traceback; a traceback means a bug.

One module per group of commands; this one only collects them, in the order `--help` lists them.
"""

from __future__ import annotations

import click

from ediary.cli.accounts import create_user_command, schools_command
from ediary.cli.database import db_group
from ediary.cli.demo import demo_command, seed_demo_command
from ediary.cli.kiosks import kiosk_code_command
from ediary.cli.parents import (
    activation_code_command,
    send_notifications_command,
    urgent_topics_command,
    vapid_keys_command,
)
from ediary.cli.privacy import privacy_group
from ediary.cli.records import archive_group, export_xml_command
from ediary.cli.serving import serve_command
from ediary.deploy.cli import check_command

COMMANDS: list[click.Command] = [
    db_group,
    seed_demo_command,
    demo_command,
    create_user_command,
    schools_command,
    kiosk_code_command,
    activation_code_command,
    urgent_topics_command,
    send_notifications_command,
    vapid_keys_command,
    export_xml_command,
    archive_group,
    serve_command,
    check_command,
    privacy_group,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ediary, the school e-diary: its database, demo, accounts, kiosks and server."""


for _command in COMMANDS:
    main.add_command(_command)
