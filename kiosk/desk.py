"""The teacher's desk at the kiosk: the open lesson's roster, and the entries made on it.

`LessonDesk` is the part of the agent (`kiosk.agent.Agent` mixes it in) that loads a lesson's
roster, keeps it following the server (pushed events, acknowledged results), and turns the
screen's requests into outbox entries: a roll names only what the teacher changed, with what the
screen showed before (kiosk/roster.py); a grade or a remark is one dialog, one key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk import protocol
from kiosk import roster as rosters
from kiosk.outbox import Entry, KeyReused, Outbox, State, Unavailable

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from kiosk.connection import Connection

log = logging.getLogger(__name__)

# The protocol's values and limits (kiosk/protocol.schema.json), for the screen's own messages.
GRADES = frozenset(protocol.DEFS["ongoing_grade"]["enum"])
MAX_TOPIC = protocol.limit("topic")
MAX_TEXT = protocol.limit("remark_text")
MAX_DESCRIPTION = protocol.limit("description")
# What the screen calls each of the protocol's `remark_kind`s (a test keeps them in step).
REMARK_KINDS = {"positive": "pozytywna", "negative": "negatywna", "neutral": "neutralna"}
DECISIONS = ("keep", "mine")


class UserError(Exception):
    """Something the person at the screen should read (already translated)."""

    def __init__(self, message: str, code: str = "refused", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass
class TeacherSession:
    """The unlocked screen: in memory only."""

    teacher_id: int
    name: str
    mode: str  # "online": unlocked through the server; "offline_pin": by the local verifier
    token: str | None
    expires_at: float
    lessons: list[dict[str, Any]]
    lesson_id: int | None = None
    # When the auto-opened lesson ends (plus grace) the screen locks; None for a picked lesson.
    lock_at: float | None = None
    rosters: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The lessons a test or homework may be announced for, as the server last said (homework.py).
    homework_dates: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


parse_time = rosters.parse_time


class LessonDesk:
    """Mixed into the agent; these are the agent's, named here for the type checker."""

    if TYPE_CHECKING:
        session: TeacherSession | None
        outbox: Outbox
        connection: Connection
        clock: Callable[[], float]
        zone: ZoneInfo
        config: Any
        _lock: threading.RLock

        def t(self, text: str, **values: Any) -> str: ...
        def now(self) -> dt.datetime: ...
        def touch(self) -> None: ...
        def lock(self, notice: str | None = None) -> None: ...
        def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any]: ...

    # -- lessons ----------------------------------------------------------------------------------

    def _require(self) -> TeacherSession:
        session = self.session
        if session is None:
            raise UserError(self.t("Nie jesteś zalogowany."), code="locked", status=401)
        return session

    def open_lesson(self, lesson_id: int, auto: bool = False) -> dict[str, Any]:
        session = self._require()
        lesson = next((x for x in session.lessons if int(x["id"]) == lesson_id), None)
        if lesson is None or not lesson.get("here"):
            raise UserError(self.t("Nie wybrano lekcji."), code="not_found", status=404)
        roster = self.roster(lesson_id)
        with self._lock:
            if self.session is not session:
                raise UserError(self.t("Nie jesteś zalogowany."), code="locked", status=401)
            session.lesson_id = lesson_id
            ends = parse_time(lesson["ends_at"]).timestamp()
            starts = parse_time(lesson["starts_at"]).timestamp()
            current = starts <= self.clock() < ends
            grace = self.config.lesson_end_grace_seconds
            session.lock_at = ends + grace if (auto or current) else None
        return roster

    def roster(self, lesson_id: int) -> dict[str, Any]:
        """The lesson's roster: from the server when online (then cached), else the cached copy.

        Loading it from the server also moves this kiosk's socket to the lesson's room, where
        the server pushes the lesson's changes made elsewhere (`_lesson_event`)."""
        session = self._require()
        data: dict[str, Any] | None = session.rosters.get(lesson_id)
        if data is None:
            if self.connection.online and session.token:
                try:
                    sheet = self._call(
                        protocol.LESSON, {"session": session.token, "lesson_id": lesson_id}
                    )
                except UserError as error:
                    if error.code in protocol.PIN_GONE:
                        # Ended on the server (a password change, a hard logout): lock here too.
                        self.lock(self.t("Sesja zakończyła się. Zaloguj się ponownie."))
                        raise UserError(error.message, code="locked", status=401) from error
                    if error.code != "offline":
                        raise
                else:
                    data = rosters.from_sheet(sheet)
                    self.outbox.cache_put(f"roster:{lesson_id}", data)
            if data is None:
                data = self.outbox.cache_get(f"roster:{lesson_id}")
            if data is None:
                raise UserError(self.t("Nie można teraz połączyć się z serwerem."), code="offline")
            session.rosters[lesson_id] = data
        return {**data, **self._shown(lesson_id, data)}

    def _shown(self, lesson_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """What the screen shows: the server's states overlaid with the rolls not yet
        acknowledged (an acknowledged one is in the server's states already)."""
        pending = [
            e.payload
            for e in self.outbox.entries(lesson_id=lesson_id, states=(State.SAVED,))
            if e.kind == "roll"
        ]
        attendance, topic = rosters.shown(data, pending)
        return {"attendance": attendance, "topic": topic}

    def _prefetch(self, session: TeacherSession) -> None:
        """The sheets of the teacher's other lessons here today, for work without the server."""
        for lesson in session.lessons:
            lesson_id = int(lesson["id"])
            if not lesson.get("here") or lesson_id in session.rosters:
                continue
            try:
                ack = self.connection.call(
                    protocol.LESSON,
                    {"session": session.token, "lesson_id": lesson_id, "follow": False},
                )
            except Unavailable:
                return
            if protocol.refusal(ack) is None:
                self.outbox.cache_put(f"roster:{lesson_id}", rosters.from_sheet(ack))

    def _refollow(self) -> None:
        """After a reconnect: the open lesson's roster again (what changed while the link was
        down), which also puts the new socket in the lesson's room."""
        session = self.session
        if session is None or session.lesson_id is None or session.mode != "online":
            return
        lesson_id = session.lesson_id
        try:
            ack = self.connection.call(
                protocol.LESSON, {"session": session.token, "lesson_id": lesson_id}
            )
        except Unavailable:
            return
        if protocol.refusal(ack) is not None:
            return
        fresh = rosters.from_sheet(ack)
        with self._lock:
            if self.session is session:
                session.rosters[lesson_id] = fresh
            self.outbox.cache_put(f"roster:{lesson_id}", fresh)

    def _change_roster(self, lesson_id: int, change: Callable[[dict[str, Any]], Any]) -> None:
        """Applies a change of the server's data to the roster in memory and on disk."""
        with self._lock:
            session = self.session
            data = session.rosters.get(lesson_id) if session is not None else None
            if data is None:
                data = self.outbox.cache_get(f"roster:{lesson_id}")
            if data is None or change(data) is False:
                return
            self.outbox.cache_put(f"roster:{lesson_id}", data)

    def _lesson_event(self, message: dict[str, Any]) -> None:
        """A journal event the server pushed to the lesson's room (docs/protocol.md)."""
        lesson_id = message.get("lesson_id")
        if isinstance(lesson_id, int):
            self._change_roster(lesson_id, lambda data: rosters.apply_event(data, message))

    def _acknowledged(self, entry: Entry, ack: dict[str, Any]) -> None:
        """An entry is on the server: its result says what the server now has."""
        result = ack.get("result")
        if entry.kind == "roll" and entry.lesson_id is not None and isinstance(result, dict):
            self._change_roster(entry.lesson_id, lambda data: rosters.apply_result(data, result))
        elif entry.kind.startswith("grade") and entry.lesson_id is not None:
            kind, payload = entry.kind, entry.payload
            if isinstance(result, dict):
                self._change_roster(
                    entry.lesson_id,
                    lambda data: rosters.apply_grade_result(data, kind, payload, result),
                )

    def lesson_view(self, session: TeacherSession) -> dict[str, Any] | None:
        """The open lesson's states and topic as the screen shows them, for the page to redraw
        the pupils the teacher has not touched."""
        lesson_id = session.lesson_id
        data = session.rosters.get(lesson_id) if lesson_id is not None else None
        if lesson_id is None or data is None:
            return None
        return {
            "lesson_id": lesson_id,
            "status": data["lesson"].get("status"),
            **self._shown(lesson_id, data),
        }

    def entries_view(self, entries: list[Entry]) -> list[dict[str, Any]]:
        """Entries for the screen, their conflicts worded, with the teacher's decisions."""
        session = self.session
        decisions = self.outbox.decisions([e.key for e in entries if e.conflicts()])
        views = []
        for entry in entries:
            view = entry.public()
            data = None
            if session is not None and entry.lesson_id is not None:
                data = session.rosters.get(entry.lesson_id)
            view["conflicts"] = rosters.readable_conflicts(
                self.t, data, entry.conflicts(), decisions.get(entry.key, {}), self.zone
            )
            views.append(view)
        return views

    # -- entries ----------------------------------------------------------------------------------

    def _roster_of(self, lesson_id: int) -> dict[str, Any]:
        session = self._require()
        roster = session.rosters.get(lesson_id)
        if roster is None or session.lesson_id != lesson_id:
            raise UserError(self.t("Nie wybrano lekcji."), code="not_found", status=404)
        return roster

    def _require_started(self, roster: dict[str, Any]) -> None:
        """The server refuses entries before the lesson opens (its `opens_at`): say so now,
        rather than keep an entry the server will park."""
        opens = roster["lesson"].get("opens_at")
        if opens and self.now() < parse_time(opens):
            when = f"{parse_time(opens).astimezone(self.zone):%H:%M}"
            raise UserError(
                self.t(
                    "Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od {when}.",
                    when=when,
                ),
                code="lesson_not_started",
            )

    def _entry(
        self,
        kind: str,
        lesson_id: int,
        payload: dict[str, Any],
        summary: str,
        key: str | None = None,
    ) -> Entry:
        session = self._require()
        if session.lesson_id != lesson_id:
            raise UserError(self.t("Nie wybrano lekcji."), code="not_found", status=404)
        self._require_started(self._roster_of(lesson_id))
        if (key is not None and not protocol.valid("key", key)) or not protocol.valid(
            f"kind.{kind}", payload
        ):
            raise UserError(self.t("Nieprawidłowe dane."), code="invalid")
        self.touch()
        try:
            return self.outbox.add(
                kind,
                payload,
                lesson_id=lesson_id,
                teacher_id=session.teacher_id,
                teacher_name=session.name,
                summary=summary,
                auth={"session": session.token, "mode": session.mode},
                key=key,
            )
        except KeyReused as error:
            raise UserError(
                self.t("Ten wpis był już zapisany z inną treścią. Zapisz go jeszcze raz."),
                code="key_reused",
                status=409,
            ) from error

    def _pupils(self, lesson_id: int) -> dict[int, str]:
        roster = self._roster_of(lesson_id)
        return {int(p["id"]): str(p["name"]) for p in roster.get("pupils", [])}

    def submit_roll(
        self,
        lesson_id: int,
        states: dict[str, Any],
        base: dict[str, Any],
        topic: str | None,
        base_topic: str | None = None,
        key: str | None = None,
    ) -> Entry:
        """The pupils the teacher changed, each with what the screen showed before (`base`),
        and the topic if it changed (with the one shown): never the whole roster."""
        invalid = UserError(self.t("Nieprawidłowe dane."), code="invalid")
        roster = self._roster_of(lesson_id)
        pupils = self._pupils(lesson_id)
        codes = {str(t["code"]) for t in roster.get("types", [])}
        try:
            clean = {int(k): v for k, v in states.items()}
            bases = {int(k): v for k, v in base.items()}
        except (TypeError, ValueError) as error:
            raise invalid from error
        if set(clean) - set(pupils) or any(v not in codes for v in clean.values()):
            raise invalid
        if set(bases) != set(clean):
            raise invalid
        if topic is not None:
            topic = topic.strip()
            if not topic:
                raise UserError(self.t("Wpisz temat lekcji."), code="topic_empty")
            if len(topic) > MAX_TOPIC or (base_topic is not None and len(base_topic) > MAX_TOPIC):
                raise invalid
        summary = rosters.summary(self.t, roster, clean, topic or "")
        payload = protocol.roll_payload(clean, bases, topic, base_topic)
        return self._entry("roll", lesson_id, payload, summary, key)

    def add_remark(
        self, lesson_id: int, pupil_id: int, kind: str, text: str, key: str | None = None
    ) -> Entry:
        pupils = self._pupils(lesson_id)
        if pupil_id not in pupils:
            raise UserError(self.t("Nieprawidłowe dane."), code="invalid")
        if kind not in REMARK_KINDS:
            raise UserError(self.t("Wybierz rodzaj uwagi."), code="invalid")
        text = (text or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise UserError(self.t("Wpisz treść uwagi."), code="invalid")
        summary = self.t(
            "Uwaga {kind} — {pupil}", kind=self.t(REMARK_KINDS[kind]), pupil=pupils[pupil_id]
        )
        payload = protocol.remark_payload(pupil_id, kind, text)
        return self._entry("remark", lesson_id, payload, summary, key)

    def decide_conflict(self, key: str, item: str, decision: str) -> None:
        """The teacher's one tap on a conflict the server reported: keep the server's value, or
        apply theirs, as a new roll entry whose base is the server's value (so a change made
        since then is reported again, not overwritten)."""
        session = self._require()
        entry = self.outbox.get(key) if protocol.valid("key", key) else None
        conflict = None
        if entry is not None and entry.teacher_id == session.teacher_id:
            conflict = next(
                (
                    c
                    for c in entry.conflicts()
                    if str(c.get("pupil_id") if c.get("field") != "topic" else "topic") == item
                ),
                None,
            )
        if entry is None or conflict is None or decision not in DECISIONS:
            raise UserError(self.t("Nieprawidłowe dane."), code="invalid")
        lesson_id = entry.lesson_id or 0

        def apply_mine() -> None:
            if decision != "mine":
                return
            roster = self._roster_of(lesson_id)
            if item == "topic":
                topic = str(conflict["wanted"])
                payload = protocol.roll_payload({}, {}, topic, conflict.get("server"))
                summary = rosters.summary(self.t, roster, {}, topic)
            else:
                states = {int(item): str(conflict["wanted"])}
                payload = protocol.roll_payload(
                    states, {int(item): conflict.get("server")}, None, None
                )
                summary = rosters.summary(self.t, roster, states, "")
            self._entry("roll", lesson_id, payload, summary)

        self.outbox.decide(key, item, decision, apply_mine)
