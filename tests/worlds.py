"""Another database for a while: a world built, or acted on, in the database a server process
serves (browser tests), or an app of the test's own. `create_app` binds the process-wide
database, so the previous one is put back after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from ediary import create_app
from ediary.db import db
from tests.conftest import test_config


@contextmanager
def app_on(database_url: str) -> Iterator[Flask]:
    """The site on `database_url`, this process's `db` bound to it until the block ends."""
    previous = db.engine
    app = create_app(test_config(database_url))
    try:
        yield app
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()
        if previous is not None:
            db.bind(previous)


@contextmanager
def bound(database_url: str) -> Iterator[None]:
    """The world's people act on the server's database in the block, committed at its end."""
    with app_on(database_url) as app, app.app_context():
        yield
        db.session.commit()
