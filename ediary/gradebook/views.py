"""The gradebook grid, its columns and cells; the teacher's lesson list (issue 15, items 2-3).

A cell is saved by static/js/gradebook.js, one request per cell (JSON): the grade and version
the page showed go with it, and a cell someone changed meanwhile answers 409 with the server's
value, which the page shows in the cell. Without JavaScript each column's heading opens that
column as a plain form (column_views.py); columns are added with a plain form.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor
from ediary.db import db, utcnow
from ediary.diary.models import Grade, GradeCategory
from ediary.errors import Refusal
from ediary.gradebook.access import (
    load_assessment,
    load_assignment,
    load_grid_pupil,
    require_teacher,
)
from ediary.gradebook.desk import ZONE, lessons_between, teacher_desk, week_of
from ediary.gradebook.lesson_history import lesson_changes
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import create_assessment, save_cell, shown
from ediary.gradebook.queries import assessments_of, build_grid, cells_html, pupil_row
from ediary.ids import id_arg, parse_id
from ediary.schools.models import ClassGroup, Pupil, School, SchoolClass, Subject, Term
from ediary.schools.queries import current_term, school_today
from ediary.timetable.models import TeachingAssignment
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("gradebook", __name__)
bp.add_app_template_global(teacher_desk)
bp.add_app_template_global(lesson_changes)


def _terms(school_class: SchoolClass) -> list[Term]:
    query = select(Term).where(Term.year_id == school_class.year_id).order_by(Term.number)
    return list(db.session.scalars(query))


def _term(school_class: SchoolClass, today: dt.date) -> tuple[Term, list[Term]]:
    """`?term=<id>` among the class's year; none: today's. Any other id is a missing page."""
    terms = _terms(school_class)
    if not terms:
        raise NotFound()
    wanted = id_arg("term")
    if wanted is None:
        return current_term(terms, today), terms
    for term in terms:
        if term.id == wanted:
            return term, terms
    raise NotFound()


def _context(assignment: TeachingAssignment) -> tuple[SchoolClass, School]:
    school_class = db.session.get(SchoolClass, assignment.class_id)
    assert school_class is not None
    return school_class, school_class.school


GRID = "/gradebook/<int:class_id>/<int:subject_id>"


def _assignment(class_id: int, subject_id: int) -> TeachingAssignment:
    return load_assignment(current_user, class_id, subject_id, id_arg("group"))


def grid_url(assignment: TeachingAssignment, endpoint: str = "gradebook.grid", **args: Any) -> str:
    return url_for(
        endpoint,
        class_id=assignment.class_id,
        subject_id=assignment.subject_id,
        group=assignment.group_id,
        **args,
    )


@bp.get(GRID)
@login_required
def grid(class_id: int, subject_id: int) -> ResponseReturnValue:
    return _grid_page(_assignment(class_id, subject_id))


def _grid_page(
    assignment: TeachingAssignment,
    refusal: Refusal | None = None,
    term: Term | None = None,
    typed: dict[str, str] | None = None,
) -> str:
    school_class, school = _context(assignment)
    today = school_today(school)
    chosen, terms = _term(school_class, today)
    term = term or chosen
    group = db.session.get(ClassGroup, assignment.group_id) if assignment.group_id else None
    categories = db.session.scalars(
        select(GradeCategory)
        .where(GradeCategory.school_id == school.id)
        .order_by(GradeCategory.weight.desc(), GradeCategory.name)
    ).all()
    return render_template(
        "gradebook/grid.html",
        grid=build_grid(assignment, term, school),
        school_class=school_class,
        group=group,
        subject=db.session.get(Subject, assignment.subject_id),
        terms=terms,
        categories=categories,
        school=school,
        today=today,
        refusal=refusal,
        typed=typed or {},
        grid_url=grid_url,
        cells_html=cells_html,
    )


@bp.post(GRID + "/columns")
@login_required
def add_assessment(class_id: int, subject_id: int) -> ResponseReturnValue:
    assignment = _assignment(class_id, subject_id)
    typed = {k: request.form.get(k, "") for k in ("category", "given_on", "description")}

    def create(actor: Actor) -> Assessment:
        category_id = parse_id(typed["category"])
        category = db.session.get(GradeCategory, category_id) if category_id else None
        try:
            given_on = dt.date.fromisoformat(typed["given_on"])
        except ValueError:
            raise Refusal("date_invalid", _("Podaj datę w postaci RRRR-MM-DD.")) from None
        weight_sent = request.form.get("weight")
        weight = parse_id(weight_sent) if weight_sent else None
        if weight_sent and weight is None:
            raise Refusal("weight_not_allowed", _("Nieprawidłowa waga."))
        return create_assessment(
            actor,
            assignment,
            category=category,
            given_on=given_on,
            description=typed["description"],
            weight=weight,
        )

    def refused(refusal: Refusal) -> str:
        again = _assignment(class_id, subject_id)  # the rollback expired it
        return _grid_page(again, refusal=refusal, typed=typed)

    return perform(
        create,
        to=grid_url(assignment),
        refused=refused,
        then=lambda made: _to_grid(assignment, made.term_id),
    )


def _to_grid(assignment: TeachingAssignment, term_id: int) -> ResponseReturnValue:
    flash(_("Dodano kolumnę ocen."), "info")
    return redirect(grid_url(assignment, term=term_id, _anchor="grid"))


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


@bp.post(GRID + "/cells")
@login_required
def save(class_id: int, subject_id: int) -> ResponseReturnValue:
    """One cell: {assessment, pupil, text, grade, version} → the cell and its row's average."""
    assignment = _assignment(class_id, subject_id)
    assessment = load_assessment(assignment, parse_id(request.form.get("assessment", "")))
    pupil = load_grid_pupil(assignment, parse_id(request.form.get("pupil", "")))
    seen_grade = request.form.get("grade", "")
    seen_version = request.form.get("version", "")
    grade_id = parse_id(seen_grade) if seen_grade else None
    version = parse_id(seen_version) if seen_version else None
    if (seen_grade and grade_id is None) or (seen_version and version is None):
        return _json(Refusal("invalid", _("Nieprawidłowe dane. Odśwież stronę.")).as_dict(), 400)
    text = request.form.get("text", "")
    school = db.session.get(School, assignment.school_id)
    assert school is not None
    ids = (assignment.id, assessment.id, pupil.id)

    def saved(grade: Grade | None) -> Response:
        return _json({"ok": True, **_cell(*ids)})

    def refused(refusal: Refusal) -> str:
        return json.dumps({**refusal.as_dict(), **_cell(*ids)})

    answer = perform(
        lambda actor: save_cell(
            actor,
            assessment,
            pupil,
            text,
            seen_grade_id=grade_id,
            seen_version=version,
            today=school_today(school),
        ),
        to=grid_url(assignment),
        refused=refused,
        then=saved,
    )
    if isinstance(answer, tuple):  # `perform`'s (refused(refusal), refusal.status)
        return _json(json.loads(str(answer[0])), int(str(answer[1])))
    return answer


