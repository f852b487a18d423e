"""Submissions: one transaction each, acknowledged after commit, idempotent by key, refused
cleanly (nothing written) outside the kiosk's scope, conflicts reported, never silent."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.diary.models import Attendance, Grade, GradeCategory, Remark
from ediary.diary.operations import record_grade, set_topic, submit_roll
from ediary.extensions import socketio
from ediary.journal.models import JournalEvent
from ediary.kiosks import receipt
from ediary.kiosks.models import ProcessedSubmission
from ediary.kiosks.operations import create_kiosk, revoke_kiosk
from ediary.people.operations import disable_user
from ediary.schools.models import SchoolYear
from ediary.timetable.operations import cancel_lesson
from tests import factories
from tests.kiosk_server.conftest import (
    NS,
    KioskWorld,
    call,
    check_push,
    counts,
    enroll,
    login,
    make_room_lesson,
    submit,
)

SYSTEM = Actor.system(Channel.CLI)


@pytest.fixture
def kiosk(connect: Any, kworld: KioskWorld) -> Any:
    client = connect()
    client.token = login(client, kworld.teacher)["session"]
    return client


def _roll(kworld: KioskWorld, **states: str) -> dict[str, Any]:
    """A roll changing these pupils, whose screen showed nothing recorded (the first roll)."""
    ids = {str(getattr(kworld, name).id): code for name, code in states.items()}
    return {"states": ids, "base": dict.fromkeys(ids)}


def test_a_roll_is_one_submission_and_one_transaction(kiosk: Any, kworld: KioskWorld) -> None:
    before = counts()
    payload = {
        **_roll(kworld, pupil="nb", classmate="ob"),
        "topic": "Ułamki zwykłe",
        "base_topic": None,
    }
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload)
    assert ack["ok"] is True and ack["status"] == "applied"
    assert ack["result"]["pupils"] == 2 and ack["result"]["changed"] == 2
    after = counts()
    # Two attendance rows, their two history rows and the lesson's (topic), three journal rows
    # (two attendance.recorded, one lesson.topic), one idempotency row: all or nothing.
    assert {k: after[k] - before[k] for k in after} == {
        "attendance": 2,
        "grades": 0,
        "remarks": 0,
        "history": 3,
        "journal": 3,
        "processed": 1,
    }
    events = db.session.scalars(select(JournalEvent).order_by(JournalEvent.id)).all()
    assert ack["event_ids"] == [e.id for e in events]
    assert sorted(e.type for e in events) == ["attendance.recorded"] * 2 + ["lesson.topic"]
    history = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "attendance").order_by(HistoryEntry.id)
    )
    assert {(h.actor_id, h.channel, h.kiosk_id) for h in history} == {
        (kworld.teacher.id, "kiosk", kworld.kiosk.id)
    }
    codes = {a.pupil_id: a.type.code for a in db.session.scalars(select(Attendance))}
    assert codes == {kworld.pupil.id: "nb", kworld.classmate.id: "ob"}


def test_a_submission_reads_its_school_once(
    kiosk: Any, kworld: KioskWorld, statements: list[str]
) -> None:
    """The session's check and the lesson's entry hours both need the school: the kiosk holds
    it once read (SQLAlchemy's identity map alone keeps it only while something refers to it)."""
    payload, lesson_id = _roll(kworld, pupil="nb"), kworld.lesson.id
    db.session.expunge_all()  # as in a server: nothing loaded that the test's world holds
    statements.clear()
    ack = submit(kiosk, kiosk.token, "roll", lesson_id, payload)
    assert ack["ok"] is True and ack["status"] == "applied", ack
    # Read with the kiosk (a join), not again for the lesson's hours.
    from_schools = [s for s in statements if re.search(r"\b(FROM|JOIN) schools\b", s)]
    assert len(from_schools) == 1, from_schools
    # The subject that the roll's events name came with the lesson, in the same statement.
    [subjects] = [s for s in statements if re.search(r"\b(FROM|JOIN) subjects\b", s)]
    assert subjects == from_schools[0]
    # The roster and what each pupil has recorded: one statement.
    [attendance] = [s for s in statements if re.search(r"^SELECT .*\battendance\.", s)]
    assert re.search(r"\bFROM pupils\b.*\bJOIN attendance\b", attendance, flags=re.DOTALL)


def test_a_remark_reads_each_thing_once_and_writes_its_key_once(
    kiosk: Any, kworld: KioskWorld, statements: list[str]
) -> None:
    """What every entry pays, in statements: the kiosk, the key's stored answer, the session, its
    teacher, the teacher's roles, the lesson, its year and the pupil (not the roster) in one;
    the key and its result in one INSERT at the commit, on PostgreSQL inside the journal's own
    statement (no round trip of its own under the journal's lock)."""
    lesson_id = kworld.lesson.id
    db.session.expunge_all()  # as in a server: nothing loaded that the test's world holds
    statements.clear()
    ack = submit(
        kiosk,
        kiosk.token,
        "remark",
        lesson_id,
        {"pupil_id": kworld.pupil.id, "remark_kind": "positive", "text": "Pomaga."},
    )
    assert ack["ok"] is True and ack["status"] == "applied", ack

    def sent(pattern: str) -> list[str]:
        return [s for s in statements if re.search(pattern, s)]

    [read] = sent(r"\bkiosk_teacher_sessions\b")
    assert re.search(r"\bJOIN processed_submissions\b", read)  # the key's answer: none yet
    assert re.search(r"\bJOIN lessons\b", read)
    assert sent(r"\b(FROM|JOIN) processed_submissions\b") == [read]
    assert sent(r"\b(FROM|JOIN) kiosks\b") == [read]  # the device, checked on this read
    assert sent(r"\bFROM memberships\b") == []  # joined to the session's statement
    assert sent(r"\bJOIN memberships\b") == [read]
    assert sent(r"\bFROM pupils\b") == []
    assert re.search(r"\bJOIN pupils ON pupils\.id = ", read)  # this pupil, not the roster
    assert sent(r"^SELECT lessons\.") == []  # the lesson came with the session
    assert sent(r"\bschool_years\b") == [read]  # its year's closing, not asked again at the flush
    [key] = sent(r"\bINSERT INTO processed_submissions\b")
    assert db.engine is not None
    if db.engine.dialect.name == "postgresql":
        assert key.startswith("WITH numbered AS (INSERT INTO journal ")
    else:
        assert key.startswith("INSERT INTO processed_submissions ")
    assert sent(r"^UPDATE processed_submissions") == []
    stored = db.session.get_one(ProcessedSubmission, ack["key"])
    assert stored.result["event_ids"] == ack["event_ids"] != []


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("remark", {"remark_kind": "negative", "text": "Rozmawia na lekcji."}),
        ("grade", {"value": "4+"}),
    ],
)
def test_an_entry_reads_no_more_of_the_teacher_and_the_pupil_than_it_needs(
    kiosk: Any, kworld: KioskWorld, statements: list[str], kind: str, payload: dict[str, Any]
) -> None:
    """A grade or a remark reads neither the pupil's PESEL, birth, document or address nor the
    teacher's password hash or contacts, and asks for nothing more of either later."""
    db.session.expunge_all()  # as in a server: nothing loaded that the test's world holds
    statements.clear()
    ack = submit(
        kiosk, kiosk.token, kind, kworld.lesson.id, {"pupil_id": kworld.pupil.id, **payload}
    )
    assert ack["ok"] is True and ack["status"] == "applied", ack
    [read] = [s for s in statements if re.search(r"\bkiosk_teacher_sessions\b", s)]
    assert re.search(r"\bpupils\.school_id\b", read) and re.search(r"\busers\.last_name\b", read)
    for column in (
        "pupils.pesel",
        "pupils.birth_date",
        "pupils.birth_place",
        "pupils.identity_document",
        "pupils.address",
        "users.password_hash",
        "users.email",
        "users.phone",
        "users.address",
    ):
        assert not re.search(rf"\b{re.escape(column)}\b", read), column
    assert [s for s in statements if re.search(r"\bFROM (pupils|users)\b", s)] == []
    if kind == "remark":
        entry: Remark | Grade = db.session.get_one(Remark, ack["result"]["remark_id"])
    else:
        entry = db.session.get_one(Grade, ack["result"]["grade_id"])
    assert entry.pupil_id == kworld.pupil.id and entry.teacher_id == kworld.teacher.id


