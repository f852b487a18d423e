"""Realtime delivery: journal events pushed over Socket.IO after commit, resumed by id.

`delivery` (session events) rings the `relay` of every server process after a commit; the relay
reads the journal in id order and emits to the rooms of `rooms`; `live` is the `/live`
namespace for people; `revocation` ends access at once; `retention` prunes the journal.
The wire protocol is docs/protocol.md.
"""

from __future__ import annotations

from flask import Flask, current_app

from ediary.extensions import socketio
from ediary.realtime import delivery  # noqa: F401 - registers the session events on import
from ediary.realtime.live import LiveNamespace
from ediary.realtime.queries import journal_head
from ediary.realtime.relay import Relay, ensure_relay
from ediary.realtime.rooms import LIVE


def init_app(app: Flask) -> None:
    """Registers `/live` on the app's Socket.IO server (after `socketio.init_app`)."""
    socketio.on_namespace(LiveNamespace(LIVE))
    app.jinja_env.globals["journal_head"] = journal_head
    app.extensions["ediary.realtime"] = True  # tells the gunicorn hook this app has a relay


def start_relay() -> Relay:
    """This process's relay, started if need be: call it from a namespace's connect handler."""
    return ensure_relay(current_app._get_current_object(), socketio)  # type: ignore[attr-defined]
