"""The `/kiosk` Socket.IO namespace: an enrolled device, its teachers' sessions, submissions.

Socket handlers get no `before_request` and no `login_required` (house rule 4), so every event
here does the whole job itself: validate the payload against the protocol's schema (schema.py,
kiosk/protocol.schema.json), re-read the device (a revoked or re-enrolled kiosk is refused at its
next event), load the teacher's session, authorise with the loaders of access.py, call one
operation, commit once, then acknowledge. Every failure is an acknowledgement
`{"ok": false, "error": <stable code>, "message": <Polish>}`; nothing escapes to python-socketio,
so a bad event never costs the connection or the server.

`KioskNamespace` is the one registration point: it names every event and its handler. The
handlers live by section: logins.py (the teacher at the screen), lessons.py (the day, a lesson's
sheet), receipt.py (an entry arrives). The protocol is written down in docs/protocol.md, section
"/kiosk".
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_socketio import SocketIO, disconnect, emit, join_room
from socketio.exceptions import ConnectionRefusedError as Refused
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from ediary.db import db, unreachable, utcnow
from ediary.errors import Refusal
from ediary.extensions import socketio
from ediary.homework.kiosk import homework_dates
from ediary.kiosks import heartbeat, lessons, logins, receipt
from ediary.kiosks import schema as s
from ediary.kiosks.access import DeviceRefused, check_device
from ediary.kiosks.auth import verify_secret
from ediary.kiosks.models import Kiosk
from ediary.kiosks.rooms import NAMESPACE
from ediary.kiosks.submissions import validate_submission
from ediary.realtime.controls import REVOKED_KIOSK_TEXT
from ediary.realtime.namespace import GuardedNamespace
from ediary.realtime.relay import ensure_relay
from ediary.realtime.rooms import kiosk_room

log = logging.getLogger(__name__)

_DEVICE = "kiosk_device"
_CONNECTED_AT = "kiosk_connected_at"

NOT_FOUND = _l("Nie znaleziono. Możliwe, że lekcja lub uczeń nie należy do tego komputera.")
SERVER_ERROR = _l("Błąd serwera. Spróbuj ponownie za chwilę.")
SERVER_BUG = _l("Błąd serwera: wpisu nie przyjęto. Zgłoś to administratorowi szkoły.")


# Called with the kiosk, read again, and the validated request; `submit`'s handler with the
# socket's device as it connected (`{"kiosk_id", "secret_hash"}`) instead of the kiosk.
Handler = Callable[[Any, dict[str, Any]], dict[str, Any]]


def kiosk_event(event: str) -> Callable[[Handler], Callable[..., dict[str, Any]]]:
    """Validates the event's one argument (the schema's `<event>.request`), re-reads the device,
    and turns every failure into an error acknowledgement after rolling back.

    An entry (`submit`) reads the kiosk itself, in the one statement that reads what else it is
    checked against (receipt.py), and checks it with `check_device`: the same refusal, caught
    here the same way."""

    def decorate(fn: Handler) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def run(self: KioskNamespace, *args: Any) -> dict[str, Any]:
            try:
                if len(args) > 1:
                    raise s.Invalid("$")
                data = args[0] if args else {}
                if event == "submit":
                    return fn(_device_info(), validate_submission(data))
                return fn(_device(), s.validate(f"{event}.request", data))
            except DeviceRefused as refusal:
                db.session.rollback()
                emit("revoked", refusal.as_dict())
                disconnect()
                return refusal.as_dict()
            except Refusal as refusal:
                db.session.rollback()
                return refusal.as_dict()
            except NotFound:
                db.session.rollback()
                return {"ok": False, "error": "not_found", "message": str(NOT_FOUND)}
            except Exception as error:
                db.session.rollback()
                log.exception("kiosk event %s failed", fn.__name__)
                if unreachable(error):
                    return {
                        "ok": False,
                        "error": "internal",
                        "message": str(SERVER_ERROR),
                        "retry": True,
                    }
                # A bug answers the same way every time: retrying would loop for ever.
                return {"ok": False, "error": "server_error", "message": str(SERVER_BUG)}

        return run

    return decorate


def _device_info() -> dict[str, Any]:
    """The device this socket connected as: `{"kiosk_id", "secret_hash"}`, or {} (none)."""
    info: dict[str, Any] = session.get(_DEVICE) or {}
    return info


def _device() -> Kiosk:
    """The connected kiosk, read again: revoked or re-enrolled since the connect is refused."""
    return device_of(_device_info())


@functools.cache
def _device_query() -> Select[Kiosk]:
    """The kiosk with its school, which every event reads (its day, its time zone): one
    statement, built once and run with the id as a parameter (every event runs it)."""
    return select(Kiosk).where(Kiosk.id == bindparam("kiosk_id")).options(joinedload(Kiosk.school))


def device_of(info: dict[str, Any]) -> Kiosk:
    """The kiosk a socket connected as (`{"kiosk_id", "secret_hash"}`), or `DeviceRefused`."""
    kiosk = db.session.scalar(_device_query(), {"kiosk_id": info["kiosk_id"]}) if info else None
    return check_device(kiosk, info)


def _refused(code: str, message: str) -> Refused:
    return Refused(message, {"error": code, "message": message})


class KioskNamespace(GuardedNamespace):
    """The one registration point of `/kiosk`: the connect, and every event with its handler."""

    def malformed(self) -> dict[str, Any]:
        return s.Invalid("$").as_dict()

    def on_connect(self, auth: Any = None) -> None:
        """The device authenticates with its id and secret; everyone else is refused."""
        try:
            credentials = s.validate("connect.auth", auth)
        except Refusal:
            raise _refused("kiosk_unknown", _("Brak poprawnych danych urządzenia.")) from None
        try:
            # Read only; the session ends with the handler's app context (`db` tears it down).
            kiosk = db.session.get(Kiosk, credentials["kiosk_id"])
            known = kiosk is not None and verify_secret(kiosk.secret_hash, credentials["secret"])
        except Exception:  # a database down: say so, instead of leaving the device waiting
            log.exception("kiosk connect failed")
            raise _refused("internal", str(SERVER_ERROR)) from None
        if kiosk is None or not known:
            raise _refused("kiosk_unknown", _("Nieznane urządzenie albo błędny klucz urządzenia."))
        if kiosk.revoked_at is not None:
            raise _refused("kiosk_revoked", str(REVOKED_KIOSK_TEXT))
        if not current_app.testing:
            # The relay pushes the kiosk its events and applies its revocation; it starts with
            # the first socket of a process, which may well be a kiosk's at 7:55.
            ensure_relay(current_app._get_current_object(), socketio)  # type: ignore[attr-defined]
        now = utcnow()
        session[_DEVICE] = {"kiosk_id": kiosk.id, "secret_hash": kiosk.secret_hash}
        session[_CONNECTED_AT] = now.isoformat()
        join_room(kiosk_room(kiosk.id))
        try:  # the fleet's view of it; a failure here must not cost the kiosk its connection
            heartbeat.connected(kiosk, now)
        except Exception:
            db.session.rollback()
            log.exception("kiosk presence not recorded")

    def on_disconnect(self, _reason: Any = None) -> None:
        """Teacher sessions outlive connections (the network drops); the fleet notes the
        absence (heartbeat.py)."""
        info = session.get(_DEVICE) or {}
        if not info:
            return
        since = session.get(_CONNECTED_AT)
        try:
            heartbeat.disconnected(
                info["kiosk_id"], dt.datetime.fromisoformat(since) if since else None, utcnow()
            )
        except Exception:
            db.session.rollback()
            log.exception("kiosk absence not recorded")

    # Every event of the protocol (the schema's `<event>.request`), with its section's handler.
    on_room = kiosk_event("room")(lessons.room)
    on_heartbeat = kiosk_event("heartbeat")(heartbeat.heartbeat)
    on_teacher_login = kiosk_event("teacher_login")(logins.teacher_login)
    on_pin_unlock = kiosk_event("pin_unlock")(logins.pin_unlock)
    on_set_pin = kiosk_event("set_pin")(logins.set_pin)
    on_teacher_logout = kiosk_event("teacher_logout")(logins.teacher_logout)
    on_lessons = kiosk_event("lessons")(lessons.lessons)
    on_roster = kiosk_event("roster")(lessons.roster)
    on_submit = kiosk_event("submit")(receipt.submit)
    on_homework_dates = kiosk_event("homework_dates")(homework_dates)  # issue 18 (ediary/homework)


def register(sio: SocketIO) -> None:
    """Registers the namespace on the Socket.IO server of the app being built (see api.py)."""
    sio.on_namespace(KioskNamespace(NAMESPACE))
