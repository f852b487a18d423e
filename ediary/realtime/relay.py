"""The relay: one per server process, it pushes committed journal events to that process's sockets.

It keeps `head`, the newest journal id it has dispatched, and dispatches every later event in id
order, read from the journal itself (the source of truth, DESIGN.md). It reads when it is rung
(a commit in this process, or a commit anywhere announced through Redis) and, whatever happens
to Redis, at least once every `POLL_SECONDS`: an outage of Redis delays pushes by at most that
long and loses none. Because the journal becomes visible in id order (see `delivery`), "every
id after `head`" is exact. A commit in this process hands the relay its rows too: when they
continue `head` without a gap, they are pushed as they are, without being read back
(`_push_committed`); otherwise the journal is read.

Each resumed socket has a `Stream` that remembers the newest id it was sent, so a socket gets each
event once and in id order, even when its replay and the live stream overlap.

Only this process's sockets are touched: Redis carries the doorbell, the revocations
(`controls.Control`, applied here by `apply` in the journal's order) and each relay's head
(`doorbell`), never the events. (python-socketio's own Redis manager still serves
`socketio.emit(..., to=room)` across processes for anything else; its pub/sub drops messages
while Redis is away and cannot keep a per-socket position, so the journal does not use it.) The
heads of its peers tell a relay when an id has been dispatched by every process
(`wait_delivered`): the kiosk's "delivered to parents".
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from engineio import packet as engineio_packet
from flask import Flask
from flask_socketio import SocketIO
from socketio import packet as socketio_packet
from sqlalchemy import ColumnElement, Engine, Select, bindparam, func, select
from sqlalchemy.orm import Session

from ediary.access.scope import scope_of_user_id
from ediary.db import db, make_engine
from ediary.journal.models import JournalEvent, wire_form
from ediary.people.auth import valid_session_versions
from ediary.realtime import doorbell
from ediary.realtime.controls import ACCESS, KIOSK_REVOKED, REVOKED_KIOSK_TEXT, SESSIONS, Control
from ediary.realtime.doorbell import HEARTBEAT_SECONDS, Peers, Ring
from ediary.realtime.rooms import (
    BOARD_EVENTS,
    KIOSK,
    LIVE,
    district_room,
    event_rooms,
    kiosk_room,
    lesson_rooms,
    rooms_of,
    user_room,
)
from ediary.realtime.streams import Resumed, Stream
from ediary.schools.models import School

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # the longest a committed event waits when no doorbell reaches this process
SWEEP_SECONDS = 2.0  # backstop for session ends made where no doorbell rings (no Redis, CLI)
BATCH = 500
# An event to dispatch: its wire form (the message), its audience and audience id, its school.
Event = tuple[dict[str, Any], str, int, int]
REPLAY_LIMIT = 5000  # a longer gap is cheaper to reload than to replay
# What a kiosk's sockets are told before a `kiosk` control cuts them (docs/protocol.md, /kiosk).
KIOSK_CUT_OFF = ("kiosk_revoked", REVOKED_KIOSK_TEXT)


_relay: Relay | None = None
_start_lock = threading.Lock()  # a gevent lock once gunicorn's worker has monkey-patched


def local_relay() -> Relay | None:
    return _relay


def ensure_relay(app: Flask, socketio: SocketIO) -> Relay:
    """Starts this process's relay on first use (a server process, never a test or the CLI)."""
    global _relay
    if _relay is None:
        with _start_lock:
            if _relay is None:
                relay = Relay(app, socketio, app.config.get("REDIS_URL"))
                relay.start()
                _relay = relay
    return _relay


