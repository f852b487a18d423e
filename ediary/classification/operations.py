"""Classification writes: a subject teacher's proposed and final grades, the director's
correction after the council, a guardian's acknowledgement, the council's calendar.

Proposed and final grades are `Grade` rows (values.py says which values); one live row per
pupil, subject, term and kind, changed in place (the history keeps every earlier value), so the
page states what it showed (the row's id and version) and a stale page is a `Conflict`.

Past the statute's deadline a proposal is still saved, and marked late (`is_late`): the deadline
is the school's duty to inform the parents in time (the statute: of a failing grade about a month
ahead), not a limit on the teacher's judgement. Refusing a late proposal would leave the parents
with no proposal at all, which is the very thing the rule is there to prevent; a late one reaches
them at once (live) and shows its date, so the director and the parents see that it was late.
Final grades, though, are locked after the council's date: the council approved them, and only
the director corrects one afterwards (`correct_final_grade`, with a reason). Proposals lock with
them: after the council there is nothing left to propose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access import roles
from ediary.audit.recording import Actor, operation
from ediary.classification.calendar import is_last_term, is_late, is_locked
from ediary.classification.models import GradeCorrection, ProposalAcknowledgement
from ediary.classification.values import (
    FINAL_KINDS,
    PROPOSED_KINDS,
    FinalValue,
    is_descriptive_level,
    parse_final,
)
from ediary.council.models import BehaviourGrade, BehaviourKind
from ediary.db import db
from ediary.diary.models import Grade, GradeKind
from ediary.errors import Conflict, Refusal
from ediary.journal.catalogue import GradeAdded
from ediary.journal.operations import publish
from ediary.people.models import Role
from ediary.schools.models import GroupMembership, Pupil, School, SchoolClass, Term
from ediary.timetable.models import TeachingAssignment

MAX_REASON = 500
MAX_DAYS = 120


def kinds_of(term: Term) -> tuple[GradeKind, GradeKind]:
    """(proposed, final) kinds of a term's classification: the year's on the last term."""
    if is_last_term(term):
        return GradeKind.PROPOSED_YEAR, GradeKind.YEAR
    return GradeKind.PROPOSED_TERM, GradeKind.TERM


def current_grade(pupil_id: int, subject_id: int, term_id: int, kind: GradeKind) -> Grade | None:
    """The live proposed or final grade (one per pupil, subject, term and kind)."""
    query = (
        select(Grade)
        .where(
            Grade.pupil_id == pupil_id,
            Grade.subject_id == subject_id,
            Grade.term_id == term_id,
            Grade.kind == kind,
            Grade.removed.is_(False),
        )
        .order_by(Grade.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def late(grade: Grade, term: Term) -> bool:
    """A proposal given (or last changed) after its deadline; never a final grade."""
    if grade.kind not in PROPOSED_KINDS:
        return False
    return is_late(term, FinalValue(grade.value, grade.descriptive).early_notice, grade.given_on)


def _locked_refusal(term: Term) -> Refusal:
    assert term.council_on is not None
    return Refusal(
        "classification_locked",
        _l(
            "Oceny za ten okres są zamknięte: rada klasyfikacyjna odbyła się %(date)s. "
            "Zmienić ocenę może tylko dyrektor szkoły (korekta z uzasadnieniem).",
            date=format_date(term.council_on, "d MMMM y"),
        ),
    )


def _check_seen(current: Grade | None, seen_grade_id: int | None, seen_version: int | None) -> None:
    now_id = current.id if current is not None else None
    now_version = current.version if current is not None else None
    if now_id != seen_grade_id or now_version != seen_version:
        raise Conflict(
            "stale_version",
            _l("Ktoś zmienił tę ocenę w międzyczasie. Sprawdź obecną wartość i zapisz ponownie."),
        )


def _in_assignment(assignment: TeachingAssignment, pupil: Pupil) -> bool:
    if pupil.class_id != assignment.class_id or not pupil.active:
        return False
    if assignment.group_id is None:
        return True
    query = select(GroupMembership.id).where(
        GroupMembership.group_id == assignment.group_id, GroupMembership.pupil_id == pupil.id
    )
    return db.session.scalar(query) is not None


def _final_payload(grade: Grade) -> GradeAdded:
    return {
        "pupil_id": grade.pupil_id,
        "grade_id": grade.id,
        "subject": grade.subject.name,
        "kind": grade.kind.value,
        "value": grade.value,
        "descriptive": grade.descriptive,
        "category": None,
        "weight": None,
        "description": None,
        "given_on": grade.given_on.isoformat(),
        "teacher": grade.teacher.full_name,
        "improves_id": None,
    }


def _announce(grade: Grade, term: Term, created: bool) -> None:
    """Live to the pupil's audience: a proposal as `grade.proposed`, a final grade as any grade."""
    if grade.kind in PROPOSED_KINDS:
        publish(
            "grade.proposed",
            school_id=grade.school_id,
            audience_id=grade.pupil_id,
            pupil_id=grade.pupil_id,
            grade_id=grade.id,
            term_id=grade.term_id,
            subject=grade.subject.name,
            kind=grade.kind.value,
            value=None if grade.removed else grade.value,
            descriptive=None if grade.removed else grade.descriptive,
            given_on=grade.given_on.isoformat(),
            teacher=grade.teacher.full_name,
            late=False if grade.removed else late(grade, term),
        )
    elif grade.removed:
        publish(
            "grade.removed",
            school_id=grade.school_id,
            audience_id=grade.pupil_id,
            pupil_id=grade.pupil_id,
            grade_id=grade.id,
            subject=grade.subject.name,
        )
    else:
        payload = _final_payload(grade)
        if created:
            publish("grade.added", school_id=grade.school_id, audience_id=grade.pupil_id, **payload)
        else:
            publish(
                "grade.changed", school_id=grade.school_id, audience_id=grade.pupil_id, **payload
            )