def test_the_events_are_announced_as_delivered_after_the_ack(
    kiosk: Any, kworld: KioskWorld
) -> None:
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["delivered"] is False
    socketio.sleep(0)  # the notice runs after the handler (no relay in a test process)
    delivered = [m for m in kiosk.get_received(NS) if m["name"] == "delivered"]
    check_push(delivered[0])
    assert delivered == [
        {
            "name": "delivered",
            "args": [{"key": ack["key"], "event_ids": ack["event_ids"]}],
            "namespace": NS,
        }
    ]


def test_a_repeated_key_returns_the_stored_result_and_writes_nothing(
    kiosk: Any, kworld: KioskWorld
) -> None:
    key = str(uuid.uuid4())
    payload = _roll(kworld, pupil="nb", classmate="sp")
    first = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    before = counts()
    # The same content, the pupils listed the other way round and the key in capitals.
    reordered = {
        "base": payload["base"],
        "states": dict(reversed(list(payload["states"].items()))),
    }
    again = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, reordered, key=key.upper())
    assert again["status"] == "duplicate" and again["delivered"] is True
    assert again["result"] == first["result"] and again["event_ids"] == first["event_ids"]
    assert counts() == before


def test_a_key_reused_for_other_content_is_refused(kiosk: Any, kworld: KioskWorld) -> None:
    key = str(uuid.uuid4())
    submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"), key=key)
    before = counts()
    other = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="u"), key=key)
    assert other["ok"] is False and other["error"] == "key_reused"
    assert other["message"] == "Ten klucz wpisu był już użyty dla innej treści."
    topic = submit(
        kiosk,
        kiosk.token,
        "topic",
        kworld.lesson.id,
        {"topic": "Inny", "base_topic": None},
        key=key,
    )
    assert topic["error"] == "key_reused"
    assert counts() == before
    assert (
        db.session.scalars(select(Attendance).where(Attendance.pupil_id == kworld.pupil.id))
        .one()
        .type.code
        == "nb"
    )


