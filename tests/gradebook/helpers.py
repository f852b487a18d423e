"""What the gradebook's tests share: a column of the world's 5a mathematics, a cell's save."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.diary.models import Grade
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import create_assessment, save_cell
from ediary.schools.models import Pupil
from ediary.timetable.models import TeachingAssignment
from tests.factories import World
from tests.html import csrf_token


def assignment_of(world: World) -> TeachingAssignment:
    """The teacher's 5a mathematics (the world's lesson made it)."""
    return db.session.scalars(
        select(TeachingAssignment).where(
            TeachingAssignment.teacher_id == world.teacher.id,
            TeachingAssignment.class_id == world.class_a.id,
        )
    ).one()


def web(world: World) -> Actor:
    return Actor(world.teacher, Channel.WEB)


def column(world: World, description: str = "sprawdzian: ułamki") -> Assessment:
    return create_assessment(
        web(world),
        assignment_of(world),
        category=world.test_category,
        given_on=world.today,
        description=description,
    )


def type_in(
    world: World, assessment: Assessment, pupil: Pupil, text: str, seen: Grade | None = None
) -> Grade | None:
    return save_cell(
        web(world),
        assessment,
        pupil,
        text,
        seen_grade_id=seen.id if seen else None,
        seen_version=seen.version if seen else None,
        today=world.today,
    )


def post_cell(
    client: FlaskClient,
    assignment: TeachingAssignment,
    assessment: Assessment,
    pupil: Pupil,
    text: str,
    grade: str = "",
    version: str = "",
) -> tuple[int, dict[str, Any]]:
    response = client.post(
        f"/gradebook/{assignment.class_id}/{assignment.subject_id}/cells",
        data={
            "csrf_token": csrf_token(client, "/"),
            "assessment": str(assessment.id),
            "pupil": str(pupil.id),
            "text": text,
            "grade": grade,
            "version": version,
        },
    )
    return response.status_code, response.get_json()


@operation
def change(actor: Actor, row: object, **fields: Any) -> None:
    """A school's setting changed for a test (the statute's policy, a class's level)."""
    for name, value in fields.items():
        setattr(row, name, value)
