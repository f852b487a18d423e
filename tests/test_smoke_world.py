from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import record_grade, submit_roll
from ediary.journal.models import JournalEvent


def test_roll_and_grade_leave_history_and_journal(world, session):
    actor = Actor(world.teacher, Channel.WEB)
    result = submit_roll(actor, world.lesson, {world.pupil.id: "nb"}, topic="Ułamki")
    assert result == {"lesson_id": world.lesson.id, "pupils": 2, "changed": 2}
    grade = record_grade(actor, pupil=world.pupil, subject=world.math, value="4+",
                         category=world.test_category, given_on=world.today)
    session.commit()
    events = session.scalars(select(JournalEvent).order_by(JournalEvent.id)).all()
    assert [e.type for e in events] == ["attendance.recorded", "attendance.recorded", "lesson.topic", "grade.added"]
    hist = session.scalars(select(HistoryEntry).where(HistoryEntry.entity == "grades")).one()
    assert hist.actor_id == world.teacher.id and hist.new["value"] == "4+" and hist.entity_id == grade.id
