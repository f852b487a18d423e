"""The demo's messages and announcement (issue 18): `rodzic1` asked `wychowawca1` about a trip
and got an answer; `dyrektor1` announced an open day on the parents' start page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.messages.operations import publish_announcement, reply, start_thread
from ediary.people.models import User

PARENT, TUTOR, DIRECTOR = "rodzic1", "wychowawca1", "dyrektor1"


def seed_messages(today: dt.date) -> int:
    """How many messages were written (0 when the demo lacks its people). The caller commits."""
    people = {
        u.login: u
        for u in db.session.scalars(select(User).where(User.login.in_((PARENT, TUTOR, DIRECTOR))))
    }
    if len(people) < 3:
        return 0
    parent, tutor, director = people[PARENT], people[TUTOR], people[DIRECTOR]
    school_id = next((m.school_id for m in tutor.memberships if m.school_id is not None), None)
    if school_id is None:
        return 0
    thread = start_thread(
        Actor(parent, Channel.WEB),
        recipient_id=tutor.id,
        school_id=school_id,
        subject="Wycieczka do Sandomierza",
        body="Dzień dobry, czy Ola ma zabrać na wycieczkę drugie śniadanie? Pozdrawiam.",
    )
    reply(
        Actor(tutor, Channel.WEB),
        thread,
        body="Dzień dobry, tak, obiad będzie dopiero o 14:00. Zbiórka o 7:45 przed szkołą.",
    )
    publish_announcement(
        Actor(director, Channel.WEB),
        school_id=school_id,
        class_id=None,
        title="Dzień otwarty szkoły",
        body="Zapraszamy rodziców i przyszłych uczniów w sobotę od 10:00 do 13:00.",
        expires_on=today + dt.timedelta(days=14),
        today=today,
    )
    return 2