def test_a_key_of_another_kiosk_is_refused(connect: Any, kiosk: Any, kworld: KioskWorld) -> None:
    key = str(uuid.uuid4())
    payload = _roll(kworld, pupil="nb")
    submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    other = create_kiosk(SYSTEM, factories.make_room(kworld.school, "14"))
    secret = enroll(other)
    db.session.commit()
    elsewhere = connect({"kiosk_id": other.id, "secret": secret})
    token = login(elsewhere, kworld.teacher)["session"]
    ack = submit(elsewhere, token, "roll", kworld.lesson.id, payload, key=key)
    assert ack["error"] == "key_reused"  # not "duplicate": another device learns nothing


def test_a_duplicate_is_recognised_after_the_session_ended(kiosk: Any, kworld: KioskWorld) -> None:
    key = str(uuid.uuid4())
    payload = _roll(kworld, pupil="nb")
    submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    call(kiosk, "teacher_logout", {"session": kiosk.token, "end": True})
    ack = submit(kiosk, "1.not-a-session", "roll", kworld.lesson.id, payload, key=key)
    assert ack["status"] == "duplicate"


def test_an_entry_typed_before_a_lock_or_logout_still_syncs(kiosk: Any, kworld: KioskWorld) -> None:
    call(kiosk, "teacher_logout", {"session": kiosk.token})
    assert submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))["ok"]
    call(kiosk, "teacher_logout", {"session": kiosk.token, "end": True})
    late = submit(
        kiosk, kiosk.token, "topic", kworld.lesson.id, {"topic": "Dodawanie", "base_topic": None}
    )
    assert late["ok"] is True
    # ...but not to an account that was disabled meanwhile.
    disable_user(SYSTEM, kworld.teacher)
    db.session.commit()
    refused = submit(
        kiosk, kiosk.token, "topic", kworld.lesson.id, {"topic": "Odejmowanie", "base_topic": None}
    )
    assert refused["error"] == "session_ended" and refused["reason"] == "account"


