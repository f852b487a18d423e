"""Refusals: a user's mistake or a request the rules do not allow, with a message they can read.

A `Refusal` carries a stable code for programs (the kiosk, tests) and a translated message for
people. Views turn it into a 400/409 page or JSON; socket handlers into an error acknowledgement.
Nothing is written: the operation raises before the view commits, and the transaction rolls back.
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString


class Refusal(Exception):
    status = 400

    def __init__(self, code: str, message: str | LazyString, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, "message": str(self.message), **self.details}


class Conflict(Refusal):
    """The entry changed on the server since the client loaded it (optimistic version check)."""

    status = 409
