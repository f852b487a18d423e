"""A world acted on in the database a server process serves (browser tests): the people of the
world act in the block, and what they did is committed at its end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ediary.db import db
from tests.conftest import app_bound_to

# The site on another database, this process's `db` bound to it until the block ends.
app_on = app_bound_to


@contextmanager
def bound(database_url: str) -> Iterator[None]:
    """The world's people act on the server's database in the block, committed at its end."""
    with app_bound_to(database_url):
        yield
        db.session.commit()
