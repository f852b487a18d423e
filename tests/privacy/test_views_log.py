"""Who looked at a child's record (issue 17 item 5): staff views are logged, guardians see them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ediary.audit.models import AppendOnly, HistoryEntry
from ediary.db import db
from ediary.people.models import User
from ediary.privacy.models import RecordView, Viewed
from tests.factories import World
from tests.html import text

Login = Callable[[User], FlaskClient]


def _views() -> list[tuple[int, int, Viewed]]:
    rows = db.session.execute(
        select(RecordView.viewer_id, RecordView.pupil_id, RecordView.what).order_by(RecordView.id)
    ).all()
    return [(r.viewer_id, r.pupil_id, r.what) for r in rows]


def _history_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEntry)) or 0


def test_a_staff_view_of_the_card_and_history_is_one_row_each_and_no_history(
    world: World, login_as: Login, commits: list[int]
) -> None:
    before = _history_rows()
    assert login_as(world.teacher).get(f"/pupils/{world.pupil.id}").status_code == 200
    assert len(commits) == 1  # one commit per page view (house rule 2)
    assert login_as(world.secretary).get(f"/pupils/{world.pupil.id}/history").status_code == 200
    assert _views() == [
        (world.teacher.id, world.pupil.id, Viewed.CARD),
        (world.secretary.id, world.pupil.id, Viewed.HISTORY),
    ]
    assert _history_rows() == before


def test_refused_views_and_guardians_own_views_are_not_logged(
    world: World, login_as: Login
) -> None:
    assert login_as(world.other_secretary).get(f"/pupils/{world.pupil.id}").status_code == 404
    login_as(world.parent).get(f"/pupils/{world.pupil.id}")
    login_as(world.parent).get(f"/portal/{world.pupil.id}/grades")
    assert _views() == []


def test_the_guardian_sees_who_what_and_when_for_that_child_only(
    world: World, login_as: Login
) -> None:
    login_as(world.teacher).get(f"/pupils/{world.pupil.id}")
    login_as(world.school_admin).get(f"/pupils/{world.pupil.id}/history")
    shown = text(
        login_as(world.parent).get(f"/portal/{world.pupil.id}/views").get_data(as_text=True)
    )
    assert world.teacher.full_name in shown
    assert world.school_admin.full_name in shown
    assert "historia zmian" in shown and "karta ucznia" in shown
    assert "nauczyciele" in shown  # the role at the child's school
    assert "Kto oglądał dane dziecka" in shown
    # the sibling's list is the sibling's: nothing of the other child's views
    sibling = text(
        login_as(world.parent).get(f"/portal/{world.sibling.id}/views").get_data(as_text=True)
    )
    assert world.teacher.full_name not in sibling
    assert "Nikt z pracowników szkoły" in sibling


def test_another_family_and_staff_get_404(world: World, login_as: Login) -> None:
    for user in (world.other_parent, world.teacher, world.secretary):
        assert login_as(user).get(f"/portal/{world.pupil.id}/views").status_code == 404
    assert login_as(world.parent).get(f"/portal/{2**63 + 5}/views").status_code == 404


def test_the_log_is_append_only(world: World, login_as: Login) -> None:
    login_as(world.teacher).get(f"/pupils/{world.pupil.id}")
    row = db.session.scalars(select(RecordView)).one()
    with pytest.raises(AppendOnly):
        db.session.delete(row)
        db.session.flush()
    db.session.rollback()