def test_racing_twins_store_once(
    kiosk: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin that loses the race on the key's primary key answers from the stored row."""
    key = str(uuid.uuid4())
    payload = _roll(kworld, pupil="nb")
    first = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    before = counts()
    lookups: list[str] = []
    real = receipt._read_for_submission

    def blind_first_time(device: dict[str, Any], k: str, *rest: Any) -> Any:
        # As if the twin's row had not been committed yet when this one looked.
        lookups.append(k)
        kiosk, stored, *others = real(device, k, *rest)
        return (kiosk, None, *others) if len(lookups) == 1 else (kiosk, stored, *others)

    monkeypatch.setattr(receipt, "_read_for_submission", blind_first_time)
    twin = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    assert len(lookups) == 2  # tried, collided, rolled back, looked again
    assert twin["status"] == "duplicate" and twin["result"] == first["result"]
    assert counts() == before


def test_contention_that_never_clears_asks_the_kiosk_to_retry(
    kiosk: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stale(*_args: Any, **_kwargs: Any) -> Any:
        raise StaleDataError("someone else wrote the row")

    monkeypatch.setattr(receipt, "apply_submission", stale)
    before = counts()
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["error"] == "busy" and ack["retry"] is True
    assert counts() == before


def test_a_process_writes_at_most_ENTRY_WRITERS_entries_at_once_and_the_rest_wait_their_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A herd of entries arriving at once in one process: each gets its turn, in order, and
    no more than `ENTRY_WRITERS` are in a transaction at the same time."""
    lock = threading.Lock()
    inside: list[int] = [0]
    peak: list[int] = [0]
    full = threading.Event()  # as many inside as may be: the first ones stay until then

    def one_try(_device: Any, data: dict[str, Any], _digest: str) -> dict[str, Any]:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            if inside[0] >= receipt.ENTRY_WRITERS:
                full.set()
        full.wait(5)
        time.sleep(0.02)  # the entry's work, while the others arrive
        with lock:
            inside[0] -= 1
        return {"ok": True, "key": data["key"]}

    monkeypatch.setattr(receipt, "_try", one_try)
    herd = 3 * receipt.ENTRY_WRITERS
    start = threading.Barrier(herd)

    def arrive(n: int) -> Any:
        start.wait()
        data = {"key": f"k{n}", "kind": "topic", "lesson_id": 1, "payload": {"topic": "x"}}
        return receipt.receive_submission({"kiosk_id": 1}, data)

    with ThreadPoolExecutor(herd) as pool:
        acks = list(pool.map(arrive, range(herd)))
    assert [ack["key"] for ack in acks] == [f"k{n}" for n in range(herd)]  # each one applied
    assert peak[0] == receipt.ENTRY_WRITERS


def test_an_entry_that_gets_no_turn_is_busy_changes_nothing_and_its_retry_lands(
    kiosk: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every turn taken for longer than an entry waits: the kiosk is told to send it again,
    nothing is written, and the same key sent again once a turn is free is applied once."""
    monkeypatch.setattr(receipt, "ENTRY_TURN_SECONDS", 0.05)
    turns = receipt._writers()
    for _ in range(receipt.ENTRY_WRITERS):
        assert turns.acquire(timeout=1)
    key = str(uuid.uuid4())
    payload = _roll(kworld, pupil="nb")
    before = counts()
    try:
        ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    finally:
        for _ in range(receipt.ENTRY_WRITERS):
            turns.release()
    assert ack["error"] == "busy" and ack["retry"] is True
    assert ack["message"] == "Serwer jest zajęty. Wpis zostanie wysłany ponownie."
    assert counts() == before
    again = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload, key=key)
    assert again["status"] == "applied"
    assert counts()["processed"] == before["processed"] + 1


def test_a_bug_is_a_server_error_not_worth_retrying_and_the_server_keeps_serving(
    kiosk: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, item 5: a bug fails the same way at every retry; the kiosk must not loop."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(receipt, "apply_submission", broken)
    before = counts()
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["ok"] is False and ack["error"] == "server_error" and "retry" not in ack
    assert ack["message"] == "Błąd serwera: wpisu nie przyjęto. Zgłoś to administratorowi szkoły."
    assert counts() == before
    monkeypatch.undo()
    assert submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))["ok"]


