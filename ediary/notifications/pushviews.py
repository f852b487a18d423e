"""A parent's Web Push devices and choices: switch on (a subscription from the browser), per
child and per kind, switch off; the service worker served at the portal's scope.

The subscription arrives as a form POST (with the CSRF token) from static/js/push.js; a refusal
is a JSON answer with a Polish message the page shows. Only the parent's own subscriptions are
found: another's id is 404.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, select
from werkzeug.exceptions import NotFound

from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.ids import MAX_BIG_ID
from ediary.notifications.models import OutgoingPush, PushChoice, PushSubscription, Topic
from ediary.notifications.push import (
    BadSubscription,
    check_endpoint,
    check_keys,
    vapid_public_key,
)
from ediary.people.models import User
from ediary.portal.queries import children_of
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("push", __name__)
# static/manifest.webmanifest with its registered type (browsers and Lighthouse expect it).
mimetypes.add_type("application/manifest+json", ".webmanifest")

MAX_DEVICES = 10  # per parent: an eleventh replaces none, it is refused

TOPIC_LABELS = {
    "first_absence": _l("Nieobecność na pierwszej lekcji dnia"),
    "absence": _l("Każda nieobecność"),
    "grade": _l("Nowa ocena"),
    "remark": _l("Nowa uwaga"),
    "excuse_decision": _l("Decyzja o usprawiedliwieniu"),
    "message": _l("Wiadomości"),
    "announcement": _l("Ogłoszenia"),
}

REFUSALS = {
    "endpoint_length": _l("Przeglądarka podała nieprawidłowy adres powiadomień."),
    "endpoint_invalid": _l("Przeglądarka podała nieprawidłowy adres powiadomień."),
    "endpoint_not_https": _l("Adres powiadomień musi być bezpieczny (https)."),
    "endpoint_unresolved": _l("Nie można znaleźć serwera powiadomień tej przeglądarki."),
    "endpoint_private": _l("Adres powiadomień prowadzi do sieci prywatnej: odrzucony."),
    "keys_missing": _l("Przeglądarka nie podała kluczy powiadomień."),
    "keys_too_long": _l("Klucze powiadomień są za długie."),
    "keys_invalid": _l("Klucze powiadomień są nieprawidłowe."),
    "too_many_devices": _l("Masz już 10 urządzeń z powiadomieniami: wyłącz któreś z nich."),
}


def topic_label(topic: Topic) -> str:
    return str(TOPIC_LABELS.get(topic.value, topic.value))


@bp.app_template_global()
def push_state(user: User) -> dict[str, object]:
    """What the settings page shows of Web Push (portal/_push.html)."""
    key = current_app.config.get("VAPID_PRIVATE_KEY") or ""
    devices = list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user.id)
            .order_by(PushSubscription.id)
        )
    )
    chosen = set(
        db.session.execute(
            select(PushChoice.pupil_id, PushChoice.topic).where(PushChoice.user_id == user.id)
        ).all()
    )
    return {
        "public_key": vapid_public_key(key) if key else "",
        "devices": devices,
        "chosen": chosen,
        "topics": [(t.value, topic_label(t)) for t in Topic],
    }


@operation
def subscribe(actor: Actor, user: User, endpoint: str, p256dh: str, auth: str, label: str) -> int:
    found = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if found is not None and found.user_id != user.id:
        # The browser now belongs to another login (a shared tablet): the earlier one's go.
        db.session.execute(delete(OutgoingPush).where(OutgoingPush.subscription_id == found.id))
        db.session.delete(found)
        db.session.flush()
        found = None
    if found is None:
        found = PushSubscription(user_id=user.id, endpoint=endpoint)
        db.session.add(found)
    found.p256dh, found.auth, found.label = p256dh, auth, label[:80]
    has_choices = db.session.scalar(select(PushChoice.id).where(PushChoice.user_id == user.id))
    if has_choices is None:
        # The first device: everything about every child (the parent narrows it below).
        for child in children_of(user):
            for topic in Topic:
                db.session.add(PushChoice(user_id=user.id, pupil_id=child.id, topic=topic.value))
    db.session.flush()
    return found.id


@operation
def unsubscribe(actor: Actor, subscription: PushSubscription) -> None:
    db.session.execute(delete(OutgoingPush).where(OutgoingPush.subscription_id == subscription.id))
    db.session.delete(subscription)


@operation
def save_choices(actor: Actor, user: User, chosen: set[tuple[int, str]]) -> None:
    """Replaces the parent's choices with `chosen` ((child id, topic) of their own children)."""
    current = {
        (c.pupil_id, c.topic): c
        for c in db.session.scalars(select(PushChoice).where(PushChoice.user_id == user.id))
    }
    for key, choice in current.items():
        if key not in chosen:
            db.session.delete(choice)
    for pupil_id, topic in chosen - set(current):
        db.session.add(PushChoice(user_id=user.id, pupil_id=pupil_id, topic=topic))


