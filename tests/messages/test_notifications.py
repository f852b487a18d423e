"""E-mails about messages and announcements: composed from the event, sent by the sender like
every notification; the teacher's held until their working day (the right to disconnect)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.messages.operations import publish_announcement, save_working_hours, start_thread
from ediary.notifications.gateways import Outgoing
from ediary.notifications.models import Channel as NoticeChannel
from ediary.notifications.models import OutgoingMessage, Topic
from ediary.notifications.operations import save_preferences
from ediary.notifications.sender import Sender
from tests.clock import warsaw
from tests.contacts.helpers import verified_contacts
from tests.factories import World


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        return f"id-{len(self.sent)}"


def test_a_message_after_hours_is_mailed_to_the_teacher_on_the_next_working_morning(
    world: World, app: Flask, session: object, time_machine: object
) -> None:
    tutor = verified_contacts(world.tutor, "jan.kowalski@szkola.example")
    save_working_hours(
        Actor(tutor, Channel.WEB),
        tutor,
        days={0, 1, 2, 3, 4},
        starts=dt.time(8),
        ends=dt.time(15),
        by_email=True,
    )
    friday_night = warsaw(2026, 11, 20, 22, 40).astimezone(dt.UTC)
    time_machine.move_to(friday_night, tick=False)  # type: ignore[attr-defined]
    start_thread(
        Actor(world.parent, Channel.WEB),
        recipient_id=tutor.id,
        school_id=world.school.id,
        subject="Zadanie domowe",
        body="Dobry wieczór",
    )
    db.session.commit()
    mail = Recorder()
    saturday = warsaw(2026, 11, 21, 10, 0).astimezone(dt.UTC)
    assert Sender(app, {NoticeChannel.EMAIL: mail}, clock=lambda: saturday).run_once().sent == 0
    (row,) = db.session.scalars(select(OutgoingMessage)).all()
    assert row.next_attempt_at == warsaw(2026, 11, 23, 8, 0).astimezone(dt.UTC)
    monday = warsaw(2026, 11, 23, 8, 1).astimezone(dt.UTC)
    assert Sender(app, {NoticeChannel.EMAIL: mail}, clock=lambda: monday).run_once().sent == 1
    (sent,) = mail.sent
    assert sent.to == "jan.kowalski@szkola.example"
    assert sent.subject == "Nowa wiadomość w dzienniku"
    assert "Maria Wisniewska (Zadanie domowe)" in sent.body
    assert "Dobry wieczór" not in sent.body  # the text stays in the diary


def test_an_announcement_is_mailed_once_to_each_parent_who_asked(
    world: World, app: Flask, session: object
) -> None:
    parent = verified_contacts(world.parent, "maria@example.test")
    save_preferences(
        Actor(parent, Channel.WEB),
        parent,
        channels={NoticeChannel.EMAIL},
        topics={Topic.ANNOUNCEMENT},
        digest=False,
        quiet_from=dt.time(21),
        quiet_until=dt.time(7),
    )
    # Maria has children in 5a and 5b: the school-wide announcement is an event for each class,
    # and one e-mail for her.
    publish_announcement(
        Actor(world.school_admin, Channel.WEB),
        school_id=world.school.id,
        class_id=None,
        title="Dzień otwarty",
        body="Zapraszamy.",
        expires_on=world.today,
        today=world.today,
    )
    db.session.commit()
    (row,) = db.session.scalars(select(OutgoingMessage)).all()
    assert (row.topic, row.user_id) == ("announcement", parent.id)
    mail = Recorder()
    assert (
        Sender(app, {NoticeChannel.EMAIL: mail}, clock=lambda: row.next_attempt_at).run_once().sent
        == 1
    )
    assert mail.sent[0].subject == "Nowe ogłoszenie w dzienniku"
    assert "Ogłoszenie: Dzień otwarty." in mail.sent[0].body
