"""The school's documentation for its director: the class diary per class and period (print
view and PDF), a pupil's record for the year, and the diary as XML (a class, or the school's
year). Reading only: nothing here writes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ediary.access import roles
from ediary.db import db
from ediary.diary.models import Attendance, AttendanceType, Grade, Presence
from ediary.documents.pdf import pdf_response, render_pdf
from ediary.records import export
from ediary.records.access import load_class, load_pupil, load_school, load_term, load_year
from ediary.records.book import ClassBook, class_book
from ediary.records.contents import Scope
from ediary.schools.models import SchoolClass, SchoolYear, Subject, Term
from ediary.web.auth import login_required

bp = Blueprint("records", __name__, url_prefix="/records")


@bp.app_template_global()
def keeps_records(school_id: int) -> bool:
    """Whether the signed-in person is the school's director (the school page's link)."""
    user = current_user
    return bool(user.is_authenticated) and roles.is_school_admin(user, school_id)


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int) -> ResponseReturnValue:
    found = load_school(current_user, school_id)
    years = list(
        db.session.scalars(
            select(SchoolYear)
            .where(SchoolYear.school_id == found.id)
            .order_by(SchoolYear.starts_on.desc())
        )
    )
    classes = {
        year.id: list(
            db.session.scalars(
                select(SchoolClass)
                .where(SchoolClass.year_id == year.id)
                .order_by(SchoolClass.grade_level, SchoolClass.name)
            )
        )
        for year in years
    }
    return render_template("records/school.html", school=found, years=years, classes=classes)


def _book(class_id: int) -> tuple[SchoolClass, Term | None, ClassBook]:
    school_class = load_class(current_user, class_id)
    term = load_term(school_class, request.args.get("term"))
    year = db.session.get(SchoolYear, school_class.year_id)
    assert year is not None
    starts, ends = (term.starts_on, term.ends_on) if term else (year.starts_on, year.ends_on)
    return school_class, term, class_book(school_class, starts, ends)


@bp.get("/classes/<int:class_id>/diary")
@login_required
def class_diary(class_id: int) -> ResponseReturnValue:
    _class, term, book = _book(class_id)
    return render_template("records/class_diary.html", book=book, term=term, pdf=False)


@bp.get("/classes/<int:class_id>/diary.pdf")
@login_required
def class_diary_pdf(class_id: int) -> ResponseReturnValue:
    school_class, term, book = _book(class_id)
    data = render_pdf("records/class_diary.html", book=book, term=term)
    period = f"okres-{term.number}" if term else "rok"
    return pdf_response(data, f"dziennik-{school_class.name}-{period}.pdf")


def _xml_download(scope: Scope, filename: str) -> Response:
    # Written to a temporary file first: a school's year is too big for memory, and a response
    # that fails half-way would look like a complete download. The file is gone when closed.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response's generator
    export.write(db.session(), scope, spool)
    size = spool.tell()
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := spool.read(1 << 16):
                yield chunk
        finally:
            spool.close()

    response = Response(chunks(), mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/classes/<int:class_id>/diary.xml")
@login_required
def class_xml(class_id: int) -> ResponseReturnValue:
    school_class = load_class(current_user, class_id)
    scope = export.scope_of(
        db.session(), school_class.school_id, school_class.year_id, school_class.id
    )
    return _xml_download(scope, f"dziennik-klasa-{school_class.id}.xml")


@bp.get("/schools/<int:school_id>/years/<int:year_id>.xml")
@login_required
def year_xml(school_id: int, year_id: int) -> ResponseReturnValue:
    year = load_year(current_user, school_id, year_id)
    scope = export.scope_of(db.session(), school_id, year.id)
    return _xml_download(scope, f"dziennik-szkola-{school_id}-rok-{year.id}.xml")


@bp.get("/pupils/<int:pupil_id>/record")
@login_required
def pupil_record(pupil_id: int) -> ResponseReturnValue:
    pupil = load_pupil(current_user, pupil_id)
    school_class = db.session.get(SchoolClass, pupil.class_id)
    assert school_class is not None
    year = db.session.get(SchoolYear, school_class.year_id)
    assert year is not None
    grades = db.session.execute(
        select(Subject.name, Grade)
        .join(Subject, Subject.id == Grade.subject_id)
        .where(
            Grade.pupil_id == pupil.id,
            Grade.removed.is_(False),
            Grade.given_on >= year.starts_on,
            Grade.given_on <= year.ends_on,
        )
        .order_by(Subject.name, Grade.given_on, Grade.id)
    )
    by_subject: dict[str, list[Grade]] = {}
    for name, grade in grades:
        by_subject.setdefault(name, []).append(grade)
    counts = {
        counts_as: count
        for counts_as, count in db.session.execute(
            select(AttendanceType.counts_as, func.count())
            .join(Attendance, Attendance.type_id == AttendanceType.id)
            .where(Attendance.pupil_id == pupil.id)
            .group_by(AttendanceType.counts_as)
        )
    }
    present = counts.get(Presence.PRESENT, 0)
    total = sum(counts.values())
    return render_template(
        "records/pupil_record.html",
        pupil=pupil,
        school_class=school_class,
        year=year,
        by_subject=by_subject,
        attendance_percent=round(100 * present / total, 1) if total else None,
        lessons=total,
        pdf=False,
    )