def test_a_database_out_of_reach_asks_the_kiosk_to_retry(
    kiosk: Any, kworld: KioskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(receipt, "_read_for_submission", unreachable)
    before = counts()
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["error"] == "internal" and ack["retry"] is True
    assert counts() == before


def test_a_refused_roll_writes_nothing_at_all(kiosk: Any, kworld: KioskWorld) -> None:
    before = counts()
    unknown = submit(
        kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb", classmate="zz")
    )
    assert unknown["error"] == "attendance_unknown" and unknown["codes"] == ["zz"]
    foreign = submit(
        kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb", pupil_b="nb")
    )
    assert foreign["error"] == "pupil_not_in_lesson" and foreign["pupil_ids"] == [kworld.pupil_b.id]
    other_school = submit(
        kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil_other_school="nb")
    )
    assert other_school["error"] == "pupil_not_in_lesson"
    assert counts() == before


def test_grades_and_remarks(kiosk: Any, kworld: KioskWorld) -> None:
    lesson = kworld.lesson.id
    grade = submit(
        kiosk,
        kiosk.token,
        "grade",
        lesson,
        {
            "pupil_id": kworld.pupil.id,
            "value": "4+",
            "category_id": kworld.test_category.id,
            "description": "Ułamki",
        },
    )
    assert grade["ok"] is True and grade["result"]["version"] == 1
    row = db.session.get(Grade, grade["result"]["grade_id"])
    assert row is not None and row.value == "4+" and row.lesson_id == lesson
    assert row.teacher_id == kworld.teacher.id and row.given_on == kworld.today

    corrected = submit(
        kiosk,
        kiosk.token,
        "grade_correction",
        lesson,
        {
            "grade_id": row.id,
            "base_version": 1,
            "value": "5",
            "category_id": kworld.test_category.id,
        },
    )
    assert corrected["ok"] is True and corrected["result"]["version"] == 2

    before = counts()
    stale = submit(
        kiosk,
        kiosk.token,
        "grade_correction",
        lesson,
        {"grade_id": row.id, "base_version": 1, "value": "3"},
    )
    assert stale["error"] == "stale_version" and stale["current_version"] == 2
    assert stale["message"] == "Ten wpis zmienił się w międzyczasie. Odśwież i spróbuj ponownie."
    assert counts() == before

    removed = submit(
        kiosk, kiosk.token, "grade_removal", lesson, {"grade_id": row.id, "base_version": 2}
    )
    assert removed["ok"] is True and db.session.get_one(Grade, row.id).removed is True

    remark = submit(
        kiosk,
        kiosk.token,
        "remark",
        lesson,
        {"pupil_id": kworld.classmate.id, "remark_kind": "positive", "text": "Pomógł koledze."},
    )
    remark_id = remark["result"]["remark_id"]
    fixed = submit(
        kiosk,
        kiosk.token,
        "remark_correction",
        lesson,
        {"remark_id": remark_id, "base_version": 1, "remark_kind": "neutral", "text": "Pomagał."},
    )
    assert fixed["result"]["version"] == 2
    assert submit(
        kiosk, kiosk.token, "remark_removal", lesson, {"remark_id": remark_id, "base_version": 2}
    )["ok"]
    assert db.session.get_one(Remark, remark_id).removed is True
    types = [e.type for e in db.session.scalars(select(JournalEvent).order_by(JournalEvent.id))]
    assert types == [
        "grade.added",
        "grade.changed",
        "grade.removed",
        "remark.added",
        "remark.changed",
        "remark.removed",
    ]
    # The history keeps the old value next to the new one (a correction never erases).
    change = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "grades", HistoryEntry.action == "update")
        .order_by(HistoryEntry.id)
    ).first()
    assert change is not None and change.old is not None and change.new is not None
    assert change.old["value"] == "4+" and change.new["value"] == "5"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"pupil_id": "pupil_b", "value": "4"}, "not_found"),  # another class
        ({"pupil_id": "pupil_other_school", "value": "4"}, "not_found"),
        ({"pupil_id": "pupil", "value": "7"}, "grade_invalid"),
        ({"pupil_id": "pupil", "value": "4", "category_id": "foreign"}, "category_unknown"),
        ({"pupil_id": "pupil", "value": "4", "descriptive": "Dobrze"}, "grade_both"),
    ],
)
def test_a_refused_grade_writes_nothing(
    kiosk: Any, kworld: KioskWorld, payload: dict[str, Any], error: str
) -> None:
    payload = dict(payload)
    payload["pupil_id"] = getattr(kworld, payload["pupil_id"]).id
    if payload.get("category_id") == "foreign":
        payload["category_id"] = db.session.scalars(
            select(GradeCategory.id).where(GradeCategory.school_id == kworld.other_school.id)
        ).first()
    before = counts()
    ack = submit(kiosk, kiosk.token, "grade", kworld.lesson.id, payload)
    assert ack["ok"] is False and ack["error"] == error
    assert ack["message"]
    assert counts() == before


