"""E-mail and SMS to parents: queued with the journal event, sent outside the request, through
SMTP and SMSAPI (local servers), with quiet hours, digests, retries, and never twice."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ediary.audit.recording import Actor
from ediary.audit.recording import Channel as AuditChannel
from ediary.db import db
from ediary.notifications.enqueue import next_local_time
from ediary.notifications.gateways import Outgoing, SendFailed, SmsApiGateway, SmtpGateway
from ediary.notifications.models import (
    Channel,
    MessageStatus,
    OutgoingMessage,
    Topic,
)
from ediary.notifications.operations import save_preferences, set_urgent_topics
from ediary.notifications.sender import MAX_ATTEMPTS, Sender, quiet_until
from ediary.people.models import User
from tests.clock import DEFAULT
from tests.contacts.helpers import verified_contacts
from tests.factories import World
from tests.portal.fakes import INVALID_NUMBER, TOKEN, fake_smsapi, smtp_server
from tests.portal.world import a_school_day, absent_at, second_lesson, teacher

WARSAW = ZoneInfo("Europe/Warsaw")
# Clocks for the sender, after anything the test queues (rows are due from the pinned now on:
# tests/clock.py), whatever the real date.
NOON = next_local_time(dt.time(12, 0), DEFAULT.utc)
NIGHT = next_local_time(dt.time(23, 30), DEFAULT.utc)


class Recorder:
    """A gateway that keeps what it was given (and fails when told to)."""

    def __init__(self, failures: list[SendFailed] | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.failures = failures or []

    def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"id-{len(self.sent)}"


def _with_contacts(world: World) -> User:
    """Maria's addresses, proved (only proved addresses receive: ediary/contacts)."""
    return verified_contacts(world.parent, "maria@example.test", "+48500100200")


def _subscribe(world: World, *topics: Topic, channels=(Channel.EMAIL, Channel.SMS), digest=False):
    parent = _with_contacts(world)
    save_preferences(
        Actor(parent, AuditChannel.WEB), parent, channels=set(channels), topics=set(topics),
        digest=digest, quiet_from=dt.time(21), quiet_until=dt.time(7),
    )  # fmt: skip