def _cell(assignment_id: int, assessment_id: int, pupil_id: int) -> dict[str, Any]:
    """The cell and its row as the server has them now (after a save or a refusal)."""
    assignment = db.session.get(TeachingAssignment, assignment_id)
    assessment = db.session.get(Assessment, assessment_id)
    pupil = db.session.get(Pupil, pupil_id)
    assert assignment is not None and assessment is not None and pupil is not None
    term = db.session.get(Term, assessment.term_id)
    school = db.session.get(School, assignment.school_id)
    assert term is not None and school is not None
    columns = assessments_of(assignment, term)
    row = pupil_row(columns, pupil, term, school, assignment.subject_id)
    index = next(i for i, a in enumerate(columns) if a.id == assessment.id)
    cell = row.cells[index]
    return {
        "grade": cell.grade.id if cell.grade else None,
        "version": cell.grade.version if cell.grade else None,
        "value": shown(cell.grade),
        "earlier": [{"value": shown(g), "counted": g.id in row.counted} for g in cell.earlier],
        "average": str(row.average.value).replace(".", ",") if row.average.value else "",
        "explanation": row.explanation,
    }


@bp.get("/teacher/lessons")
@login_required
def lessons() -> ResponseReturnValue:
    """The teacher's lessons week by week (`?week=RRRR-MM-DD`, any day of it): the way to any
    past lesson's roll and topic."""
    require_teacher(current_user)
    raw = request.args.get("week")
    today = utcnow().astimezone(ZONE).date()
    try:
        day = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        raise NotFound() from None
    monday, sunday = week_of(day)
    return render_template(
        "gradebook/lessons.html",
        lessons=lessons_between(current_user, monday, sunday),
        monday=monday,
        sunday=sunday,
        previous=monday - dt.timedelta(days=7),
        following=monday + dt.timedelta(days=7),
        today=today,
    )


# The column's plain form registers its routes on this blueprint (kept in its own module).
from ediary.gradebook import column_views  # noqa: E402, F401
