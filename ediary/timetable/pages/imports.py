"""The timetable import: upload (aSc XML or CSV) → the dry run, row by row → commit, in one
operation with channel `import`. The file is kept between the two (`TimetableUpload`), so the
commit does what the person saw, and sending the commit twice changes nothing the second time
(the same file again is all "unchanged")."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.schools.models import School
from ediary.schools.queries import school_today
from ediary.timetable.access import load_plan
from ediary.timetable.grid import not_past
from ediary.timetable.imports.commit import commit_import, read, store_upload
from ediary.timetable.imports.dryrun import dry_run
from ediary.timetable.imports.result import DryRun
from ediary.timetable.imports.source import MAX_BYTES
from ediary.timetable.models import TimetableUpload
from ediary.timetable.pages import _, bp, date_field
from ediary.web.auth import login_required
from ediary.web.pages import perform

# The body may be a little over the file's limit, so that a file over MAX_BYTES is refused by
# the form (in Polish, the date kept) rather than by the site's bare 413; beyond, the 413 page.
UPLOAD_REQUEST_BYTES = MAX_BYTES + 1024 * 1024


@bp.url_value_preprocessor
def _upload_sized_body(endpoint: str | None, _values: dict[str, object] | None) -> None:
    """Before the CSRF check reads the body (see ediary/excuses/views.py, the same need)."""
    if endpoint == "plan.upload" and request.method == "POST":
        request.max_content_length = UPLOAD_REQUEST_BYTES


@bp.get("/schools/<int:school_id>/plan/import")
@login_required
def import_page(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    return _form(school)


def _form(school: School, refusal: Refusal | None = None) -> str:
    return render_template(
        "plan/import.html",
        school=school,
        from_date=request.form.get("from_date") or school_today(school).isoformat(),
        refusal=refusal,
    )


@bp.post("/schools/<int:school_id>/plan/import")
@login_required
def upload(school_id: int) -> ResponseReturnValue:
    """The dry run: reads and compares, writes nothing but the kept file."""
    school = load_plan(current_user, school_id, edit=True)
    sent = request.files.get("file")
    try:
        from_date = date_field(school)
        not_past(school, from_date)
        if sent is None or not sent.filename:
            raise Refusal("no_file", _("Wybierz plik z planem (XML z aSc lub CSV)."))
        data = sent.stream.read(MAX_BYTES + 1)
        kept = store_upload(current_user, school, sent.filename, data)
        result = dry_run(school, read(kept), from_date)
    except Refusal as refusal:
        db.session.rollback()
        return _form(school, refusal), refusal.status
    db.session.commit()  # the kept file only: scratch for the commit, no school record
    return _dry_run_page(school, kept, from_date.isoformat(), result)


def _dry_run_page(
    school: School,
    kept: TimetableUpload,
    from_date: str,
    result: DryRun,
    refusal: Refusal | None = None,
) -> str:
    return render_template(
        "plan/dry_run.html",
        school=school,
        upload=kept,
        from_date=from_date,
        result=result,
        refusal=refusal,
    )


@bp.post("/schools/<int:school_id>/plan/import/commit")
@login_required
def commit(school_id: int) -> ResponseReturnValue:
    school = load_plan(current_user, school_id, edit=True)
    upload_id = parse_id(request.form.get("upload", ""))
    kept = db.session.get(TimetableUpload, upload_id) if upload_id else None
    if kept is None or kept.school_id != school.id or kept.user_id != current_user.id:
        return _form(
            school,
            Refusal(
                "upload_gone",
                _(
                    "Nie ma już tego pliku (minęła doba lub wczytano go na innym koncie). "
                    "Wczytaj go ponownie."
                ),
            ),
        ), 400

    def run(actor: Actor) -> DryRun:
        seen = request.form.get("seen") or None
        return commit_import(actor, school, kept, date_field(school), seen=seen)

    def refused(refusal: Refusal) -> str:
        again = db.session.get_one(TimetableUpload, kept.id)
        raw = request.form.get("from_date", "")
        return _dry_run_page(
            school, again, raw, dry_run(school, read(again), date_field(school)), refusal
        )

    return perform(
        run,
        to=url_for(".index", school_id=school.id),
        message=lambda done: _(
            "Zaimportowano plan: nowych %(new)s, zmienionych %(changed)s, usuniętych "
            "%(removed)s, odrzuconych %(refused)s.",
            new=done.count("new"),
            changed=done.count("changed"),
            removed=done.count("removed"),
            refused=done.count("refused"),
        ),
        refused=refused,
        actor=Actor(current_user, Channel.IMPORT),
    )
