"""A school world in a SQLite file for the kiosk's end-to-end tests, made in a child process.

`python -m tests.kiosk.world DB build` prints JSON ids; `DB code` issues an enrollment code for
the world's kiosk; `DB revoke` revokes it; `DB set-status ID STATUS` sets a lesson's status.
A child process keeps the test process free of the server's global database binding (the other
tests' `app` fixture owns it).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

from ediary import create_app
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import Base, db
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code, revoke_kiosk
from ediary.schools.operations import enrol_pupil
from ediary.timetable.models import Lesson, LessonStatus
from tests.conftest import test_config
from tests.factories import make_lesson, make_world

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
        "other_teacher_login": world.other_teacher.login,
        "class_a": world.class_a.id,
        "pupil_id": world.pupil.id,
        "classmate_id": world.classmate.id,
        "parent_login": world.parent.login,
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
            elif command == "revoke":
                revoke_kiosk(SYSTEM, kiosk)
                result = {"revoked": kiosk.id}
            else:
                raise SystemExit(f"unknown command {command}")
            db.session.commit()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
