"""The `/live` namespace: people logged in over HTTP (parents, and staff for their scope).

Socket handlers get no `before_request` and no `login_required` (house rule 4), so each handler
checks for itself: the connect checks the Origin against the allowlist (a page of another site
must not ride on the parent's cookie) and the Flask-Login session of the handshake, whose
`session_version` Flask-Login re-checks on every event through `load_session_user`. The wire
protocol is docs/protocol.md.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from ediary.access.scope import scope_of
from ediary.extensions import socketio
from ediary.people.twofactor.gate import second_factor_missing
from ediary.realtime.namespace import GuardedNamespace
from ediary.realtime.relay import ensure_relay, local_relay
from ediary.realtime.rooms import LIVE, journal_filter, rooms_of, user_room

log = logging.getLogger(__name__)


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


def _last_id(data: Any) -> tuple[bool, int | None]:
    """`{"last_id": <int >= 0 or null>}`; anything else is a malformed request."""
    if not isinstance(data, dict) or "last_id" not in data:
        return False, None
    value = data["last_id"]
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return False, None
    return True, value


class LiveNamespace(GuardedNamespace):
    def malformed(self) -> dict[str, Any]:
        return _refused("bad_request", _("Nieprawidłowe żądanie."))

    def on_connect(self, _auth: Any = None) -> None:
        origin = request.headers.get("Origin")
        if origin is None or origin not in current_app.config["SOCKETIO_ORIGINS"]:
            raise ConnectionRefusedError(
                _("Połączenie z tej strony jest niedozwolone."), {"error": "origin"}
            )
        if not current_user.is_authenticated or second_factor_missing():
            raise ConnectionRefusedError(
                _("Sesja wygasła. Zaloguj się ponownie."), {"error": "unauthenticated"}
            )
        relay = ensure_relay(current_app._get_current_object(), socketio)  # type: ignore[attr-defined]
        relay.attach(LIVE, request.sid, current_user.id, current_user.session_version)  # type: ignore[attr-defined]
        join_room(user_room(current_user.id))

    def on_disconnect(self, _reason: Any = None) -> None:
        relay = local_relay()
        if relay is not None:
            relay.forget(LIVE, request.sid)  # type: ignore[attr-defined]

    def on_resume(self, data: Any = None) -> dict[str, Any]:
        relay = local_relay()
        sid: str = request.sid  # type: ignore[attr-defined]
        stream = relay.streams.get((LIVE, sid)) if relay is not None else None
        if relay is None or stream is None:
            return _refused("not_connected", _("Połączenie zostało zamknięte."))
        if not current_user.is_authenticated or current_user.id != stream.user_id:
            relay.end(LIVE, sid, "session_ended")
            return _refused("unauthenticated", _("Sesja wygasła. Zaloguj się ponownie."))
        ok, last_id = _last_id(data)
        if not ok:
            return _refused("bad_request", _("Nieprawidłowe żądanie."))
        try:
            scope = scope_of(current_user)
            result = relay.resume(stream, rooms_of(scope), journal_filter(scope), last_id)
        except Exception:
            # The database went away mid-replay: back to "connected, not resumed"; the client
            # sends `resume` again (live.js does, after a pause).
            log.exception("resume failed")
            relay.abandon(stream)
            return {
                **_refused("internal", _("Błąd serwera. Spróbuj ponownie za chwilę.")),
                "retry": True,
            }
        if result.reason == "already_resumed":
            return _refused("already_resumed", _("To połączenie już odbiera wpisy."))
        return result.ack()