@operation
def set_classification_grade(
    actor: Actor,
    assignment: TeachingAssignment,
    term: Term,
    pupil: Pupil,
    kind: GradeKind,
    text: str,
    *,
    seen_grade_id: int | None,
    seen_version: int | None,
    today: dt.date,
) -> Grade | None:
    """The subject teacher gives, changes or (with empty `text`) withdraws a pupil's proposed or
    final grade of the term. `seen_*`: the row the page showed (None: none); anything else now
    is a Conflict. Returns the live grade (None when withdrawn or still none)."""
    user = actor.user
    if user is None or user.id != assignment.teacher_id:
        raise Refusal("not_your_assignment", _l("To nie jest Twój przydział."))
    if not roles.has_school_role(user, assignment.school_id, Role.TEACHER):
        raise Refusal("not_your_assignment", _l("To nie jest Twój przydział."))
    if term.year_id != _class(assignment).year_id:
        raise Refusal("term_unknown", _l("Nieznany okres."))
    if kind not in kinds_of(term):
        raise Refusal("kind_not_this_term", _l("W tym okresie wystawia się inne oceny."))
    if not _in_assignment(assignment, pupil):
        raise Refusal("pupil_not_in_assignment", _l("Ten uczeń nie należy do tej klasy lub grupy."))
    current = current_grade(pupil.id, assignment.subject_id, term.id, kind)
    descriptive = is_descriptive_level(_class(assignment).grade_level)
    parsed = parse_final(text, descriptive=descriptive) if (text or "").strip() else None
    shown = (current.value, current.descriptive) if current is not None else None
    if shown == ((parsed.value, parsed.descriptive) if parsed is not None else None):
        # What the server has already (a row sent twice, a whole page re-sent): no change, so
        # no conflict either, whatever version the page showed.
        return current
    _check_seen(current, seen_grade_id, seen_version)
    if is_locked(term, today):
        raise _locked_refusal(term)
    if parsed is None:
        assert current is not None
        current.removed = True
        db.session.flush()
        _announce(current, term, created=False)
        return None
    created = current is None
    if current is None:
        current = Grade(
            school_id=assignment.school_id,
            pupil_id=pupil.id,
            subject_id=assignment.subject_id,
            term_id=term.id,
            kind=kind,
        )
        db.session.add(current)
    current.teacher_id = user.id
    current.value = parsed.value
    current.descriptive = parsed.descriptive
    # The day it was given or last changed: what the parents learn and when (late or not).
    current.given_on = today
    db.session.flush()
    db.session.refresh(current, ["subject", "teacher"])
    _announce(current, term, created)
    return current


def _class(assignment: TeachingAssignment) -> SchoolClass:
    return db.session.get_one(SchoolClass, assignment.class_id)


