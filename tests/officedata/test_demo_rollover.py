"""The demo district rolled over at the end of August (the clock pinned there), and still used:
the office's pages, a teacher's home page, the lists of a promoted class; a second run refused."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from time_machine import TimeMachineFixture

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.demo.accounts import DEMO_PASSWORD
from ediary.errors import Refusal
from ediary.office.rollover.operations import roll_over
from ediary.office.rollover.plan import make_rollover_plan
from ediary.people.models import Role, User
from ediary.schools.models import School, SchoolClass, SchoolYear
from tests.clock import warsaw
from tests.test_demo_seed import (  # noqa: F401 - fixtures
    Demo,
    app_on,
    demo_copy,
    demo_district,
    demo_staff_login,
    login,
)

# The demo is seeded by a real process on the suite's shared clock; the rollover then runs at
# the end of the August after the demo's year, in this process.
pytestmark = pytest.mark.shared_clock


def test_the_demo_rolls_over_and_still_works(
    demo_copy: Demo,  # noqa: F811
    app_on: Callable[..., Flask],  # noqa: F811
    time_machine: TimeMachineFixture,
) -> None:
    app = app_on(demo_copy.url, DEMO_MODE=True)
    with app.app_context():
        ends = db.session.scalar(select(SchoolYear.ends_on).order_by(SchoolYear.ends_on.desc()))
        assert ends is not None
        time_machine.move_to(warsaw(ends.year, 8, 28, 10, 0).astimezone(dt.UTC), tick=True)
        today = dt.date(ends.year, 8, 28)
        for school in db.session.scalars(select(School).order_by(School.id)).all():
            director = db.session.scalars(
                select(User).where(
                    User.memberships.any(role=Role.SCHOOL_ADMIN, school_id=school.id)
                )
            ).first()
            plan = make_rollover_plan(school, today, set())
            assert plan.refusal is None, (school.name, plan.refusal)
            roll_over(Actor(director, Channel.WEB), plan)
            db.session.commit()
            with pytest.raises(Refusal):
                roll_over(Actor(director, Channel.WEB), make_rollover_plan(school, today, set()))
            db.session.rollback()
        mirzec = db.session.scalar(select(School).where(School.short_name.like("%Mirzec%")))
        assert mirzec is not None
        promoted = db.session.scalar(
            select(SchoolClass)
            .join(SchoolYear, SchoolYear.id == SchoolClass.year_id)
            .where(SchoolClass.school_id == mirzec.id, SchoolClass.name == "5b")
            .where(SchoolYear.closed_at.is_(None))
        )
        assert promoted is not None and promoted.pupils  # 4b went up with rodzic1's daughter
        school_id, class_id = mirzec.id, promoted.id

    office = app.test_client()
    assert demo_staff_login(office, "sekretariat1").startswith("/office/")
    assert office.get("/").status_code == 200
    assert office.get(f"/office/schools/{school_id}/rollover").status_code == 200
    lists = office.get(f"/office/schools/{school_id}/lists/pupils?class_id={class_id}&format=xlsx")
    sheet = load_workbook(io.BytesIO(lists.get_data())).worksheets[0]
    assert {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"5b"}
    teacher = app.test_client()
    assert login(teacher, "nauczyciel1", DEMO_PASSWORD).status_code == 302
    assert teacher.get("/", follow_redirects=True).status_code == 200
    parent = app.test_client()
    assert login(parent, "rodzic1", DEMO_PASSWORD).status_code == 302
    assert parent.get("/portal/", follow_redirects=True).status_code == 200
