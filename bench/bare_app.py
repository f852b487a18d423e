"""The baseline: a bare Socket.IO relay on the same server stack, with no database at all.

Same gunicorn + gevent settings (provisioning/gunicorn.conf.py), same sockets and rooms, same
message shape; a kiosk's `submit` is relayed straight to the pupils' rooms (through Redis when
BARE_REDIS_URL is set, python-socketio's own message queue). What ediary adds on top (auth,
validation, the transaction, the journal, the relay reading it back) is the difference.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from flask import Flask
from flask_socketio import SocketIO, join_room

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="gevent",
    message_queue=os.environ.get("BARE_REDIS_URL") or None,
    cors_allowed_origins="*",
)
# Ids unique across processes: the process id in the high bits.
_ids = itertools.count((os.getpid() & 0xFFFF) << 32)


@socketio.on("connect", namespace="/live")
def live_connect(auth: Any = None) -> None:
    for room in (auth or {}).get("rooms", []):
        join_room(room)


@socketio.on("connect", namespace="/kiosk")
def kiosk_connect(auth: Any = None) -> None:
    return None


@socketio.on("submit", namespace="/kiosk")
def submit(data: dict[str, Any]) -> dict[str, Any]:
    ids = []
    for pupil_id in data["pupils"]:
        event_id = next(_ids)
        message = {
            "id": event_id,
            "type": "attendance.recorded",
            "pupil_id": pupil_id,
            "lesson_id": data["lesson"],
            "code": data["states"][str(pupil_id)],
        }
        socketio.emit("event", message, to=f"pupil:{pupil_id}", namespace="/live")
        ids.append(event_id)
    return {"ok": True, "event_ids": ids, "pupils": data["pupils"]}
