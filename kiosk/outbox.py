"""The outbox: every entry is on disk before anything goes on the wire; nothing is ever dropped.

An entry is committed to SQLite (WAL, synchronous=FULL: a committed transaction survives a power
cut, which WAL with NORMAL does not promise) with a fresh UUID idempotency key. One sender thread
sends the oldest unsent entry, waits for the server's acknowledgement (which the server gives after
its own commit) and only then marks it synced. A timeout or a lost connection leaves the entry as it
was; it is sent again with the same key and the server answers "duplicate" if it had it already.
A refusal parks the entry: it stays on disk and on the teacher's screen, and the queue moves on.

The python-socketio client raises when emitting while disconnected, forgets pending acknowledgements
on disconnect and does not retry a failed first connect by default; none of that matters here,
because the state lives in this file and the sender only trusts an acknowledgement it received.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    lesson_id INTEGER,
    teacher_id INTEGER,
    teacher_name TEXT NOT NULL DEFAULT '',
    auth TEXT NOT NULL DEFAULT '{}',
    payload TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    refusal_code TEXT,
    refusal_message TEXT,
    result TEXT,
    synced_at TEXT,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_entries_state ON entries (state, seq);
CREATE INDEX IF NOT EXISTS ix_entries_lesson ON entries (lesson_id, seq);
CREATE TABLE IF NOT EXISTS cache (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    key TEXT NOT NULL,
    item TEXT NOT NULL,
    decision TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (key, item)
);
"""


class KeyReused(Exception):
    """An entry's key was given again with other content: another intent, refused."""


def _same_content(
    row: sqlite3.Row,
    kind: str,
    lesson_id: int | None,
    teacher_id: int | None,
    payload: dict[str, Any],
) -> bool:
    return (row["kind"], row["lesson_id"], row["teacher_id"], json.loads(row["payload"])) == (
        kind,
        lesson_id,
        teacher_id,
        json.loads(json.dumps(payload)),  # as stored: JSON has no tuples, keys are text
    )


