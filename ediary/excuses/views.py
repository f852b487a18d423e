"""Excuses over the web: a parent asks (portal), the form tutor decides in bulk (queue)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor
from ediary.db import db
from ediary.diary.models import Attendance
from ediary.errors import Refusal
from ediary.excuses.access import load_child, load_for_decision, load_note, tutored_classes
from ediary.excuses.models import ExcuseRequest
from ediary.excuses.notes import MAX_NOTE_BYTES, check_note, path_of
from ediary.excuses.operations import DAYS_AHEAD, apply_excuse, decide_excuses, request_excuse
from ediary.excuses.queries import excusable_absences, requests_of, tutor_queue
from ediary.ids import form_ids, parse_id
from ediary.portal.queries import children_of
from ediary.realtime.queries import journal_head
from ediary.schools.models import Pupil, SchoolClass
from ediary.schools.queries import school_today
from ediary.web.auth import login_required
from ediary.web.pages import perform


def _(message: str, /, **values: Any) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


bp = Blueprint("excuses", __name__)

# The request that carries a note may be bigger than the site's limit (MAX_CONTENT_LENGTH), so
# that a note over MAX_NOTE_BYTES (a phone's 5 MB scan) is refused by the form, which keeps the
# reason and the ticked absences, instead of by a bare 413; beyond this, the site's 413 page.
NOTE_REQUEST_BYTES = 12 * 1024 * 1024


@bp.url_value_preprocessor
def _note_sized_body(endpoint: str | None, _values: dict[str, object] | None) -> None:
    """Raises the body limit for the excuse form before anything reads the body. Not a
    `before_request`: the app's CSRF check runs before a blueprint's and reads the form; URL
    value preprocessors run before both."""
    if endpoint == "excuses.child_excuses" and request.method == "POST":
        request.max_content_length = NOTE_REQUEST_BYTES


def _days(first: str, last: str) -> list[dt.date]:
    """School days (Monday to Friday) from `first` to `last`; both optional, both ISO dates."""
    if not first:
        return []
    try:
        start = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last) if last else start
    except ValueError:
        raise Refusal("day_invalid", _("Nieprawidłowa data.")) from None
    if end < start or (end - start).days > DAYS_AHEAD:
        raise Refusal("day_invalid", _("Nieprawidłowy zakres dni."))
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]


def _read(upload: FileStorage) -> bytes:
    """The upload's bytes; its spooled temporary file is closed at once, not at collection."""
    try:
        data: bytes = upload.read(MAX_NOTE_BYTES + 1)
        return data
    finally:
        upload.close()


@bp.route("/portal/<int:pupil_id>/excuses", methods=["GET", "POST"])
@login_required
def child_excuses(pupil_id: int) -> ResponseReturnValue:
    head = journal_head()
    pupil = load_child(current_user, pupil_id)
    today = school_today(pupil.school_class.school)
    if request.method == "GET":
        return _child_page(pupil, today, head)
    upload = request.files.get("note")
    # Read here, once: a second attempt (pages.perform) would find the stream spent.
    sent = _read(upload) if upload is not None and upload.filename else None

    def ask(actor: Actor) -> ExcuseRequest:
        wanted = set(form_ids("absence"))
        absences = (
            list(db.session.scalars(select(Attendance).where(Attendance.id.in_(wanted))))
            if wanted
            else []
        )
        if len(absences) != len(wanted):
            raise Refusal("absence_invalid", _("Tej nieobecności nie można usprawiedliwić."))
        return request_excuse(
            actor,
            pupil,
            absences=absences,
            future_days=_days(request.form.get("from", ""), request.form.get("to", "")),
            reason=request.form.get("reason", ""),
            note=check_note(sent) if sent is not None else None,
            today=today,
        )

    return perform(
        ask,
        to=url_for("excuses.child_excuses", pupil_id=pupil.id),
        message=_("Wysłano prośbę o usprawiedliwienie do wychowawcy."),
        refused=lambda refusal: _child_page(pupil, today, head, refusal),
    )


