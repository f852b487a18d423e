"""The school's change history for its director (issue 14 item 6): filters by ids, newest first,
paged by "before id", exported as CSV/XLSX; foreign ids and impossible ids are 404, a bad date is
a Polish message that keeps the filter. The clock is pinned (tests/clock.py DEFAULT)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.operations.roll import set_topic, submit_roll
from ediary.oversight import history
from ediary.people.models import User
from tests.factories import World, make_world
from tests.html import text


@pytest.fixture
def world(session: object) -> World:
    w = make_world()
    kiosk = Actor(w.teacher, Channel.KIOSK, kiosk_id=w.kiosk.id)
    submit_roll(kiosk, w.lesson, {w.pupil.id: "ob", w.classmate.id: "nb"}, base=None)
    set_topic(Actor(w.teacher, Channel.WEB), w.lesson, "Ułamki")
    db.session.flush()
    return w


def _url(w: World, suffix: str = "") -> str:
    return f"/oversight/schools/{w.school.id}/history{suffix}"


def _ids(w: World, **where: object) -> list[int]:
    query = db.session.query(HistoryEntry.id).filter_by(school_id=w.school.id, **where)
    return sorted((i for (i,) in query), reverse=True)


def test_filters_pick_the_rows(world: World, login_as: Callable[[User], FlaskClient]) -> None:
    client = login_as(world.school_admin)
    from_kiosk = _ids(world, kiosk_id=world.kiosk.id)
    assert from_kiosk, "the roll from the kiosk wrote history"
    page = client.get(_url(world, f"?kiosk={world.kiosk.id}&channel=kiosk"))
    assert page.status_code == 200
    shown = text(page.get_data(as_text=True))
    assert "komputer w sali" in shown and "frekwencja" in shown and "type_id" in shown
    rows, _next = history.page(world.school, history.Filters(kiosk=world.kiosk.id), None)
    assert [r.id for r in rows] == from_kiosk
    rows, _next = history.page(world.school, history.Filters(pupil=world.pupil.id), None)
    assert [r.id for r in rows] == _ids(world, pupil_id=world.pupil.id)
    rows, _next = history.page(world.school, history.Filters(actor=world.teacher.id), None)
    assert [r.id for r in rows] == _ids(world, actor_id=world.teacher.id)
    assert all(r.who == world.teacher.full_name for r in rows)
    rows, _next = history.page(world.school, history.Filters(school_class=world.class_b.id), None)
    of_5b = _ids(world, pupil_id=world.sibling.id) + _ids(world, pupil_id=world.pupil_b.id)
    assert rows and [r.id for r in rows] == sorted(of_5b, reverse=True)


def test_paging_newest_first_by_before_id(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 3)
    everything = _ids(world)
    first, cursor = history.page(world.school, history.Filters(), None)
    assert [r.id for r in first] == everything[:3] and cursor == everything[2]
    second, _cursor = history.page(world.school, history.Filters(), cursor)
    assert [r.id for r in second] == everything[3:6]


def test_date_range_in_the_schools_days(world: World) -> None:
    today = world.today
    found, _ = history.page(world.school, history.Filters(since_day=today, until_day=today), None)
    assert [r.id for r in found] == _ids(world)
    later = today + dt.timedelta(days=1)
    assert history.page(world.school, history.Filters(since_day=later), None)[0] == []
    earlier = today - dt.timedelta(days=1)
    assert history.page(world.school, history.Filters(until_day=earlier), None)[0] == []


def test_a_bad_date_is_a_polish_message_keeping_the_filter(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    response = client.get(_url(world, f"?from=18.11.2026&kiosk={world.kiosk.id}"))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "podaj datę w postaci RRRR-MM-DD" in text(body)
    assert 'value="18.11.2026"' in body
    assert f'<option value="{world.kiosk.id}" selected' in body
    backwards = client.get(_url(world, "?from=2026-11-20&to=2026-11-01"))
    export = client.get(_url(world, ".csv?to=jutro"))
    assert export.status_code == 400 and 'value="jutro"' in export.get_data(as_text=True)
    assert backwards.status_code == 400 and "późniejsza" in text(backwards.get_data(as_text=True))


def test_foreign_and_impossible_ids_are_missing(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    for query in (
        f"?pupil={world.pupil_other_school.id}",
        f"?class={world.class_other_school.id}",
        f"?actor={world.other_school_admin.id}",
        f"?actor={2**63}",
        f"?before={2**63}",
        "?pupil=x",
        "?channel=carrier-pigeon",
    ):
        assert client.get(_url(world, query)).status_code == 404, query
    other = login_as(world.other_school_admin)
    assert other.get(_url(world)).status_code == 404
    assert other.get(_url(world, ".csv")).status_code == 404


def test_export_holds_the_filtered_rows(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    csv = client.get(_url(world, f".csv?kiosk={world.kiosk.id}"))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 1 + len(_ids(world, kiosk_id=world.kiosk.id))
    xlsx = client.get(_url(world, f".xlsx?pupil={world.pupil.id}"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert sheet.max_row == 1 + len(_ids(world, pupil_id=world.pupil.id))
    assert client.get(_url(world, ".pdf")).status_code == 404


def test_the_forms_empty_choices_mean_all(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    response = client.get(_url(world, "?actor=&class=&channel=&kiosk=&from=&to="))
    assert response.status_code == 200 and "Starsze wpisy" not in response.get_data(as_text=True)


def test_reached_from_the_school_page(
    world: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(world.school_admin)
    assert _url(world) in client.get(f"/schools/{world.school.id}").get_data(as_text=True)