def _queued() -> list[OutgoingMessage]:
    return list(db.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


def test_an_absence_at_the_first_lesson_is_queued_in_the_events_transaction(world, session):
    _subscribe(world, Topic.FIRST_ABSENCE)
    later = second_lesson(world, slot=3)
    absent_at(world, later)  # not the first lesson of the day: nothing
    session.commit()  # the commit queues them, with the event (realtime/delivery.py)
    assert _queued() == []
    absent_at(world, world.lesson)  # lesson 1
    session.commit()
    rows = _queued()
    assert {(m.channel, m.topic, m.user_id) for m in rows} == {
        (Channel.EMAIL, "first_absence", world.parent.id),
        (Channel.SMS, "first_absence", world.parent.id),
    }
    assert rows[0].event_id == rows[1].event_id and rows[0].payload["pupil_id"] == world.pupil.id
    # The sibling's other guardian and the classmates' parents get nothing.
    assert {m.user_id for m in rows} == {world.parent.id}


def test_a_rolled_back_event_queues_nothing(world, session):
    _subscribe(world, Topic.ABSENCE)
    nested = db.session.begin_nested()
    absent_at(world, world.lesson)
    nested.rollback()
    session.commit()
    assert _queued() == []
    absent_at(world, world.lesson)
    session.commit()
    assert len(_queued()) == 2


def test_parents_without_a_choice_or_an_address_get_no_message(world, session):
    a_school_day(world)  # grades, a remark, an absence: the parent chose nothing
    session.commit()
    assert _queued() == []
    _subscribe(world, Topic.GRADE, channels=(Channel.SMS,))
    from ediary.diary.operations import record_grade

    record_grade(teacher(world), pupil=world.pupil, subject=world.math, value="5",
                 given_on=world.today)  # fmt: skip
    session.commit()
    assert [(m.channel, m.topic) for m in _queued()] == [(Channel.SMS, "grade")]


def test_the_schools_urgent_topics_are_read_only_when_someone_is_told(world, session, statements):
    def policy_reads() -> list[str]:
        return [s for s in statements if "FROM school_notification_policies" in s]

    a_school_day(world)  # grades, a remark, an absence: the parent chose nothing
    statements.clear()
    session.commit()  # who is told is planned at the commit
    assert policy_reads() == [] and _queued() == []
    _subscribe(world, Topic.GRADE, channels=(Channel.SMS,))
    from ediary.diary.operations import record_grade

    record_grade(teacher(world), pupil=world.pupil, subject=world.math, value="4",
                 given_on=world.today)  # fmt: skip
    statements.clear()
    session.commit()
    assert len(policy_reads()) == 1
    assert [(m.topic, m.urgent) for m in _queued()] == [("grade", False)]


def test_an_event_is_never_queued_twice_for_one_recipient_and_channel(world, session):
    _subscribe(world, Topic.ABSENCE, channels=(Channel.SMS,))
    absent_at(world, world.lesson)
    session.commit()
    (row,) = _queued()
    nested = db.session.begin_nested()
    db.session.add(
        OutgoingMessage(event_id=row.event_id, user_id=row.user_id, channel=Channel.SMS, payload={})
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    nested.rollback()


def test_quiet_hours_hold_a_message_until_morning_unless_the_school_marks_it_urgent(
    world, app, session
):
    _subscribe(world, Topic.FIRST_ABSENCE, Topic.GRADE, channels=(Channel.SMS,))
    absent_at(world, world.lesson)
    session.commit()
    sms = Recorder()
    report = Sender(app, {Channel.SMS: sms}, clock=lambda: NIGHT).run_once()
    assert report.held == 1 and sms.sent == []
    (row,) = _queued()
    assert row.next_attempt_at.astimezone(WARSAW).time() == dt.time(7)
    assert row.next_attempt_at > NIGHT
    morning = Sender(app, {Channel.SMS: sms}, clock=lambda: row.next_attempt_at)
    assert morning.run_once().sent == 1
    assert "Zosia: nieobecność na pierwszej lekcji (matematyka" in sms.sent[0].body
    assert sms.sent[0].to == "48500100200"

    set_urgent_topics(Actor(world.school_admin, AuditChannel.WEB), world.school,
                      {Topic.FIRST_ABSENCE})  # fmt: skip
    absent_at(world, second_lesson(world, world.today + dt.timedelta(days=1), 1))
    session.commit()
    assert Sender(app, {Channel.SMS: sms}, clock=lambda: NIGHT).run_once().sent == 1


def test_quiet_hours_arithmetic():
    def until(at: dt.datetime, quiet_from: int, quiet_to: int) -> dt.datetime | None:
        moment = quiet_until(at, dt.time(quiet_from), dt.time(quiet_to))
        return moment.astimezone(WARSAW) if moment is not None else None

    noon = dt.datetime(2026, 11, 26, 12, 0, tzinfo=WARSAW)
    night = dt.datetime(2026, 11, 26, 23, 30, tzinfo=WARSAW)
    assert until(noon, 21, 7) is None
    assert until(night, 21, 7) == dt.datetime(2026, 11, 27, 7, 0, tzinfo=WARSAW)
    early = dt.datetime(2026, 11, 27, 5, 0, tzinfo=WARSAW)
    assert until(early, 21, 7) == dt.datetime(2026, 11, 27, 7, 0, tzinfo=WARSAW)
    assert until(noon, 12, 13) == dt.datetime(2026, 11, 26, 13, 0, tzinfo=WARSAW)
    assert until(noon, 12, 12) is None


def test_a_digest_sends_the_days_events_as_one_message(world, app, session):
    _subscribe(world, Topic.GRADE, Topic.REMARK, Topic.ABSENCE, channels=(Channel.EMAIL,),
               digest=True)  # fmt: skip
    a_school_day(world)
    session.commit()
    rows = _queued()
    assert len(rows) == 4 and all(r.digest for r in rows)
    assert {r.next_attempt_at.astimezone(WARSAW).time() for r in rows} == {dt.time(18)}
    mail = Recorder()
    before = rows[0].next_attempt_at - dt.timedelta(minutes=1)
    assert Sender(app, {Channel.EMAIL: mail}, clock=lambda: before).run_once().sent == 0
    evening = rows[0].next_attempt_at + dt.timedelta(minutes=1)
    assert Sender(app, {Channel.EMAIL: mail}, clock=lambda: evening).run_once().sent == 4
    (digest,) = mail.sent
    assert digest.subject == "Dziennik: podsumowanie dnia"
    assert digest.body.count("Zosia:") == 4 and "nowa ocena 4+" in digest.body


def test_failures_are_retried_with_backoff_then_given_up(world, app, session):
    _subscribe(world, Topic.ABSENCE, channels=(Channel.SMS,))
    absent_at(world, world.lesson)
    session.commit()
    sms = Recorder([SendFailed("smsapi http 503", permanent=False)] * MAX_ATTEMPTS)
    now = NOON
    waits = []
    for _ in range(MAX_ATTEMPTS):
        # A clock that always says `now` (this round's; a lambda would see the next round's).
        Sender(app, {Channel.SMS: sms}, clock=itertools.repeat(now).__next__).run_once()
        (row,) = _queued()
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert row.status is MessageStatus.FAILED and row.attempts == MAX_ATTEMPTS and sms.sent == []
    assert waits[1] == 2 * waits[0] and waits[2] == 2 * waits[1]
    assert row.last_error == "smsapi http 503"


def test_a_stale_lease_is_taken_over_and_the_message_goes_once(world, app, session):
    _subscribe(world, Topic.ABSENCE, channels=(Channel.SMS,))
    absent_at(world, world.lesson)
    session.commit()
    (row,) = _queued()
    row.status, row.lease_until = MessageStatus.SENDING, NOON - dt.timedelta(minutes=1)
    session.commit()  # a sender died holding it
    sms = Recorder()
    sender = Sender(app, {Channel.SMS: sms}, clock=lambda: NOON)
    assert sender.run_once().sent == 1
    assert sender.run_once().sent == 0 and len(sms.sent) == 1
    assert _queued()[0].status is MessageStatus.SENT


def test_smtp_gateway_against_a_local_smtp_server():
    with smtp_server() as box:
        gateway = SmtpGateway(host=box.host, port=box.port, sender="dziennik@sp1.example")
        gateway.send(Outgoing("maria@example.test", "Nowa ocena: Zosia", "Zosia: 5", "ediary-7"))
    (mail,) = box.messages
    assert mail["To"] == "maria@example.test" and mail["Subject"] == "Nowa ocena: Zosia"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes) and body.strip() == b"Zosia: 5"
    assert "ediary-7" in mail["Message-ID"]
    down = SmtpGateway(host="127.0.0.1", port=box.port, sender="x@y", timeout=2)
    with pytest.raises(SendFailed) as failure:
        down.send(Outgoing("a@b", "s", "b", "k"))  # the server has stopped
    assert not failure.value.permanent


def test_smsapi_gateway_against_a_local_fake_of_its_api():
    with fake_smsapi() as api:
        gateway = SmsApiGateway(url=api.url, token=TOKEN, sender="SP1")
        assert gateway.send(Outgoing("48500100200", "", "Zosia: ocena 5", "ediary-9")) == "SMS1"
        assert api.sent == [
            {"to": "48500100200", "message": "Zosia: ocena 5", "encoding": "utf-8",
             "idx": "ediary-9", "check_idx": "1", "format": "json", "from": "SP1"}
        ]  # fmt: skip
        with pytest.raises(SendFailed) as twice:
            gateway.send(Outgoing("48500100200", "", "Zosia: ocena 5", "ediary-9"))
        assert len(api.sent) == 1 and not twice.value.permanent
        with pytest.raises(SendFailed) as invalid:
            gateway.send(Outgoing(INVALID_NUMBER, "", "x", "ediary-10"))
        assert invalid.value.permanent and invalid.value.reason == "smsapi error 13"
        api.fail_next = 1
        with pytest.raises(SendFailed) as outage:
            gateway.send(Outgoing("48500100200", "", "x", "ediary-11"))
        assert not outage.value.permanent
        with pytest.raises(SendFailed) as refused:
            SmsApiGateway(url=api.url, token="wrong").send(Outgoing("485", "", "x", "k"))
        assert not refused.value.permanent


def test_send_notifications_command_end_to_end(tmp_path, monkeypatch, cli):
    """`ediary send-notifications` on a migrated file database, with SMTP and SMSAPI running."""
    from ediary.migrations import upgrade
    from tests.conftest import app_bound_to
    from tests.factories import make_world

    url = f"sqlite:///{tmp_path / 'ediary.db'}"
    upgrade(url)
    with app_bound_to(url):
        world = make_world()
        _subscribe(world, Topic.ABSENCE)
        absent_at(world, world.lesson)
        db.session.commit()
    with smtp_server() as box, fake_smsapi() as api:
        env = {
            "EDIARY_SMTP_HOST": box.host, "EDIARY_SMTP_PORT": str(box.port),
            "EDIARY_SMSAPI_URL": api.url, "EDIARY_SMSAPI_TOKEN": TOKEN,
            "EDIARY_PUBLIC_URL": "https://dziennik.example",
        }  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # Noon or night, the absence was not urgent: run the pass at a fixed daytime clock.
        monkeypatch.setattr("ediary.notifications.sender.utcnow", lambda: NOON)
        first = cli("send-notifications", "--database-url", url)
        second = cli("send-notifications", "--database-url", url)
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "sent 2, retried 0, failed 0, held 0, dropped 0"
    assert second.output.strip() == "sent 0, retried 0, failed 0, held 0, dropped 0"
    assert len(box.messages) == 1 and len(api.sent) == 1
    assert "https://dziennik.example/portal" in api.sent[0]["message"]
    assert "Zosia" not in first.output  # the command prints counts, never names


def test_the_school_marks_topics_urgent_from_the_command_line(tmp_path, cli):
    from ediary.migrations import upgrade
    from ediary.notifications.models import SchoolNotificationPolicy
    from tests.conftest import app_bound_to
    from tests.factories import make_world

    url = f"sqlite:///{tmp_path / 'ediary.db'}"
    upgrade(url)
    with app_bound_to(url):
        school_id = make_world().school.id
        db.session.commit()
    result = cli("urgent-topics", "--school", str(school_id), "--topic", "first_absence",
                 "--database-url", url)  # fmt: skip
    assert result.exit_code == 0 and "SP1: urgent topics: first_absence" in result.output
    wrong = cli("urgent-topics", "--school", "999", "--database-url", url)
    assert wrong.exit_code == 1 and "no school" in wrong.output
    from ediary.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(select(SchoolNotificationPolicy.urgent_topics)).scalar_one()
    engine.dispose()
    assert stored == "first_absence"