def test_another_teachers_grade_cannot_be_corrected_here(kiosk: Any, kworld: KioskWorld) -> None:
    grade = record_grade(
        Actor(kworld.tutor, Channel.WEB),
        pupil=kworld.pupil,
        subject=kworld.math,
        value="3",
        given_on=kworld.today,
    )
    db.session.commit()
    before = counts()
    for kind, payload in (
        ("grade_correction", {"grade_id": grade.id, "base_version": 1, "value": "5"}),
        ("grade_removal", {"grade_id": grade.id, "base_version": 1}),
    ):
        assert submit(kiosk, kiosk.token, kind, kworld.lesson.id, payload)["error"] == "not_found"
    assert counts() == before


def test_lessons_outside_the_kiosk_are_not_found(
    connect: Any, kiosk: Any, kworld: KioskWorld
) -> None:
    other_room = make_room_lesson(
        kworld, factories.make_room(kworld.school, "7"), kworld.teacher, 2
    )
    of_colleague = make_room_lesson(kworld, kworld.room, kworld.other_teacher, 3)
    other_school_room = factories.make_room(kworld.other_school, "1")
    foreign = factories.make_lesson(
        kworld.other_school,
        kworld.class_other_school,
        factories.make_subject(kworld.other_school, "matematyka", "mat"),
        kworld.teacher,  # even with this teacher's name on it
        other_school_room,
        kworld.today,
    )
    tomorrow = factories.make_lesson(
        kworld.school,
        kworld.class_a,
        kworld.math,
        kworld.teacher,
        kworld.room,
        kworld.today + dt.timedelta(days=1),
        4,
    )
    db.session.commit()
    before = counts()
    for lesson_id in (other_room.id, of_colleague.id, foreign.id, tomorrow.id, 999_999):
        ack = submit(kiosk, kiosk.token, "topic", lesson_id, {"topic": "Temat", "base_topic": None})
        assert ack["error"] == "not_found", lesson_id
        assert ack["message"].startswith("Nie znaleziono")
        roster = call(kiosk, "roster", {"session": kiosk.token, "lesson_id": lesson_id})
        assert roster["error"] == "not_found", lesson_id
    assert counts() == before


