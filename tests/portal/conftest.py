"""The portal's tests: excuse notes go to a temporary directory, never into the working tree;
the command line runs in-process without leaving the global database bound elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from ediary.cli import main
from ediary.db import db


@pytest.fixture(autouse=True)
def notes_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if "app" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setitem(app.config, "EXCUSE_NOTES_DIR", str(tmp_path / "notes"))
    return tmp_path / "notes"


@pytest.fixture
def cli() -> Iterator[Callable[..., Result]]:
    """`ediary ARGS...` in-process. Each command's app binds the global `db` to its own engine:
    that engine is disposed after the command and the tests' engine is put back."""
    saved = db.engine
    runner = CliRunner()

    def run(*args: str) -> Result:
        try:
            return runner.invoke(main, list(args))
        finally:
            if db.engine is not None and db.engine is not saved:
                db.engine.dispose()

    yield run
    if saved is not None:
        db.bind(saved)
