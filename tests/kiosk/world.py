"""A school world in a SQLite file for the kiosk's end-to-end tests, made in a child process.

`python -m tests.kiosk.world DB build` prints JSON ids; `DB code` issues an enrollment code for
the world's kiosk; `DB revoke` revokes it; `DB set-status ID STATUS` sets a lesson's status;
`DB excuse PUPIL LESSON` has the pupil's guardian ask to excuse the absence in that lesson and the
form tutor approve it (a guardian is linked first if the pupil has none); `DB homework-week` makes
next week's maths of 5a with three tests announced (issue 18).
A child process keeps the test process free of the server's global database binding (the other
tests' `app` fixture owns it).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ediary import create_app
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import Base, db
from ediary.diary.models import Attendance
from ediary.excuses.operations import decide_excuses, request_excuse
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code, revoke_kiosk
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, SchoolClass
from ediary.schools.operations import enrol_pupil, link_guardian
from ediary.timetable.models import Lesson, LessonStatus
from tests.conftest import test_config
from tests.factories import make_lesson, make_user, make_world

SYSTEM = Actor.system(Channel.CLI)
FIRST = [
    "Ala",
    "Bartek",
    "Celina",
    "Darek",
    "Ewa",
    "Filip",
    "Gosia",
    "Henryk",
    "Iga",
    "Jacek",
    "Kasia",
    "Leon",
    "Magda",
    "Norbert",
    "Ola",
    "Paweł",
    "Renata",
    "Szymon",
    "Tola",
    "Urszula",
    "Wiktor",
    "Zuzia",
    "Józef",
]
LAST = [
    "Kowalczyk",
    "Mazur",
    "Krawczyk",
    "Piotrowska",
    "Grabowski",
    "Pawlak",
    "Michalska",
    "Król",
    "Wieczorek",
    "Jabłoński",
    "Nowakowska",
    "Majewski",
    "Olszewska",
    "Jaworski",
    "Malinowska",
    "Dudek",
    "Stępień",
    "Górski",
    "Rutkowska",
    "Sikora",
    "Baran",
    "Duda",
    "Szewczyk",
]


@operation
def _set_status(actor: Actor, lesson: Lesson, status: LessonStatus) -> None:
    lesson.status = status


@operation
def _move(actor: Actor, lesson: Lesson, starts: dt.datetime, ends: dt.datetime) -> None:
    lesson.starts_at, lesson.ends_at = starts, ends


def _excuse(pupil_id: int, lesson_id: int) -> int:
    """A parent's request for the absence, approved by the form tutor, both on the web."""
    pupil = db.session.get(Pupil, pupil_id)
    assert pupil is not None
    school_class = db.session.get(SchoolClass, pupil.class_id)
    assert school_class is not None and school_class.form_tutor_id is not None
    guardian = db.session.scalars(
        select(User)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.pupil_id == pupil.id)
    ).first()
    if guardian is None:
        guardian = make_user(f"rodzic_{pupil.id}")
        link_guardian(SYSTEM, guardian, pupil)
    absence = db.session.scalars(
        select(Attendance).where(Attendance.pupil_id == pupil.id, Attendance.lesson_id == lesson_id)
    ).one()
    today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    request = request_excuse(
        Actor(guardian, Channel.WEB),
        pupil,
        absences=[absence],
        future_days=[],
        reason="Choroba",
        note=None,
        today=today,
    )
    tutor = db.session.get(User, school_class.form_tutor_id)
    return decide_excuses(Actor(tutor, Channel.WEB), [request], approve=True)


def _homework_week() -> dict[str, object]:
    """Next week's maths of 5a, Monday to Thursday, with tests announced Monday to Wednesday:
    a fourth is over the statute's limit (issue 18)."""
    teacher = db.session.scalars(select(User).where(User.login == "anna_nowak")).one()
    lesson = db.session.scalars(select(Lesson).order_by(Lesson.id)).first()
    assert lesson is not None
    today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    made = []
    for n in range(4):
        made.append(
            make_lesson(
                lesson.school_class.school,
                lesson.school_class,
                lesson.subject,
                teacher,
                lesson.room,
                monday + dt.timedelta(days=n),
            )
        )
    for target in made[:3]:
        announce(
            Actor(teacher, Channel.WEB),
            target,
            kind=HomeworkKind.TEST,
            description="Ułamki",
            due_date=None,
            today=today,
        )
    return {"dates": [m.date.isoformat() for m in made], "lesson_ids": [m.id for m in made]}


def build() -> dict[str, object]:
    zone = ZoneInfo("Europe/Warsaw")
    now = dt.datetime.now(zone)
    world = make_world(now.date())
    for first, last in zip(FIRST, LAST, strict=True):
        enrol_pupil(SYSTEM, world.class_a, first, last)
    # The world's lesson happens now: it started ten minutes ago.
    midnight = dt.datetime.combine(now.date(), dt.time(), tzinfo=zone)
    starts = max(midnight, now - dt.timedelta(minutes=10))
    ends = min(midnight + dt.timedelta(hours=23, minutes=59), now + dt.timedelta(minutes=35))
    _move(SYSTEM, world.lesson, starts.astimezone(dt.UTC), ends.astimezone(dt.UTC))
    # Another teacher's lesson in the same room later today (the lock screen's "next").
    later = make_lesson(
        world.school,
        world.class_b,
        world.math,
        world.other_teacher,
        world.room,
        now.date(),
        slot_number=9,
    )
    _move(
        SYSTEM,
        later,
        (ends + dt.timedelta(minutes=10)).astimezone(dt.UTC),
        min(
            midnight + dt.timedelta(hours=23, minutes=59, seconds=30),
            ends + dt.timedelta(minutes=55),
        ).astimezone(dt.UTC),
    )
    db.session.commit()
    return {
        "kiosk_id": world.kiosk.id,
        "room": world.room.name,
        "lesson_id": world.lesson.id,
        "later_lesson_id": later.id,
        "teacher_login": world.teacher.login,
        "teacher_name": world.teacher.full_name,
        "tutor_name": world.tutor.full_name,
        "other_teacher_login": world.other_teacher.login,
        "class_a": world.class_a.id,
        "pupil_id": world.pupil.id,
        "classmate_id": world.classmate.id,
        "parent_login": world.parent.login,
        "admin_login": world.school_admin.login,
        "school_id": world.school.id,
    }


def main(argv: list[str]) -> None:
    path, command = argv[0], argv[1]
    app = create_app(test_config(f"sqlite:///{path}"))
    with app.app_context():
        if command == "build":
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            result: object = build()
        else:
            kiosk = db.session.query(Kiosk).order_by(Kiosk.id).first()
            assert kiosk is not None
            if command == "code":
                result = {"code": issue_enrollment_code(SYSTEM, kiosk, minutes=30)}
            elif command == "set-status":
                # A lesson cancelled (or restored) behind the kiosk's back; set directly, because
                # `cancel_lesson` refuses a lesson already held, as the shared world's may be.
                lesson = db.session.get(Lesson, int(argv[2]))
                assert lesson is not None
                previous = lesson.status.value
                _set_status(SYSTEM, lesson, LessonStatus(argv[3]))
                result = {"previous": previous}
            elif command == "excuse":
                result = {"excused": _excuse(int(argv[2]), int(argv[3]))}
            elif command == "homework-week":
                result = _homework_week()
            elif command == "revoke":
                revoke_kiosk(SYSTEM, kiosk)
                result = {"revoked": kiosk.id}
            else:
                raise SystemExit(f"unknown command {command}")
            db.session.commit()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
