"""A cancelled first lesson reaches the guardians before it (issue 14 item 3): queued with the
cancellation, sent at once in the morning, held through the evening's quiet hours until they end
(7:00, before the 8:00 bell), never later than half an hour before the lesson, one message for a
whole absent day, nothing for a later lesson or a merged group. Clocks pinned (time-machine);
delivered through the local SMTP server and SMSAPI fake."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor
from ediary.audit.recording import Channel as AuditChannel
from ediary.db import db
from ediary.notifications.gateways import Gateway, SmsApiGateway, SmtpGateway
from ediary.notifications.models import Channel, OutgoingMessage, Topic
from ediary.notifications.operations import preference_of, save_preferences
from ediary.notifications.sender import Sender
from ediary.timetable.models import Lesson
from ediary.timetable.operations import Plan, plan_absence
from tests import factories
from tests.contacts.helpers import verified_contacts
from tests.factories import World
from tests.portal.fakes import TOKEN, fake_smsapi, smtp_server

WARSAW = ZoneInfo("Europe/Warsaw")


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WARSAW)


def _subscribe(world: World, quiet_until: dt.time = dt.time(7)) -> None:
    parent = verified_contacts(world.parent, "maria@example.test", "+48500100200")
    assert preference_of(parent).first_cancelled  # on by default
    save_preferences(
        Actor(parent, AuditChannel.WEB), parent, channels={Channel.EMAIL, Channel.SMS},
        topics={Topic.FIRST_CANCELLED}, digest=False, quiet_from=dt.time(21),
        quiet_until=quiet_until,
    )  # fmt: skip


def _tomorrow(world: World) -> tuple[dt.date, list[Lesson]]:
    """Tomorrow's lessons 1-3 of 5a: mathematics with the absent teacher at 8:00 and 9:00,
    then Jan Kowalski's at 10:00 (the factories' bells: lesson n at 7+n o'clock)."""
    day = world.today + dt.timedelta(days=1)
    make = factories.make_lesson
    lessons = [
        make(world.school, world.class_a, world.math, world.teacher, world.room, day, 1),
        make(world.school, world.class_a, world.math, world.teacher, world.room, day, 2),
        make(world.school, world.class_a, world.math, world.tutor, world.room, day, 3),
    ]
    return day, lessons


def _cancel(world: World, *lessons: Lesson) -> None:
    plan_absence(
        Actor(world.school_admin, AuditChannel.WEB),
        [Plan(lesson, lesson.version) for lesson in lessons],
    )
    db.session.commit()


def _queued() -> list[OutgoingMessage]:
    return list(db.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


def _send(app: Any, at: dt.datetime) -> tuple[Any, list[Any], list[dict[str, str]]]:
    with smtp_server() as box, fake_smsapi() as api:
        gateways: dict[Channel, Gateway] = {
            Channel.EMAIL: SmtpGateway(host=box.host, port=box.port, sender="sp@example.test"),
            Channel.SMS: SmsApiGateway(url=api.url, token=TOKEN, sender="SP1"),
        }
        report = Sender(app, gateways, clock=lambda: at.astimezone(dt.UTC)).run_once()
    return report, box.messages, api.sent


def test_saved_the_evening_before_it_goes_when_quiet_hours_end_before_the_bell(
    world: World, app: Any, session: Session, time_machine: Any
) -> None:
    _subscribe(world)
    day, lessons = _tomorrow(world)
    session.commit()
    evening = _at(world.today, 22)
    time_machine.move_to(evening, tick=False)
    _cancel(world, lessons[0], lessons[1])  # the whole absent day, in one save

    rows = _queued()
    # One message per channel for the day, with the day as it is now (lesson 1's was replaced).
    assert sorted(m.channel for m in rows) == [Channel.EMAIL, Channel.SMS]
    assert {m.topic for m in rows} == {"first_cancelled"}
    report, mails, sms = _send(app, evening)
    assert report.held == 2 and mails == [] and sms == []
    session.expire_all()
    due = {m.next_attempt_at.astimezone(WARSAW) for m in _queued()}
    assert due == {_at(day, 7)}  # the end of quiet hours, an hour before the first bell

    report, mails, sms = _send(app, _at(day, 7))
    assert report.sent == 2
    expected = (
        f"Zosia: {day.isoformat()} odwołano pierwszą lekcję (matematyka). Zajęcia zaczynają się "
        "od lekcji nr 3 o 10:00."
    )
    subject = str(make_header(decode_header(mails[0]["Subject"])))
    assert subject == "Odwołana pierwsza lekcja: Zosia"
    assert expected in mails[0].get_payload(decode=True).decode()
    assert expected in sms[0]["message"] and sms[0]["to"] == "48500100200"


def test_saved_in_the_morning_it_goes_at_once(
    world: World, app: Any, session: Session, time_machine: Any
) -> None:
    _subscribe(world)
    day, lessons = _tomorrow(world)
    session.commit()
    morning = _at(day, 7, 15)
    time_machine.move_to(morning, tick=False)
    _cancel(world, lessons[0])
    report, mails, sms = _send(app, morning)
    assert report.sent == 2 and report.held == 0 and len(mails) == 1
    assert "od lekcji nr 2 o 09:00" in sms[0]["message"]


def test_quiet_hours_past_the_bell_end_half_an_hour_before_it(
    world: World, app: Any, session: Session, time_machine: Any
) -> None:
    _subscribe(world, quiet_until=dt.time(9))
    day, lessons = _tomorrow(world)
    session.commit()
    time_machine.move_to(_at(world.today, 22), tick=False)
    _cancel(world, lessons[0])
    report, _mails, _sms = _send(app, _at(world.today, 22))
    assert report.held == 2
    session.expire_all()
    assert {m.next_attempt_at.astimezone(WARSAW) for m in _queued()} == {_at(day, 7, 30)}
    # A sender that wakes up late (7:45, quiet hours until 9) still sends at once.
    report, _mails, sms = _send(app, _at(day, 7, 45))
    assert report.sent == 2 and len(sms) == 1


def test_no_message_for_a_later_lesson_a_begun_one_or_a_parent_who_said_no(
    world: World, app: Any, session: Session, time_machine: Any
) -> None:
    _subscribe(world)
    day, lessons = _tomorrow(world)
    session.commit()
    time_machine.move_to(_at(world.today, 22), tick=False)
    _cancel(world, lessons[1])  # lesson 2: the day still starts at 8:00
    assert _queued() == []
    time_machine.move_to(_at(day, 8, 10), tick=False)
    _cancel(world, lessons[0])  # lesson 1 has begun: too late to be news
    assert _queued() == []
    parent = world.parent
    save_preferences(
        Actor(parent, AuditChannel.WEB), parent, channels={Channel.EMAIL, Channel.SMS},
        topics={Topic.GRADE}, digest=False, quiet_from=dt.time(21), quiet_until=dt.time(7),
    )  # fmt: skip
    time_machine.move_to(_at(world.today, 22), tick=False)
    _cancel(world, lessons[2])
    assert _queued() == []
