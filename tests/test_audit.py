"""History (§21 ust. 3 pkt 4): every change of a school record leaves who/when/old/new."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import String, func, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ediary.audit.models import AppendOnly, HistoryEntry
from ediary.audit.recording import (
    Actor,
    Audited,
    Channel,
    UnauditedWrite,
    _new_row_values,
    insert_audited,
    insert_many_audited,
    operation,
)
from ediary.classification.operations import (
    acknowledge_proposals,
    correct_final_grade,
    current_grade,
    set_classification_grade,
)
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import change_contact
from ediary.council.models import BehaviourKind
from ediary.council.operations import give_opinion, set_behaviour
from ediary.db import Base, utcnow
from ediary.diary.models import (
    Attendance,
    Grade,
    GradeCategory,
    GradeKind,
    Remark,
    RemarkKind,
)
from ediary.diary.operations import (
    add_remark,
    correct_grade,
    correct_remark,
    record_grade,
    submit_roll,
)
from ediary.diary.queries import attendance_types
from ediary.excuses.operations import request_excuse
from ediary.gradebook.operations import create_assessment
from ediary.gradingrules.models import YearRules
from ediary.gradingrules.years import as_row_values, school_rule_set
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce
from ediary.journal.models import JournalEvent
from ediary.kiosks.operations import issue_enrollment_code
from ediary.messages.operations import publish_announcement, save_working_hours, start_thread
from ediary.notifications.models import Topic
from ediary.notifications.operations import save_preferences, set_urgent_topics
from ediary.notifications.pushviews import save_choices
from ediary.office.imports.operations import remember_mapping
from ediary.office.operations import GuardianDetails, add_guardian
from ediary.people.activation.operations import issue_activation_code
from ediary.people.twofactor.operations import new_recovery_codes, offer_authenticator
from ediary.records.models import YearArchive
from ediary.schools.models import ClassGroup, DayOff, GroupMembership, Pupil
from ediary.timetable.models import TeachingAssignment
from tests.factories import SYSTEM, _add, unsaved_grade

# Tables that are not school records: the history itself, the journal, the idempotency store,
# and the kiosk's sign-in records (teacher sessions, failed logins), which are logs themselves.
NOT_AUDITED = {
    "history",
    "journal",
    "processed_submissions",
    "kiosk_teacher_sessions",
    "login_failures",
    "outgoing_pushes",  # issue 18: the Web Push queue, delivery bookkeeping of journal events
    "push_subscriptions",  # issue 18: endpoints are capabilities; the choices are audited
    "outgoing_messages",  # issue 5: the e-mail/SMS queue, delivery bookkeeping of journal events
    "sent_forms",  # issue 12: the tokens of forms sent once, kept a day (ediary/web/models.py)
    # Issue 14: a kiosk's presence from its heartbeats, updated every 30 s, and the outages read
    # off them: what the machines report, not a person's change (ediary/kiosks/models.py).
    "kiosk_statuses",
    "kiosk_outages",
    # Issue 14 item 2: a timetable file between its dry run and its commit, kept a day; what the
    # commit changes is audited (ediary/timetable/models.py).
    "timetable_uploads",
    "import_uploads",  # issue 13: a file between its import's dry run and commit, kept 2 hours
    # Issue 17 item 5: who opened a pupil's record, for the parents; itself a log, append-only.
    "record_views",
    # Issue 18: a message's files, written once with the (audited) message and never changed;
    # and read receipts, a log of who opened a message when, append-only.
    "message_attachments",
    "message_receipts",
}


# Sorted: registry.mappers is a set, and every pytest-xdist worker must collect one order.
AUDITED = sorted(
    (m for m in Base.registry.mappers if issubclass(m.class_, Audited)),
    key=lambda m: m.class_.__name__,
)


def test_every_table_but_the_logs_is_audited():
    audited = {table.name for mapper in AUDITED for table in mapper.tables}
    assert audited | NOT_AUDITED >= set(Base.metadata.tables) - {"alembic_version"}
    assert not audited & NOT_AUDITED


@pytest.fixture
def every_kind_of_row(world, session):
    """The world plus at least one row of every audited table, written through operations."""
    teacher = Actor(world.teacher, Channel.WEB)
    submit_roll(teacher, world.lesson, {world.pupil.id: "nb"}, topic="Ułamki zwykłe", base=None)
    record_grade(teacher, pupil=world.pupil, subject=world.math, value="5", given_on=world.today)
    # Issue 15: a gradebook column of the teacher's assignment.
    assignment = session.scalars(select(TeachingAssignment)).first()
    create_assessment(teacher, assignment, category=world.test_category, given_on=world.today)
    add_remark(
        teacher,
        pupil=world.pupil,
        kind=RemarkKind.POSITIVE,
        text="Pomaga innym",
        given_on=world.today,
    )
    issue_enrollment_code(Actor.system(Channel.CLI), world.kiosk)
    group = ClassGroup(school_id=world.school.id, class_id=world.class_a.id, name="gr. 1")
    _add(SYSTEM, group)
    _add(SYSTEM, GroupMembership(group_id=group.id, pupil_id=world.pupil.id))
    # Issue 5: an activation code, an excuse request (and its item), notification settings.
    issue_activation_code(Actor.system(Channel.CLI), world.parent)
    parent = Actor(world.parent, Channel.WEB)
    request_excuse(parent, world.pupil, absences=[], future_days=[world.today], reason="Lekarz.",
                   note=None, today=world.today)  # fmt: skip
    save_preferences(parent, world.parent, channels=set(), topics={Topic.GRADE}, digest=False,
                     quiet_from=dt.time(21), quiet_until=dt.time(7))  # fmt: skip
    set_urgent_topics(Actor.system(Channel.CLI), world.school, {Topic.FIRST_ABSENCE})
    # Issue 18: a parent's Web Push choice (ediary/notifications/pushviews.py).
    save_choices(parent, world.parent, {(world.pupil.id, Topic.GRADE.value)})
    # Issue 13: a parent the register names without access (ediary/office/models.py).
    add_guardian(SYSTEM, world.pupil, GuardianDetails("Jan", "Bezdostępu", may_see=False))
    # Issue 17: a year-end archive's record (ediary/records/models.py).
    _add(SYSTEM, YearArchive(school_id=world.school.id, year_id=world.year.id, file_name="a.zip",
                             size=1, sha256="0" * 64, signer="CN=Dyrektor"))  # fmt: skip
    # Issue 18: a thread with a message, the tutor's working hours, an announcement.
    start_thread(parent, recipient_id=world.tutor.id, school_id=world.school.id, subject="Pytanie",
                 body="Dzień dobry")  # fmt: skip
    save_working_hours(Actor(world.tutor, Channel.WEB), world.tutor, days={0, 1}, by_email=False,
                       starts=dt.time(8), ends=dt.time(15))  # fmt: skip
    publish_announcement(Actor(world.school_admin, Channel.WEB), school_id=world.school.id,
                         class_id=None, title="Dzień otwarty", body="Zapraszamy.",
                         expires_on=world.today, today=world.today)  # fmt: skip
    # Issue 14: two-factor login's authenticator and recovery codes.
    offer_authenticator(Actor(world.secretary, Channel.WEB), world.secretary)
    new_recovery_codes(Actor(world.secretary, Channel.WEB), world.secretary)
    # Issue 13 item 5: an address waiting for its proof.
    change_contact(parent, world.parent, ContactKind.PHONE, "601234567")
    # Issue 13: the column mapping an import remembers for the school.
    remember_mapping(Actor(world.secretary, Channel.WEB), world.school, {"pesel": "PESEL"})
    # Issue 16 item 4: a day off in the school's calendar (ediary/schools/models.py).
    _add(SYSTEM, DayOff(school_id=world.school.id, date=world.today, reason="Dzień dyrektorski"))
    # Issue 18: a test announced for a lesson (ediary/homework).
    announce(teacher, world.lesson, kind=HomeworkKind.TEST, description="Ułamki", due_date=None,
             today=world.today)  # fmt: skip
    # Issue 14 item 5: a school year's own grading rules (ediary/gradingrules/models.py).
    _add(SYSTEM, YearRules(school_id=world.school.id, year_id=world.year.id,
                           **as_row_values(school_rule_set(world.school))))  # fmt: skip
    # Issue 15 item 5: a final grade corrected by the director, a proposal acknowledged.
    first_term = min(world.year.terms, key=lambda t: t.number)
    for kind, value in ((GradeKind.PROPOSED_TERM, "4"), (GradeKind.TERM, "4")):
        set_classification_grade(
            teacher, assignment, first_term, world.pupil, kind, value,
            seen_grade_id=None, seen_version=None, today=world.today,
        )  # fmt: skip
    final = current_grade(world.pupil.id, world.math.id, first_term.id, GradeKind.TERM)
    assert final is not None
    correct_final_grade(Actor(world.school_admin, Channel.WEB), final, "5", "Pomyłka.",
                        seen_version=final.version)  # fmt: skip
    acknowledge_proposals(parent, world.pupil, first_term, GradeKind.PROPOSED_TERM)
    # Issue 15 item 5: a teacher's opinion of behaviour and the form tutor's proposed grade.
    term = world.year.terms[0]
    give_opinion(teacher, world.pupil, term, value="dobre", text="Pomaga innym.",
                 base_version=None, today=world.today)  # fmt: skip
    set_behaviour(Actor(world.tutor, Channel.WEB), world.pupil, term, kind=BehaviourKind.PROPOSED,
                  value="dobre", base_version=None, today=world.today)  # fmt: skip
    session.flush()
    return world


@pytest.mark.parametrize("mapper", AUDITED, ids=[m.class_.__name__ for m in AUDITED])
def test_writing_an_audited_row_outside_an_operation_is_refused(every_kind_of_row, session, mapper):
    """Changing or deleting any audited row without an operation (so without history) raises."""
    row = session.scalars(select(mapper.class_).limit(1)).first()
    assert row is not None, f"add a {mapper.class_.__name__} to every_kind_of_row"
    plain = [
        c.key
        for c in mapper.column_attrs
        if c.key != "version"
        and c.columns[0].type.python_type in (str, int, bool)
        and not c.columns[0].foreign_keys
        and not c.columns[0].primary_key
    ]
    if plain:
        value = getattr(row, plain[0])
        changed = (
            (not value)
            if isinstance(value, bool)
            else (value + 1 if isinstance(value, int) else f"{value}x")
        )
        setattr(row, plain[0], changed)
    else:
        session.delete(row)
    with pytest.raises(UnauditedWrite):
        session.flush()
    session.rollback()


def test_creating_outside_an_operation_is_refused(world, session):
    session.add(
        Grade(
            school_id=world.school.id,
            pupil_id=world.pupil.id,
            subject_id=world.math.id,
            term_id=1,
            teacher_id=world.teacher.id,
            value="5",
            given_on=world.today,
        )
    )
    with pytest.raises(UnauditedWrite):
        session.flush()
    session.rollback()


def test_a_correction_keeps_old_and_new_value_with_author_and_channel(world, session):
    teacher = Actor(world.teacher, Channel.WEB)
    grade = record_grade(
        teacher,
        pupil=world.pupil,
        subject=world.math,
        value="3",
        category=world.test_category,
        given_on=world.today,
    )
    correct_grade(
        Actor(world.teacher, Channel.KIOSK, kiosk_id=world.kiosk.id),
        grade,
        value="4-",
        category=world.test_category,
    )
    session.commit()
    rows = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "grades", HistoryEntry.entity_id == grade.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update"]
    update = rows[1]
    assert update.old == {"value": "3"} and update.new == {"value": "4-"}
    assert update.actor_id == world.teacher.id
    assert update.channel == "kiosk" and update.kiosk_id == world.kiosk.id
    assert update.pupil_id == world.pupil.id and update.school_id == world.school.id
    assert update.at.tzinfo is not None


def test_secrets_never_enter_the_history(world, session):
    rows = session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "users").order_by(HistoryEntry.id)
    ).all()
    assert rows
    assert all(
        r.new["password_hash"] == "***" for r in rows if r.new and r.new.get("password_hash")
    )
    assert not any("argon2" in str(r.new) for r in rows)


def test_history_and_journal_are_append_only(world, session):
    record_grade(
        Actor(world.teacher, Channel.WEB),
        pupil=world.pupil,
        subject=world.math,
        value="5",
        given_on=world.today,
    )
    session.commit()
    entry = session.scalars(select(HistoryEntry).limit(1).order_by(HistoryEntry.id)).one()
    event_id = session.scalars(select(JournalEvent.id).limit(1)).one()
    entry.action = "forged"
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.get(JournalEvent, event_id))
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()


def test_a_refused_operation_leaves_neither_row_nor_history(world, session):
    from ediary.errors import Refusal

    before = session.scalar(text("select count(*) from history"))
    with pytest.raises(Refusal):
        record_grade(
            Actor(world.teacher, Channel.WEB),
            pupil=world.pupil,
            subject=world.math,
            value="7",
            given_on=world.today,
        )
    assert session.scalar(text("select count(*) from history")) == before
    assert session.scalar(select(Grade.id).where(Grade.value == "7")) is None


def _history_as_stored(session, entity, entity_id):
    """The "create" history row of a row as its columns are stored (`new` as its text)."""
    row = session.execute(
        text(
            "SELECT actor_id, channel, kiosk_id, school_id, pupil_id, entity, action,"
            " CAST(old AS TEXT), CAST(new AS TEXT) FROM history"
            " WHERE entity = :entity AND entity_id = :id"
        ),
        {"entity": entity, "id": entity_id},
    ).one()
    return tuple(row)


def _written_both_ways(session, actor, make):
    """Two rows made by `make()`: one by the session's flush, one by `insert_audited`."""

    @operation
    def by_flush(actor: Actor, row: Audited) -> None:
        session.add(row)

    @operation
    def in_one_go(actor: Actor, row: Audited) -> None:
        insert_audited(row)

    written = []
    for write in (by_flush, in_one_go):
        row = make()
        write(actor, row)
        assert row in session and row not in session.dirty and row.version == 1
        written.append(row)
    session.commit()
    entity = type(written[0]).__tablename__
    first, second = (_history_as_stored(session, entity, row.id) for row in written)
    assert second[:-1] == first[:-1]
    assert second[-1] == first[-1].replace(f'"id": {written[0].id}', f'"id": {written[1].id}')
    assert json.loads(second[-1])["id"] == written[1].id  # the id the INSERT gave, in its place
    return written


