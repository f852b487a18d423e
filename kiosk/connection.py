"""The device's Socket.IO connection to the server's `/kiosk` namespace, kept up by the agent.

The library's own reconnection is switched off: a supervisor thread connects, waits for the
disconnect, and connects again with exponential backoff and full jitter (also when the very first
connect fails, which the library would not retry unless asked). Each attempt uses a fresh client,
so no half-state of a dead connection (pending acknowledgements, namespaces) carries over. Nothing
here buffers entries: the outbox does that, and only trusts acknowledgements.

Heartbeats are Engine.IO's: the server pings every `ping_interval`, and the client declares the
link dead when a ping is late by more than `ping_timeout` (the server's settings); a dead link
ends in the disconnect this supervisor waits for. A call on a link that died silently times out
(`call_timeout_seconds`), a call on a link that dropped gives up at once; either way the entry
stays queued.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio
from socketio import exceptions as sio_exceptions

from kiosk.config import Config
from kiosk.credential import Credential
from kiosk.outbox import Unavailable

log = logging.getLogger(__name__)

NAMESPACE = "/kiosk"


class LinkState(enum.StrEnum):
    UNENROLLED = "unenrolled"  # no credential: nothing to connect with
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"  # the last attempt failed or the link dropped; retrying
    REVOKED = "revoked"  # the server refused this device: do not retry until enrolled again


class Connection:
    def __init__(
        self,
        config: Config,
        credential: Callable[[], Credential | None],
        *,
        auth: Callable[[Credential], dict[str, Any]],
        is_revocation: Callable[[Any], bool],
        on_online: Callable[[], None],
        on_offline: Callable[[], None],
        on_revoked: Callable[[Any], None],
        on_push: Callable[[str, Any], None],
    ) -> None:
        self.config = config
        self._credential = credential
        self._auth = auth
        self._is_revocation = is_revocation
        self._on_online = on_online
        self._on_offline = on_offline
        self._on_revoked = on_revoked
        self._on_push = on_push
        self.state = LinkState.CONNECTING
        self.since = time.time()
        self.last_error: str | None = None
        self._client: socketio.Client | None = None
        self._dropped = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._waiting: set[threading.Event] = set()  # calls waiting for an acknowledgement
        self._failures = 0
        self._thread = threading.Thread(target=self._run, name="kiosk-connection", daemon=True)

    # -- public -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._dropped.set()
        client = self._client
        if client is not None:
            _quiet_disconnect(client)
        self._thread.join(timeout=5)

    def wake(self) -> None:
        """Try now (after enrollment, or when the screen asks for a fresh attempt)."""
        if self.state is LinkState.REVOKED:
            self._set(LinkState.CONNECTING)
        self._failures = 0
        self._wake.set()

    def mark_revoked(self) -> None:
        """The server said this device is revoked: stop trying until a new enrollment."""
        self._set(LinkState.REVOKED)
        self.drop()

    def drop(self) -> None:
        """Closes the current connection (e.g. the server revoked the device by an event)."""
        client = self._client
        if client is not None:
            threading.Thread(target=_quiet_disconnect, args=(client,), daemon=True).start()

    @property
    def online(self) -> bool:
        return self.state is LinkState.ONLINE and self._client is not None

    def call(self, event: str, data: Any, timeout: float | None = None) -> Any:
        """Emits and waits for the acknowledgement; `Unavailable` if there is none to be had:
        offline, no answer within the timeout, or the link dropped while waiting.

        By hand rather than python-socketio's `Client.call`: that one waits out the whole
        timeout for an acknowledgement the dropped link can no longer bring, so an entry in
        flight when the server's process died waited 10 s before it was sent again."""
        client = self._client
        if client is None or self.state is not LinkState.ONLINE:
            raise Unavailable("offline")
        done = threading.Event()
        answer: list[Any] = []

        def acknowledged(*args: Any) -> None:
            # As Client.call returns it: one value as itself, several as a tuple, none as None.
            answer.append(args if len(args) > 1 else args[0] if args else None)
            done.set()

        with self._lock:
            self._waiting.add(done)
        try:
            if self._dropped.is_set():
                raise Unavailable("disconnected")
            try:
                client.emit(event, data, namespace=NAMESPACE, callback=acknowledged)
            except (sio_exceptions.BadNamespaceError, sio_exceptions.SocketIOError) as error:
                raise Unavailable(type(error).__name__) from error
            if not done.wait(timeout or self.config.call_timeout_seconds):
                raise Unavailable("timeout")
        finally:
            with self._lock:
                self._waiting.discard(done)
        if not answer:
            raise Unavailable("disconnected")
        return answer[0]

    # -- supervisor -------------------------------------------------------------------------------

    def _set(self, state: LinkState, error: str | None = None) -> None:
        if state is not self.state:
            self.state = state
            self.since = time.time()
        self.last_error = error

    def _backoff(self) -> float:
        ceiling = min(self.config.retry_max_seconds, 0.5 * 2 ** min(self._failures, 16))
        return random.uniform(0.25, max(0.5, ceiling))  # noqa: S311 - jitter, not a secret

    def _run(self) -> None:
        while not self._stop.is_set():
            credential = self._credential()
            if credential is None:
                self._set(LinkState.UNENROLLED)
                self._wait(60)
                continue
            if self.state is LinkState.REVOKED:
                self._wait(60)
                continue
            self._connect_once(credential)
            if self._stop.is_set():
                return
            if self._revoked_meanwhile():
                continue
            self._failures += 1
            self._wait(self._backoff())

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _revoked_meanwhile(self) -> bool:
        """The connect may have been refused as revoked (set from Socket.IO's thread); a method,
        so that mypy does not keep the narrowing from before the connect."""
        return self.state is LinkState.REVOKED

    def _connect_once(self, credential: Credential) -> None:
        refusal: dict[str, Any] = {}
        http = requests.Session()
        if self.config.ca_file:
            http.verify = self.config.ca_file
        client = socketio.Client(
            reconnection=False,
            http_session=http,
            logger=False,
            engineio_logger=False,
            # A program, not a browser: it proves who it is with the device secret, and an
            # Origin header would only name whatever address it dialled (a proxy, a tunnel).
            websocket_extra_options={"suppress_origin": True},
        )
        self._dropped.clear()

        def connect_error(data: Any = None) -> None:
            refusal["data"] = data

        def disconnect(reason: Any = None) -> None:
            self._dropped.set()
            with self._lock:  # no acknowledgement can come now: the waiting calls give up
                waiting = list(self._waiting)
            for done in waiting:
                done.set()

        def push(event: str, data: Any = None) -> None:
            self._on_push(event, data)

        client.on("connect_error", connect_error, namespace=NAMESPACE)
        client.on("disconnect", disconnect, namespace=NAMESPACE)
        client.on("*", push, namespace=NAMESPACE)
        self._set(LinkState.CONNECTING, self.last_error)
        try:
            client.connect(
                credential.server if self.config.server is None else self.config.server,
                auth=self._auth(credential),
                namespaces=[NAMESPACE],
                transports=["websocket"],
                socketio_path=self.config.socketio_path,
                wait_timeout=self.config.connect_timeout_seconds,
            )
        except (sio_exceptions.ConnectionError, OSError, ValueError) as error:
            _quiet_disconnect(client)
            data = refusal.get("data")
            if data is not None and self._is_revocation(data):
                log.warning("server refused this device: %s", data)
                self._set(LinkState.REVOKED, str(data))
                self._on_revoked(data)
                return
            log.info("connect failed: %s", data or error)
            self._set(LinkState.OFFLINE, str(data or error))
            return
        self._client = client
        self._failures = 0
        self._set(LinkState.ONLINE)
        log.info("connected to %s", NAMESPACE)
        try:
            self._on_online()
        except Exception:
            log.exception("on_online failed")
        while not self._dropped.wait(1.0):
            if self._stop.is_set():
                break
        self._client = None
        _quiet_disconnect(client)
        log.info("disconnected from %s", NAMESPACE)
        if self.state is not LinkState.REVOKED:
            self._set(LinkState.OFFLINE, "disconnected")
        self._on_offline()


def _quiet_disconnect(client: socketio.Client) -> None:
    with contextlib.suppress(Exception):  # the link is gone either way
        client.disconnect()