@dataclass(frozen=True)
class Cell:
    """What the page sent for one pupil's proposed or final grade."""

    pupil: Pupil
    kind: GradeKind
    text: str
    seen_grade_id: int | None
    seen_version: int | None

    @property
    def key(self) -> str:
        return f"{self.kind.value}-{self.pupil.id}"


@dataclass
class SheetSaved:
    changed: int = 0
    late: list[Grade] = field(default_factory=list)


@operation
def save_sheet(
    actor: Actor,
    assignment: TeachingAssignment,
    term: Term,
    cells: list[Cell],
    *,
    today: dt.date,
) -> SheetSaved:
    """A row, or the whole page, at once: every cell or none. A refused cell refuses the lot
    (`cells` in the refusal: each cell's own message, shown next to it); a conflict in any cell
    is a Conflict, nothing saved, and the page shows what the server has now."""
    saved = SheetSaved()
    problems: dict[str, str] = {}
    conflict = False
    for cell in cells:
        before = current_grade(cell.pupil.id, assignment.subject_id, term.id, cell.kind)
        was = (before.value, before.descriptive, before.version) if before is not None else None
        try:
            grade = set_classification_grade(
                actor,
                assignment,
                term,
                cell.pupil,
                cell.kind,
                cell.text,
                seen_grade_id=cell.seen_grade_id,
                seen_version=cell.seen_version,
                today=today,
            )
        except Refusal as refusal:
            problems[cell.key] = str(refusal.message)
            conflict = conflict or isinstance(refusal, Conflict)
            continue
        now = (grade.value, grade.descriptive, grade.version) if grade is not None else None
        if now != was:
            saved.changed += 1
            if grade is not None and late(grade, term):
                saved.late.append(grade)
    if problems:
        if conflict:
            raise Conflict(
                "stale_version",
                _l(
                    "Nie zapisano: ktoś zmienił oceny w międzyczasie. "
                    "Sprawdź zaznaczone i zapisz ponownie."
                ),
                cells=problems,
            )
        raise Refusal("sheet_invalid", _l("Nie zapisano: popraw zaznaczone oceny."), cells=problems)
    return saved


@operation
def correct_final_grade(
    actor: Actor, grade: Grade, text: str, reason: str, *, seen_version: int | None
) -> GradeCorrection:
    """The director's correction of a final (term or year) grade, with the reason: after the
    council the only way to change one. The history keeps the old value, this row the reason."""
    user = actor.user
    if user is None or not roles.is_school_admin(user, grade.school_id):
        raise Refusal("not_director", _l("Ocenę po radzie klasyfikacyjnej poprawia dyrektor."))
    if grade.kind not in FINAL_KINDS or grade.removed:
        raise Refusal("not_final", _l("Poprawić można tylko wystawioną ocenę klasyfikacyjną."))
    if seen_version != grade.version:
        raise Conflict(
            "stale_version",
            _l("Ktoś zmienił tę ocenę w międzyczasie. Sprawdź obecną wartość i zapisz ponownie."),
        )
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_required", _l("Podaj uzasadnienie korekty."))
    if len(reason) > MAX_REASON:
        raise Refusal(
            "reason_too_long",
            _l("Uzasadnienie jest za długie (najwyżej %(n)s znaków).", n=MAX_REASON),
        )
    pupil = db.session.get_one(Pupil, grade.pupil_id)
    parsed = parse_final(text, descriptive=is_descriptive_level(pupil.school_class.grade_level))
    if (grade.value, grade.descriptive) == (parsed.value, parsed.descriptive):
        raise Refusal("correction_same", _l("To ta sama ocena: nie ma czego poprawiać."))
    correction = GradeCorrection(
        school_id=grade.school_id,
        grade_id=grade.id,
        pupil_id=grade.pupil_id,
        director_id=user.id,
        old_value=grade.value if grade.value is not None else grade.descriptive,
        new_value=parsed.value if parsed.value is not None else parsed.descriptive,
        reason=reason,
    )
    db.session.add(correction)
    grade.value = parsed.value
    grade.descriptive = parsed.descriptive
    db.session.flush()
    term = db.session.get_one(Term, grade.term_id)
    _announce(grade, term, created=False)
    return correction


