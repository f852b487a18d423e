"""A teacher at a kiosk: full login (throttled), the lesson that opens by itself, the day's PIN,
locking, logging out, and the hard logout."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db, utcnow
from ediary.kiosks.models import Kiosk, KioskTeacherSession
from ediary.kiosks.operations import create_kiosk
from ediary.kiosks.queries import end_of_day
from ediary.people import throttle
from ediary.people.models import LoginFailure, Role
from ediary.people.operations import disable_user, revoke_role, set_password
from ediary.timetable.operations import cancel_lesson, substitute, substitute_lesson
from tests import factories
from tests.kiosk_server.conftest import (
    NS,
    KioskWorld,
    call,
    enroll,
    login,
    make_room_lesson,
    now_window,
    retime,
)

SYSTEM = Actor.system(Channel.CLI)


def _failures() -> int:
    return int(db.session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


def _sessions() -> list[KioskTeacherSession]:
    return list(db.session.scalars(select(KioskTeacherSession).order_by(KioskTeacherSession.id)))


def _second_kiosk(kworld: KioskWorld) -> tuple[Kiosk, str]:
    room = factories.make_room(kworld.school, "14")
    kiosk = create_kiosk(SYSTEM, room)
    secret = enroll(kiosk)
    db.session.commit()
    return kiosk, secret


@operation
def _age(actor: Actor, row: KioskTeacherSession, days: int) -> None:
    row.day -= dt.timedelta(days=days)
    row.started_at -= dt.timedelta(days=days)
    row.expires_at -= dt.timedelta(days=days)


def test_a_wrong_password_is_refused_and_counted(connect: Any, kworld: KioskWorld) -> None:
    ack = call(connect(), "teacher_login", {"login": kworld.teacher.login, "password": "wrong one"})
    assert ack == {
        "ok": False,
        "error": "login_failed",
        "message": "Nieprawidłowy login lub hasło.",
    }
    assert _failures() == 1 and _sessions() == []


@pytest.mark.parametrize("who", ["parent", "secretary", "other_school_teacher"])
def test_only_a_teacher_of_this_school_logs_in(connect: Any, kworld: KioskWorld, who: str) -> None:
    if who == "other_school_teacher":
        user = factories.make_user("obcy_nauczyciel", Role.TEACHER, school=kworld.other_school)
        db.session.commit()
    else:
        user = getattr(kworld, who)
    ack = login(connect(), user)
    assert ack["ok"] is False and ack["error"] == "not_teacher_here"
    assert ack["message"] == "To konto nie jest kontem nauczyciela tej szkoły."
    assert _sessions() == [] and _failures() == 1


def test_failures_wait_growing_delays_per_teacher_at_this_kiosk(
    connect: Any, kworld: KioskWorld, time_machine: Any
) -> None:
    client = connect()
    wrong = {"login": kworld.teacher.login, "password": "wrong one"}
    for _ in range(throttle.FREE_FAILURES):
        assert call(client, "teacher_login", wrong)["error"] == "login_failed"
    throttled = login(client, kworld.teacher)  # the right password waits too
    assert throttled["error"] == "throttled" and throttled["retry_after"] == 30
    assert "Spróbuj ponownie za 30 s" in throttled["message"]
    assert _failures() == throttle.FREE_FAILURES  # a throttled attempt is not verified at all
    # Pupils at this kiosk hold up neither this teacher elsewhere nor another teacher here.
    other, secret = _second_kiosk(kworld)
    elsewhere = connect({"kiosk_id": other.id, "secret": secret})
    assert login(elsewhere, kworld.teacher)["ok"] is True
    assert login(client, kworld.tutor)["ok"] is True
    time_machine.shift(31)
    assert login(client, kworld.teacher)["ok"] is True
    assert _failures() == 0  # a success ends the run of failures


def test_failures_are_throttled_per_device(
    connect: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "KIOSK_FAILURES", 6)
    client = connect()
    for n in range(6):  # spread over logins, so that no login reaches its own delay
        ack = call(client, "teacher_login", {"login": f"zgadywany_{n % 3}", "password": "x"})
        assert ack["error"] == "login_failed"
    refused = login(client, kworld.teacher)
    assert refused["error"] == "throttled" and 0 < refused["retry_after"] <= 15 * 60
    other, secret = _second_kiosk(kworld)
    assert login(connect({"kiosk_id": other.id, "secret": secret}), kworld.teacher)["ok"] is True


@pytest.mark.calendar
def test_the_lesson_now_in_this_room_opens_by_itself(connect: Any, kworld: KioskWorld) -> None:
    retime(SYSTEM, kworld.lesson, *now_window(kworld.school))
    elsewhere = make_room_lesson(kworld, factories.make_room(kworld.school, "7"), kworld.teacher, 3)
    db.session.commit()
    ack = login(connect(), kworld.teacher)
    assert ack["ok"] is True and ack["lesson_now"] == kworld.lesson.id
    here = {lesson["id"]: lesson["here"] for lesson in ack["lessons"]}
    assert here == {kworld.lesson.id: True, elsewhere.id: False}
    assert ack["today"] == kworld.today.isoformat()


def test_a_lesson_starting_soon_opens_during_the_break(connect: Any, kworld: KioskWorld) -> None:
    now = utcnow()
    retime(SYSTEM, kworld.lesson, now + dt.timedelta(minutes=5), now + dt.timedelta(minutes=50))
    db.session.commit()
    assert login(connect(), kworld.teacher)["lesson_now"] == kworld.lesson.id


def test_a_substitute_gets_the_lesson_and_the_absent_teacher_does_not(
    connect: Any, kworld: KioskWorld
) -> None:
    retime(SYSTEM, kworld.lesson, *now_window(kworld.school))
    substitute(SYSTEM, kworld.lesson, kworld.other_teacher)
    db.session.commit()
    client = connect()
    ack = login(client, kworld.other_teacher)
    assert ack["lesson_now"] == kworld.lesson.id
    assert [lsn["substitution"] for lsn in ack["lessons"]] == [True]
    absent = login(client, kworld.teacher)
    assert absent["lesson_now"] is None and absent["lessons"] == []


def test_a_cancelled_lesson_does_not_open(connect: Any, kworld: KioskWorld) -> None:
    retime(SYSTEM, kworld.lesson, *now_window(kworld.school))
    cancel_lesson(SYSTEM, kworld.lesson)
    db.session.commit()
    assert login(connect(), kworld.teacher)["lesson_now"] is None


def test_the_pin_unlocks_the_day_on_this_kiosk(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    first = login(client, kworld.teacher, pin="2468")
    token = first["session"]
    assert first["pin_set"] is True
    roster = {"session": token, "lesson_id": kworld.lesson.id}
    assert call(client, "roster", roster)["ok"] is True

    assert call(client, "teacher_logout", {"session": token}) == {"ok": True}
    locked = call(client, "roster", roster)
    assert locked["error"] == "session_ended" and locked["reason"] == "locked"

    unlocked = call(client, "pin_unlock", {"teacher_id": kworld.teacher.id, "pin": "2468"})
    assert unlocked["ok"] is True and unlocked["session"] == token  # the day's token, again
    assert unlocked["expires_at"] == first["expires_at"]  # a PIN never extends the day
    assert call(client, "roster", roster)["ok"] is True


def test_the_pin_works_on_this_kiosk_only(connect: Any, kworld: KioskWorld) -> None:
    token = login(connect(), kworld.teacher, pin="2468")["session"]
    other, secret = _second_kiosk(kworld)
    elsewhere = connect({"kiosk_id": other.id, "secret": secret})
    ack = call(elsewhere, "pin_unlock", {"teacher_id": kworld.teacher.id, "pin": "2468"})
    assert ack["error"] == "login_required"
    stolen = call(elsewhere, "lessons", {"session": token})
    assert stolen["error"] == "session_ended" and stolen["reason"] == "unknown"


def test_the_pin_works_on_the_day_of_the_login_only(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    login(client, kworld.teacher, pin="2468")
    _age(SYSTEM, _sessions()[0], days=1)
    db.session.commit()
    ack = call(client, "pin_unlock", {"teacher_id": kworld.teacher.id, "pin": "2468"})
    assert ack["error"] == "login_required"


def test_three_wrong_pins_force_a_full_login(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    token = login(client, kworld.teacher, pin="2468")["session"]
    call(client, "teacher_logout", {"session": token})
    unlock = {"teacher_id": kworld.teacher.id}
    first = call(client, "pin_unlock", {**unlock, "pin": "1111"})
    assert first["error"] == "pin_wrong" and first["attempts_left"] == 2
    assert call(client, "pin_unlock", {**unlock, "pin": "2222"})["attempts_left"] == 1
    third = call(client, "pin_unlock", {**unlock, "pin": "3333"})
    assert third["error"] == "login_required"
    assert third["message"] == "Za dużo błędnych PIN-ów. Zaloguj się loginem i hasłem."
    assert call(client, "pin_unlock", {**unlock, "pin": "2468"})["error"] == "login_required"
    assert _sessions()[0].ended_reason == "pin_failures"
    again = login(client, kworld.teacher, pin="1357")
    assert again["ok"] is True and again["session"] != token


def test_a_right_pin_resets_the_count(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    login(client, kworld.teacher, pin="2468")
    unlock = {"teacher_id": kworld.teacher.id}
    for _ in range(5):
        assert call(client, "pin_unlock", {**unlock, "pin": "1111"})["error"] == "pin_wrong"
        assert call(client, "pin_unlock", {**unlock, "pin": "2468"})["ok"] is True


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "１２３４"])
def test_a_pin_is_four_to_eight_digits(connect: Any, kworld: KioskWorld, pin: str) -> None:
    ack = login(connect(), kworld.teacher, pin=pin)
    assert ack["error"] == "pin_format" and ack["message"] == "PIN to od 4 do 8 cyfr."
    assert _sessions() == []


def test_a_pin_is_set_once_per_login(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    ack = login(client, kworld.teacher)
    assert ack["pin_set"] is False
    unlock = {"teacher_id": kworld.teacher.id, "pin": "2468"}
    assert call(client, "pin_unlock", unlock)["error"] == "login_required"
    assert call(client, "set_pin", {"session": ack["session"], "pin": "2468"})["ok"] is True
    again = call(client, "set_pin", {"session": ack["session"], "pin": "0000"})
    assert again["error"] == "pin_already_set"
    assert call(client, "pin_unlock", unlock)["ok"] is True


def test_logging_out_for_the_day_ends_the_pin_too(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    token = login(client, kworld.teacher, pin="2468")["session"]
    assert call(client, "teacher_logout", {"session": token, "end": True}) == {"ok": True}
    assert call(client, "teacher_logout", {"session": token, "end": True}) == {"ok": True}
    unlock = {"teacher_id": kworld.teacher.id, "pin": "2468"}
    assert call(client, "pin_unlock", unlock)["error"] == "login_required"
    ended = call(client, "lessons", {"session": token})
    assert ended["error"] == "session_ended" and ended["reason"] == "logout"


def test_a_second_full_login_replaces_the_first(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    first = login(client, kworld.teacher, pin="2468")["session"]
    second = login(client, kworld.teacher, pin="1357")["session"]
    assert call(client, "lessons", {"session": first})["reason"] == "replaced"
    assert call(client, "lessons", {"session": second})["ok"] is True
    unlock = {"teacher_id": kworld.teacher.id}
    assert call(client, "pin_unlock", {**unlock, "pin": "2468"})["error"] == "pin_wrong"


@pytest.mark.calendar
def test_the_hard_logout_comes_within_twelve_hours_and_the_day(
    connect: Any, kworld: KioskWorld
) -> None:
    client = connect()
    before = utcnow()
    token = login(client, kworld.teacher, pin="2468")["session"]
    row = _sessions()[0]
    midnight = end_of_day(kworld.school, kworld.today)
    assert midnight.astimezone(ZoneInfo("Europe/Warsaw")).time() == dt.time(0, 0)
    assert before <= row.started_at
    assert row.expires_at == min(row.started_at + dt.timedelta(hours=12), midnight)
    _expire_now(SYSTEM, row)
    db.session.commit()
    expired = call(client, "lessons", {"session": token})
    assert expired["error"] == "session_ended" and expired["reason"] == "expired"
    unlock = {"teacher_id": kworld.teacher.id, "pin": "2468"}
    assert call(client, "pin_unlock", unlock)["error"] == "login_required"


@operation
def _expire_now(actor: Actor, row: KioskTeacherSession) -> None:
    row.expires_at = utcnow() - dt.timedelta(seconds=1)


@pytest.mark.parametrize("change", ["password", "disabled", "role"])
def test_an_account_change_ends_the_kiosk_session(
    connect: Any, kworld: KioskWorld, change: str
) -> None:
    client = connect()
    token = login(client, kworld.teacher)["session"]
    if change == "password":
        set_password(SYSTEM, kworld.teacher, "a brand new password")
    elif change == "disabled":
        disable_user(SYSTEM, kworld.teacher)
    else:
        revoke_role(SYSTEM, kworld.teacher, Role.TEACHER, school_id=kworld.school.id)
    db.session.commit()
    ack = call(client, "lessons", {"session": token})
    assert ack["error"] == "session_ended" and ack["reason"] == "account"


def test_a_forged_or_malformed_token_is_refused(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    token = login(client, kworld.teacher)["session"]
    session_id, _, mac = token.partition(".")
    for forged in (f"{session_id}.{mac[:-2]}AA", f"{int(session_id) + 1}.{mac}", "1", "x.y", "."):
        ack = call(client, "lessons", {"session": forged})
        assert ack["error"] == "session_ended" and ack["reason"] == "unknown", forged
    assert client.is_connected(NS)


def test_the_administrators_substitution_opens_on_the_rooms_kiosk(
    connect: Any, kworld: KioskWorld
) -> None:
    """Issue 14 item 3: planned on the Zastępstwa page, the lesson opens for the substitute."""
    retime(SYSTEM, kworld.lesson, *now_window(kworld.school))
    admin = Actor(kworld.school_admin, Channel.WEB)
    shown = kworld.lesson.version
    substitute_lesson(admin, kworld.lesson, kworld.other_teacher, base_version=shown)
    db.session.commit()
    client = connect()
    assert login(client, kworld.other_teacher)["lesson_now"] == kworld.lesson.id
    assert login(client, kworld.teacher)["lesson_now"] is None
