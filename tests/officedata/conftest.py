"""The office tests' world, committed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import World


@pytest.fixture
def office_world(world: World, session: Session) -> World:
    """The world, committed (into the test's outer transaction, rolled back at its end): a
    refused request rolls back, and would otherwise take the world with it."""
    session.commit()
    return world
