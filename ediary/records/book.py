"""The class diary as the law lists it (§21 of the regulation on school documentation), for a
period: the class's pupils with their birth dates and places and addresses, their guardians'
names and addresses, the weekly plan, and per subject the lessons with their topics and who
entered them (the teacher's signature), attendance and grades. Read-only: a printout changes
nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Grade
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, Room, SchoolClass, SchoolYear, Subject
from ediary.timetable.models import Lesson, LessonStatus, TeachingAssignment, TimetableEntry

# Lessons per attendance table: what fits across an A4 page beside the pupils' names.
COLUMNS = 16


@dataclass
class GuardianLine:
    name: str
    relation: str | None
    address: str | None


@dataclass
class PupilLine:
    number: int
    pupil: Pupil
    guardians: list[GuardianLine] = field(default_factory=list)


@dataclass
class LessonLine:
    lesson: Lesson
    teacher: str
    signed_by: str  # who entered the topic (the history says), else the lesson's teacher


@dataclass
class SubjectBook:
    subject: Subject
    lessons: list[LessonLine]
    # pupil id → lesson id → attendance code
    attendance: dict[int, dict[int, str]]
    grades: dict[int, list[str]]

    def chunks(self) -> list[list[LessonLine]]:
        return [self.lessons[i : i + COLUMNS] for i in range(0, len(self.lessons), COLUMNS)]


@dataclass
class PlanLine:
    weekday: int
    slot: int
    subject: str
    teacher: str
    room: str


@dataclass
class ClassBook:
    school_class: SchoolClass
    year: SchoolYear
    tutor: str | None
    starts: dt.date
    ends: dt.date
    pupils: list[PupilLine]
    plan: list[PlanLine]
    subjects: list[SubjectBook]


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.first_name, User.last_name).where(User.id.in_(ids))
    )
    return {row.id: f"{row.first_name} {row.last_name}" for row in rows}


def class_book(school_class: SchoolClass, starts: dt.date, ends: dt.date) -> ClassBook:
    year = db.session.get(SchoolYear, school_class.year_id)
    assert year is not None
    lessons = list(
        db.session.scalars(
            select(Lesson)
            .where(
                Lesson.class_id == school_class.id,
                Lesson.date >= starts,
                Lesson.date <= ends,
                Lesson.status != LessonStatus.CANCELLED,
            )
            .order_by(Lesson.date, Lesson.slot_number)
        )
    )
    lesson_ids = [lesson.id for lesson in lessons]
    signers: dict[int, int] = {}
    if lesson_ids:
        for entity_id, actor_id, new in db.session.execute(
            select(HistoryEntry.entity_id, HistoryEntry.actor_id, HistoryEntry.new)
            .where(HistoryEntry.entity == "lessons", HistoryEntry.entity_id.in_(lesson_ids))
            .order_by(HistoryEntry.id)
        ):
            if entity_id is not None and actor_id is not None and new and "topic" in new:
                signers[entity_id] = actor_id
    pupils = list(
        db.session.scalars(
            select(Pupil)
            .where(
                (Pupil.class_id == school_class.id)
                | Pupil.id.in_(
                    select(Attendance.pupil_id).where(Attendance.lesson_id.in_(lesson_ids))
                )
            )
            .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
        )
    )
    pupil_ids = [p.id for p in pupils]
    guardians: dict[int, list[GuardianLine]] = defaultdict(list)
    for link, user in db.session.execute(
        select(Guardianship, User)
        .join(User, User.id == Guardianship.user_id)
        .where(Guardianship.pupil_id.in_(pupil_ids))
        .order_by(User.last_name, User.first_name)
    ):
        relation = link.relation.value if link.relation else None
        guardians[link.pupil_id].append(GuardianLine(user.full_name, relation, user.address))
    attendance: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)
    for subject_id, lesson_id, pupil_id, code in db.session.execute(
        select(Lesson.subject_id, Attendance.lesson_id, Attendance.pupil_id, AttendanceType.code)
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(AttendanceType, AttendanceType.id == Attendance.type_id)
        .where(Attendance.lesson_id.in_(lesson_ids))
    ):
        attendance[(subject_id, pupil_id)][lesson_id] = code
    grades: dict[tuple[int, int], list[str]] = defaultdict(list)
    for grade in db.session.scalars(
        select(Grade)
        .where(
            Grade.pupil_id.in_(pupil_ids),
            Grade.given_on >= starts,
            Grade.given_on <= ends,
            Grade.removed.is_(False),
        )
        .order_by(Grade.given_on, Grade.id)
    ):
        shown = grade.value or (grade.descriptive or "")[:40]
        if grade.category is not None:
            shown = f"{shown} ({grade.category.name})"
        grades[(grade.subject_id, grade.pupil_id)].append(shown)
    names = _names({lesson.teacher_id for lesson in lessons} | set(signers.values()))
    subjects: dict[int, Subject] = {lesson.subject_id: lesson.subject for lesson in lessons}
    grade_subjects = {subject_id for subject_id, _ in grades}
    for subject in db.session.scalars(
        select(Subject).where(Subject.id.in_(grade_subjects - set(subjects)))
    ):
        subjects[subject.id] = subject
    books = []
    for subject in sorted(subjects.values(), key=lambda s: s.name):
        lines = [
            LessonLine(
                lesson,
                names.get(lesson.teacher_id, ""),
                names.get(signers.get(lesson.id, lesson.teacher_id), ""),
            )
            for lesson in lessons
            if lesson.subject_id == subject.id
        ]
        books.append(
            SubjectBook(
                subject,
                lines,
                {p: attendance.get((subject.id, p), {}) for p in pupil_ids},
                {p: grades.get((subject.id, p), []) for p in pupil_ids},
            )
        )
    tutor = (
        _names({school_class.form_tutor_id}).get(school_class.form_tutor_id)
        if school_class.form_tutor_id
        else None
    )
    return ClassBook(
        school_class=school_class,
        year=year,
        tutor=tutor,
        starts=starts,
        ends=ends,
        pupils=[PupilLine(n, p, guardians.get(p.id, [])) for n, p in enumerate(pupils, 1)],
        plan=_plan(school_class, starts, ends),
        subjects=books,
    )


def _plan(school_class: SchoolClass, starts: dt.date, ends: dt.date) -> list[PlanLine]:
    rows = db.session.execute(
        select(TimetableEntry, TeachingAssignment, Subject, Room.name)
        .join(TeachingAssignment, TeachingAssignment.id == TimetableEntry.assignment_id)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .join(Room, Room.id == TimetableEntry.room_id)
        .where(
            TeachingAssignment.class_id == school_class.id,
            TimetableEntry.valid_from <= ends,
            TimetableEntry.valid_to >= starts,
        )
        .order_by(TimetableEntry.weekday, TimetableEntry.slot_number)
    )
    entries = list(rows)
    names = _names({assignment.teacher_id for _e, assignment, _s, _r in entries})
    return [
        PlanLine(
            entry.weekday,
            entry.slot_number,
            subject.name,
            names.get(assignment.teacher_id, ""),
            room,
        )
        for entry, assignment, subject, room in entries
    ]
