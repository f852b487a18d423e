"""The grading rules of the statute: the operation (history, version), the preview of the
averages it would move (computed with the gradebook's own function), the Polish refusals, and
that no grade row changes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.diary.queries import attendance_types, grades_of, weighted_average
from ediary.errors import Conflict, Refusal
from ediary.gradingrules.operations import change_grading_rules
from ediary.gradingrules.preview import averages_moved
from ediary.gradingrules.rules import read_rules
from ediary.people.models import User
from tests.events import capture_events
from tests.factories import World
from tests.gradingrules.helpers import categories, grade, grade_rows, rules_form
from tests.html import hidden_fields, text

Login = Callable[[User], FlaskClient]


def _change(world: World, **changes: str) -> None:
    school = world.school
    types = list(attendance_types(school.id).values())
    rules = read_rules(rules_form(school, **changes), categories(school), types)
    change_grading_rules(
        Actor(world.school_admin, Channel.WEB),
        school,
        rules,
        categories(school),
        types,
        base_version=int(rules_form(school, **changes)["version"]),
    )


# --- the operation --------------------------------------------------------------------------


def test_a_change_is_written_with_its_history_and_a_new_version(
    world: World, session: Session
) -> None:
    test_id = world.test_category.id
    before = world.school.rules_version
    capture_events(lambda: _change(world, **{f"weight-{test_id}": "5", "plus_value": "0,75"}))
    assert world.test_category.weight == 5
    assert world.school.plus_value == Decimal("0.75")
    assert world.school.rules_version == before + 1
    change = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "grade_categories", HistoryEntry.entity_id == test_id)
        .order_by(HistoryEntry.id)
    ).all()[-1]
    assert (change.actor_id, change.channel) == (world.school_admin.id, "web")
    assert (change.old, change.new) == ({"weight": 3}, {"weight": 5})


def test_a_page_that_showed_an_older_version_is_a_conflict(world: World, session: Session) -> None:
    stale = rules_form(world.school, version=str(world.school.rules_version))
    _change(world, plus_value="0.3")
    types = list(attendance_types(world.school.id).values())
    rules = read_rules({**stale, "plus_value": "0.9"}, categories(world.school), types)
    with pytest.raises(Conflict):
        change_grading_rules(
            Actor(world.school_admin, Channel.WEB),
            world.school,
            rules,
            categories(world.school),
            types,
            base_version=int(stale["version"]),
        )
    assert world.school.plus_value == Decimal("0.3")


def test_attendance_types_and_the_threshold_are_saved(world: World, session: Session) -> None:
    late = attendance_types(world.school.id)["sp"]
    _change(world, **{f"excused-{late.id}": "on", "non_classification_percent": "60"})
    assert late.excused is True
    assert world.school.non_classification_percent == 60


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("weight", "0", "weight_zero"),
        ("weight", "11", "weight_range"),
        ("weight", "-1", "weight_range"),
        ("weight", "trzy", "weight_invalid"),
        ("plus_value", "1.5", "modifier_invalid"),
        ("minus_value", "0.333", "modifier_invalid"),
        ("minus_value", "NaN", "modifier_invalid"),
        ("non_classification_percent", "0", "threshold_invalid"),
        ("non_classification_percent", "101", "threshold_invalid"),
        ("improvement_policy", "average", "policy_invalid"),
    ],
)
def test_bad_rules_are_refused_in_polish(
    world: World, session: Session, field: str, value: str, code: str
) -> None:
    name = f"weight-{world.test_category.id}" if field == "weight" else field
    types = list(attendance_types(world.school.id).values())
    with pytest.raises(Refusal) as refused:
        read_rules(rules_form(world.school, **{name: value}), categories(world.school), types)
    assert refused.value.code == code


# --- the preview: the same average function; no grade row changes ----------------------------


def test_the_preview_counts_the_averages_a_weight_would_move_and_writes_nothing(
    world: World, session: Session
) -> None:
    grade(world, "5", world.test_category)
    grade(world, "3", world.quiz_category)
    shown = weighted_average(grades_of(world.pupil), world.school).value
    assert shown == Decimal("4.20")  # (5×3 + 3×2) / 5
    rows = grade_rows()
    types = list(attendance_types(world.school.id).values())
    proposal = read_rules(
        rules_form(world.school, **{f"weight-{world.test_category.id}": "1"}),
        categories(world.school),
        types,
    )
    preview = averages_moved(world.school, proposal, world.today)
    (moved,) = preview.moved
    assert (moved.class_name, moved.subject_name, moved.averages) == ("5a", world.math.name, 1)
    assert moved.examples == ("4,20 → 3,67",)  # (5×1 + 3×2) / 3
    assert world.test_category.weight == 3 and grade_rows() == rows
    # Saved: the new rule computes the new average; the grades are the same rows, unchanged.
    _change(world, **{f"weight-{world.test_category.id}": "1"})
    session.flush()
    assert weighted_average(grades_of(world.pupil), world.school).value == Decimal("3.67")
    assert grade_rows() == rows
    unchanged = read_rules(rules_form(world.school), categories(world.school), types)
    assert averages_moved(world.school, unchanged, world.today).moved == ()


# --- the page -------------------------------------------------------------------------------


def _path(world: World) -> str:
    return f"/schools/{world.school.id}/grading-rules"


def test_the_administrator_previews_then_saves_from_the_page(
    world: World, session: Session, login_as: Login, commits: list[int]
) -> None:
    grade(world, "5", world.test_category)
    grade(world, "3", world.quiz_category)
    session.commit()
    client = login_as(world.school_admin)
    school_page = client.get(f"/schools/{world.school.id}").get_data(as_text=True)
    assert _path(world) in school_page
    weight = f"weight-{world.test_category.id}"
    form = {**hidden_fields(client, _path(world)), **rules_form(world.school, **{weight: "1"})}
    commits.clear()
    shown = text(client.post(_path(world), data={**form, "action": "preview"}).get_data(True))
    assert "5a matematyka: 1 średnich się zmieni" in shown.lower()
    assert commits == []
    saved = client.post(_path(world), data={**form, "action": "save"})
    assert saved.status_code == 302 and len(commits) == 1
    # The same form sent again (a double click): where the first went, not a conflict.
    version = world.school.rules_version
    again = client.post(_path(world), data={**form, "action": "save"})
    assert again.status_code == 302 and again.headers["Location"] == saved.headers["Location"]
    session.expire_all()
    assert world.school.rules_version == version
    session.expire_all()
    assert world.test_category.weight == 1
    history = text(client.get(_path(world)).get_data(as_text=True))
    assert "Historia zmian zasad" in history
    assert "sprawdzian waga: 3 → 1" in history


def test_a_refusal_keeps_what_was_typed_and_a_stale_page_is_a_conflict(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.school_admin)
    weight = f"weight-{world.test_category.id}"
    form = {**hidden_fields(client, _path(world)), **rules_form(world.school)}
    refused = client.post(_path(world), data={**form, weight: "12", "action": "save"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'value="12"' in html
    assert "musi wynosić od 0 do 10" in text(html)
    stale = {**form, "version": str(world.school.rules_version - 1), "action": "save"}
    conflict = client.post(_path(world), data=stale)
    assert conflict.status_code == 409
    assert "zmieniły się od wczytania strony" in text(conflict.get_data(as_text=True))
    session.expire_all()
    assert world.test_category.weight == 3