def test_a_remark_and_its_history_written_in_one_go_are_what_a_flush_writes(world, session):
    """`insert_audited` (one statement on PostgreSQL) leaves the row and its history row as the
    session's flush leaves them, to the history's text, and the row persistent and versioned:
    its correction in the same session is the usual versioned UPDATE with its history."""
    actor = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
    written = _written_both_ways(
        session,
        actor,
        lambda: Remark(
            school_id=world.school.id,
            pupil_id=world.pupil.id,
            teacher=world.teacher,
            lesson_id=world.lesson.id,
            kind=RemarkKind.NEGATIVE,
            text='Rozmawia "na lekcji"',
            given_on=world.today,
        ),
    )
    assert [(r.removed, r.teacher_id) for r in written] == [(False, world.teacher.id)] * 2

    correct_remark(actor, written[1], kind=RemarkKind.NEUTRAL, text="Rozmawia", base_version=1)
    session.commit()
    assert written[1].version == 2
    changed = session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity == "remarks",
            HistoryEntry.entity_id == written[1].id,
            HistoryEntry.action == "update",
        )
    ).one()
    assert changed.new == {"kind": "neutral", "text": "Rozmawia"}


def test_a_grade_in_one_go_is_what_a_flush_writes(world, session):
    """A grade names its subject, teacher and category as objects: their ids are written as the
    flush writes them, and its kind's default is set."""
    written = _written_both_ways(
        session,
        Actor(world.teacher, Channel.WEB),
        lambda: unsaved_grade(world, value="4+", category=world.test_category),
    )
    assert {(g.kind, g.subject_id, g.teacher_id, g.category_id) for g in written} == {
        (GradeKind.ONGOING, world.math.id, world.teacher.id, world.test_category.id)
    }


