"""One way for a page to run an operation (house rule 2; Indico's `RH.process`).

A view parses the form and loads what it names through its loader (404 outside the person's
scope), then hands the operation to `perform`:

    return perform(
        lambda actor: cancel_lesson(actor, lesson, base_version=seen),
        to=url_for("timetable.lesson", lesson_id=lesson.id),
        message=_("Lekcja została odwołana."),
        refused=lambda refusal: _page(lesson, refusal=refusal),
    )

`perform` runs it with the signed-in person as the actor (channel "web"), and then:

- **done**: commits once, flashes `message` and redirects to `to`, or to the form's `next` when
  that is a path of this site (never elsewhere: `local_path`). `then`, when given, runs after
  the commit and may answer with a page of its own instead (the roll's conflicts).
- **refused**: a `Refusal` rolls everything back and answers `refused(refusal)` with the
  refusal's status (400, 409 for a conflict): the same form, with what the person typed and the
  reason in their language (`templates/page_parts.html`), never a bare error page. Only a button
  with nothing to show again and an operation that cannot refuse (logout) passes None.
- **written meanwhile**: a versioned row changed by someone else between the read and the write,
  or a twin request that won (below), rolls back and runs it again from a fresh read; three
  times, then the site's error page, as before.
- **sent twice**: a form is harmless to send twice. An operation that is idempotent by nature
  (cancelling a cancelled lesson changes nothing) or compares with what the page showed (the
  roll's bases, a version field) needs nothing more. One that is not (an excuse request: two
  would be two requests) gets `{{ form_token() }}` in its form: the token is written with the
  operation's effect (`SentForm`), and the second sending finds it and goes where the first
  went, with the same message, without running the operation again.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.people.models import User
from ediary.web.models import SentForm

R = TypeVar("R")

ATTEMPTS = 3
ONCE_FIELD = "form_token"
TOKEN = re.compile(r"[0-9a-f]{32}")
KEPT = dt.timedelta(days=1)  # a twin comes within seconds; a day covers any retry by hand


def perform(
    operation: Callable[[Actor], R],
    *,
    refused: Callable[[Refusal], str] | None,
    to: str,
    message: str | LazyString | Callable[[R], str | LazyString] | None = None,
    then: Callable[[R], ResponseReturnValue | None] | None = None,
    actor: Actor | None = None,
) -> ResponseReturnValue:
    """Runs `operation(actor)` for the current form: see the module's docstring."""
    user: User | None = current_user if current_user.is_authenticated else None
    actor = actor or Actor(user, Channel.WEB)
    token = sent_token() if user is not None else None
    target = local_path(request.form.get("next", "")) or to
    failure: Exception | None = None
    for _attempt in range(ATTEMPTS):
        try:
            if user is not None and token is not None:
                earlier = db.session.get(SentForm, (user.id, token))
                if earlier is not None:
                    went = (earlier.location, earlier.message)
                    db.session.rollback()  # nothing written: ends the read
                    return _went(*went)
            result = operation(actor)
            said = message(result) if callable(message) else message
            if user is not None and token is not None:
                _remember(user, token, target, said)
            db.session.commit()
        except Refusal as refusal:
            db.session.rollback()
            if refused is None:
                raise  # nothing to show again: the site's page for a refusal
            return refused(refusal), refusal.status
        except (IntegrityError, StaleDataError, OperationalError) as error:
            # Someone wrote the same rows meanwhile, or the twin of this form committed first
            # (its token): start again from a fresh read, which sees what they wrote.
            db.session.rollback()
            failure = error
            continue
        page = then(result) if then is not None else None
        return page if page is not None else _went(target, said)
    assert failure is not None
    raise failure


def _went(location: str, said: str | LazyString | None) -> ResponseReturnValue:
    if said:
        flash(str(said), "info")
    return redirect(location)


def _remember(user: User, token: str, location: str, said: str | LazyString | None) -> None:
    """The form's token, with where it went: in the operation's transaction, so it is written
    exactly when the operation's effect is. Tokens older than `KEPT` go at the same time."""
    db.session.execute(delete(SentForm).where(SentForm.at < utcnow() - KEPT))
    db.session.add(
        SentForm(
            user_id=user.id,
            token=token,
            location=location[:500],
            message=str(said)[:500] if said else None,
        )
    )


def sent_token() -> str | None:
    """The form's one-time token, if it has a well-formed one."""
    raw = request.form.get(ONCE_FIELD, "")
    return raw if TOKEN.fullmatch(raw) else None


def form_token() -> Markup:
    """The hidden field of a form that must not act twice (a template global). A form shown
    again after a refusal keeps the token it was sent with: nothing of it was written."""
    token = sent_token() if request.method == "POST" else None
    value = token or uuid.uuid4().hex
    return Markup('<input type="hidden" name="{}" value="{}">').format(ONCE_FIELD, value)


def local_path(target: str) -> str | None:
    r"""`target` if it is a path of this site, else None: the open-redirect guard.

    What a browser makes of a Location decides, not what the string looks like: it drops tabs
    and newlines anywhere in a URL and reads a backslash as a slash, so `/\t/evil.example` and
    `/\evil.example` both go to //evil.example. Any control character (CR/LF would also split
    the header) or backslash refuses the target; what is left must be a path with no scheme and
    no host to urllib, and not start with `//` (a host to a browser).
    """
    if any(unicodedata.category(c) == "Cc" for c in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