def _parent() -> list[object]:
    children = children_of(current_user)
    if not children:
        raise NotFound()  # staff have no portal
    return children  # type: ignore[return-value]


def _devices(user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(PushSubscription.endpoint).where(PushSubscription.user_id == user.id)
        )
    )


def _label() -> str:
    agent = request.user_agent.string or ""
    browser = next((b for b in ("Edg", "Firefox", "Chrome", "Safari") if b in agent), "")
    system = next(
        (s for s in ("Android", "iPhone", "iPad", "Windows", "Mac", "Linux") if s in agent), ""
    )
    return ", ".join(part for part in (browser.replace("Edg", "Edge"), system) if part)


@bp.post("/portal/push/subscribe")
@login_required
def subscribe_view() -> ResponseReturnValue:
    _parent()
    form = request.form
    endpoint = form.get("endpoint", "")
    try:
        check_endpoint(endpoint, current_app.config.get("PUSH_ALLOW_HOSTS") or [])
        p256dh, auth = check_keys(form.get("p256dh"), form.get("auth"))
        if len(_devices(current_user)) >= MAX_DEVICES and endpoint not in _devices(current_user):
            raise BadSubscription("too_many_devices")
        subscription_id = subscribe(
            Actor(current_user, Channel.WEB), current_user, endpoint, p256dh, auth, _label()
        )
    except BadSubscription as refused:  # checked before anything is written
        return jsonify(error=refused.code, message=str(REFUSALS[refused.code])), 400
    db.session.commit()
    return jsonify(id=subscription_id), 201


@bp.post("/portal/push/off")
@login_required
def off() -> ResponseReturnValue:
    """Switch a device off: from its list entry (by id) or from the device itself (by the
    endpoint its browser holds). Someone else's device, or none, is 404."""
    _parent()
    query = select(PushSubscription).where(PushSubscription.user_id == current_user.id)
    raw_id = request.form.get("subscription", "")
    if raw_id:
        if not raw_id.isdigit() or int(raw_id) > MAX_BIG_ID:
            raise NotFound()
        query = query.where(PushSubscription.id == int(raw_id))
    else:
        query = query.where(PushSubscription.endpoint == request.form.get("endpoint", "")[:1000])
    found = db.session.scalar(query)
    if found is None:
        raise NotFound()

    def switch_off(actor: Actor) -> None:
        unsubscribe(actor, found)

    return perform(
        switch_off,
        to=url_for("notifications.settings"),
        message=_("Powiadomienia na tym urządzeniu są wyłączone."),
        refused=None,
    )


@bp.post("/portal/push/choices")
@login_required
def choices() -> ResponseReturnValue:
    children = _parent()
    own = {child.id for child in children}  # type: ignore[attr-defined]
    chosen = set()
    for pupil_id in own:
        for topic in Topic:
            if request.form.get(f"push-{pupil_id}-{topic.value}"):
                chosen.add((pupil_id, topic.value))

    def save(actor: Actor) -> None:
        save_choices(actor, current_user, chosen)

    return perform(
        save,
        to=url_for("notifications.settings"),
        message=_("Zapisano, o czym powiadamiać na telefonie."),
        refused=None,
    )


@bp.get("/portal/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, served under /portal/ so that its scope is the portal."""
    path = Path(current_app.static_folder or "static") / "js" / "sw.js"
    response = Response(path.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # a changed worker reaches devices at once
    return response
