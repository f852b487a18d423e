"""The doorbell between server processes: Redis pub/sub, never the events themselves.

A message on `CHANNEL` says "committed up to id `newest`" and carries the revocations of that
commit (`controls`); a relay's message also carries its `head`, the newest id it has dispatched
to its own sockets. Relays ring after a commit in their process, after dispatching, and at least
once every `HEARTBEAT_SECONDS` besides: so each relay knows its live peers and how far they have
pushed (`Peers`), which is what makes the kiosk's "delivered to parents" true across processes.
A process without a relay (the CLI, a batch job) rings with `publish_external` and is no peer.

The relay runs `listen` and `publish` as greenlets of its own, handing them what they use (its
queues, its peers, its head): the doorbell knows nothing of the relay.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis

from ediary.realtime.controls import Control

log = logging.getLogger(__name__)

CHANNEL = "ediary:realtime"
HEARTBEAT_SECONDS = 1.0  # a relay rings at least this often, news or not
# A peer silent for this long is gone: its process stopped or lost Redis. Its sockets notice too
# (Engine.IO pings) and reconnect elsewhere, where `resume` replays what they missed.
PEER_SECONDS = 3.0


@dataclass
class Ring:
    newest: int | None  # committed up to this id (None: nothing new, a heartbeat)
    controls: list[Control]
    origin: str | None = None  # the relay that rang from another process; None from this one
    head: int | None = None  # that relay had dispatched every id up to this when it rang
    # A commit of this process: its journal rows, with their ids (never sent to the peers).
    rows: tuple[Any, ...] = ()


class Peers:
    """The heads of the other relays, as their rings announce them. Runs in the relay's pump."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, float]] = {}  # origin -> (head, when last heard)
        self.listening_since: float | None = None  # subscribed to the channel since then

    def heard(self, origin: str, head: int, now: float) -> None:
        previous = self.heads.get(origin, (0, now))[0]
        self.heads[origin] = (max(previous, head), now)

    def listening(self, now: float) -> None:
        self.listening_since = now

    def deaf(self) -> None:
        self.listening_since = None

    def reached(self, newest: int, now: float) -> bool:
        """Has every live peer dispatched `newest`? Not known (False) until this process has
        listened for `PEER_SECONDS`: a live peer it has not heard yet may still be behind."""
        for origin, (_head, heard_at) in list(self.heads.items()):
            if now - heard_at > PEER_SECONDS:
                del self.heads[origin]
        if self.listening_since is None or now - self.listening_since < PEER_SECONDS:
            return False
        return all(head >= newest for head, _heard_at in self.heads.values())


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_keepalive=True)


def encode(rings: Iterable[Ring], origin: str, head: int | None = None) -> str:
    rings = list(rings)
    newest = [r.newest for r in rings if r.newest is not None]
    message: dict[str, Any] = {
        "origin": origin,
        "newest": max(newest) if newest else None,
        "controls": [c.as_dict() for r in rings for c in r.controls],
    }
    if head is not None:
        message["head"] = head
    return json.dumps(message)


def parse(data: Any, own_origin: str) -> Ring | None:
    try:
        message = json.loads(data)
        origin = message.get("origin")
        if origin == own_origin:
            return None  # rung locally already
        controls = [Control.from_dict(c) for c in message.get("controls") or ()]
        newest, head = message.get("newest"), message.get("head")
        return Ring(
            int(newest) if newest is not None else None,
            controls,
            origin=str(origin),
            head=int(head) if head is not None else None,
        )
    except (TypeError, ValueError, KeyError, AttributeError):
        log.warning("ignoring a malformed doorbell message")
        return None


def listen(
    url: str,
    origin: str,
    heard: Callable[[Ring], None],
    peers: Peers,
    sleep: Callable[[float], Any],
) -> None:
    """The relay's listener greenlet: every ring of another process goes to `heard` (the
    relay's inbox), and an empty ring whenever it (re)subscribes: "read the journal now"."""
    delay = 0.1
    while True:
        try:
            pubsub = connect(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL)
            peers.listening(time.monotonic())
            # Whatever was announced while this process was not listening: read it now.
            heard(Ring(None, []))
            delay = 0.1
            # redis-py's PubSub.listen has no annotations.
            for message in pubsub.listen():  # type: ignore[no-untyped-call]
                ring = parse(message.get("data"), origin)
                if ring is not None:
                    heard(ring)
        except Exception as error:
            log.warning("Redis doorbell lost (%s); polling the journal meanwhile", error)
        peers.deaf()  # deaf, it cannot vouch for any peer: no "delivered" meanwhile
        sleep(delay)
        delay = min(delay * 2, 1.0)


def publish(
    url: str, origin: str, rings: Any, empty: type[Exception], head: Callable[[], int]
) -> None:
    """The relay's publisher greenlet: the rings queued for the peers (`rings`, a queue: what
    this process committed or dispatched), sent together with the relay's `head()`."""
    client = None
    failing = False
    while True:
        batch = [rings.get()]
        try:
            while True:
                batch.append(rings.get_nowait())
        except empty:
            pass
        try:
            client = client or connect(url)
            client.publish(CHANNEL, encode(batch, origin, head=head()))
            failing = False
        except Exception as error:  # the other processes' poll delivers meanwhile
            if not failing:  # once per outage: the heartbeat would repeat it every second
                log.warning("could not ring through Redis: %s", error)
            failing, client = True, None


_external: dict[str, redis.Redis] = {}


def publish_external(url: str, newest: int | None, controls: list[Control]) -> None:
    """Rings the servers from a process that has no relay (the CLI, tests, batch jobs)."""
    client = _external.get(url)
    if client is None:
        client = _external[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0
        )
    client.publish(CHANNEL, encode([Ring(newest, controls)], origin="external"))
