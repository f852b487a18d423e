"""The server's gunicorn worker: gunicorn's gevent worker, whose quick shutdown ends cleanly.

gunicorn's gevent worker carries out a quick shutdown (SIGINT, SIGQUIT) in a greenlet of its own,
out of the signal handler: it sleeps 0.1 s, then calls `sys.exit(0)`, which gevent throws into
the main greenlet. Two things go wrong with it, and each prints a `SystemExit` traceback at the
worker's exit (from gevent's `threading._shutdown`, which runs the greenlets still pending):

- a terminal's Ctrl+C sends SIGINT to the master and to the worker, and the master sends the
  worker SIGQUIT: two quit greenlets, and the second one fires while the process exits (every
  time: `tests/test_worker.py`);
- when the worker's loop sees the shutdown before the greenlet's 0.1 s are up, and has no
  connection left to wait for, the worker exits with the greenlet still pending.

So this worker starts one quit greenlet at most, and its loop, once it ends, waits for that
greenlet: the `SystemExit(0)` then reaches the main greenlet as gunicorn means it to. A subclass,
not a gunicorn hook: no hook runs at the quit signal before the greenlet is spawned.

gunicorn's master imports this module before the worker patches the standard library, so it
imports gunicorn and gevent only, and its packages nothing (ediary/__init__.py says why).
"""

from __future__ import annotations

from types import FrameType

import gevent
from gunicorn.workers.ggevent import GeventWorker


class Worker(GeventWorker):
    _quitting: gevent.Greenlet | None = None

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        if self._quitting is None:  # a second signal asks for the same quick shutdown
            self._quitting = gevent.spawn(super(GeventWorker, self).handle_quit, sig, frame)

    def run(self) -> None:
        super().run()
        if self._quitting is not None:
            self._quitting.join()  # raises its SystemExit(0) here, in the main greenlet
