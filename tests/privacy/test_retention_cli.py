"""`ediary privacy retention` on a migrated database: the dry run lists the due pupil by id and
changes nothing; the real run pseudonymises; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ediary.audit.recording import Actor, operation
from ediary.cli import main
from ediary.db import db
from ediary.schools.models import Pupil
from tests.factories import make_world
from tests.worlds import bound

pytestmark = pytest.mark.shared_clock


@operation
def _left_long_ago(actor: Actor, pupil: Pupil) -> None:
    pupil.left_on = dt.date(2020, 6, 26)


def _names(url: str) -> list[tuple[int, str]]:
    with bound(url):
        return [(p.id, p.first_name) for p in db.session.scalars(select(Pupil).order_by(Pupil.id))]


def test_dry_run_then_run_then_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ediary.db'}"
    saved = db.engine
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
        with bound(url):
            world = make_world()
            _left_long_ago(Actor.system(), world.pupil)
            db.session.commit()
            pupil_id, name = world.pupil.id, world.pupil.first_name
        args = ["privacy", "retention", "--database-url", url, "--today", "2026-09-01"]
        dry = runner.invoke(main, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert f"pupil {pupil_id} " in dry.output and name not in dry.output
        assert "1 pupil(s) would be" in dry.output
        assert (pupil_id, name) in _names(url)
        real = runner.invoke(main, args)
        assert real.exit_code == 0, real.output
        assert (pupil_id, "Uczeń") in _names(url)
        again = runner.invoke(main, args)
        assert "0 pupil(s) pseudonymised" in again.output
    finally:
        if db.engine is not None and db.engine is not saved:
            db.engine.dispose()
        if saved is not None:
            db.bind(saved)
