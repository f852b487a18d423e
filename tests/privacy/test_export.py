"""A person's own data (GDPR Art. 15): the JSON holds their children's rows and nothing of
another child or family (checked against the database); the PDF reads in Polish."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations import record_grade
from ediary.people.models import User
from ediary.privacy.export import CHILD_TABLES, SECRET_COLUMNS
from ediary.schools.models import Guardianship, Pupil
from tests.factories import World

Login = Callable[[User], FlaskClient]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_dump_holds_my_children_and_nothing_of_anyone_else(
    world: World, login_as: Login
) -> None:
    login_as(world.teacher).get(f"/pupils/{world.pupil.id}")  # a view, for the views log
    response = login_as(world.parent).get("/my-data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    dump = response.get_json()
    mine = set(
        db.session.scalars(
            select(Guardianship.pupil_id).where(Guardianship.user_id == world.parent.id)
        )
    )
    assert (
        {c["particulars"]["id"] for c in dump["children"]}
        == mine
        == {
            world.pupil.id,
            world.sibling.id,
        }
    )
    assert dump["account"]["id"] == world.parent.id
    assert not _keys(dump) & SECRET_COLUMNS
    assert dump["children"][0]["record_views"]  # the teacher's view is in it
    for child in dump["children"]:
        for heading in CHILD_TABLES:
            assert {row["pupil_id"] for row in child[heading]} <= {child["particulars"]["id"]}
    for row in dump["messages_queued_to_me"] + dump["contact_verifications"]:
        assert row["user_id"] == world.parent.id
    # Against the database: no other pupil's name or PESEL, no other person's login or address.
    text = json.dumps(dump, ensure_ascii=False)
    for pupil in db.session.scalars(select(Pupil).where(Pupil.id.not_in(mine))):
        assert f"{pupil.first_name} {pupil.last_name}" not in text
        assert f'"{pupil.last_name}"' not in text
        if pupil.pesel:
            assert pupil.pesel not in text
    for user in db.session.scalars(select(User).where(User.id != world.parent.id)):
        assert f'"{user.login}"' not in text
        if user.email:
            assert user.email not in text


def test_my_childs_grades_are_in_it_with_their_history(world: World, login_as: Login) -> None:
    grade = record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        value="5",
        category=world.test_category,
        given_on=world.today,
    )
    db.session.commit()
    dump = login_as(world.parent).get("/my-data.json").get_json()
    child = next(c for c in dump["children"] if c["particulars"]["id"] == world.pupil.id)
    assert [g["id"] for g in child["grades"]] == [grade.id]
    assert any(h["entity"] == "grades" and h["entity_id"] == grade.id for h in child["history"])
    sibling = next(c for c in dump["children"] if c["particulars"]["id"] == world.sibling.id)
    assert sibling["grades"] == []


def test_the_pdf_reads_in_polish(world: World, login_as: Login) -> None:
    response = login_as(world.parent).get("/my-data.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Moje dane w szkole" in text
    assert world.pupil.first_name in text and world.sibling.first_name in text
    assert world.pupil_b.last_name not in text