def test_rows_in_one_go_are_what_a_flush_writes_each_with_its_own_id(world, session):
    """`insert_many_audited` (a class roll's new rows): each row and its history row as the
    session's flush leaves them, to the history's text; each object gets the id of its own row
    (the INSERT's ids come back in the order given), its type given as an object is written as
    its id, and its defaults are set, the callable one (`recorded_at`) included."""
    types = attendance_types(world.school.id)
    codes = ["nb", "sp"]

    def roll(pupils: list[Pupil]) -> list[Attendance]:
        return [Attendance(school_id=world.school.id, lesson_id=world.lesson.id,
                           pupil_id=pupil.id, type=types[code])
                for pupil, code in zip(pupils, codes, strict=True)]  # fmt: skip

    @operation
    def by_flush(actor: Actor, rows: list[Attendance]) -> None:
        session.add_all(rows)

    @operation
    def in_one_go(actor: Actor, rows: list[Attendance]) -> None:
        insert_many_audited(rows)

    actor = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
    flushed = roll([world.pupil, world.classmate])
    in_bulk = roll([world.sibling, world.pupil_b])
    by_flush(actor, flushed)
    in_one_go(actor, in_bulk)
    for row in in_bulk:
        assert row in session and row not in session.dirty and row.version == 1
        assert row.recorded_at is not None
        assert flushed[0].recorded_at <= row.recorded_at <= utcnow()  # its default, set now
    session.commit()
    stored = dict(session.execute(select(Attendance.id, Attendance.pupil_id)).all())
    assert {row.id: row.pupil_id for row in in_bulk} == {
        i: stored[i] for i in stored if i not in {r.id for r in flushed}
    }
    assert [row.type_id for row in in_bulk] == [types[code].id for code in codes]
    for before, after in zip(flushed, in_bulk, strict=True):
        first, second = (_history_as_stored(session, "attendance", r.id) for r in (before, after))
        assert second[:4] + second[5:-1] == first[:4] + first[5:-1]  # all but pupil_id and new
        assert second[4] == after.pupil_id
        expected = json.loads(first[-1]) | {"id": after.id, "pupil_id": after.pupil_id}
        assert list(json.loads(second[-1]).items()) == list(expected.items())


