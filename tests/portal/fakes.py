"""Local stand-ins for the outside world: an SMTP server (aiosmtpd) and a fake SMSAPI.

The fake speaks SMSAPI's `POST /sms.do` as its documentation and its official client's fixtures
describe it: a Bearer token, form fields `to`, `message`, `from`, `encoding`, `idx`, `check_idx`,
`format=json`; it answers `{"count": 1, "list": [{"id": ..., "status": "QUEUE", ...}]}`, or an
error object `{"error": <code>, "message": ...}` (13: no valid number). With `check_idx=1` a
second message with the same `idx` is refused, as the provider promises; the error code the fake
gives for it (53) is its own: we found none documented for that case.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

from tests.servers import free_port

TOKEN = "test-token-0123456789"
INVALID_NUMBER = "48000000000"


@dataclass
class SmsApi:
    url: str = ""
    sent: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0  # answer HTTP 503 to this many requests (the provider's outage)
    idx_seen: set[str] = field(default_factory=set)


@contextmanager
def fake_smsapi() -> Iterator[SmsApi]:
    state = SmsApi()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/sms.do":
                return self._answer(404, {"error": 8, "message": "Unknown action"})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"error": 101, "message": "Authorization failed"})
            if state.fail_next > 0:
                state.fail_next -= 1
                return self._answer(503, {"error": 201, "message": "System internal error"})
            if form.get("to") == INVALID_NUMBER:
                return self._answer(
                    200,
                    {
                        "invalid_numbers": [{"number": INVALID_NUMBER, "message": "Invalid"}],
                        "error": 13,
                        "message": "No correct phone numbers",
                    },
                )
            if form.get("check_idx") == "1" and form.get("idx") in state.idx_seen:
                return self._answer(200, {"error": 53, "message": "Message with this idx sent"})
            state.idx_seen.add(form.get("idx", ""))
            state.sent.append(form)
            return self._answer(
                200,
                {
                    "count": 1,
                    "list": [
                        {
                            "id": f"SMS{len(state.sent)}",
                            "points": 0.16,
                            "number": form.get("to"),
                            "date_sent": 1460969712,
                            "submitted_number": form.get("to"),
                            "status": "QUEUE",
                            "idx": form.get("idx"),
                        }
                    ],
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.box.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    port = free_port()
    box = Mailbox("127.0.0.1", port)
    controller = Controller(_Collect(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
