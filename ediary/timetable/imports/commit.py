"""The commit of a timetable file: exactly its dry run, in one operation (channel `import`)."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.errors import Conflict, Refusal
from ediary.people.models import User
from ediary.schools.models import ClassGroup, Room, School, Subject
from ediary.timetable.grid import not_past, year_of
from ediary.timetable.imports.asc import read_asc
from ediary.timetable.imports.csvfile import read_csv
from ediary.timetable.imports.dryrun import dry_run
from ediary.timetable.imports.result import DryRun, Wanted
from ediary.timetable.imports.source import Source, folded, refuse_size
from ediary.timetable.models import TeachingAssignment, TimetableEntry, TimetableUpload
from ediary.timetable.planning import save_bell_schedule
from ediary.timetable.regenerate import regenerate

KEPT = dt.timedelta(days=1)


def read(upload: TimetableUpload) -> Source:
    return read_asc(upload.data) if upload.format == "asc" else read_csv(upload.data)


def guess_format(filename: str, data: bytes) -> str:
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "asc" if filename.lower().endswith(".xml") or head.startswith(b"<") else "csv"


def store_upload(user: User, school: School, filename: str, data: bytes) -> TimetableUpload:
    """Keeps the file for its commit (scratch, not a record: no operation needed); reads it
    first, so a broken or hostile file is refused before anything is kept."""
    refuse_size(data)
    upload = TimetableUpload(
        school_id=school.id,
        user_id=user.id,
        format=guess_format(filename, data),
        filename=filename[-200:] or "plan",
        digest=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    read(upload)
    db.session.execute(delete(TimetableUpload).where(TimetableUpload.at < utcnow() - KEPT))
    db.session.add(upload)
    db.session.flush()
    return upload


@operation
def commit_import(
    actor: Actor,
    school: School,
    upload: TimetableUpload,
    from_date: dt.date,
    *,
    seen: str | None = None,
) -> DryRun:
    """Does what the dry run of this file showed (`seen`: its digest; a plan changed since the
    dry run is a `Conflict`, and the page shows the new dry run); nothing if it shows no change."""
    if upload.school_id != school.id:
        raise Refusal("other_school", _l("Ten plik wczytano dla innej szkoły."))
    not_past(school, from_date)
    result = dry_run(school, read(upload), from_date)
    if seen is not None and seen != result.digest():
        raise Conflict(
            "stale_dry_run",
            _l("Plan zmienił się od podglądu. Sprawdź nowy podgląd i zatwierdź ponownie."),
        )
    if not result.changes:
        return result
    if result.bells_change:
        save_bell_schedule(actor, school, result.bells)
    year = year_of(school, from_date)
    subjects = {
        folded(s.name): s
        for s in db.session.scalars(select(Subject).where(Subject.school_id == school.id))
    }
    rooms = {
        folded(r.name): r
        for r in db.session.scalars(select(Room).where(Room.school_id == school.id))
    }
    groups = {
        (g.class_id, folded(g.name)): g
        for g in db.session.scalars(select(ClassGroup).where(ClassGroup.school_id == school.id))
    }
    for closed in result.closing:
        closed.valid_to = from_date - dt.timedelta(days=1)  # before valid_from: never in force
    db.session.flush()

    def resolve(w: Wanted) -> tuple[Subject, Room, ClassGroup | None]:
        subject = subjects.get(w.subject)
        if subject is None:
            subject = Subject(
                school_id=school.id, name=w.subject_name[:80], short_name=w.subject_short[:12]
            )
            db.session.add(subject)
            subjects[w.subject] = subject
        room = rooms.get(w.room)
        if room is None:
            room = Room(school_id=school.id, name=w.room_name[:40])
            db.session.add(room)
            rooms[w.room] = room
        group = None
        if w.group is not None:
            group = groups.get((w.school_class.id, w.group))
            if group is None:
                name = (w.group_name or "")[:40]
                group = ClassGroup(school_id=school.id, class_id=w.school_class.id, name=name)
                db.session.add(group)
                groups[(w.school_class.id, w.group)] = group
        db.session.flush()
        return subject, room, group

    for w in result.assignments:
        subject, _room, group = resolve(w)
        assignment = _assignment(school, w.teacher, w.school_class.id, subject, group)
        assignment.weekly_hours = max(1, min(w.hours, 40))
    for w in result.wanted:
        subject, room, group = resolve(w)
        assignment = _assignment(school, w.teacher, w.school_class.id, subject, group)
        entry: TimetableEntry | None = db.session.scalar(
            select(TimetableEntry).where(
                TimetableEntry.assignment_id == assignment.id,
                TimetableEntry.weekday == w.weekday,
                TimetableEntry.slot_number == w.slot_number,
                TimetableEntry.valid_from == from_date,
            )
        )
        if entry is None:
            entry = TimetableEntry(
                school_id=school.id,
                assignment_id=assignment.id,
                weekday=w.weekday,
                slot_number=w.slot_number,
                valid_from=from_date,
            )
            db.session.add(entry)
        entry.room_id, entry.valid_to = room.id, year.ends_on
    db.session.flush()
    regenerate(school, from_date, class_ids=result.class_ids)
    return result


def _assignment(
    school: School, teacher: User, class_id: int, subject: Subject, group: ClassGroup | None
) -> TeachingAssignment:
    found = db.session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.teacher_id == teacher.id,
            TeachingAssignment.class_id == class_id,
            TeachingAssignment.subject_id == subject.id,
            TeachingAssignment.group_id.is_(None)
            if group is None
            else TeachingAssignment.group_id == group.id,
        )
    )
    if found is None:
        found = TeachingAssignment(
            school_id=school.id,
            teacher_id=teacher.id,
            class_id=class_id,
            group_id=group.id if group else None,
            subject_id=subject.id,
        )
        db.session.add(found)
        access_changed(teacher.id)
    return found