@operation
def acknowledge_proposals(
    actor: Actor, pupil: Pupil, term: Term, kind: GradeKind
) -> ProposalAcknowledgement:
    """A guardian read the child's proposed grades of the term (or year): recorded once, with
    its time; pressing again (or a form sent twice) changes nothing."""
    user = actor.user
    if user is None or not roles.is_guardian_of(user, pupil.id):
        raise Refusal("not_guardian", _l("To nie jest Twoje dziecko."))
    if kind not in PROPOSED_KINDS or term.year_id != pupil.school_class.year_id:
        raise Refusal("term_unknown", _l("Nieznany okres."))
    found = db.session.scalar(
        select(ProposalAcknowledgement).where(
            ProposalAcknowledgement.guardian_id == user.id,
            ProposalAcknowledgement.pupil_id == pupil.id,
            ProposalAcknowledgement.term_id == term.id,
            ProposalAcknowledgement.kind == kind,
        )
    )
    if found is not None:
        return found
    proposed = select(Grade.id).where(
        Grade.pupil_id == pupil.id,
        Grade.term_id == term.id,
        Grade.kind == kind,
        Grade.removed.is_(False),
    )
    # The proposed behaviour grade (ediary/council) is shown on the same page and read with the
    # subject grades: one acknowledgement covers both (on the last term, the year's).
    behaviour = select(BehaviourGrade.id).where(
        BehaviourGrade.pupil_id == pupil.id,
        BehaviourGrade.term_id == term.id,
        BehaviourGrade.kind == BehaviourKind.PROPOSED,
    )
    if (
        db.session.scalar(proposed.limit(1)) is None
        and db.session.scalar(behaviour.limit(1)) is None
    ):
        raise Refusal("nothing_proposed", _l("Nie ma jeszcze ocen przewidywanych."))
    row = ProposalAcknowledgement(
        school_id=pupil.school_id,
        guardian_id=user.id,
        pupil_id=pupil.id,
        term_id=term.id,
        kind=kind,
    )
    db.session.add(row)
    return row


@operation
def set_council_calendar(
    actor: Actor,
    school: School,
    *,
    councils: dict[Term, dt.date | None],
    failing_days: int,
    other_days: int,
    seen: dict[str, str],
) -> None:
    """The director sets each term's council date and the proposal deadlines (days before it).
    `seen`: the values the page showed (`calendar_state`); changed meanwhile → Conflict."""
    user = actor.user
    if user is None or not roles.is_school_admin(user, school.id):
        raise Refusal("not_director", _l("Terminy klasyfikacji ustala dyrektor szkoły."))
    now = calendar_state(school, list(councils))
    wanted = {
        "failing_days": str(failing_days),
        "other_days": str(other_days),
        **{f"council_{t.id}": d.isoformat() if d else "" for t, d in councils.items()},
    }
    if wanted == now:
        return  # what is saved already (the form sent twice): no change, so no conflict
    if seen != now:
        raise Conflict(
            "stale_version",
            _l("Ktoś zmienił terminy w międzyczasie. Sprawdź obecne wartości i zapisz ponownie."),
        )
    for days in (failing_days, other_days):
        if not 0 <= days <= MAX_DAYS:
            raise Refusal(
                "days_invalid",
                _l("Liczba dni przed radą to od 0 do %(n)s.", n=MAX_DAYS),
            )
    for term, council_on in councils.items():
        if term.school_id != school.id:
            raise Refusal("term_unknown", _l("Nieznany okres."))
        if council_on is None:
            continue
        year_ends = term.year.ends_on
        if not term.starts_on <= council_on <= year_ends:
            raise Refusal(
                "council_date_invalid",
                _l(
                    "Data rady za okres %(n)s musi przypadać między początkiem okresu "
                    "a końcem roku szkolnego.",
                    n=term.number,
                ),
            )
    school.failing_proposal_days = failing_days
    school.proposal_days = other_days
    for term, council_on in councils.items():
        term.council_on = council_on


def calendar_state(school: School, terms: list[Term]) -> dict[str, str]:
    """What the calendar page shows, as the form's hidden `seen_*` fields carry it back."""
    state = {
        "failing_days": str(school.failing_proposal_days),
        "other_days": str(school.proposal_days),
    }
    for term in terms:
        state[f"council_{term.id}"] = term.council_on.isoformat() if term.council_on else ""
    return state
