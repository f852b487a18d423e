"""Messages and announcements over the web: the inbox (every role's start page links it), a
thread, a new message, a letter to a class's parents, working hours, announcements."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.errors import Refusal
from ediary.extensions import limiter
from ediary.ids import parse_id
from ediary.messages import access
from ediary.messages.files import MAX_FILE_BYTES, MAX_FILES, Upload, check_upload, path_of
from ediary.messages.hours import WARSAW, parse_days
from ediary.messages.models import (
    DEFAULT_WORK_DAYS,
    DEFAULT_WORK_FROM,
    DEFAULT_WORK_UNTIL,
    MessageThread,
    WorkingHours,
)
from ediary.messages.operations import (
    MAX_BODY,
    mark_read,
    reply,
    save_working_hours,
    start_thread,
    unread_threads,
    write_to_class,
)
from ediary.messages.queries import (
    inbox,
    names_in,
)
from ediary.notifications.models import NotificationPreference
from ediary.realtime.queries import journal_head
from ediary.web.auth import login_required
from ediary.web.pages import perform


def _(message: str, /, **values: Any) -> str:
    return str(gettext(message, **values))


bp = Blueprint("messages", __name__)

# A form with attachments may be bigger than the site's limit, so that a file over 5 MB is
# refused by the form (which keeps the text) instead of by a bare 413; beyond this, the 413 page.
UPLOAD_REQUEST_BYTES = (MAX_FILES + 1) * MAX_FILE_BYTES + 1024 * 1024
UPLOADING = {"messages.new", "messages.thread", "messages.to_class"}
SENDING_LIMIT = "30 per 10 minutes"  # per person, beside the operations' own flood check


def _per_person() -> str:
    return f"user:{current_user.get_id()}"


@bp.url_value_preprocessor
def _upload_sized_body(endpoint: str | None, _values: dict[str, object] | None) -> None:
    if endpoint in UPLOADING and request.method == "POST":
        request.max_content_length = UPLOAD_REQUEST_BYTES


def _uploads() -> list[Upload]:
    """The files sent, each checked; read once (a retry by `perform` finds the stream spent)."""
    found = []
    for upload in request.files.getlist("files"):
        if not upload.filename:
            continue
        try:
            data: bytes = upload.read(MAX_FILE_BYTES + 1)
        finally:
            upload.close()
        found.append(check_upload(upload.filename, data))
    return found


def _files_or_refusal() -> tuple[list[Upload], Refusal | None]:
    try:
        return _uploads(), None
    except Refusal as refusal:
        return [], refusal


# --- the inbox and threads -----------------------------------------------------------------


@bp.get("/messages")
@login_required
def index() -> ResponseReturnValue:
    head = journal_head()
    return render_template(
        "messages/inbox.html",
        lines=inbox(current_user),
        unread=unread_threads(current_user.id),
        live_head=head,
        letters=bool(access.letter_classes(current_user)),
        staff=access.is_staff(current_user),
        posts=bool(access.announcement_audiences(current_user)),
    )


@bp.route("/messages/new", methods=["GET", "POST"])
@login_required
@limiter.limit(SENDING_LIMIT, key_func=_per_person, methods=["POST"])
def new() -> ResponseReturnValue:
    recipients = access.recipients_for(current_user)
    if request.method == "GET":
        return _new_page(recipients)
    wanted = parse_id(request.form.get("recipient", ""))
    uploads, refused = _files_or_refusal()
    if refused is not None:
        return _new_page(recipients, refused), 400
    if wanted is None:
        return _new_page(recipients, Refusal("no_recipient", _("Wybierz adresata."))), 400
    recipient = access.load_recipient(current_user, wanted)  # anyone else: 404
    return perform(
        lambda actor: start_thread(
            actor,
            recipient_id=recipient.user_id,
            school_id=recipient.school_id,
            subject=request.form.get("subject", ""),
            body=request.form.get("body", ""),
            uploads=uploads,
        ),
        to=url_for("messages.index"),
        message=_("Wiadomość wysłana."),
        refused=lambda refusal: _new_page(recipients, refusal),
    )


def _new_page(recipients: list[access.Recipient], refusal: Refusal | None = None) -> str:
    kept = request.form if refusal is not None else None
    return render_template(
        "messages/new.html",
        recipients=recipients,
        refusal=refusal,
        chosen=parse_id(kept.get("recipient", ""))
        if kept
        else parse_id(request.args.get("to", "")),
        subject=kept.get("subject", "") if kept else "",
        body=kept.get("body", "") if kept else "",
        max_body=MAX_BODY,
        max_files=MAX_FILES,
    )


@bp.route("/messages/class", methods=["GET", "POST"])
@login_required
@limiter.limit(SENDING_LIMIT, key_func=_per_person, methods=["POST"])
def to_class() -> ResponseReturnValue:
    classes = access.letter_classes(current_user)
    if not classes:
        raise NotFound()
    if request.method == "GET":
        return _class_page(classes)
    wanted = parse_id(request.form.get("class", ""))
    uploads, refused = _files_or_refusal()
    if refused is not None:
        return _class_page(classes, refused), 400
    if wanted is None:
        return _class_page(classes, Refusal("no_class", _("Wybierz klasę."))), 400
    school_class = access.load_letter_class(current_user, wanted)
    return perform(
        lambda actor: write_to_class(
            actor,
            school_class,
            subject=request.form.get("subject", ""),
            body=request.form.get("body", ""),
            uploads=uploads,
        ),
        to=url_for("messages.index"),
        message=lambda threads: _(
            "Wiadomość wysłana do rodziców klasy %(cls)s (%(n)s).",
            cls=school_class.name,
            n=len(threads),
        ),
        refused=lambda refusal: _class_page(classes, refusal),
    )


def _class_page(classes: list[Any], refusal: Refusal | None = None) -> str:
    kept = request.form if refusal is not None else None
    return render_template(
        "messages/class.html",
        classes=classes,
        refusal=refusal,
        chosen=parse_id(kept.get("class", "")) if kept else None,
        subject=kept.get("subject", "") if kept else "",
        body=kept.get("body", "") if kept else "",
        max_body=MAX_BODY,
        max_files=MAX_FILES,
    )


@bp.route("/messages/<int:thread_id>", methods=["GET", "POST"])
@login_required
@limiter.limit(SENDING_LIMIT, key_func=_per_person, methods=["POST"])
def thread(thread_id: int) -> ResponseReturnValue:
    participant = access.participant_of(current_user, thread_id)
    found = participant.thread
    if request.method == "GET":
        head = journal_head()
        if mark_read(Actor(current_user, Channel.WEB), participant):
            db.session.commit()
        return _thread_page(found, head)
    if not access.may_reply(current_user, found):
        gone = Refusal("not_reachable", _("Do tej osoby nie możesz już pisać w dzienniku."))
        return _thread_page(found, journal_head(), gone), 400
    uploads, refused = _files_or_refusal()
    if refused is not None:
        return _thread_page(found, journal_head(), refused), 400
    return perform(
        lambda actor: reply(actor, found, body=request.form.get("body", ""), uploads=uploads),
        to=url_for("messages.thread", thread_id=found.id),
        message=_("Odpowiedź wysłana."),
        refused=lambda refusal: _thread_page(found, journal_head(), refusal),
    )


def _thread_page(found: MessageThread, head: int, refusal: Refusal | None = None) -> str:
    return render_template(
        "messages/thread.html",
        thread=found,
        names=names_in(found),
        live_head=head,
        refusal=refusal,
        body=request.form.get("body", "") if refusal is not None else "",
        max_body=MAX_BODY,
        max_files=MAX_FILES,
    )


@bp.get("/messages/files/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> ResponseReturnValue:
    """A file of a thread the person takes part in: always a download, never shown inline."""
    found = access.load_attachment(current_user, attachment_id)
    try:
        data = path_of(found.stored_as).read_bytes()  # at most 5 MB
    except OSError:
        raise NotFound() from None
    response = Response(data, mimetype=found.mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- working hours (the right to disconnect) ---------------------------------------------------


def _time(raw: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        return None


@bp.route("/messages/hours", methods=["GET", "POST"])
@login_required
def hours() -> ResponseReturnValue:
    if not access.is_staff(current_user):
        raise NotFound()
    if request.method == "GET":
        return _hours_page()
    starts, ends = _time(request.form.get("starts", "")), _time(request.form.get("ends", ""))
    if starts is None or ends is None:
        return _hours_page(Refusal("hours_invalid", _("Podaj godziny jak 7:30."))), 400
    days = {d for d in range(7) if request.form.get(f"day-{d}")}
    return perform(
        lambda actor: save_working_hours(
            actor,
            current_user,
            days=days,
            starts=starts,
            ends=ends,
            by_email=bool(request.form.get("email")),
        ),
        to=url_for("messages.hours"),
        message=_("Zapisano godziny pracy."),
        refused=_hours_page,
    )


def _hours_page(refusal: Refusal | None = None) -> str:
    own = db.session.query(WorkingHours).filter_by(user_id=current_user.id).one_or_none()
    preference = (
        db.session.query(NotificationPreference).filter_by(user_id=current_user.id).one_or_none()
    )
    return render_template(
        "messages/hours.html",
        refusal=refusal,
        days=parse_days(own.days if own else DEFAULT_WORK_DAYS),
        starts=(own.starts if own else DEFAULT_WORK_FROM).strftime("%H:%M"),
        ends=(own.ends if own else DEFAULT_WORK_UNTIL).strftime("%H:%M"),
        by_email=bool(preference and preference.email and preference.message),
    )


# --- what the start pages show (template globals) ----------------------------------------------


@bp.app_template_global()
def warsaw() -> ZoneInfo:
    return WARSAW


@bp.app_template_global()
def inbox_unread() -> int:
    """The inbox badge of the signed-in person's start page."""
    return unread_threads(current_user.id) if current_user.is_authenticated else 0
