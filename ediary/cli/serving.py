"""`ediary serve`: gunicorn with the gevent worker (production), or the development server."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from ediary import create_app
from ediary.cli.common import database_url_option, require_schema, resolve_url
from ediary.config import Config
from ediary.extensions import socketio

ROOT = Path(__file__).resolve().parents[2]
# The server's gunicorn worker (ediary/deploy/worker.py), by name: importing it imports gevent.
WORKER_CLASS = "ediary.deploy.worker.Worker"
# gevent has to patch the standard library before anything imports it, so the development server
# starts in a fresh interpreter whose first statement is the patch.
_DEV_SERVER = (
    "from gevent import monkey; monkey.patch_all()\n"
    "import sys\n"
    "from ediary.cli.serving import run_dev_server\n"
    "run_dev_server(sys.argv[1], int(sys.argv[2]))\n"
)


def _gunicorn_config() -> Path | None:
    """provisioning/gunicorn.conf.py of the checkout (or of the working directory), if any."""
    for base in (ROOT, Path.cwd()):
        candidate = base / "provisioning" / "gunicorn.conf.py"
        if candidate.is_file():
            return candidate
    return None


def server_command(url: str, host: str, port: int, *, dev: bool) -> list[str]:
    """The server's command line; sets the environment it is configured through."""
    os.environ["EDIARY_DATABASE_URL"] = url
    if "EDIARY_SOCKETIO_ORIGINS" not in os.environ:
        origins = {f"http://{host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
        os.environ["EDIARY_SOCKETIO_ORIGINS"] = ",".join(sorted(origins))
    if dev:
        args = [sys.executable, "-c", _DEV_SERVER, host, str(port)]
    else:
        # One gevent worker per process: Flask-SocketIO's rule (see DESIGN.md); the command line
        # wins over the configuration file for the worker and the address.
        args = [sys.executable, "-m", "gunicorn", "-k", WORKER_CLASS, "-w", "1"]
        args += ["--bind", f"{host}:{port}"]
        config = _gunicorn_config()
        if config is not None:
            args += ["-c", str(config)]
        args.append("ediary.wsgi:app")
    return args


def serve(url: str, host: str, port: int, *, dev: bool) -> NoReturn:
    """Replaces this process with the server."""
    args = server_command(url, host, port, dev=dev)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)  # noqa: S606 - our own interpreter, fixed arguments


def run_dev_server(host: str, port: int) -> None:
    """The development server (one process, gevent); see `_DEV_SERVER`."""
    app = create_app(Config.from_env())
    click.echo(f"Development server on http://{host}:{port}/ (gevent); Ctrl+C stops it.", err=True)
    socketio.run(app, host=host, port=port, debug=app.debug, use_reloader=False, log_output=True)


@click.command("serve")
@database_url_option
@click.option("--dev", is_flag=True, help="The development server (one process, gevent).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def serve_command(database_url: str | None, dev: bool, host: str, port: int) -> None:
    """Serve the application: gunicorn with the gevent worker, or --dev for development."""
    url = resolve_url(database_url)
    require_schema(url)
    serve(url, host, port, dev=dev)
