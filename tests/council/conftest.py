"""The council's tests use the world through pages: it is committed (a savepoint of the test's
transaction), so a refused form's rollback leaves it in place."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import World, make_world


@pytest.fixture
def world(session: Session) -> World:
    made = make_world()
    session.commit()
    return made
