"""The behaviour grade's writes: a teacher's opinion, the form tutor's proposed and final grade,
the director's correction after the council. Each takes the actor, checks its rules (a refusal
changes nothing) and compares with the version the page showed: a row changed meanwhile is a
`Conflict` shown to the person, never overwritten. Sending the same thing twice is harmless: a
row that already holds what is sent is left as it is.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ediary.access import roles
from ediary.audit.recording import Actor, operation
from ediary.classification.calendar import is_locked
from ediary.council.models import Behaviour, BehaviourGrade, BehaviourKind, BehaviourOpinion
from ediary.db import db, utcnow
from ediary.errors import Conflict, Refusal
from ediary.journal.operations import publish
from ediary.people.models import Role
from ediary.schools.models import Pupil, Term

MAX_OPINION = 500
MAX_REASON = 500
# Behaviour is graded 4-8; classes 1-3 get a descriptive assessment (not built here).
GRADED_FROM = 4


def parse_behaviour(raw: str | None) -> Behaviour:
    try:
        return Behaviour(raw or "")
    except ValueError:
        raise Refusal(
            "behaviour_invalid",
            _l(
                "Wybierz ocenę zachowania: wzorowe, bardzo dobre, dobre, poprawne, "
                "nieodpowiednie albo naganne."
            ),
        ) from None


def _check_pupil(pupil: Pupil, term: Term) -> None:
    if term.school_id != pupil.school_id or term.year_id != pupil.school_class.year_id:
        raise Refusal("term_invalid", _l("Ten okres nie należy do roku szkolnego ucznia."))
    if pupil.school_class.grade_level < GRADED_FROM:
        raise Refusal(
            "behaviour_descriptive",
            _l("W klasach 1-3 zachowanie ocenia się opisowo, bez oceny ze skali."),
        )


def _check_open(term: Term, today: dt.date) -> None:
    if is_locked(term, today):
        assert term.council_on is not None
        raise Refusal(
            "term_locked",
            _l(
                "Rada klasyfikacyjna odbyła się %(date)s: oceny tego okresu są zamknięte, "
                "poprawia je tylko dyrektor, podając powód.",
                date=term.council_on.strftime("%d.%m.%Y"),
            ),
        )


def _stale(current_version: int | None) -> Conflict:
    return Conflict(
        "stale",
        _l("Ktoś zmienił ten wpis w międzyczasie. Sprawdź jego obecną treść i zapisz ponownie."),
        current_version=current_version,
    )


def _compare(row: BehaviourOpinion | BehaviourGrade | None, base_version: int | None) -> None:
    """The version the page showed (None: it showed nothing) must be the row's."""
    current = row.version if row is not None else None
    if current != base_version:
        raise _stale(current)


@operation
def give_opinion(
    actor: Actor,
    pupil: Pupil,
    term: Term,
    *,
    value: str | None,
    text: str,
    base_version: int | None,
    today: dt.date,
) -> BehaviourOpinion:
    """A teacher of the pupil suggests a behaviour grade, with a short reason."""
    teacher = actor.user
    if (
        teacher is None
        or not roles.has_school_role(teacher, pupil.school_id, Role.TEACHER)
        or not roles.teaches_pupil(teacher, pupil)
    ):
        raise Refusal("not_teaching", _l("Opinię o zachowaniu wystawiają nauczyciele ucznia."))
    _check_pupil(pupil, term)
    behaviour = parse_behaviour(value)
    text = (text or "").strip()
    if len(text) > MAX_OPINION:
        raise Refusal(
            "opinion_too_long",
            _l("Opinia jest za długa (najwyżej %(n)s znaków).", n=MAX_OPINION),
        )
    _check_open(term, today)
    opinion = db.session.scalar(
        select(BehaviourOpinion).where(
            BehaviourOpinion.term_id == term.id,
            BehaviourOpinion.pupil_id == pupil.id,
            BehaviourOpinion.teacher_id == teacher.id,
        )
    )
    if opinion is not None and (opinion.value, opinion.text) == (behaviour, text):
        return opinion  # sent again: already so
    _compare(opinion, base_version)
    if opinion is None:
        opinion = BehaviourOpinion(
            school_id=pupil.school_id,
            term_id=term.id,
            pupil_id=pupil.id,
            teacher_id=teacher.id,
            value=behaviour,
            text=text,
        )
        db.session.add(opinion)
    else:
        opinion.value, opinion.text, opinion.written_at = behaviour, text, utcnow()
    db.session.flush()
    return opinion


