"""The 8:15 board: its figures at pinned instants of a school morning, the highlight of a school
falling behind, days off, and its pages (404 for another gmina, no pupil anywhere)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.db import utcnow
from ediary.district.board import board
from ediary.district.operations import add_days_off
from ediary.kiosks.models import KioskStatus
from ediary.people.models import User
from ediary.timetable.operations import cancel_lesson, substitute
from tests.factories import SYSTEM, World, _add
from tests.gmina.helpers import at, morning, roll

Login = Callable[[User], FlaskClient]


def _line(world: World) -> Any:
    (line,) = [s for s in board(world.district, utcnow()).schools if s.school_id == world.school.id]
    return line


def test_before_the_first_bell_nothing_is_due(
    world: World, session: Session, time_machine: Any
) -> None:
    morning(world)
    time_machine.move_to(at(world, 7, 30), tick=False)
    line = _line(world)
    assert (line.slot_number, line.running, line.day_lessons, line.behind) == (None, 0, 0, False)


def test_rolls_taken_and_missing_in_the_slot_under_way(
    world: World, session: Session, time_machine: Any
) -> None:
    lessons = morning(world)
    time_machine.move_to(at(world, 8, 5), tick=False)
    line = _line(world)
    assert line.slot is not None and line.slot.number == line.slot_number == 1
    assert (line.running, line.rolls, line.missing) == (2, 0, 2)
    assert sorted(line.missing_rooms) == ["12", "14"]
    assert not line.behind  # five minutes in: not yet behind

    roll(world, lessons["a1"], {world.pupil.id: "nb", world.classmate.id: "ob"})
    time_machine.move_to(at(world, 8, 15), tick=False)
    line = _line(world)
    assert (line.running, line.rolls, line.missing_rooms) == (2, 1, ["14"])
    assert line.late_rolls and line.behind  # 15 minutes in and room 14 has no roll
    assert (line.day_lessons, line.day_rolls, line.day_missing) == (2, 1, 1)
    assert (line.first_present, line.first_absent) == (1, 1)
    assert str(line.first_absent_percent) == "50.0"

    roll(
        world, lessons["b1"], {world.pupil_b.id: "ob", world.sibling.id: "ob"}, world.other_teacher
    )
    line = _line(world)
    assert (line.missing, line.behind, str(line.first_absent_percent)) == (0, False, "25.0")


def test_substitutions_and_cancellations_of_the_day(
    world: World, session: Session, time_machine: Any
) -> None:
    lessons = morning(world)
    time_machine.move_to(at(world, 9, 20), tick=False)
    admin = Actor(world.school_admin, Channel.WEB)
    cancel_lesson(admin, lessons["b1"])
    substitute(admin, lessons["a2"], world.tutor)
    line = _line(world)
    assert line.slot_number == 2
    assert (line.cancellations, line.substitutions) == (1, 1)
    assert (line.running, line.day_lessons) == (1, 2)  # a cancelled lesson is not due


def test_a_day_off_has_no_lessons_and_is_never_behind(
    world: World, session: Session, time_machine: Any
) -> None:
    time_machine.move_to(at(world, 8, 30), tick=False)
    add_days_off(
        Actor(world.district_admin, Channel.WEB),
        world.school,
        world.today,
        world.today,
        "dzień dyrektorski",
    )
    line = _line(world)
    assert line.day_off and line.slot_number is None and not line.behind


def test_the_gmina_totals_add_up_its_schools(
    world: World, session: Session, time_machine: Any
) -> None:
    morning(world)
    time_machine.move_to(at(world, 8, 20), tick=False)
    result = board(world.district, utcnow())
    assert [s.name for s in result.schools] == ["Szkoła Podstawowa nr 1"]  # not the other gmina's
    assert result.total("running") == 2 and result.total("missing") == 2 and result.behind == 1


def test_the_board_page_and_its_table(
    world: World, session: Session, login_as: Login, time_machine: Any
) -> None:
    morning(world)
    time_machine.move_to(at(world, 8, 20), tick=True)
    client = login_as(world.district_admin)
    page = client.get(f"/districts/{world.district.id}/board")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "board.js" in html and 'class="card board-school behind"' in html
    assert "Sale bez listy: 12, 14" in html
    table = client.get(f"/districts/{world.district.id}/board/table")
    assert table.status_code == 200 and "<html" not in table.get_data(as_text=True)
    for name in ("Zosia", "Wiśniewska", "Maria", "Lewandowski"):
        assert name not in html


def test_another_gminas_board_is_missing(world: World, session: Session, login_as: Login) -> None:
    client = login_as(world.other_district_admin)
    assert client.get(f"/districts/{world.district.id}/board").status_code == 404
    assert client.get(f"/districts/{world.district.id}/board/table").status_code == 404
    assert client.get(f"/districts/{2**63}/board").status_code == 404


def test_a_kiosk_offline_in_school_hours_puts_the_school_behind(
    world: World, session: Session, time_machine: Any
) -> None:
    lessons = morning(world)
    time_machine.move_to(at(world, 8, 2), tick=False)
    roll(world, lessons["a1"], {world.pupil.id: "ob"})
    roll(world, lessons["b1"], {world.pupil_b.id: "ob"}, world.other_teacher)
    world.kiosk.secret_hash = "enrolled"
    _add(
        SYSTEM,
        KioskStatus(
            kiosk_id=world.kiosk.id,
            connected=True,
            last_seen_at=utcnow(),
            outbox_depth=2,
            oldest_unsent_at=utcnow() - dt.timedelta(minutes=1),
        ),
    )
    line = _line(world)
    assert (line.kiosks.online, line.kiosks.offline, line.behind) == (1, 0, False)
    time_machine.move_to(at(world, 8, 40), tick=False)  # no beat for 38 minutes, rolls all taken
    line = _line(world)
    assert (line.kiosks.offline, line.missing, line.kiosk_offline, line.behind) == (
        1,
        0,
        True,
        True,
    )
    assert line.kiosks.oldest_unsent is not None
    assert line.kiosks.oldest_unsent >= dt.timedelta(minutes=39)
    time_machine.move_to(at(world, 18, 0), tick=False)  # after school: offline is no alarm
    assert not _line(world).behind