class Relay:
    def __init__(self, app: Flask, socketio: SocketIO, redis_url: str | None) -> None:
        self.app = app
        self.socketio = socketio
        self.server = socketio.server
        self.redis_url = redis_url
        self.origin = uuid.uuid4().hex
        self.head = 0
        # The id whose dispatch has begun and not ended (None between events): while it is set,
        # `head` alone does not tell a resume what its socket may have missed.
        self.dispatching: int | None = None
        self.streams: dict[tuple[str, str], Stream] = {}
        # How many of those streams each (user id, session version) has: what the sweep checks.
        self.sessions: Counter[tuple[int, int]] = Counter()
        self.inbox = self.server.eio.create_queue()
        self.empty = self.server.eio.get_queue_empty_exception()
        # The rings this process sends its peers through Redis (its commits, and its head).
        self.to_peers = self.server.eio.create_queue() if redis_url else None
        self.lock = threading.Lock()
        self.dispatched = 0
        self.last_sweep = self.last_read = time.monotonic()
        self.peers = Peers()
        self.waiters: list[tuple[int, Any]] = []  # (id, event set once every process has it)
        self.announced = (0, 0.0)  # the head last rung to the peers, and when
        self.districts: dict[int, int] = {}  # school id → its gmina's id (schools never move)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        # A session of its own: the caller (a connect handler) keeps its session and its user.
        with Session(bind=db.engine) as session:
            self.head = session.scalar(select(func.max(JournalEvent.id))) or 0
        self.socketio.start_background_task(self._pump)
        self.socketio.start_background_task(self._watch_pings)
        if self.redis_url:
            self.socketio.start_background_task(
                doorbell.listen,
                self.redis_url,
                self.origin,
                self.inbox.put,
                self.peers,
                self.socketio.sleep,
            )
            self.socketio.start_background_task(
                doorbell.publish,
                self.redis_url,
                self.origin,
                self.to_peers,
                self.empty,
                lambda: self.head,
            )

    def _watch_pings(self) -> None:
        """Closes the Engine.IO sockets whose client stopped answering pings: Engine.IO's own
        monitor (`monitor_clients`, switched off in `create_app`) visits the sockets one by one
        with a timed wait between two, which is 500 wake-ups a second at 10,000 sockets and most
        of an idle process's CPU (bench/idle.py). Here they are all visited at once, as often:
        a socket whose ping went unanswered for `ping_timeout` is closed within twice that."""
        eio = self.server.eio
        while True:
            self.socketio.sleep(eio.ping_timeout)
            check_pings(eio)

    def notify(
        self, newest: int | None, controls: list[Control], rows: Sequence[JournalEvent] = ()
    ) -> None:
        """Called after a commit in this process, with the journal rows it committed."""
        self.inbox.put(Ring(newest, controls, rows=tuple(rows)))
        if self.to_peers is not None:
            self.to_peers.put(Ring(newest, controls))

    # -- the pump: the only greenlet that dispatches -----------------------------------------

    def _pump(self) -> None:
        # The pump reads through connections of its own: during a lesson start every pooled
        # connection may be held by a writer queueing for the writers' lock, and the pushes must
        # not queue behind them (they did: the herd's pushes all came at its very end).
        assert db.engine is not None
        engine = pump_engine(db.engine, self.app.config.get("ENGINE_OPTIONS", {}))
        db.session.registry.set(Session(bind=engine, expire_on_commit=False))
        with self.app.app_context():
            while True:
                try:
                    self._cycle()
                except Exception:
                    log.exception("relay cycle failed; retrying")
                    db.session.rollback()
                    self.socketio.sleep(0.5)
                finally:
                    # A fresh snapshot next time (SQLite WAL), the connection back to the pool.
                    db.session.close()

    def _cycle(self) -> None:
        rings: list[Ring] = []
        try:
            rings.append(self.inbox.get(timeout=POLL_SECONDS))
            while True:
                rings.append(self.inbox.get_nowait())
        except self.empty:
            pass
        now = time.monotonic()
        for ring in rings:
            if ring.origin is not None and ring.head is not None:
                self.peers.heard(ring.origin, ring.head, now)
        if not any(ring.controls for ring in rings):
            self._push_committed([row for ring in rings for row in ring.rows])
        # A peer's heartbeat without news costs no read of the journal: with N processes each
        # hears N-1 of them a second; nor does a commit here that was pushed from its rows.
        if now - self.last_read >= POLL_SECONDS or any(self._news(ring) for ring in rings):
            controls = sorted((c for ring in rings for c in ring.controls), key=lambda c: c.after)
            for control in controls:
                self.advance(upto=control.after)
                self.apply(control)
            self.advance()
            self.last_read = now
        self._heartbeat(now)
        self._release_waiters()
        if time.monotonic() - self.last_sweep >= SWEEP_SECONDS:
            self.sweep_sessions()
            self.last_sweep = time.monotonic()

    def _news(self, ring: Ring) -> bool:
        """Might the journal have something this relay has not dispatched, or a revocation?"""
        if ring.controls or (ring.origin is None and ring.newest is None):
            return True  # a revocation, or "read now" after (re)subscribing
        return max(ring.newest or 0, ring.head or 0) > self.head

    def _push_committed(self, rows: list[JournalEvent]) -> None:
        """Dispatches the rows this process committed, without reading them back, when they
        continue the head without a gap: ids become visible in id order (delivery.py), so no
        other event can come between the head and them. Anything else (another process's
        commit between, an id a rolled-back transaction took) is left to the journal's read.

        Every commit's read of the journal was a statement and a pool checkout of the pump's:
        about a twentieth of a server's CPU taking remarks (a py-spy profile of `bench.run`)."""
        events: list[Event] = []
        for row in sorted(rows, key=lambda row: row.id):
            if row.id <= self.head:
                continue  # read already, with an earlier commit's
            if row.id != self.head + len(events) + 1:
                break
            events.append(_wire(row))
        if events:
            self._dispatch_all(events)

    # -- "delivered": every process has dispatched an id ---------------------------------------

    def wait_delivered(self, newest: int, timeout: float) -> bool:
        """Waits until this relay and every live peer have dispatched `newest` (docs/protocol.md,
        "Entry states on the kiosk"); False after `timeout`. The pump releases the waiters, so
        a herd of submissions costs no polling, only one check each per cycle."""
        if self.delivered(newest):
            return True
        waiter = (newest, self.server.eio.create_event())
        with self.lock:
            self.waiters.append(waiter)
        try:
            return bool(waiter[1].wait(timeout))
        finally:
            with self.lock:
                self.waiters.remove(waiter)

    def delivered(self, newest: int) -> bool:
        if self.head < newest:
            return False
        return self.redis_url is None or self.peers.reached(newest, time.monotonic())

    def _release_waiters(self) -> None:
        with self.lock:
            waiting = list(self.waiters)
        for newest, event in waiting:
            if self.delivered(newest):
                event.set()

    def _heartbeat(self, now: float) -> None:
        """Rings the peers with this relay's head when it moved, and at least once a beat."""
        if self.to_peers is None:
            return
        head, at = self.announced
        if self.head != head or now - at >= HEARTBEAT_SECONDS:
            self.to_peers.put(Ring(None, []))  # the publisher adds the head
            self.announced = (self.head, now)

    def advance(self, upto: int | None = None) -> None:
        """Dispatches every committed event after `head` (up to `upto`), in id order."""
        while upto is None or self.head < upto:
            bounds = {"head": self.head} if upto is None else {"head": self.head, "upto": upto}
            rows = db.session.connection().execute(_events_after(upto is not None), bounds).all()
            events = [_wire(row) for row in rows]
            self._dispatch_all(events)
            if len(events) < BATCH:
                return

    def _dispatch_all(self, events: list[Event]) -> None:
        """Dispatches `events`, the ones after the head in id order, and signals the boards."""
        boards = self._boards(events)
        db.session.close()  # a fresh snapshot for the next read (SQLite WAL)
        try:
            for message, audience, audience_id, school_id in events:
                self.dispatching = message["id"]
                self._dispatch(message, audience, audience_id, school_id)
                self.head = message["id"]
        finally:
            self.dispatching = None
        self._signal_boards(boards)

    def _boards(self, events: list[Event]) -> set[tuple[int, int]]:
        """(district, school) of the boards these events change: one signal per batch each,
        however many pupils a roll marked (rooms.BOARD_EVENTS)."""
        schools = {
            school_id for message, _a, _i, school_id in events if message["type"] in BOARD_EVENTS
        }
        unknown = sorted(schools - set(self.districts))
        if unknown:
            rows = db.session.execute(
                select(School.id, School.district_id).where(School.id.in_(unknown))
            )
            self.districts.update({school_id: district_id for school_id, district_id in rows})
        return {(self.districts[s], s) for s in schools if s in self.districts}

    def _signal_boards(self, boards: set[tuple[int, int]]) -> None:
        """Tells the gmina's board sockets which school changed: no event, no pupil, only the
        school's id (the board reads its figures again over HTTP)."""
        for district_id, school_id in sorted(boards):
            sids = self.local_sids(LIVE, district_room(district_id))
            self.send_to_all(LIVE, sids, "board", {"school_id": school_id})

    def _dispatch(
        self, message: dict[str, Any], audience: str, audience_id: int, school_id: int
    ) -> None:
        namespace, rooms = event_rooms(audience, audience_id, school_id)
        sids: set[str] = set()
        for room in rooms:
            sids.update(self.local_sids(namespace, room))
        with self.lock:
            # A socket that does not resume (a kiosk's) gets it as Socket.IO gives: best effort.
            to = [sid for sid in sids if self._due(self.streams.get((namespace, sid)), message)]
            self.send_to_all(namespace, to, "event", message)
        # Kiosks showing the lesson follow its roll and topic (rooms.lesson_rooms): best effort,
        # like every kiosk event; a kiosk that missed one reads the roster again on reconnect.
        kiosks = [sid for room in lesson_rooms(message) for sid in self.local_sids(KIOSK, room)]
        self.send_to_all(KIOSK, kiosks, "event", message)
        self.dispatched += 1

    @staticmethod
    def _due(stream: Stream | None, message: dict[str, Any]) -> bool:
        """Whether a socket is sent a live event now (the caller holds the lock): one with no
        stream is; a stream still replaying keeps it for the end of its replay (`_go_live`); a
        live one is, once, unless its replay already had it."""
        if stream is None:
            return True
        if not stream.resumed:
            if stream.pending is not None:
                stream.pending.append(message)
            return False
        if message["id"] <= stream.sent_upto:
            return False
        stream.sent_upto = message["id"]
        return True

    # -- revocations: the controls of committed transactions ---------------------------------

    def apply(self, control: Control) -> None:
        """Applies a revocation to this process's sockets (each relay does, for its own)."""
        if control.kind == SESSIONS:
            for sid in self.local_sids(LIVE, user_room(control.target)):
                stream = self.streams.get((LIVE, sid))
                if stream is not None and stream.session_version >= control.version:
                    continue  # a socket of a session opened after the change
                self.end(LIVE, sid, "session_ended")
        elif control.kind == ACCESS:
            sids = self.local_sids(LIVE, user_room(control.target))
            if sids:
                self._rescope(control.target, sids)
        elif control.kind == KIOSK_REVOKED:
            code, message = KIOSK_CUT_OFF
            refusal = {"ok": False, "error": code, "message": str(message)}
            for sid in self.local_sids(KIOSK, kiosk_room(control.target)):
                self.send(KIOSK, sid, "revoked", refusal)
                self.server.disconnect(sid, namespace=KIOSK, ignore_queue=True)
        else:
            log.warning("unknown control %r", control)

    def _rescope(self, user_id: int, sids: list[str]) -> None:
        rooms = rooms_of(scope_of_user_id(user_id))
        db.session.close()  # the pump's own session (see `_pump`)
        for sid in sids:
            stream = self.streams.get((LIVE, sid))
            if stream is None or not stream.resumed:
                continue  # its rooms are computed when it resumes
            if stream.rooms != rooms:
                self.move(stream, rooms)
                self.send(LIVE, sid, "reload", {"reason": "access_changed"})

    # -- sockets -------------------------------------------------------------------------------

    def attach(
        self, namespace: str, sid: str, user_id: int | None = None, session_version: int = 0
    ) -> Stream:
        self._drop(namespace, sid)
        stream = Stream(namespace, sid, user_id, session_version)
        self.streams[(namespace, sid)] = stream
        if user_id is not None:
            self.sessions[(user_id, session_version)] += 1
        return stream

    def forget(self, namespace: str, sid: str) -> None:
        self._drop(namespace, sid)

    def _drop(self, namespace: str, sid: str) -> Stream | None:
        stream = self.streams.pop((namespace, sid), None)
        if stream is not None and stream.user_id is not None:
            session = (stream.user_id, stream.session_version)
            self.sessions[session] -= 1
            if self.sessions[session] <= 0:
                del self.sessions[session]
        return stream

    def resume(
        self, stream: Stream, rooms: set[str], visible: ColumnElement[bool], last_id: int | None
    ) -> Resumed:
        """Joins `rooms`, replays the visible events after `last_id` in id order, then goes live.

        `last_id` None means "from now" (a client with nothing applied yet).
        """
        with self.lock:
            if stream.resumed or stream.pending is not None:
                return Resumed(ok=False, reason="already_resumed")
            stream.pending = []
        self.move(stream, rooms)  # joined before reading: nothing committed from now on is missed
        if self.dispatching is None and (last_id is None or last_id == self.head):
            # Nothing to replay, known without asking the database (the usual resume: a page
            # just rendered, or a parent reconnecting after a restart who missed nothing; the
            # storm after a process dies is thousands of these). Every event up to `head` has
            # been offered to the rooms, and every later one is dispatched after this socket
            # joined them (no dispatch is under way), so it reaches the socket live.
            db.session.remove()  # the handler's connection back to the pool before any send
            return self._go_live(stream, [], self.head, last_id)
        newest, oldest = db.session.execute(
            select(func.max(JournalEvent.id), func.min(JournalEvent.id))
        ).one()
        newest = newest or 0
        reason = None
        messages: list[dict[str, Any]] = []
        if last_id is not None and last_id > newest:
            reason = "ahead"  # a client of another database (a reset demo, a restored backup)
        elif last_id is not None and oldest is not None and last_id < oldest - 1:
            reason = "stale"  # events after last_id may have been pruned (retention)
        elif last_id is not None:
            query = select(JournalEvent).where(JournalEvent.id > last_id, visible)
            rows = db.session.scalars(query.order_by(JournalEvent.id).limit(REPLAY_LIMIT + 1)).all()
            if len(rows) > REPLAY_LIMIT:
                reason = "too_many"
            messages = [row.as_message() for row in rows]
        db.session.remove()
        if reason is not None:
            with self.lock:
                stream.pending = None
            self.move(stream, set())
            self.send(stream.namespace, stream.sid, "reload", {"reason": reason})
            return Resumed(ok=False, reason=reason)
        return self._go_live(stream, messages, newest, last_id)

    def _go_live(
        self,
        stream: Stream,
        messages: list[dict[str, Any]],
        newest: int,
        last_id: int | None,
    ) -> Resumed:
        """Sends the replay, then what arrived for the socket meanwhile, and goes live."""
        for message in messages:
            self.send(stream.namespace, stream.sid, "event", message)
        with self.lock:
            stream.sent_upto = max(newest, last_id or 0, messages[-1]["id"] if messages else 0)
            for message in stream.pending or ():
                if message["id"] > stream.sent_upto:
                    self.send(stream.namespace, stream.sid, "event", message)
                    stream.sent_upto = message["id"]
            stream.pending = None
            stream.resumed = True
        return Resumed(ok=True, last_id=stream.sent_upto, replayed=len(messages))

    def abandon(self, stream: Stream) -> None:
        """Undoes a resume that failed half-way: no event rooms, nothing pending."""
        with self.lock:
            stream.resumed, stream.pending = False, None
        self.move(stream, set())

    def move(self, stream: Stream, rooms: set[str]) -> None:
        for room in stream.rooms - rooms:
            self.server.leave_room(stream.sid, room, namespace=stream.namespace)
        for room in rooms - stream.rooms:
            self.server.enter_room(stream.sid, room, namespace=stream.namespace)
        stream.rooms = set(rooms)

    def local_sids(self, namespace: str, room: str) -> list[str]:
        return [sid for sid, _eio_sid in self.server.manager.get_participants(namespace, room)]

    def send(self, namespace: str, sid: str, event: str, data: dict[str, Any]) -> None:
        self.send_to_all(namespace, [sid], event, data)

    def send_to_all(
        self, namespace: str, sids: list[str], event: str, data: dict[str, Any]
    ) -> None:
        """Sends an event to these sockets, its packet encoded once: a pupil's event goes to
        each of its guardians' devices and to its school's staff, and an emit per socket
        encoded it again for each (about 12 µs a socket more, `python -m bench.fanout`).

        By hand, as python-socketio's manager sends a room's packet, because its emit to a list
        stops at the first socket that closed meanwhile (`SocketIsClosedError`), and the
        sockets after it would miss a live event they are marked as sent. Here each socket's
        failure is its own: the socket went away, and it resumes when it comes back."""
        if not sids:
            return
        # binary=False: what the relay sends is JSON (a journal row's payload, a reason), never
        # bytes, and python-socketio otherwise walks the whole event looking for them: 12.6 µs
        # a packet with the walk, 5.7 without (`timeit`, an attendance event), 25 a roll.
        # Not binary, so one packet: no attachments after it.
        encoded = self.server.packet_class(
            socketio_packet.EVENT, namespace=namespace, data=[event, data], binary=False
        ).encode()
        packet = engineio_packet.Packet(engineio_packet.MESSAGE, encoded)
        for sid in sids:
            eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
            if eio_sid is None:
                continue  # gone meanwhile
            try:
                self.server._send_eio_packet(eio_sid, packet)
            except Exception:
                log.debug("could not send %s to %s", event, sid, exc_info=True)

    def end(self, namespace: str, sid: str, reason: str) -> None:
        """Tells the client why (it reloads: the login page) and disconnects it."""
        self.send(namespace, sid, "reload", {"reason": reason})
        with self.lock:
            stream = self._drop(namespace, sid)
            if stream is not None:
                stream.resumed, stream.pending = False, None
        self.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    def sweep_sessions(self) -> None:
        """Ends sockets whose session ended where no doorbell rang (e.g. the CLI without Redis).

        It runs every `SWEEP_SECONDS` and compares sessions, not sockets: one (person, session
        version) for all of a person's sockets here (`sessions`), so its cost grows with the
        people connected, and the sockets are walked only when a session did end."""
        sessions = list(self.sessions)
        if not sessions:
            return
        valid: dict[int, int] = {}
        for chunk in _chunks(sorted({user_id for user_id, _version in sessions}), 500):
            valid.update(valid_session_versions(chunk))
        db.session.close()
        ended = {(user_id, v) for user_id, v in sessions if valid.get(user_id) != v}
        if not ended:
            return
        for stream in list(self.streams.values()):
            if (stream.user_id, stream.session_version) in ended:
                self.end(stream.namespace, stream.sid, "session_ended")