def _publish(grade: BehaviourGrade, term: Term) -> None:
    publish(
        "behaviour.graded",
        school_id=grade.school_id,
        audience_id=grade.pupil_id,
        pupil_id=grade.pupil_id,
        term_id=term.id,
        term=term.number,
        kind=grade.kind.value,
        value=grade.value.value,
        name=grade.value.label,
    )


def behaviour_grade(pupil: Pupil, term: Term, kind: BehaviourKind) -> BehaviourGrade | None:
    return db.session.scalar(
        select(BehaviourGrade).where(
            BehaviourGrade.term_id == term.id,
            BehaviourGrade.pupil_id == pupil.id,
            BehaviourGrade.kind == kind,
        )
    )


@operation
def set_behaviour(
    actor: Actor,
    pupil: Pupil,
    term: Term,
    *,
    kind: BehaviourKind,
    value: str | None,
    base_version: int | None,
    today: dt.date,
) -> BehaviourGrade:
    """The form tutor's proposed grade, then the final one (until the council's date)."""
    tutor = actor.user
    if (
        tutor is None
        or not roles.has_school_role(tutor, pupil.school_id, Role.TEACHER)
        or not roles.is_form_tutor(tutor, pupil.school_class)
    ):
        raise Refusal("not_tutor", _l("Ocenę zachowania wystawia wychowawca klasy."))
    _check_pupil(pupil, term)
    behaviour = parse_behaviour(value)
    _check_open(term, today)
    if kind is BehaviourKind.FINAL and behaviour_grade(pupil, term, BehaviourKind.PROPOSED) is None:
        raise Refusal(
            "proposal_missing",
            _l("Najpierw wystaw przewidywaną ocenę zachowania: rodzice poznają ją przed radą."),
        )
    grade = behaviour_grade(pupil, term, kind)
    if grade is not None and grade.value == behaviour:
        return grade  # sent again: already so
    _compare(grade, base_version)
    if grade is None:
        grade = BehaviourGrade(
            school_id=pupil.school_id,
            term_id=term.id,
            pupil_id=pupil.id,
            kind=kind,
            value=behaviour,
        )
        db.session.add(grade)
    else:
        grade.value = behaviour
    db.session.flush()
    _publish(grade, term)
    return grade


@operation
def correct_behaviour(
    actor: Actor,
    grade: BehaviourGrade,
    *,
    value: str | None,
    reason: str,
    base_version: int | None,
    today: dt.date,
) -> BehaviourGrade:
    """The director's correction of a final behaviour grade after the council, with a reason
    (before it, the form tutor sets the grade)."""
    director = actor.user
    if director is None or not roles.is_school_admin(director, grade.school_id):
        raise Refusal("not_director", _l("Ocenę po radzie klasyfikacyjnej poprawia dyrektor."))
    if grade.kind is not BehaviourKind.FINAL:
        raise Refusal("not_final", _l("Poprawić można tylko ocenę ustaloną."))
    term = db.session.get_one(Term, grade.term_id)
    if not is_locked(term, today):
        raise Refusal(
            "not_locked",
            _l("Rada klasyfikacyjna jeszcze się nie odbyła: ocenę ustala wychowawca klasy."),
        )
    behaviour = parse_behaviour(value)
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason_empty", _l("Podaj powód poprawienia oceny."))
    if len(reason) > MAX_REASON:
        raise Refusal(
            "reason_too_long", _l("Powód jest za długi (najwyżej %(n)s znaków).", n=MAX_REASON)
        )
    if (grade.value, grade.correction_reason) == (behaviour, reason):
        return grade  # sent again: already so
    _compare(grade, base_version)
    grade.value, grade.correction_reason = behaviour, reason
    db.session.flush()
    _publish(grade, term)
    return grade
