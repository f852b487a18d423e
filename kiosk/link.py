"""The agent and the server: calls, entries sent, what the server pushes, a revocation.

`ServerLink` is the part of the agent (`kiosk.agent.Agent` mixes it in) that speaks the `/kiosk`
protocol through the connection (kiosk/connection.py): a call and its refusal as the screen's
error, an outbox entry sent and its acknowledgement read, the pushed journal events, `delivered`
and `revoked`, and what a revoked device forgets.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kiosk import __version__, protocol
from kiosk import credential as credentials
from kiosk.desk import UserError
from kiosk.outbox import Entry, Outcome, State, Unavailable
from kiosk.roster import LESSON_EVENTS

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.connection import Connection
    from kiosk.desk import TeacherSession
    from kiosk.offline import PinVerifiers
    from kiosk.outbox import Outbox, Sender

log = logging.getLogger(__name__)


class ServerLink:
    """Mixed into the agent; these are the agent's, named here for the type checker."""

    if TYPE_CHECKING:
        config: Config
        clock: Callable[[], float]
        outbox: Outbox
        pins: PinVerifiers
        connection: Connection
        sender: Sender
        credential: credentials.Credential | None
        _credential_stamp: float | None
        _room_fetched: float
        _beaten: float
        session: TeacherSession | None
        _lock: threading.RLock

        def t(self, text: str, **values: Any) -> str: ...
        def today(self) -> dt.date: ...
        def _drop_screen(self, notice: str | None, end: bool = False) -> None: ...
        def _refollow(self) -> None: ...
        def _lesson_event(self, message: dict[str, Any]) -> None: ...
        def _acknowledged(self, entry: Entry, ack: dict[str, Any]) -> None: ...

    def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            ack = self.connection.call(event, data)
        except Unavailable as error:
            raise UserError(
                self.t("Nie można teraz połączyć się z serwerem."), code="offline"
            ) from error
        refused = protocol.refusal(ack)
        if refused is not None:
            code, message = refused
            if code in protocol.DEVICE_REFUSALS:
                self._revoked(ack)
            raise UserError(message or self.t("Nieprawidłowe dane."), code=code)
        return dict(ack)

    def _send_entry(self, entry: Entry) -> Outcome:
        token = entry.auth.get("session")
        if not token:
            return Outcome("parked", code="no_session", message=self.t("Nie jesteś zalogowany."))
        ack = self.connection.call(protocol.SUBMIT, protocol.submission(entry, token))
        outcome = protocol.outcome(ack)
        if outcome.code in protocol.DEVICE_REFUSALS:
            self._revoked(ack)
        if outcome.kind == "synced":
            self._acknowledged(entry, ack)  # before the entry stops being overlaid on the roster
        elif outcome.code == protocol.SERVER_ERROR:
            outcome = replace(
                outcome,
                message=self.t(
                    "Błąd serwera: wpisu nie przyjęto. Zostanie wysłany ponownie po następnym"
                    " zalogowaniu."
                ),
            )
        return outcome

    def _online(self) -> None:
        self.sender.wake()
        threading.Thread(target=self.beat, daemon=True).start()
        threading.Thread(target=self._refresh_room, daemon=True).start()
        threading.Thread(target=self._refollow, daemon=True).start()

    def heartbeat_report(self) -> dict[str, Any]:
        """What the fleet pages show of this kiosk (docs/protocol.md, `heartbeat`)."""
        counts = self.outbox.counts()
        oldest = self.outbox.oldest_unsent_at()
        age = None
        if oldest is not None:
            # `created_at` is the wall clock's, so the age is too.
            created = dt.datetime.fromisoformat(oldest)
            age = max(0, int((dt.datetime.now(dt.UTC) - created).total_seconds()))
        session = self.session
        return {
            "version": __version__,
            "outbox_depth": counts[State.SAVED],
            "outbox_parked": counts[State.PARKED],
            "oldest_unsent_seconds": age,
            "teacher_id": session.teacher_id if session is not None else None,
        }

    def beat(self) -> None:
        """One heartbeat, if the server is reachable; a lost one is simply the next one's job."""
        self._beaten = self.clock()
        if not self.connection.online:
            return
        try:
            ack = self.connection.call(protocol.HEARTBEAT, self.heartbeat_report(), timeout=5)
        except Unavailable:
            return
        refused = protocol.refusal(ack)
        if refused is not None and refused[0] in protocol.DEVICE_REFUSALS:
            self._revoked(ack)

    def _refresh_room(self) -> None:
        self._room_fetched = self.clock()
        try:
            ack = self.connection.call(protocol.ROOM, {})
        except Unavailable:
            return
        if protocol.refusal(ack) is None:
            self.outbox.cache_put("room", ack)

    def _room_day(self, room: dict[str, Any]) -> list[dict[str, Any]]:
        if room.get("today") != self.today().isoformat():
            return []
        return [x for x in room.get("lessons") or [] if x.get("status") != "cancelled"]

    def _push(self, event: str, data: Any) -> None:
        if event == protocol.REVOKED or (
            event == protocol.JOURNAL
            and isinstance(data, dict)
            and data.get("type") == protocol.JOURNAL_REVOKED
        ):
            self._revoked(data)
        elif (
            event == protocol.JOURNAL
            and isinstance(data, dict)
            and data.get("type") in LESSON_EVENTS
        ):
            self._lesson_event(data)  # in order, on the connection's thread: pushes come in order
        elif event == protocol.DELIVERED and isinstance(data, dict) and data.get("key"):
            key = str(data["key"])
            threading.Thread(target=self._delivered, args=(key,), daemon=True).start()

    def _delivered(self, key: str) -> None:
        # The push can overtake the sender's own bookkeeping of the acknowledgement.
        for _ in range(100):
            entry = self.outbox.get(key)
            if entry is None or entry.state is not State.SAVED:
                break
            time.sleep(0.05)
        self.outbox.mark_delivered(key)

    def _revoked(self, data: Any) -> None:
        """Drop the teacher session, the cached lesson data, the day tokens and the credential;
        keep the entries: they are sent after the next enrollment, when their teachers log in."""
        log.warning("device refused by the server: %s", data)
        with self._lock:
            self._drop_screen(None)
            self.outbox.cache_delete()
            self.outbox.cache_put("device:revoked", True)
            self.pins.forget_all()
            if self.credential is not None:
                credentials.delete(self.config.state_dir)
            self.credential = None
            self._credential_stamp = None
        self.connection.mark_revoked()
