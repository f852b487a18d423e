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

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import engineio
from flask import Flask, request

from ediary.extensions import socketio
from ediary.realtime.queries import journal_head
from ediary.realtime.rooms import KIOSK, KIOSK_SOCKETIO_PATH, LIVE, serves

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Engine.IO's heartbeat: the server pings every socket this often and the client answers. The
# kiosk agent tells a dead link by a late ping (kiosk/connection.py), so a process that serves
# kiosks keeps Engine.IO's default. People's processes ping half as often: at 10,000 idle
# sockets the pings are most of a process's CPU (bench/idle.py), and a browser only needs one
# before nginx's 75 s read timeout (provisioning/server/nginx/ediary.conf.template).
KIOSK_PING_INTERVAL = 25
PEOPLE_PING_INTERVAL = 50


def ping_interval(config: Mapping[str, Any]) -> int:
    """The Engine.IO ping interval of a process with this configuration, in seconds."""
    return KIOSK_PING_INTERVAL if serves(config, KIOSK) else PEOPLE_PING_INTERVAL


def init_app(app: Flask) -> None:
    """Registers `/live` on the app's Socket.IO server (after `socketio.init_app`) when this
    process serves people, and answers the kiosks' Socket.IO path (the kiosk namespace registers
    itself: ediary/kiosks/api.py)."""
    # Imported here: the namespace reaches far into the domain (scopes, the second factor, and
    # through them `access.revocation`, which imports `realtime.delivery`), and a module that
    # needs only `delivery` must not import it all, nor meet that cycle half-way.
    from ediary.realtime.live import LiveNamespace

    if serves(app.config, LIVE):
        socketio.on_namespace(LiveNamespace(LIVE))
    middleware = app.wsgi_app  # Flask-SocketIO's, around the app's own
    if not isinstance(middleware, engineio.WSGIApp):
        raise RuntimeError("realtime.init_app comes right after socketio.init_app")
    app.wsgi_app = SocketPaths(app, socketio.server, middleware.wsgi_app)  # type: ignore[method-assign]
    app.jinja_env.globals["journal_head"] = journal_head
    app.teardown_request(_forget_routing_exception)
    app.extensions["ediary.realtime"] = True  # tells the gunicorn hook this app has a relay


def _forget_routing_exception(_error: BaseException | None) -> None:
    """Every socket event runs in a request context of the handshake's path, which matches no
    route, and Flask keeps the NotFound on the request: the exception holds its traceback, the
    traceback the frames of the event's handling (the user loaded for it among their locals),
    and a frame the request. That cycle, one per event, waits for a full garbage collection,
    which a worker holding thousands of sockets runs rarely (provisioning/gunicorn.conf.py):
    KBs per socket (bench/idle.py). Without the request's reference it is freed at once."""
    request.routing_exception = None


class SocketPaths:
    """Sends the Socket.IO paths to the Socket.IO server and everything else to the app: what
    Flask-SocketIO's middleware does, without its per-request costs that stay with a socket.

    The kiosks' path (`/kiosk/socket.io/`) is served as the default `/socket.io/`. One Socket.IO
    server answers both, so a single process (the demo) serves kiosks on their path; in
    production nginx sends that path to the kiosks' own processes, and which namespaces a
    process accepts is its `SOCKETS` setting, not the path.

    Per socket, Flask-SocketIO's middleware copies the WSGI environ (to add `flask.app`, which
    its event handlers read), and python-engineio's defines a class (a wrapper of gunicorn's
    socket for eventlet's WebSocket, which is not used here): each is kept with the socket for
    its life, a few KB at 10,000 idle sockets (bench/idle.py). Here the environ gets `flask.app`
    itself.

    The client's offer of per-message compression is withdrawn before the WebSocket handshake:
    simple-websocket (the transport where ediary.realtime.websocket is not installed) accepts
    `permessage-deflate` whenever it is offered (browsers always offer it), and each socket then
    keeps a zlib compressor from its first message on, ~90 KB (bench/README.md, idle sockets),
    more than all the rest of an idle socket. The protocol's messages are small JSON; a long
    replay is the one thing it would shrink."""

    def __init__(self, flask_app: Flask, server: Any, pages: WSGIApp) -> None:
        self.flask_app = flask_app
        self.server = server  # the Socket.IO server
        self.pages = pages

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(KIOSK_SOCKETIO_PATH):
            environ["PATH_INFO"] = path = "/socket.io/" + path[len(KIOSK_SOCKETIO_PATH) :]
        if not path.startswith("/socket.io/"):
            return self.pages(environ, start_response)
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        environ["flask.app"] = self.flask_app
        return self.server.handle_request(environ, start_response)