def test_rows_in_one_go_outside_an_operation_are_refused_and_not_written(world, session):
    present = attendance_types(world.school.id)["ob"]
    row = Attendance(school_id=world.school.id, lesson_id=world.lesson.id,
                     pupil_id=world.pupil.id, type=present)  # fmt: skip
    with pytest.raises(UnauditedWrite):
        insert_many_audited([row])
    session.commit()
    assert session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_a_row_in_one_go_names_a_row_still_pending_before_it(world, session):
    """What is pending is written first, as the flush writes it with the row: a grade in a
    category added in the same operation names that category's id, and both have history."""

    @operation
    def grade_in_a_new_category(actor: Actor) -> Grade:
        category = GradeCategory(school_id=world.school.id, name="Projekt", weight=2)
        session.add(category)
        grade = unsaved_grade(world, value="5", category=category)
        insert_audited(grade)
        return grade

    grade = grade_in_a_new_category(Actor(world.teacher, Channel.WEB))
    session.commit()
    assert grade.category is not None and grade.category_id == grade.category.id
    assert grade.category.name == "Projekt"
    created = session.scalars(
        select(HistoryEntry.entity).where(HistoryEntry.action == "create")
    ).all()
    assert {"grade_categories", "grades"} <= set(created)


def test_a_row_in_one_go_outside_an_operation_is_refused_and_not_written(world, session):
    remark = Remark(school_id=world.school.id, pupil_id=world.pupil.id, teacher=world.teacher,
                    kind=RemarkKind.POSITIVE, text="Pomaga", given_on=world.today)  # fmt: skip
    with pytest.raises(UnauditedWrite):
        insert_audited(remark)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Remark)) == 0


def test_a_new_row_whose_column_only_the_database_fills_is_refused_by_hand():
    """`insert_audited` and `insert_many_audited` set the Python-side defaults as the flush
    does; a column with only a server default the flush would read back, which they do not, so
    such a row is refused before anything is sent (no audited class has one today)."""

    class Scratch(DeclarativeBase):  # a registry of its own: the app's metadata is left alone
        pass

    class Probe(Audited, Scratch):
        __tablename__ = "probes"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(10), default="x")
        stamped: Mapped[int] = mapped_column(server_default="0")

    mapper = inspect(Probe)
    with pytest.raises(ValueError, match=r"probes\.stamped: a server default"):
        _new_row_values(mapper, Probe())
    given = Probe(stamped=3)
    assert _new_row_values(mapper, given) == {"label": "x", "stamped": 3}
    assert given.label == "x"  # the Python-side default, set on the object as the flush sets it
