"""A kiosk's Socket.IO room, and cutting off a kiosk whose secret was replaced.

Every connection of a kiosk joins the room `kiosk:<id>` of the `/kiosk` namespace (the realtime
layer's `kiosk_room`: its relay delivers the kiosk's journal events there and disconnects the
room when the kiosk is revoked). Re-enrolling a kiosk that was not revoked (a replaced computer)
changes only its secret, which the realtime layer does not watch, so the enrollment cuts the old
connections itself, after the commit: an enrollment that rolls back must not cut anybody off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.orm import Session

from ediary.db import db
from ediary.extensions import socketio
from ediary.realtime.rooms import KIOSK as NAMESPACE
from ediary.realtime.rooms import kiosk_room

_AFTER_COMMIT = "ediary.kiosks.after_commit"

log = logging.getLogger(__name__)


def after_commit(fn: Callable[[], Any]) -> None:
    """Runs `fn` once the current transaction commits; forgets it if the transaction rolls back."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for fn in session.info.pop(_AFTER_COMMIT, []):
        try:
            fn()
        except Exception:  # the data is committed; a failed notification must not undo the reply
            log.exception("after-commit step failed")


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_AFTER_COMMIT, None)


def disconnect_kiosk(kiosk_id: int) -> None:
    """Tells every connection of the kiosk that its credential is void, then disconnects them.

    The `revoked` message goes through the Socket.IO message queue, so with several server
    processes it reaches the kiosk wherever it is connected; the forced disconnect reaches the
    sockets of this process. A socket on another process is refused at its next event anyway:
    every event re-reads the kiosk row (sockets.py, `_device`).
    """
    if socketio.server is None:  # no Socket.IO server in this process (e.g. the CLI)
        return
    room = kiosk_room(kiosk_id)
    socketio.emit(
        "revoked",
        {
            "ok": False,  # as every refusal (docs/protocol.md, `revoked`)
            "error": "kiosk_revoked",
            "message": gettext("Ten komputer został odłączony od dziennika."),
        },
        to=room,
        namespace=NAMESPACE,
    )
    sids = [sid for sid, _eio_sid in socketio.server.manager.get_participants(NAMESPACE, room)]
    for sid in sids:
        socketio.server.disconnect(sid, namespace=NAMESPACE)
