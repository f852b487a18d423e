"""How far a running import's commit has got, for the page that polls it.

In this process's memory, not in a table: the commit is one transaction, so a progress row it
wrote would be invisible to the poll until the end. The poll reaches the same process because
the server runs one worker per process behind sticky sessions (DESIGN.md); under gevent the
commit yields after each chunk (`time.sleep(0)` is gevent's when patched) so the poll is
answered meanwhile. Keyed by the upload's random token, holding only two numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_RUNNING: dict[str, tuple[int, int]] = {}


def reporter(token: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        _RUNNING[token] = (done, total)
        time.sleep(0)  # lets the poll's greenlet run

    _RUNNING[token] = (0, 0)
    return report


def finished(token: str) -> None:
    _RUNNING.pop(token, None)


def state(token: str) -> tuple[int, int] | None:
    return _RUNNING.get(token)