def _child_page(pupil: Pupil, today: dt.date, head: int, refusal: Refusal | None = None) -> str:
    """The child's requests and the form; after a refusal, with what was sent (the file aside:
    browsers never prefill a file input)."""
    kept = request.form if refusal is not None else None
    return render_template(
        "excuses/child.html",
        pupil=pupil,
        children=children_of(current_user),
        section="excuses",
        live_head=head,
        absences=excusable_absences(pupil, today),
        requests=requests_of(pupil),
        today=today,
        latest=today + dt.timedelta(days=DAYS_AHEAD),
        note_limit=MAX_NOTE_BYTES,
        refusal=refusal,
        reason=kept.get("reason", "") if kept else "",
        chosen=_ticked(kept, "absence"),
        days_from=kept.get("from", "") if kept else "",
        days_to=kept.get("to", "") if kept else "",
    )


def _ticked(kept: ImmutableMultiDict[str, str] | None, name: str) -> set[int]:
    """The ids ticked on a form shown again; a value that is no id is left unticked."""
    if kept is None:
        return set()
    return {i for v in kept.getlist(name) if (i := parse_id(v)) is not None}


@bp.get("/excuses/<int:excuse_id>/note")
@login_required
def note(excuse_id: int) -> ResponseReturnValue:
    """The note's photo, to the pupil's guardian or form tutor only; named by the request id."""
    found = load_note(current_user, excuse_id)
    assert found.note_file is not None
    try:
        data = path_of(found.note_file).read_bytes()  # at most 1.5 MB: nothing left open
    except OSError:
        raise NotFound() from None
    response = Response(data, mimetype=found.note_type)
    # Shown in the browser, named by nothing but the request's number.
    response.headers["Content-Disposition"] = f'inline; filename="note-{found.id}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _queue_page(classes: list[SchoolClass], refusal: Refusal | None = None) -> str:
    """The queue; after a refusal, with what was on the form: ticks and comment. A tutor's
    mistake (nothing ticked, a comment too long, decided meanwhile) is a message there."""
    today = school_today(classes[0].school)
    kept = request.form if refusal is not None else None
    return render_template(
        "excuses/queue.html",
        classes=classes,
        queue=tutor_queue(classes, today),
        refusal=refusal,
        ticked=_ticked(kept, "excuse"),
        note=kept.get("note", "") if kept else "",
    )


@bp.get("/excuses")
@login_required
def queue() -> ResponseReturnValue:
    classes = tutored_classes(current_user)
    if not classes:
        raise NotFound()
    return _queue_page(classes)


def _chosen(classes: list[SchoolClass]) -> list[ExcuseRequest]:
    """The ticked requests; only a form tutor has a queue (anyone else: as if no such page)."""
    if not classes:
        raise NotFound()
    return [load_for_decision(current_user, i) for i in sorted(set(form_ids("excuse")))]


@bp.post("/excuses/decide")
@login_required
def decide() -> ResponseReturnValue:
    """Approve or reject the ticked requests together: all of them, or (on any refusal) none."""
    classes = tutored_classes(current_user)
    decision = request.form.get("decision")

    def decide_chosen(actor: Actor) -> tuple[int, int]:
        requests = _chosen(classes)
        if decision not in ("approve", "reject"):
            raise Refusal("decision_invalid", _("Wybierz: zatwierdź albo odrzuć."))
        excused = decide_excuses(
            actor, requests, approve=decision == "approve", note=request.form.get("note")
        )
        return len(requests), excused

    def said(counts: tuple[int, int]) -> str:
        decided, excused = counts
        if decision == "approve":
            return _(
                "Zatwierdzono wnioski: %(n)s; usprawiedliwiono nieobecności: %(m)s.",
                n=decided,
                m=excused,
            )
        return _("Odrzucono wnioski: %(n)s.", n=decided)

    return perform(
        decide_chosen,
        to=url_for("excuses.queue"),
        message=said,
        refused=lambda refusal: _queue_page(classes, refusal),
    )


@bp.post("/excuses/apply")
@login_required
def apply() -> ResponseReturnValue:
    """Excuses the absences recorded since on days approved ahead (again: nothing more)."""
    classes = tutored_classes(current_user)

    def apply_chosen(actor: Actor) -> int:
        requests = _chosen(classes)
        if not requests:
            raise Refusal("nothing_chosen", _("Zaznacz co najmniej jeden wniosek."))
        return sum(apply_excuse(actor, r) for r in requests)

    return perform(
        apply_chosen,
        to=url_for("excuses.queue"),
        message=lambda excused: _("Usprawiedliwiono nieobecności: %(m)s.", m=excused),
        refused=lambda refusal: _queue_page(classes, refusal),
    )
