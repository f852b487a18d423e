"""ediary: an open-source school e-diary. The application is made in ediary/app.py.

Importing the package imports nothing else. gunicorn's master imports the server's worker class
(`ediary.deploy.worker`, and this package with it) before its gevent worker patches the standard
library, and a module imported then keeps what it found unpatched: psycopg, imported there by
the application, chose its blocking C wait, and every database round trip of a server process
stopped all of its sockets until it returned (`tests/test_worker.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from ediary.config import Config


def create_app(config: Config | None = None) -> Flask:
    """The Flask application (ediary/app.py), imported when first made."""
    from ediary.app import create_app as create

    return create(config)
