"""Realtime delivery: journal events pushed over Socket.IO after commit, resumed by id.

`delivery` notes what a transaction commits (its journal rows, the revocations its operations
declared) and rings the `relay` of every server process after the commit; the relay reads the
journal in id order and emits to the rooms of `rooms`, and applies the `controls` (revocations)
in the journal's order; `live` is the `/live` namespace for people; `retention` prunes the
journal. It knows rooms and events, not the domain: who may see what is `ediary.access.scope`,
and what an operation revokes it declares itself (`ediary.access.revocation`). The wire
protocol is docs/protocol.md.
"""

from __future__ import annotations

from flask import Flask

from ediary.extensions import socketio
from ediary.realtime.live import LiveNamespace
from ediary.realtime.queries import journal_head
from ediary.realtime.rooms import LIVE


def init_app(app: Flask) -> None:
    """Registers `/live` on the app's Socket.IO server (after `socketio.init_app`)."""
    socketio.on_namespace(LiveNamespace(LIVE))
    app.jinja_env.globals["journal_head"] = journal_head
    app.extensions["ediary.realtime"] = True  # tells the gunicorn hook this app has a relay