class State(enum.StrEnum):
    SAVED = "saved"  # on this computer only
    SYNCED = "synced"  # the server acknowledged it after its commit
    DELIVERED = "delivered"  # the server says the parents' screens received it
    PARKED = "parked"  # the server refused it: kept and shown, never dropped


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Entry:
    seq: int
    key: str
    kind: str
    lesson_id: int | None
    teacher_id: int | None
    teacher_name: str
    auth: dict[str, Any]
    payload: dict[str, Any]
    summary: str
    created_at: str
    state: State
    attempts: int
    last_error: str | None
    refusal_code: str | None
    refusal_message: str | None
    result: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Entry:
        return cls(
            seq=row["seq"],
            key=row["key"],
            kind=row["kind"],
            lesson_id=row["lesson_id"],
            teacher_id=row["teacher_id"],
            teacher_name=row["teacher_name"],
            auth=json.loads(row["auth"]),
            payload=json.loads(row["payload"]),
            summary=row["summary"],
            created_at=row["created_at"],
            state=State(row["state"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            refusal_code=row["refusal_code"],
            refusal_message=row["refusal_message"],
            result=json.loads(row["result"]) if row["result"] else None,
        )

    def public(self) -> dict[str, Any]:
        """What the screen needs (no device or session secrets)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "lesson_id": self.lesson_id,
            "teacher": self.teacher_name,
            "summary": self.summary,
            "created_at": self.created_at,
            "state": self.state.value,
            "attempts": self.attempts,
            "refusal": self.refusal_message,
            "refusal_code": self.refusal_code,
            # States the server had changed meanwhile, kept there: shown next to the entry for
            # the teacher to decide (the agent words them, see roster.readable_conflicts).
            "conflicts": self.conflicts(),
        }

    def conflicts(self) -> list[dict[str, Any]]:
        found = ((self.result or {}).get("result") or {}).get("conflicts")
        return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


class Outbox:
    """The SQLite file in the agent's state directory: entries and a small cache of lesson data.

    One connection guarded by a lock: writes are a few rows a minute, and SQLite serialises writers
    anyway. Every write is its own committed transaction before the method returns.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"SQLite refused WAL mode for {path}: {mode}")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._listeners: list[Callable[[], None]] = []

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """For other small tables of the agent's state (PIN verifiers) in the same durable file."""
        return self._db

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def on_change(self, listener: Callable[[], None]) -> None:
        """Called when there is something new to send (not on the sender's own bookkeeping)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- entries ---------------------------------------------------------------------------------

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        lesson_id: int | None,
        teacher_id: int | None,
        teacher_name: str = "",
        summary: str = "",
        auth: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Entry:
        """Commits the entry under `key` (the teacher's intent: one opened dialog, one roll
        draft; a new one if not given); returns only once it is on disk.

        The same key again with the same content returns the stored entry and writes nothing
        (a double tap, a request repeated); with other content it raises `KeyReused`."""
        key = str(uuid.UUID(key)) if key is not None else str(uuid.uuid4())
        with self._transaction() as db:
            row = db.execute("SELECT * FROM entries WHERE key = ?", (key,)).fetchone()
            if row is not None:
                if not _same_content(row, kind, lesson_id, teacher_id, payload):
                    raise KeyReused(key)
                return Entry.from_row(row)
            db.execute(
                "INSERT INTO entries (key, kind, lesson_id, teacher_id, teacher_name, auth,"
                " payload, summary, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    kind,
                    lesson_id,
                    teacher_id,
                    teacher_name,
                    json.dumps(auth or {}),
                    json.dumps(payload, ensure_ascii=False),
                    summary,
                    now_utc(),
                    State.SAVED.value,
                ),
            )
        entry = self.get(key)
        assert entry is not None
        self._changed()
        return entry

    def get(self, key: str) -> Entry | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM entries WHERE key = ?", (key,)).fetchone()
        return Entry.from_row(row) if row else None

    def next_unsent(self) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM entries WHERE state = ? ORDER BY seq LIMIT 1", (State.SAVED.value,)
            ).fetchone()
        return Entry.from_row(row) if row else None

    def _update(self, key: str, sql: str, *args: Any) -> None:
        with self._transaction() as db:
            db.execute(f"UPDATE entries SET {sql} WHERE key = ?", (*args, key))  # noqa: S608

    def mark_attempt(self, key: str, error: str | None) -> None:
        self._update(key, "attempts = attempts + 1, last_error = ?", error)

    def mark_synced(self, key: str, result: dict[str, Any]) -> None:
        self._update(
            key,
            "state = ?, result = ?, synced_at = ?, last_error = NULL",
            State.SYNCED.value,
            json.dumps(result, ensure_ascii=False),
            now_utc(),
        )

    def mark_parked(self, key: str, code: str, message: str) -> None:
        self._update(
            key,
            "state = ?, refusal_code = ?, refusal_message = ?, attempts = attempts + 1",
            State.PARKED.value,
            code,
            message,
        )

    def mark_delivered(self, key: str) -> bool:
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE entries SET state = ?, delivered_at = ? WHERE key = ? AND state = ?",
                (State.DELIVERED.value, now_utc(), key, State.SYNCED.value),
            ).rowcount
        return bool(changed)

    def resend(self, key: str) -> bool:
        """A parked entry goes back into the queue (e.g. after the teacher fixed the cause)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE entries SET state = ?, refusal_code = NULL, refusal_message = NULL"
                " WHERE key = ? AND state = ?",
                (State.SAVED.value, key, State.PARKED.value),
            ).rowcount
        if changed:
            self._changed()
        return bool(changed)

    def requeue_for_teacher(self, teacher_id: int, codes: tuple[str, ...], session: str) -> int:
        """Entries parked because the teacher's session no longer vouched for them go back into
        the queue under the teacher's new session (docs/protocol.md: "or the teacher's newer
        one"); the same keys, so nothing can be doubled."""
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT key, auth FROM entries WHERE teacher_id = ? AND state = ?"  # noqa: S608
                f" AND refusal_code IN ({', '.join('?' * len(codes))})",
                (teacher_id, State.PARKED.value, *codes),
            ).fetchall()
            for key, auth in rows:
                db.execute(
                    "UPDATE entries SET state = ?, refusal_code = NULL, refusal_message = NULL,"
                    " auth = ? WHERE key = ?",
                    (State.SAVED.value, json.dumps({**json.loads(auth), "session": session}), key),
                )
        if rows:
            self._changed()
        return len(rows)

    def entries(
        self, *, lesson_id: int | None = None, states: tuple[State, ...] = (), limit: int = 200
    ) -> list[Entry]:
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        if lesson_id is not None:
            where.append("lesson_id = ?")
            args.append(lesson_id)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            args.extend(s.value for s in states)
        sql = f"SELECT * FROM entries WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"  # noqa: S608
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [Entry.from_row(r) for r in reversed(rows)]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM entries GROUP BY state").fetchall()
        counts = {s.value: 0 for s in State}
        counts.update({state: n for state, n in rows})
        return counts

    def oldest_unsent_at(self) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(created_at) FROM entries WHERE state = ?", (State.SAVED.value,)
            ).fetchone()
        oldest = row[0]
        return str(oldest) if oldest is not None else None

    # -- the teacher's decisions on conflicts the server reported -------------------------------

    def decide(self, key: str, item: str, decision: str, then: Callable[[], Any]) -> bool:
        """Records the teacher's one decision on one conflict of an entry, running `then` (the
        new entry that applies the teacher's value, if that is the decision) first, under the
        same lock: a second tap finds the decision made and does nothing."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM decisions WHERE key = ? AND item = ?", (key, item)
            ).fetchone()
            if row is not None:
                return False
            then()
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO decisions (key, item, decision, decided_at) VALUES (?, ?, ?, ?)",
                    (key, item, decision, now_utc()),
                )
        return True

    def decisions(self, keys: list[str]) -> dict[str, dict[str, str]]:
        if not keys:
            return {}
        with self._lock:
            rows = self._db.execute(
                f"SELECT key, item, decision FROM decisions WHERE key IN"  # noqa: S608
                f" ({', '.join('?' * len(keys))})",
                keys,
            ).fetchall()
        found: dict[str, dict[str, str]] = {}
        for key, item, decision in rows:
            found.setdefault(key, {})[item] = decision
        return found

    # -- cache: the room's day and the lessons a teacher loaded, for work without the server -----

    def cache_put(self, name: str, value: Any) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO cache (name, value, saved_at) VALUES (?, ?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value, saved_at = excluded.saved_at",
                (name, json.dumps(value, ensure_ascii=False), now_utc()),
            )

    def cache_get(self, name: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM cache WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def cache_names(self, prefix: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name FROM cache WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
                (_like_prefix(prefix),),
            ).fetchall()
        return [row[0] for row in rows]

    def cache_delete(self, prefix: str = "") -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM cache WHERE name LIKE ? ESCAPE '\\'", (_like_prefix(prefix),))


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# -- sending --------------------------------------------------------------------------------------


class Unavailable(Exception):
    """The entry could not be handed over now (no connection, timeout): keep it and retry."""


@dataclass(frozen=True)
class Outcome:
    """How the server answered one entry."""

    kind: str  # "synced" | "parked" | "retry" | "hold"
    result: dict[str, Any] | None = None
    delivered: bool = False  # synced, and the server says the parents' push has it too
    code: str = ""
    message: str = ""


class Sender(threading.Thread):
    """The single sender: oldest unsent entry first, one at a time, in order.

    `send(entry)` hands one entry to the server and returns its `Outcome`, or raises `Unavailable`.
    "hold" means the entry cannot be sent now for a reason outside it (the device was revoked):
    it keeps its place and the sender waits to be woken (by a new enrollment and connection).
    """

    def __init__(
        self,
        outbox: Outbox,
        send: Callable[[Entry], Outcome],
        *,
        can_send: Callable[[], bool],
        retry_max: float = 30.0,
        retry_base: float = 0.5,
    ) -> None:
        super().__init__(name="outbox-sender", daemon=True)
        self.outbox = outbox
        self._send = send
        self._can_send = can_send
        self._wake = threading.Event()
        # Not `_stop`: that name is threading.Thread's own method (is_alive(), join() and the
        # after-fork hook call it), and an Event in its place makes them raise TypeError.
        self._stopping = threading.Event()
        self.retry_max = retry_max
        self.retry_base = retry_base
        self._failures = 0
        outbox.on_change(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def backoff(self) -> float:
        # Full jitter (AWS architecture blog): 94 kiosks reconnecting at 8:00 must not send in step.
        ceiling = min(self.retry_max, self.retry_base * 2 ** min(self._failures, 16))
        return random.uniform(self.retry_base / 2, ceiling)  # noqa: S311 - jitter, not a secret

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                idle = self.step()
            except Exception:  # a bug must not stop the queue for good; log and slow down
                log.exception("outbox sender failed")
                self._failures += 1
                self._sleep(self.backoff())
                continue
            if idle is not None:
                self._sleep(idle)

    def step(self) -> float | None:
        """Sends at most one entry; returns how long to wait before the next (None: at once)."""
        if not self._can_send():
            return 60.0
        entry = self.outbox.next_unsent()
        if entry is None:
            self._failures = 0
            return 60.0
        try:
            outcome = self._send(entry)
        except Unavailable as error:
            self.outbox.mark_attempt(entry.key, str(error) or type(error).__name__)
            self._failures += 1
            return self.backoff()
        if outcome.kind == "synced":
            self.outbox.mark_synced(entry.key, outcome.result or {})
            if outcome.delivered:
                self.outbox.mark_delivered(entry.key)
            self._failures = 0
            return None
        if outcome.kind == "parked":
            log.warning("entry %s refused: %s %s", entry.key, outcome.code, outcome.message)
            self.outbox.mark_parked(entry.key, outcome.code, outcome.message)
            self._failures = 0
            return None
        if outcome.kind == "hold":
            self.outbox.mark_attempt(entry.key, outcome.code or "hold")
            return 60.0
        self.outbox.mark_attempt(entry.key, outcome.code or "retry")
        self._failures += 1
        return self.backoff()
