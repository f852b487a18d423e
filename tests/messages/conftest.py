"""Message attachments go to a temporary directory, never into the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from ediary.extensions import limiter


@pytest.fixture(autouse=True)
def files_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if "app" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setitem(app.config, "MESSAGE_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    """Each test starts with no sendings counted (the limiter's memory outlives a test)."""
    limiter.reset()
