"""The import pages: upload → mapping and dry run → commit with a progress bar → result.

The uploaded file stays on the server under a random token (ediary/office/imports/models.py);
the browser holds only the token, never the children's data.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.office.imports import progress
from ediary.office.imports.access import load_upload
from ediary.office.imports.fields import all_fields, guess
from ediary.office.imports.models import ImportMapping, ImportUpload
from ediary.office.imports.operations import (
    Summary,
    discard,
    import_rows,
    keep_upload,
    remember_mapping,
)
from ediary.office.imports.plan import make_plan
from ediary.office.imports.reading import Sheet, kind_of, read_sheet
from ediary.schools.access import load_school
from ediary.schools.models import School
from ediary.schools.queries import school_today
from ediary.web.auth import login_required
from ediary.web.models import SentForm
from ediary.web.pages import perform, sent_token


def _(message: str, /, **values: Any) -> str:
    return str(gettext(message, **values))


bp = Blueprint("imports", __name__, url_prefix="/office")

# A pupil list of a whole school is well under 2 MB as CSV; 5 MB leaves room for XLSX styling.
UPLOAD_BYTES = 5 * 1024 * 1024


@bp.url_value_preprocessor
def _upload_sized_body(endpoint: str | None, _values: dict[str, object] | None) -> None:
    """The upload's own body limit, set before the CSRF check reads the form (as excuses do)."""
    if endpoint == "imports.upload" and request.method == "POST":
        request.max_content_length = UPLOAD_BYTES


@bp.errorhandler(413)
def _too_large(_error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    message = _("Plik jest za duży: najwyżej %(mb)s MB. Nic nie zapisano.", mb=UPLOAD_BYTES >> 20)
    return render_template("office/imports/upload.html", school=None, error=message), 413


@bp.route("/schools/<int:school_id>/import", methods=["GET", "POST"])
@login_required
def upload(school_id: int) -> ResponseReturnValue:
    school = load_school(current_user, school_id)
    if request.method == "GET":
        return render_template("office/imports/upload.html", school=school)
    file = request.files.get("file")
    filename = (file.filename or "") if file is not None else ""
    data = _read(file) if file is not None else b""  # read once: perform may run `keep` again

    def keep(actor: Actor) -> str:
        if not filename:
            raise Refusal("import_no_file", _("Wybierz plik do wczytania."))
        kind = kind_of(filename)
        read_sheet(data, kind)  # refused here, before anything is kept
        return keep_upload(actor, school, filename, kind, data)

    return perform(
        keep,
        to=url_for("imports.upload", school_id=school.id),
        then=lambda token: redirect(url_for("imports.dry_run", token=token)),
        refused=lambda refusal: render_template(
            "office/imports/upload.html", school=school, refusal=refusal
        ),
    )


def _read(file: FileStorage) -> bytes:
    """The upload's bytes; its spooled temporary file is closed at once, not at collection."""
    try:
        data: bytes = file.read(UPLOAD_BYTES + 1)
        return data
    finally:
        file.close()


def _sheet(upload: ImportUpload) -> Sheet:
    return read_sheet(upload.data, upload.kind)


def _mapping(school: School, sheet: Sheet) -> dict[str, str]:
    remembered = db.session.get(ImportMapping, school.id)
    mapping = guess(sheet.headers)
    if remembered is not None:
        mapping.update({k: v for k, v in remembered.columns.items() if v in sheet.headers})
    return mapping


@bp.route("/imports/<token>", methods=["GET", "POST"])
@login_required
def dry_run(token: str) -> ResponseReturnValue:
    found = load_upload(current_user, token)
    school = db.session.get(School, found.school_id)
    assert school is not None
    sheet = _sheet(found)
    if request.method == "POST":
        fields = all_fields()
        chosen = {k: request.form.get(k, "") for k in fields}
        chosen = {k: v for k, v in chosen.items() if v in sheet.headers}
        return perform(
            lambda actor: remember_mapping(actor, school, chosen),
            to=url_for("imports.dry_run", token=token),
            refused=None,
        )
    return _dry_run_page(found, school, sheet)


def _dry_run_page(
    found: ImportUpload, school: School, sheet: Sheet, refusal: Refusal | None = None
) -> str:
    mapping = _mapping(school, sheet)
    plan = make_plan(school, sheet, mapping, school_today(school))
    return render_template(
        "office/imports/dry_run.html",
        upload=found,
        school=school,
        sheet=sheet,
        fields=all_fields(),
        mapping=mapping,
        plan=plan,
        refusal=refusal,
    )


@bp.post("/imports/<token>/commit")
@login_required
def commit(token: str) -> ResponseReturnValue:
    twin = _sent_before()
    if twin is not None:
        return twin  # the commit's form again (a double click): it went there the first time
    found = load_upload(current_user, token)
    school = db.session.get(School, found.school_id)
    assert school is not None
    sheet = _sheet(found)
    mapping = _mapping(school, sheet)

    seen = request.form.get("version", "")

    def apply(actor: Actor) -> Summary:
        plan = make_plan(school, sheet, mapping, school_today(school))
        if plan.version != seen:
            raise Conflict(
                "import_changed",
                _("Dane w dzienniku zmieniły się od próby. Sprawdź próbę jeszcze raz i zatwierdź."),
            )
        summary = import_rows(actor, school, plan, progress.reporter(token))
        discard(found)
        return summary

    done_at = url_for("imports.upload", school_id=school.id)

    def said(summary: Summary) -> str:
        return _(
            "Zaimportowano: %(new)s nowych uczniów, %(changed)s zmienionych, "
            "%(guardians)s nowych kont opiekunów.",
            new=summary.pupils_new,
            changed=summary.pupils_changed,
            guardians=summary.guardians_new,
        )

    def then(summary: Summary) -> ResponseReturnValue | None:
        if request.accept_mimetypes.best != "application/json":
            return None  # the form sent by the browser: perform flashes and redirects
        # The page's script sent it (import.js): it goes to the result itself, so that the
        # message is shown there and not spent on a redirect the script followed.
        flash(said(summary), "info")
        return jsonify({"ok": True, "location": done_at})

    try:
        return perform(
            apply,
            actor=Actor(current_user, Channel.IMPORT),
            to=done_at,
            message=said,
            then=then,
            refused=lambda refusal: _dry_run_page(found, school, sheet, refusal),
        )
    finally:
        progress.finished(token)


def _sent_before() -> ResponseReturnValue | None:
    """Where the same form went when it was sent before. `perform` does this too, but the
    upload is gone with the first commit, so the loader would answer 404 before it is asked."""
    sent = sent_token()
    earlier = db.session.get(SentForm, (current_user.id, sent)) if sent else None
    if earlier is None:
        return None
    if earlier.message:
        flash(earlier.message, "info")
    return redirect(earlier.location)


@bp.get("/imports/<token>/progress")
@login_required
def import_progress(token: str) -> ResponseReturnValue:
    load_upload(current_user, token)
    state = progress.state(token)
    done, total = state if state is not None else (0, 0)
    return jsonify({"done": done, "total": total, "running": state is not None})
