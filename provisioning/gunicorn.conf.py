"""gunicorn settings for one ediary server process.

    gunicorn -c provisioning/gunicorn.conf.py ediary.wsgi:app

Flask-SocketIO keeps each socket in the memory of the process that accepted it, so a process has
exactly one worker; a larger site runs N such processes on N ports (EDIARY_BIND) behind nginx
with sticky sessions, joined by Redis (EDIARY_REDIS_URL). The worker is gevent (never eventlet:
DESIGN.md); WebSockets are served by python-engineio on gunicorn's own socket, framed by wsproto
in the request's greenlet (ediary/realtime/websocket.py), so no gevent-websocket handler is needed.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("EDIARY_BIND", "127.0.0.1:8000")
# gunicorn's gevent worker, whose quick shutdown (Ctrl+C) prints no traceback
# (ediary/deploy/worker.py). A name, not an import: the master must not import gevent before it
# patches (below).
worker_class = "ediary.deploy.worker.Worker"
workers = 1

# Where the process starts again after its worker dies (`child_exit` below; the systemd units),
# the application is loaded before the port opens. Otherwise the restarted master listens at
# once while its worker still imports the application (1.5-1.8 s on a quiet machine, more in
# the storm that follows a kill), nginx's least_conn prefers that empty process, and the kiosks
# it sends there wait: 39 of 500 for 5 s in the city drill (bench/README.md). Loading it in the
# master needs gevent's patching first, as the worker would have done it; the worker then only
# forks. `ediary serve` and the demo keep loading it in the worker.
_RESTARTED_BY_SYSTEMD = os.environ.get("EDIARY_EXIT_WITH_WORKER") == "1"
if _RESTARTED_BY_SYSTEMD:
    from gevent import monkey

    monkey.patch_all()
preload_app = _RESTARTED_BY_SYSTEMD

# Every parent's phone holds one WebSocket open all day: connections, not requests, are the
# limit. gunicorn's default of 1000 would refuse the 1001st parent of a process. 20000 needs
# the open-files limit raised too (systemd: LimitNOFILE=65536).
worker_connections = int(os.environ.get("EDIARY_WORKER_CONNECTIONS", "20000"))

# The arbiter kills a worker that has not checked in for `timeout` seconds; under gevent that
# only happens when something blocks the event loop, which is a bug worth a restart (of the whole
# process: a worker that dies takes its process with it, `child_exit` below).
timeout = int(os.environ.get("EDIARY_WORKER_TIMEOUT", "30"))
# On SIGTERM, sockets get this long to close; clients reconnect (to another process) and resume
# from the journal, so a short grace loses nothing.
graceful_timeout = int(os.environ.get("EDIARY_GRACEFUL_TIMEOUT", "10"))
# Longer than nginx keeps an idle upstream connection (`keepalive_timeout` in
# server/nginx/ediary.conf.template), so nginx is the one that closes it.
keepalive = 5
# Never recycle the worker on a request count: a recycle drops every socket of the process.
max_requests = 0

# nginx in front terminates TLS and sets X-Forwarded-*; trust only it.
forwarded_allow_ips = os.environ.get("EDIARY_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("EDIARY_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("EDIARY_LOG_LEVEL", "info")


# Garbage collection: a worker holding 3,000 sockets has a heap of a few million objects, and a
# full (generation 2) collection of it stopped the worker for 270-860 ms in bench/ (the whole
# p99 tail of a lesson start). Collecting the young generations less often makes full collections
# rare; the application's own objects are frozen out of them after start-up. Measured with
# 3,000 parents: kiosk acknowledgement p99 365 ms -> 74 ms, at about 7 KB more per connection.
# EDIARY_GC_THRESHOLD="700,10,10" restores CPython's defaults.
_GC_THRESHOLD = tuple(
    int(n) for n in os.environ.get("EDIARY_GC_THRESHOLD", "50000,50,100").split(",")
)


def post_worker_init(worker: Any) -> None:
    """Starts the journal relay with the worker, not with its first socket, so that a kiosk's
    device room gets its events even before any parent has connected to this process."""
    import gc

    from flask import Flask

    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLD)

    from ediary.extensions import socketio
    from ediary.realtime.relay import ensure_relay

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask) and "ediary.realtime" in app.extensions:
        ensure_relay(app, socketio)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that died while its master still serves (kill -9, the OOM killer, a worker the
    master killed for its `timeout`) takes the whole process down with it: the master closes its
    port and exits, and systemd starts the process again (Restart=always, RestartSec=2).

    Left to itself, the master would keep listening and fork a new worker: the kernel completes
    every connection into the master's backlog meanwhile, nginx takes that for a successful
    connect, and the client waits there for the new worker to boot (seconds; and least_conn
    prefers the empty, restarted process). A closed port is refused at once, and nginx passes the
    request on to the next process of its upstream (`proxy_next_upstream error`): kiosks reach
    the other kiosks' process, parents another people's process. The district drill's kiosks
    were back 7.5-10.6 s after a kill -9 of their process with the master keeping the port,
    and ~1 s without it (bench/README.md).

    Not while the master stops (it closes its listeners before it stops its worker) nor when it
    replaces its worker on HUP (the new one is up before the old one goes); and only where
    something starts the process again: the systemd units set EDIARY_EXIT_WITH_WORKER=1.
    Without it (`ediary serve`, the demo) the master forks a new worker, as gunicorn does."""
    if os.environ.get("EDIARY_EXIT_WITH_WORKER") == "1" and server.LISTENERS and not server.WORKERS:
        from gunicorn.errors import HaltServer

        raise HaltServer(
            f"worker {worker.pid} died: the process stops, so that nginx sends its clients to "
            "the other processes at once; systemd starts it again",
            1,
        )
