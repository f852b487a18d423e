"""Uploads kept for the import go to a temporary folder, not the instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ediary.office.imports import operations
from tests.factories import World


@pytest.fixture(autouse=True)
def upload_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "imports"
    monkeypatch.setattr(operations, "upload_dir", lambda: folder)
    return folder


@pytest.fixture
def office_world(world: World, session: Session) -> World:
    """The world, committed (into the test's outer transaction, rolled back at its end): a
    refused request rolls back, and would otherwise take the world with it."""
    session.commit()
    return world
