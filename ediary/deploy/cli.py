"""`ediary check --deploy`: the production self-check on the command line.

Nothing of the application is imported at module level (see ediary/cli.py: `serve` lets gevent
patch the standard library first).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, blank lines, quotes)."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, sep, raw = line.partition("=")
        if not sep or not name.strip():
            raise click.ClickException(f"{path}:{number}: not KEY=VALUE")
        parts = shlex.split(raw, comments=False) if raw.strip() else [""]
        values[name.strip()] = " ".join(parts)
    return values


@click.command("check")
@click.option(
    "--deploy",
    is_flag=True,
    required=True,
    help="check the configuration for production (the only check so far)",
)
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="read the EDIARY_* settings from this file (e.g. /etc/ediary/ediary.env) "
    "instead of the environment",
)
def check_command(deploy: bool, env_file: Path | None) -> None:
    """Refuse an unsafe production configuration; exit status 1 when anything is wrong."""
    from ediary.config import Config
    from ediary.deploy.checks import check_deploy

    environ = read_env_file(env_file) if env_file else dict(os.environ)
    try:
        config = Config.from_env(environ)
    except ValueError as error:
        raise click.ClickException(f"a setting cannot be read: {error}") from error
    problems = check_deploy(config, environ)
    for problem in problems:
        click.echo(f"problem {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s): not safe for production", err=True)
        raise SystemExit(1)
    click.echo(f"ok: safe for production ({config.PROCESSES} process(es))")
