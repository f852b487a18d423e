"""The kiosk's HTTP side: enrollment, `POST /api/kiosk/enroll` {code} → the device secret.

A JSON API for a program, not a form: exempt from CSRF (there is no session cookie to ride on;
the one-time code is the credential), rate-limited per address (with 10-character codes from a
32-letter alphabet, 60 guesses an hour find nothing in a code's 30 minutes).

Registering this blueprint also registers the `/kiosk` Socket.IO namespace on the app's
Socket.IO server (`record_once`): the namespace must be bound to the server that `create_app`
just made for *this* app, and the blueprint list is where `create_app` wires the kiosk in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.errors import Refusal
from ediary.extensions import csrf, limiter
from ediary.kiosks import schema as s
from ediary.kiosks.access import load_enrollment_code
from ediary.kiosks.operations import enroll_kiosk
from ediary.kiosks.queries import school_of
from ediary.kiosks.rooms import NAMESPACE
from ediary.kiosks.sockets import register
from ediary.realtime.rooms import serves

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/kiosk")
csrf.exempt(bp)


def _register_namespace(state: BlueprintSetupState) -> None:
    if serves(state.app.config, NAMESPACE):  # not in a process that serves only people
        register(state.app.extensions["socketio"])


bp.record_once(_register_namespace)


@bp.post("/enroll")
@limiter.limit("10 per minute;60 per hour")
def enroll() -> ResponseReturnValue:
    data = s.validate("enroll.request", request.get_json(silent=True))
    code = load_enrollment_code(data["code"])
    kiosk, secret = enroll_kiosk(Actor(None, Channel.KIOSK, code.kiosk_id), code, utcnow())
    db.session.commit()
    school = school_of(kiosk)
    return jsonify(
        {
            "ok": True,
            "kiosk_id": kiosk.id,
            "name": kiosk.name,
            "room": {"id": kiosk.room.id, "name": kiosk.room.name},
            "school": {"id": school.id, "name": school.name, "short_name": school.short_name},
            "namespace": NAMESPACE,
            "secret": secret,
        }
    )


@bp.errorhandler(Refusal)
def _refusal(error: Refusal) -> ResponseReturnValue:
    db.session.rollback()
    return jsonify(error.as_dict()), error.status


@bp.errorhandler(429)
def _throttled(_error: Any) -> ResponseReturnValue:
    message = _("Zbyt wiele prób. Spróbuj ponownie za chwilę.")
    return jsonify({"ok": False, "error": "throttled", "message": message}), 429
