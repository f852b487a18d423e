"""A local push service speaking the real Web Push protocol, for the tests and bench/push.py.

- `new_subscription()` makes what a browser's `pushManager.subscribe` returns: an endpoint on
  this service, a P-256 key pair (the service keeps the private key, as the browser would) and a
  16-byte auth secret.
- `POST /push/<token>` (RFC 8030) must carry `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292):
  the ES256 JWT is verified against k, its `aud` must be this service's origin, `exp` in the
  future (at most 24 h), `sub` a mailto: or https: contact; the body must be `Content-Encoding:
  aes128gcm` (RFC 8188/8291) and is decrypted with the subscription's private key and auth
  secret. What it decrypts is recorded (with the arrival time), then it answers 201.
- `answer_next` queues statuses to answer instead (410 gone, 429 with Retry-After, 500), so
  tests make the service fail on demand.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.servers import free_port


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.time() on arrival


@dataclass
class Device:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


@dataclass
class PushService:
    origin: str = ""
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, why)
    answers: list[int] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # tokens answered 410 forever
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        return self.origin.split("://", 1)[1]

    def new_subscription(self) -> dict[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        auth = __import__("os").urandom(16)
        with self.lock:
            token = f"d{len(self.devices) + 1}"
            self.devices[token] = Device(key, auth)
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": f"{self.origin}/push/{token}", "p256dh": b64(public), "auth": b64(auth)}

    def answer_next(self, *statuses: int) -> None:
        with self.lock:
            self.answers.extend(statuses)

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.payload for r in self.received]


def verify_vapid(header: str, origin: str, now: float) -> str | None:
    """None if `header` is a valid RFC 8292 `vapid t=..., k=...` for `origin`, else why not."""
    if not header.lower().startswith("vapid "):
        return "not a vapid authorization"
    fields: dict[str, str] = {}
    for part in header[6:].split(","):
        name, _, value = part.strip().partition("=")
        fields[name.strip()] = value.strip()
    if "t" not in fields or "k" not in fields:
        return "t or k missing"
    try:
        header_b64, claims_b64, signature_b64 = fields["t"].split(".")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        jose = json.loads(unb64(header_b64))
        claims = json.loads(unb64(claims_b64))
        signature = unb64(signature_b64)
    except (ValueError, KeyError):
        return "malformed token"
    if jose.get("alg") != "ES256" or len(signature) != 64:
        return "not ES256"
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "bad signature"
    if claims.get("aud") != origin:
        return f"aud {claims.get('aud')!r} is not {origin!r}"
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        return "exp out of range"
    sub = str(claims.get("sub", ""))
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        return "sub is not mailto: or https:"
    return None


@contextmanager
def fake_push_service() -> Iterator[PushService]:
    state = PushService()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real push services

        def log_message(self, *_args: Any) -> None:
            pass

        def _answer(
            self, status: int, why: str = "", headers: dict[str, str] | None = None
        ) -> None:
            body = why.encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if status >= 400 and status != 410:
                with state.lock:
                    state.refused.append((status, why))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            token = self.path.rsplit("/", 1)[-1]
            device = state.devices.get(token)
            if not self.path.startswith("/push/") or device is None or token in state.gone:
                return self._answer(410, "gone")
            with state.lock:
                forced = state.answers.pop(0) if state.answers else None
            if forced == 410:
                state.gone.add(token)
                return self._answer(410, "gone")
            if forced == 429:
                return self._answer(429, "slow down", {"Retry-After": "1"})
            if forced is not None and forced >= 500:
                return self._answer(forced, "trouble")
            why = verify_vapid(self.headers.get("Authorization", ""), state.origin, time.time())
            if why is not None:
                return self._answer(401, why)
            if self.headers.get("Content-Encoding") != "aes128gcm":
                return self._answer(415, "content encoding")
            if not self.headers.get("TTL", "").isdigit():
                return self._answer(400, "TTL missing")
            try:
                plain = http_ece.decrypt(
                    body,
                    private_key=device.private_key,
                    auth_secret=device.auth,
                    version="aes128gcm",
                )
                payload = json.loads(plain)
            except Exception as error:
                return self._answer(400, f"cannot decrypt: {type(error).__name__}")
            with state.lock:
                state.received.append(Received(token, payload, dict(self.headers), time.time()))
            self._answer(201, "", {"Location": f"{state.origin}/message/{len(state.received)}"})

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # a sender opens dozens of connections at once, as to FCM
        daemon_threads = True

    server = Server(("127.0.0.1", free_port()), Handler)
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
