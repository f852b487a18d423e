"""The kiosk side of the `/kiosk` wire protocol (docs/protocol.md): names and shapes in one place.

Everything the agent says to the server, and how it reads the answers, goes through here, so the
rest of the agent does not depend on event names or field spellings.
"""

from __future__ import annotations

from typing import Any

from kiosk.credential import Credential
from kiosk.outbox import Entry, Outcome

ENROLL_PATH = "/api/kiosk/enroll"

# Refusal codes that are about the device, not the entry: the entry keeps its place in the queue.
DEVICE_CODES = frozenset({"kiosk_revoked", "kiosk_unknown", "kiosk_auth", "unauthenticated"})
# Refusal codes that mean "try again later": nothing is wrong with the entry either.
TRANSIENT_CODES = frozenset({"rate_limited", "busy", "unavailable", "internal"})


def auth(credential: Credential) -> dict[str, Any]:
    return {"kiosk_id": credential.kiosk_id, "secret": credential.secret}


def is_revocation(data: Any) -> bool:
    code = data.get("error") or data.get("code") if isinstance(data, dict) else None
    return code in {"kiosk_revoked", "kiosk_unknown", "kiosk_auth"}


def refusal(ack: Any) -> tuple[str, str] | None:
    """(code, message) if the acknowledgement is a refusal, else None."""
    if isinstance(ack, dict) and ack.get("ok") is False:
        return str(ack.get("error") or "refused"), str(ack.get("message") or "")
    if not isinstance(ack, dict):
        return "bad_ack", repr(ack)[:200]
    return None


def submission(entry: Entry) -> tuple[str, dict[str, Any]]:
    """The event and data that carry one outbox entry."""
    data = {
        "key": entry.key,
        "kind": entry.kind,
        "lesson_id": entry.lesson_id,
        "teacher_id": entry.teacher_id,
        "created_at": entry.created_at,
        **entry.auth,
        **entry.payload,
    }
    return "submit", data


def outcome(ack: Any) -> Outcome:
    refused = refusal(ack)
    if refused is None:
        status = ack.get("status")
        if status in ("applied", "duplicate"):
            return Outcome("synced", result=ack)
        return Outcome("retry", code=f"status {status!r}")
    code, message = refused
    if code in DEVICE_CODES:
        return Outcome("hold", code=code, message=message)
    if code in TRANSIENT_CODES:
        return Outcome("retry", code=code, message=message)
    return Outcome("parked", code=code, message=message)
