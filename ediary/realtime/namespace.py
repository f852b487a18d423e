"""The guard in front of every Socket.IO namespace of the app: only the events it handles get in.

python-socketio dispatches a client's EVENT packet by its name, and the lifecycle handlers are
names like any other: a client that sent an event called `disconnect` ran `on_disconnect` while
its socket stayed open and in its rooms (on /live the relay forgot it, so revoking the person's
access no longer reached it), and one called `connect` ran the connect handler again (a second
`resume`). python-socketio itself calls the lifecycle handlers only while the socket is not
"connected" in its manager (a connect or a disconnect pending), and it drops every client event
of a socket that is not connected; so a lifecycle name on a connected socket is a client's.

Refused, with an acknowledgement when one is asked, changing nothing: a client's `connect`,
`disconnect` or `connect_error`, any name the namespace has no handler for, a name that is not a
string (an object as the name made the old check raise), and an event with more than one
argument (the protocol's events take at most one; a second one made the handler raise).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_socketio import Namespace

LIFECYCLE = frozenset({"connect", "disconnect"})
# python-socketio's own names (`BaseServer.reserved_events`): never a client's to send.
RESERVED = frozenset({*LIFECYCLE, "connect_error"})


class GuardedNamespace(Namespace):
    def trigger_event(self, event: Any, *args: Any) -> Any:
        # `args` starts with the socket's sid, for lifecycle calls and events alike.
        if isinstance(event, str) and event in LIFECYCLE and not self._connected(args[0]):
            return super().trigger_event(event, *args)
        if not isinstance(event, str) or event in RESERVED or not hasattr(self, f"on_{event}"):
            return self._answer(self.unknown_event, event, *args)
        if len(args) > 2:
            return self._answer(self.malformed, event, *args)
        return super().trigger_event(event, *args)

    def unknown_event(self) -> dict[str, Any]:
        return {"ok": False, "error": "unknown_event", "message": _("Nieznane polecenie.")}

    def malformed(self) -> dict[str, Any]:
        """The refusal of an event with more than one argument; each namespace names its own."""
        raise NotImplementedError

    def _connected(self, sid: str) -> bool:
        return bool(self.server.manager.is_connected(sid, self.namespace))

    def _answer(self, refusal: Any, event: Any, *args: Any) -> Any:
        """The refusal, built inside the socket's request context (the language of its cookie)."""
        assert self.socketio is not None
        return self.socketio._handle_event(lambda *_: refusal(), event, self.namespace, *args)
