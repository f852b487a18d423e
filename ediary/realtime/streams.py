"""What the relay keeps per socket (`Stream`), and what a resume answers (`Resumed`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Stream:
    """One socket's place in the journal (one per /live socket: slots, no `__dict__`)."""

    namespace: str
    sid: str
    user_id: int | None = None
    session_version: int = 0
    rooms: set[str] = field(default_factory=set)
    resumed: bool = False  # replay done: live events go straight out
    sent_upto: int = 0  # the newest event id this socket was sent
    pending: list[dict[str, Any]] | None = None  # live events that arrive during its replay


@dataclass
class Resumed:
    ok: bool
    last_id: int = 0
    replayed: int = 0
    reason: str | None = None  # why the client must reload: stale, ahead, too_many

    def ack(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "last_id": self.last_id, "replayed": self.replayed}
        if self.reason == "already_resumed":
            return {"ok": False, "error": "already_resumed"}
        return {"ok": False, "error": "reload", "reason": self.reason}