def test_a_teacher_not_assigned_to_the_lesson_gets_not_found(
    connect: Any, kworld: KioskWorld
) -> None:
    client = connect()
    token = login(client, kworld.other_teacher)["session"]
    before = counts()
    ack = submit(client, token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["error"] == "not_found"
    assert counts() == before


def test_a_cancelled_lesson_is_refused_by_name(kiosk: Any, kworld: KioskWorld) -> None:
    cancel_lesson(SYSTEM, kworld.lesson)
    db.session.commit()
    before = counts()
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["error"] == "lesson_cancelled" and ack["message"] == "Ta lekcja została odwołana."
    assert counts() == before


def test_an_entry_in_a_closed_year_is_refused_in_polish(kiosk: Any, kworld: KioskWorld) -> None:
    """The entry's read finds its lesson's year closed and leaves it to the flush's check, which
    refuses it (only a year read open spares that check its query)."""
    db.session.execute(
        update(SchoolYear)
        .where(SchoolYear.id == kworld.lesson.school_class.year_id)
        .values(closed_at=utcnow())
    )
    db.session.commit()
    before = counts()
    remark = {"pupil_id": kworld.pupil.id, "remark_kind": "positive", "text": "Pomaga."}
    for kind, payload in (("roll", _roll(kworld, pupil="nb")), ("remark", remark)):
        ack = submit(kiosk, kiosk.token, kind, kworld.lesson.id, payload)
        assert ack["ok"] is False and ack["error"] == "year_closed", ack
        assert "jest zamknięty" in ack["message"]
    assert counts() == before


def test_a_state_changed_meanwhile_is_kept_and_reported_as_a_conflict(
    kiosk: Any, kworld: KioskWorld
) -> None:
    # Someone else (the web page) marked the pupil late after the kiosk loaded the roster.
    web = Actor(kworld.tutor, Channel.WEB)
    submit_roll(web, kworld.lesson, {kworld.pupil.id: "sp"}, base={kworld.pupil.id: None})
    set_topic(web, kworld.lesson, "Z sieci")
    db.session.commit()
    before = counts()
    payload = {
        "states": {str(kworld.pupil.id): "nb", str(kworld.classmate.id): "ob"},
        "base": {str(kworld.pupil.id): None, str(kworld.classmate.id): None},
        "topic": "Z kiosku",
        "base_topic": None,
    }
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload)
    assert ack["ok"] is True and ack["status"] == "applied"
    conflicts = ack["result"]["conflicts"]
    for conflict in conflicts:
        assert dt.datetime.fromisoformat(conflict.pop("at")).tzinfo is not None
    assert conflicts == [
        {
            "pupil_id": kworld.pupil.id,
            "base": None,
            "server": "sp",
            "wanted": "nb",
            "by": "Jan Kowalski",
            "channel": "web",
        },
        {
            "field": "topic",
            "base": None,
            "server": "Z sieci",
            "wanted": "Z kiosku",
            "by": "Jan Kowalski",
            "channel": "web",
        },
    ]
    # The server's values stay; the result says what the kiosk's copy should now show.
    assert ack["result"]["states"] == {str(kworld.pupil.id): "sp", str(kworld.classmate.id): "ob"}
    assert ack["result"]["topic"] == "Z sieci" and ack["event_ids"] == []
    after = counts()
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"processed": 1}
    db.session.expire_all()
    assert db.session.get_one(type(kworld.lesson), kworld.lesson.id).topic == "Z sieci"


