"""The diary as XML (issue 17, item 3): valid against docs/dziennik-1.xsd, complete (restored
into an empty database it gives back every row and its history), scoped to one school, and the
schema is what the models say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

import ediary.models  # noqa: F401 - every table
from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db, make_engine
from ediary.diary.models import Grade, RemarkKind
from ediary.diary.operations.grades import correct_grade
from ediary.diary.operations.remarks import add_remark
from ediary.diary.operations.roll import set_topic, submit_roll
from ediary.errors import Refusal
from ediary.records import export, schema
from ediary.records.contents import NOT_IN_THE_DIARY, PARTS
from ediary.records.restore import restore
from tests.factories import World, make_graded_world

pytestmark = pytest.mark.usefixtures("session")


def _diary(world: World) -> None:
    teacher = Actor(world.teacher, Channel.KIOSK, kiosk_id=world.kiosk.id)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb", world.classmate.id: "ob"}, base=None)
    set_topic(teacher, world.lesson, "Ułamki zwykłe — ćwiczenia <z> & „cudzysłowem”")
    grade = db.session.scalars(select(Grade).where(Grade.pupil_id == world.pupil.id)).first()
    assert grade is not None
    correct_grade(Actor(world.teacher, Channel.WEB), grade, value="5-", base_version=grade.version)
    add_remark(
        teacher,
        pupil=world.classmate,
        kind=RemarkKind.NEGATIVE,
        text="Zapomniał zeszytu.",
        given_on=world.today,
        lesson=world.lesson,
    )
    db.session.flush()


def _export(
    world: World, tmp_path: Path, class_id: int | None = None
) -> tuple[Path, export.Summary]:
    scope = export.scope_of(db.session(), world.school.id, world.year.id, class_id)
    path = tmp_path / "dziennik.xml"
    with path.open("wb") as out:
        summary = export.write(db.session(), scope, out)
    return path, summary


def _rows(session: Session, part_index: int, where: Any = None) -> list[dict[str, Any]]:
    part = PARTS[part_index]
    query = select(*(part.table.c[n] for n in part.columns)).order_by(part.table.c.id)
    if where is not None:
        query = query.where(where)
    return [dict(row) for row in session.execute(query).mappings()]


def test_an_export_restored_into_an_empty_database_gives_back_every_row_and_its_history(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    world, _earlier = make_graded_world()
    _diary(world)
    path, summary = _export(world, tmp_path)
    export.validate(path)
    assert (
        summary.rows["grade"] == 2
        and summary.rows["attendance"] == 2
        and summary.rows["remark"] == 1
    )
    assert summary.rows["change"] > 10

    scope = export.scope_of(db.session(), world.school.id, world.year.id)
    engine = make_engine(fresh_database_url(backend))
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as empty:
            assert restore(empty, path) == summary.total
            empty.commit()
            for index, part in enumerate(PARTS):
                restored = _rows(empty, index)
                original = _rows(db.session(), index, part.rows(scope))
                assert restored == original, part.element
                assert len(original) == summary.rows[part.element]
            # The correction's old value came back with the rest of the history.
            changes = empty.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.entity == "grades", HistoryEntry.action == "update")
                .order_by(HistoryEntry.id)
            ).all()
            assert any(
                c.old == {"value": "4+", "version": 1} or (c.old or {}).get("value") == "4+"
                for c in changes
            )
    finally:
        engine.dispose()


def test_an_export_holds_nothing_of_another_school_and_a_class_export_only_its_class(
    tmp_path: Path,
) -> None:
    world, _earlier = make_graded_world()
    _diary(world)
    path, _summary = _export(world, tmp_path, world.class_b.id)
    document = etree.parse(str(path)).getroot()
    text = etree.tostring(document, encoding="unicode")
    assert world.pupil_b.last_name in text and world.pupil.first_name not in text
    assert world.pupil_other_school.last_name not in text and world.other_school.name not in text
    assert "Ułamki" not in text  # 5a's lesson
    assert "password" not in text and "argon2" not in text


def test_a_year_or_class_of_another_school_is_refused(tmp_path: Path) -> None:
    world, _earlier = make_graded_world()
    other_year = world.class_other_school.year_id
    for school_id, year_id, class_id in (
        (world.school.id, other_year, None),
        (world.school.id, world.year.id, world.class_other_school.id),
        (world.school.id, 2**63, None),
    ):
        with pytest.raises(Refusal):
            export.scope_of(db.session(), school_id, year_id, class_id)


def test_a_tampered_export_is_invalid(tmp_path: Path) -> None:
    world, _earlier = make_graded_world()
    path, _summary = _export(world, tmp_path)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(path.read_bytes().replace(b'kind="', b'kindx="', 1))
    with pytest.raises(etree.XMLSyntaxError):
        export.validate(broken)


def test_the_committed_schema_is_the_one_the_models_give() -> None:
    committed = export.SCHEMA_FILE.read_bytes()
    assert committed == schema.generate(), (
        "run: python -m ediary.records.schema > docs/dziennik-1.xsd"
    )


def test_every_model_with_a_schools_data_is_in_the_diary_or_says_why_not() -> None:
    exported = {part.table.name for part in PARTS}
    holding = {
        mapper.class_.__name__
        for mapper in Base.registry.mappers
        if "school_id" in mapper.columns and mapper.class_.__tablename__ not in exported
    }
    assert holding == set(NOT_IN_THE_DIARY)
