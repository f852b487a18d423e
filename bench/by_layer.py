"""An entry's CPU split by layer, for `python -m bench.roll_cost --by-layer`.

Each layer's own CPU (`time.process_time_ns`), during the submissions only: psycopg (its
`execute`, `executemany`, `commit`, `rollback`), SQLAlchemy's Core (`Connection.execute` less
psycopg's part), the ORM's execute (`Session.execute` less both), the commit's listeners and unit
of work (`Session.commit` less the statements it sends), and ediary's own Python (the rest of the
submission). Written by hand: a profiler's hooks on every call cost more than the calls measured
(cProfile doubles a remark's CPU and moves the shares), these a few timer reads per statement.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

R = TypeVar("R")

# (class, method, the layer its own time counts for); the submission itself is `OWN`.
PATCHED: tuple[tuple[type, str, str], ...] = (
    (psycopg.Cursor, "execute", "psycopg"),
    (psycopg.Cursor, "executemany", "psycopg"),
    (psycopg.Connection, "commit", "psycopg"),
    (psycopg.Connection, "rollback", "psycopg"),
    (Connection, "execute", "SQLAlchemy's Core"),
    (Session, "execute", "the ORM's execute"),
    (Session, "commit", "the commit's listeners and unit of work"),
)
OWN = "ediary's own Python"


class LayerClock:
    """The CPU of each layer's own code in the submissions run through `submission`: a layer's
    time less that of the layers it calls."""

    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.submissions = 0
        self._inner: list[int] = []  # per open call: the time of the calls inside it
        self._inside = False

    @contextmanager
    def installed(self) -> Iterator[LayerClock]:
        """The layers' methods timed while the block runs, and given back after it."""
        originals = [getattr(cls, name) for cls, name, _layer in PATCHED]
        for (cls, name, layer), original in zip(PATCHED, originals, strict=True):
            setattr(cls, name, self._timed(layer, original))
        try:
            yield self
        finally:
            for (cls, name, _layer), original in zip(PATCHED, originals, strict=True):
                setattr(cls, name, original)

    def submission(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(*args)`, its own time counted as ediary's, its layers' as theirs."""
        self._inside = True
        self.submissions += 1
        try:
            return self._measure(OWN, fn, args, {})
        finally:
            self._inside = False

    def per_submission_ms(self) -> list[tuple[str, float]]:
        order = [layer for _cls, _name, layer in PATCHED] + [OWN]
        layers = sorted(self.own, key=order.index)
        return [(layer, self.own[layer] / max(self.submissions, 1) / 1e6) for layer in layers]

    def _timed(self, layer: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self._inside:  # the district's set-up, the meters' own statements
                return method(*args, **kwargs)
            return self._measure(layer, method, args, kwargs)

        return timed

    def _measure(
        self, layer: str, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        started = time.process_time_ns()
        self._inner.append(0)
        try:
            return fn(*args, **kwargs)
        finally:
            inner = self._inner.pop()
            spent = time.process_time_ns() - started
            self.own[layer] += spent - inner
            if self._inner:
                self._inner[-1] += spent