def _wire(row: Any) -> Event:
    """An event as dispatched, from a journal row: read (its columns) or committed here."""
    message = wire_form(row.id, row.type, row.at, row.payload)
    return message, row.audience, row.audience_id, row.school_id


@functools.cache
def _events_after(bounded: bool) -> Select[Any]:
    """The next batch of the journal after the relay's head (`bounded`: up to `upto` too).

    Columns, not ORM objects, and built once: the relay reads at every commit, and loading the
    rows into the session (its identity map, then `close`) and building the query anew each
    time were most of the relay's own work in a profile of `bench.run`'s remarks."""
    journal = JournalEvent.__table__.c
    query = select(
        journal.id,
        journal.type,
        journal.at,
        journal.payload,
        journal.audience,
        journal.audience_id,
        journal.school_id,
    ).where(journal.id > bindparam("head"))
    if bounded:
        query = query.where(journal.id <= bindparam("upto"))
    return query.order_by(journal.id).limit(BATCH)


def pump_engine(engine: Engine, options: dict[str, Any]) -> Engine:
    """The relay's own small pool, to the app's database. It only reads, and on PostgreSQL
    each read runs in autocommit: under READ COMMITTED every statement takes a fresh snapshot
    anyway, and a cycle no longer pays a BEGIN and a ROLLBACK round trip around its read (a
    quarter of the relay's CPU per remark in a py-spy profile of `bench.run`'s remarks)."""
    url = engine.url.render_as_string(hide_password=False)
    options = {**options, "pool_size": 2, "max_overflow": 2}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return make_engine(url, **options)


def check_pings(eio: Any) -> None:
    """One pass of Engine.IO's monitor (`engineio.Server._service_task`): forgets the closed
    sockets and closes those late with their pong (`Socket.check_ping_timeout`)."""
    for socket in list(eio.sockets.values()):
        try:
            if socket.closed:
                eio.sockets.pop(socket.sid, None)
            elif not socket.closing:
                socket.check_ping_timeout()
        except Exception:  # one socket's disconnect handler must not spare the others
            log.exception("closing a silent socket failed")


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
