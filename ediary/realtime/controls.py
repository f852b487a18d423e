"""Controls: what a relay does to its sockets besides pushing events, when access was revoked.

An operation declares them (`ediary.access.revocation`); `delivery` places each one in the
journal's order when its transaction commits and rings every relay with it; each relay applies
it to the sockets of its own process (`Relay.apply`). The realtime layer knows only whose sockets
a control concerns (a person's `user:<id>` room, a kiosk's `kiosk:<id>` room), never why:

- `sessions`: the person's `/live` sockets opened with an older session version get `reload`
  and are disconnected (logout, disabled account, new password);
- `access`: the person's `/live` sockets leave the rooms they may no longer see, join the new
  ones, and get `reload` if their rooms changed;
- `kiosk`: the kiosk's `/kiosk` sockets get `revoked` and are disconnected (revoked, or enrolled
  again with a new secret).

`after` is the newest journal id committed before the control (its own transaction's events
included): a relay dispatches every event up to it first, so e.g. a revoked kiosk still gets
its `kiosk.revoked`, and a person unlinked from a child still gets what was committed before.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

SESSIONS = "sessions"
ACCESS = "access"
KIOSK_REVOKED = "kiosk"
# What a revoked kiosk is told, by the relay cutting its sockets (`KIOSK_REVOKED`), at its next
# event and when it connects again (docs/protocol.md, `kiosk_revoked`): one text, one msgid.
REVOKED_KIOSK_TEXT = _l("Ten komputer został odłączony od dziennika.")


@dataclass(frozen=True)
class Control:
    kind: str
    target: int  # a user id, or a kiosk id
    version: int = 0  # for `sessions`: sockets opened with an older session version end
    after: int = 0  # the newest journal id committed before (or with) this change

    def placed_after(self, newest_id: int) -> Control:
        return dataclasses.replace(self, after=newest_id)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Control:
        return cls(
            kind=str(data["kind"]),
            target=int(data["target"]),
            version=int(data.get("version", 0)),
            after=int(data.get("after", 0)),
        )
