"""One column of a grid as a plain form: entering grades without JavaScript (issue 15, item 2).

Each row carries the grade and version it showed; only the rows whose text changed are sent to
the operation. A cell changed meanwhile, or refused, is shown again with the reason and what
was typed; the others are saved.
"""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ediary.db import db
from ediary.errors import Conflict
from ediary.gradebook.access import load_assessment
from ediary.gradebook.models import Assessment
from ediary.gradebook.operations import ColumnSaved, Entry, save_column
from ediary.gradebook.queries import pupil_rows
from ediary.gradebook.views import GRID, _assignment, bp, grid_url
from ediary.ids import id_arg, parse_id
from ediary.schools.models import School, SchoolClass, Subject
from ediary.schools.queries import school_today
from ediary.timetable.models import TeachingAssignment
from ediary.web.auth import login_required
from ediary.web.pages import perform

# The column in the query (`?column=<id>`): a path argument would need an object of the role
# matrix's world, which has no columns.
COLUMN = GRID + "/column"


@bp.get(COLUMN)
@login_required
def column(class_id: int, subject_id: int) -> ResponseReturnValue:
    assignment = _assignment(class_id, subject_id)
    return _page(assignment, load_assessment(assignment, id_arg("column")))


def _page(
    assignment: TeachingAssignment,
    assessment: Assessment,
    typed: dict[int, str] | None = None,
    result: ColumnSaved | None = None,
) -> str:
    school_class = db.session.get(SchoolClass, assignment.class_id)
    assert school_class is not None
    return render_template(
        "gradebook/column.html",
        assignment=assignment,
        assessment=assessment,
        school_class=school_class,
        subject=db.session.get(Subject, assignment.subject_id),
        rows=pupil_rows(assignment, assessment, school_class.school),
        typed=typed or {},
        problems=result.problems if result else {},
        grid_url=grid_url,
    )


def _seen(raw: str) -> int | None:
    return parse_id(raw) if raw else None


@bp.post(COLUMN)
@login_required
def save_column_form(class_id: int, subject_id: int) -> ResponseReturnValue:
    assignment = _assignment(class_id, subject_id)
    assessment = load_assessment(assignment, id_arg("column"))
    school = db.session.get(School, assignment.school_id)
    assert school is not None
    entries, typed = [], {}
    for row in pupil_rows(assignment, assessment, school):
        pupil_id = row.pupil.id
        text = request.form.get(f"text-{pupil_id}")
        shown = request.form.get(f"shown-{pupil_id}", "")
        if text is None or text.strip() == shown:
            continue
        typed[pupil_id] = text
        seen = (
            request.form.get(f"grade-{pupil_id}", ""),
            request.form.get(f"version-{pupil_id}", ""),
        )
        entries.append(Entry(row.pupil, text, _seen(seen[0]), _seen(seen[1])))
    ids = (assignment.id, assessment.id)

    def again(result: ColumnSaved) -> ResponseReturnValue | None:
        if not result.problems:
            return None
        kept = {p: typed[p] for p in result.problems}
        found = db.session.get(TeachingAssignment, ids[0])
        column_ = db.session.get(Assessment, ids[1])
        assert found is not None and column_ is not None
        page = _page(found, column_, kept, result)
        conflict = any(isinstance(r, Conflict) for r in result.problems.values())
        return page, 409 if conflict else 400

    return perform(
        lambda actor: save_column(actor, assessment, entries, today=school_today(school)),
        to=grid_url(assignment, term=assessment.term_id),
        message=lambda done: (
            _("Zapisane oceny: %(count)s.", count=done.saved)
            if done.saved
            else _("Nic nie zmieniono.")
        ),
        refused=None,
        then=again,
    )