def test_a_state_the_server_never_had_is_a_conflict_not_an_error(
    kiosk: Any, kworld: KioskWorld
) -> None:
    """A screen that showed the pupil absent where the server has nothing recorded (a roll of
    its that never arrived): the change is a conflict with nobody behind the server's side,
    the pupil stays unrecorded, and the rest of the roll applies."""
    before = counts()
    payload = {
        "states": {str(kworld.pupil.id): "sp", str(kworld.classmate.id): "nb"},
        "base": {str(kworld.pupil.id): "nb", str(kworld.classmate.id): None},
    }
    ack = submit(kiosk, kiosk.token, "roll", kworld.lesson.id, payload)
    assert ack["ok"] is True and ack["status"] == "applied", ack
    assert ack["result"]["conflicts"] == [
        {
            "pupil_id": kworld.pupil.id,
            "base": "nb",
            "server": None,
            "wanted": "sp",
            "by": None,
            "at": None,
            "channel": None,
        }
    ]
    assert ack["result"]["states"] == {str(kworld.pupil.id): None, str(kworld.classmate.id): "nb"}
    recorded = db.session.scalars(
        select(Attendance).where(Attendance.lesson_id == kworld.lesson.id)
    ).all()
    assert {a.pupil_id: a.type.code for a in recorded} == {kworld.classmate.id: "nb"}
    after = counts()
    assert after["processed"] - before["processed"] == 1


def test_the_roster_shows_states_types_in_tap_order_and_grades(
    kiosk: Any, kworld: KioskWorld
) -> None:
    submit(kiosk, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    submit(
        kiosk, kiosk.token, "grade", kworld.lesson.id, {"pupil_id": kworld.pupil.id, "value": "5"}
    )
    sheet = call(kiosk, "roster", {"session": kiosk.token, "lesson_id": kworld.lesson.id})
    assert sheet["ok"] is True
    assert [t["code"] for t in sheet["attendance_types"]] == [
        "ob",
        "nb",
        "sp",
        "u",
        "su",
        "ns",
        "zw",
    ]
    assert {c["name"] for c in sheet["grade_categories"]} >= {"sprawdzian", "kartkówka"}
    pupils = {p["id"]: p for p in sheet["pupils"]}
    assert set(pupils) == {kworld.pupil.id, kworld.classmate.id}
    assert pupils[kworld.pupil.id]["attendance"] == "nb"
    assert pupils[kworld.classmate.id]["attendance"] == "ob"
    [grade] = pupils[kworld.pupil.id]["grades"]
    assert grade["value"] == "5" and grade["mine"] is True and grade["version"] == 1


def test_entries_survive_a_revocation_and_sync_after_enrolling_again(
    connect: Any, kiosk: Any, kworld: KioskWorld
) -> None:
    revoke_kiosk(SYSTEM, kworld.kiosk)
    db.session.commit()
    assert submit(
        kiosk, kiosk.token, "topic", kworld.lesson.id, {"topic": "X", "base_topic": None}
    )["error"] == ("kiosk_revoked")
    secret = enroll(kworld.kiosk)
    db.session.commit()
    again = connect({"kiosk_id": kworld.kiosk.id, "secret": secret})
    # The entry typed before the revocation, under the old day session, is still the teacher's.
    ack = submit(again, kiosk.token, "roll", kworld.lesson.id, _roll(kworld, pupil="nb"))
    assert ack["ok"] is True and ack["status"] == "applied"
    # ...but that session opens nothing any more: a full login is needed for the screens.
    ended = call(again, "lessons", {"session": kiosk.token})
    assert ended["error"] == "session_ended" and ended["reason"] == "kiosk_revoked"
