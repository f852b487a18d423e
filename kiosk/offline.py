"""PIN unlock without the server: a salted argon2id verifier of the day's PIN, never the password.

A verifier is stored only after the server accepted the teacher's full login (or PIN) on this kiosk,
is valid on that date only, and carries the lessons of that day in this room that the teacher may
open. A few wrong PINs erase it, so the next unlock needs the full login (and so the server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS pin_verifiers (
    teacher_id INTEGER PRIMARY KEY,
    teacher_name TEXT NOT NULL,
    verifier TEXT NOT NULL,
    valid_on TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    teacher TEXT NOT NULL DEFAULT '{}'
);
"""

# RFC 9106 / OWASP "second choice" profile: 19 MiB, t=2. A kiosk verifies a PIN a few times a day.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class OfflineTeacher:
    teacher_id: int
    name: str
    data: dict[str, Any]  # the teacher as the server described it at the last login


class PinVerifiers:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock:
            self._db.executescript(SCHEMA)

    def remember(
        self, teacher_id: int, name: str, pin: str, valid_on: dt.date, teacher: dict[str, Any]
    ) -> None:
        verifier = _HASHER.hash(pin)
        with self._lock:
            self._db.execute(
                "INSERT INTO pin_verifiers (teacher_id, teacher_name, verifier, valid_on, failures,"
                " teacher) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (teacher_id) DO UPDATE SET"
                " teacher_name = excluded.teacher_name, verifier = excluded.verifier,"
                " valid_on = excluded.valid_on, failures = 0, teacher = excluded.teacher",
                (teacher_id, name, verifier, valid_on.isoformat(), json.dumps(teacher)),
            )

    def teachers(self, today: dt.date) -> list[dict[str, Any]]:
        """Who may unlock with a PIN today: names for the lock screen, no verifier."""
        with self._lock:
            rows = self._db.execute(
                "SELECT teacher_id, teacher_name FROM pin_verifiers WHERE valid_on = ?"
                " ORDER BY teacher_name",
                (today.isoformat(),),
            ).fetchall()
        return [{"id": r[0], "name": r[1]} for r in rows]

    def has(self, teacher_id: int, today: dt.date) -> bool:
        return any(t["id"] == teacher_id for t in self.teachers(today))

    def verify(
        self, teacher_id: int, pin: str, today: dt.date, max_failures: int
    ) -> OfflineTeacher | None:
        """The teacher if the PIN matches today's verifier; a miss counts, too many erase it."""
        with self._lock:
            row = self._db.execute(
                "SELECT teacher_name, verifier, valid_on, failures, teacher FROM pin_verifiers"
                " WHERE teacher_id = ?",
                (teacher_id,),
            ).fetchone()
        if row is None or row[2] != today.isoformat():
            return None
        ok = False
        with contextlib.suppress(VerificationError, InvalidHashError):
            ok = _HASHER.verify(row[1], pin)
        with self._lock:
            if ok:
                self._db.execute(
                    "UPDATE pin_verifiers SET failures = 0 WHERE teacher_id = ?", (teacher_id,)
                )
                return OfflineTeacher(teacher_id, row[0], json.loads(row[4]))
            if row[3] + 1 >= max_failures:
                self.forget(teacher_id)
            else:
                self._db.execute(
                    "UPDATE pin_verifiers SET failures = failures + 1 WHERE teacher_id = ?",
                    (teacher_id,),
                )
        return None

    def forget(self, teacher_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pin_verifiers WHERE teacher_id = ?", (teacher_id,))

    def forget_all(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pin_verifiers")

    def expire(self, today: dt.date) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pin_verifiers WHERE valid_on <> ?", (today.isoformat(),))
