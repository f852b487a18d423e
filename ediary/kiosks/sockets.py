"""The `/kiosk` Socket.IO namespace: an enrolled device, its teachers' sessions, submissions.

Socket handlers get no `before_request` and no `login_required` (house rule 4), so every event
here does the whole job itself: validate the payload (schema.py), re-read the device (a revoked
or re-enrolled kiosk is refused at its next event), load the teacher's session, authorise with
the loaders of access.py, call one operation, commit once, then acknowledge. Every failure is an
acknowledgement `{"ok": false, "error": <stable code>, "message": <Polish>}`; nothing escapes
to python-socketio, so a bad event never costs the connection or the server.
The protocol is written down in docs/protocol.md, section "/kiosk".
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_socketio import SocketIO, disconnect, emit, join_room, leave_room
from socketio.exceptions import ConnectionRefusedError as Refused
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound

from ediary.access.roles import has_school_role
from ediary.audit.recording import Actor, Channel
from ediary.db import db, unreachable, utcnow
from ediary.errors import Refusal
from ediary.extensions import socketio
from ediary.kiosks import schema as s
from ediary.kiosks.access import (
    SessionEnded,
    live_session_of,
    load_kiosk_lesson,
    load_teacher_session,
    token_of,
)
from ediary.kiosks.auth import check_pin_format, hash_pin, verify_pin, verify_secret
from ediary.kiosks.models import Kiosk, KioskTeacherSession, ProcessedSubmission
from ediary.kiosks.operations import (
    PIN_ATTEMPTS,
    end_teacher_session,
    lock_teacher_session,
    open_teacher_session,
    record_pin_attempt,
    set_pin,
)
from ediary.kiosks.queries import (
    lesson_brief,
    lesson_sheet,
    room_lessons,
    school_of,
    school_today,
    stored_submission,
    teacher_day,
)
from ediary.kiosks.rooms import NAMESPACE
from ediary.kiosks.submissions import apply_submission, digest_of, validate_submission
from ediary.people.auth import authenticate
from ediary.people.models import Role, User
from ediary.people.throttle import Attempt, attempt_succeeded, begin_attempt, kiosk_lane
from ediary.realtime.namespace import GuardedNamespace
from ediary.realtime.relay import ensure_relay, local_relay
from ediary.realtime.rooms import kiosk_room, lesson_room
from ediary.timetable.operations import ensure_lessons

log = logging.getLogger(__name__)

# Contention (two kiosks writing the same lesson at the same instant) is retried this often.
ATTEMPTS = 3

_DEVICE = "kiosk_device"
_FOLLOWED = "kiosk_lesson"  # the lesson whose room this socket is in
_SESSION = s.text(64)
AUTH = s.obj({"kiosk_id": s.integer(), "secret": s.text(100)})
EMPTY = s.obj({})
LOGIN = s.obj({"login": s.text(80), "password": s.text(128)}, {"pin": s.text(16)})
SESSION_ONLY = s.obj({"session": _SESSION})
LOGOUT = s.obj({"session": _SESSION}, {"end": s.boolean()})
UNLOCK = s.obj({"teacher_id": s.integer(), "pin": s.text(16)})
SET_PIN = s.obj({"session": _SESSION, "pin": s.text(16)})
# `follow: false`: a sheet read ahead for work without the server (the socket keeps its room).
LESSON = s.obj({"session": _SESSION, "lesson_id": s.integer()}, {"follow": s.boolean()})
# How long the `delivered` notice waits for every process's relay to push a submission's events.
DELIVERY_WAIT_SECONDS = 5.0

NOT_FOUND = _l("Nie znaleziono. Możliwe, że lekcja lub uczeń nie należy do tego komputera.")
SERVER_ERROR = _l("Błąd serwera. Spróbuj ponownie za chwilę.")
SERVER_BUG = _l("Błąd serwera: wpisu nie przyjęto. Zgłoś to administratorowi szkoły.")


class DeviceRefused(Refusal):
    status = 401


Handler = Callable[..., dict[str, Any]]


def kiosk_event(spec: s.Spec | None) -> Callable[[Handler], Handler]:
    """Validates the event's one argument, re-reads the device, and turns every failure into an
    error acknowledgement after rolling back. `spec=None` means the submission envelope."""

    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def run(self: KioskNamespace, *args: Any) -> dict[str, Any]:
            try:
                if len(args) > 1:
                    raise s.Invalid("$")
                data = args[0] if args else {}
                data = validate_submission(data) if spec is None else s.validate(spec, data)
                return fn(self, _device(), data)
            except DeviceRefused as refusal:
                db.session.rollback()
                emit("revoked", refusal.as_dict())
                disconnect()
                return refusal.as_dict()
            except Refusal as refusal:
                db.session.rollback()
                return refusal.as_dict()
            except NotFound:
                db.session.rollback()
                return {"ok": False, "error": "not_found", "message": str(NOT_FOUND)}
            except Exception as error:
                db.session.rollback()
                log.exception("kiosk event %s failed", fn.__name__)
                if unreachable(error):
                    return {
                        "ok": False,
                        "error": "internal",
                        "message": str(SERVER_ERROR),
                        "retry": True,
                    }
                # A bug answers the same way every time: retrying would loop for ever.
                return {"ok": False, "error": "server_error", "message": str(SERVER_BUG)}

        return run

    return decorate


def _device() -> Kiosk:
    """The connected kiosk, read again: revoked or re-enrolled since the connect is refused."""
    return device_of(session.get(_DEVICE) or {})


def device_of(info: dict[str, Any]) -> Kiosk:
    """The kiosk a socket connected as (`{"kiosk_id", "secret_hash"}`), or `DeviceRefused`."""
    kiosk = db.session.get(Kiosk, info["kiosk_id"]) if info else None
    if kiosk is None or kiosk.revoked_at is not None or kiosk.secret_hash != info["secret_hash"]:
        raise DeviceRefused("kiosk_revoked", _l("Ten komputer został odłączony od dziennika."))
    return kiosk


def _follow(lesson_id: int | None) -> None:
    """Moves this socket to the room of the lesson its screen shows (or out of any): the relay
    pushes the lesson's roll and topic changes made elsewhere there (docs/protocol.md)."""
    previous = session.get(_FOLLOWED)
    if previous == lesson_id:
        return
    if previous is not None:
        leave_room(lesson_room(previous))
    if lesson_id is not None:
        join_room(lesson_room(lesson_id))
    session[_FOLLOWED] = lesson_id


def _refused(code: str, message: str) -> Refused:
    return Refused(message, {"error": code, "message": message})


def _end_reads() -> None:
    """Ends the (read-only) transaction before waiting for argon2 in the thread pool.

    Other greenlets run meanwhile; a transaction kept open across the wait would hold a stale
    SQLite snapshot, and its first write afterwards fails ("database is locked") if anyone
    committed in between. Nothing is pending here, so the commit writes nothing.
    """
    db.session.commit()


def _ensure_today(kiosk: Kiosk, now: dt.datetime) -> None:
    """Makes today's lessons from the weekly timetable if nobody has yet (idempotent)."""
    school = school_of(kiosk)
    try:
        with db.session.begin_nested():
            ensure_lessons(Actor(None, Channel.KIOSK, kiosk.id), school, school_today(school, now))
    except IntegrityError:
        pass  # another kiosk of the school made them at the same moment: they exist now


def _session_reply(row: KioskTeacherSession, teacher: User) -> dict[str, Any]:
    return {
        "session": token_of(row),
        "teacher": {
            "id": teacher.id,
            "first_name": teacher.first_name,
            "last_name": teacher.last_name,
        },
        "expires_at": row.expires_at.isoformat(),
        "pin_set": row.pin_hash is not None,
    }


class KioskNamespace(GuardedNamespace):
    def malformed(self) -> dict[str, Any]:
        return s.Invalid("$").as_dict()

    def on_connect(self, auth: Any = None) -> None:
        """The device authenticates with its id and secret; everyone else is refused."""
        try:
            credentials = s.validate(AUTH, auth)
        except Refusal:
            raise _refused("kiosk_unknown", _("Brak poprawnych danych urządzenia.")) from None
        try:
            # Read only; the session ends with the handler's app context (`db` tears it down).
            kiosk = db.session.get(Kiosk, credentials["kiosk_id"])
            known = kiosk is not None and verify_secret(kiosk.secret_hash, credentials["secret"])
        except Exception:  # a database down: say so, instead of leaving the device waiting
            log.exception("kiosk connect failed")
            raise _refused("internal", str(SERVER_ERROR)) from None
        if kiosk is None or not known:
            raise _refused("kiosk_unknown", _("Nieznane urządzenie albo błędny klucz urządzenia."))
        if kiosk.revoked_at is not None:
            raise _refused("kiosk_revoked", _("Ten komputer został odłączony od dziennika."))
        if not current_app.testing:
            # The relay pushes the kiosk its events and applies its revocation; it starts with
            # the first socket of a process, which may well be a kiosk's at 7:55.
            ensure_relay(current_app._get_current_object(), socketio)  # type: ignore[attr-defined]
        session[_DEVICE] = {"kiosk_id": kiosk.id, "secret_hash": kiosk.secret_hash}
        join_room(kiosk_room(kiosk.id))

    def on_disconnect(self, _reason: Any = None) -> None:
        """Nothing to clean: teacher sessions outlive connections (the network drops)."""

    @kiosk_event(EMPTY)
    def on_room(self, kiosk: Kiosk, _data: dict[str, Any]) -> dict[str, Any]:
        """The lock screen: the room, the school, the room's lessons today."""
        now = utcnow()
        _ensure_today(kiosk, now)
        db.session.commit()
        school = school_of(kiosk)
        today = school_today(school, now)
        return {
            "ok": True,
            "kiosk": {"id": kiosk.id, "name": kiosk.name},
            "room": {"id": kiosk.room.id, "name": kiosk.room.name},
            "school": {"id": school.id, "name": school.name, "short_name": school.short_name},
            "today": today.isoformat(),
            "now": now.isoformat(),
            "lessons": [
                lesson_brief(lesson, kiosk, with_teacher=True)
                for lesson in room_lessons(kiosk, today)
            ],
        }

    @kiosk_event(LOGIN)
    def on_teacher_login(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        """A full login: opens the teacher's day on this kiosk and sets the day's PIN."""
        now = utcnow()
        login = data["login"].strip().lower()
        pin = data.get("pin")
        if pin is not None:
            check_pin_format(pin)
        # The policy of the web login (people/throttle.py), in this kiosk's own lane: growing
        # delays per teacher, a ceiling for the kiosk. The attempt counts as a failure (and is
        # committed) before argon2 runs, and is forgotten if it succeeds.
        lane = kiosk_lane(kiosk.id)
        _end_reads()  # the device was read: on SQLite the write below needs a fresh snapshot
        attempt = begin_attempt(Actor(None, Channel.KIOSK, kiosk.id), Attempt(login, lane), now)
        db.session.commit()
        teacher = authenticate(login, data["password"])  # argon2 in gevent's thread pool
        _end_reads()
        if teacher is None or not has_school_role(teacher, kiosk.school_id, Role.TEACHER):
            if teacher is None:
                raise Refusal("login_failed", _l("Nieprawidłowy login lub hasło."))
            raise Refusal(
                "not_teacher_here", _l("To konto nie jest kontem nauczyciela tej szkoły.")
            )
        pin_hash = hash_pin(pin) if pin is not None else None
        actor = Actor(teacher, Channel.KIOSK, kiosk.id)
        attempt_succeeded(actor, attempt)
        row = open_teacher_session(actor, kiosk, teacher, now=now, pin_hash=pin_hash)
        _ensure_today(kiosk, now)
        db.session.commit()
        return {"ok": True, **_session_reply(row, teacher), **teacher_day(kiosk, teacher, now)}

    @kiosk_event(UNLOCK)
    def on_pin_unlock(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        """Reopens the teacher's day on this kiosk; the third wrong PIN in a row ends it."""
        now = utcnow()
        check_pin_format(data["pin"])
        row = live_session_of(kiosk, data["teacher_id"], now)
        if row is None or row.pin_hash is None:
            raise Refusal("login_required", _l("Zaloguj się loginem i hasłem."))
        session_id, pin_hash = row.id, row.pin_hash
        _end_reads()
        right = verify_pin(pin_hash, data["pin"])  # argon2 in gevent's thread pool
        # Read again after the wait, locked: two attempts at once both count.
        row = db.session.get(
            KioskTeacherSession, session_id, with_for_update=True, populate_existing=True
        )
        teacher = db.session.get(User, data["teacher_id"])
        if row is None or teacher is None or row.ended_at is not None:
            raise Refusal("login_required", _l("Zaloguj się loginem i hasłem."))
        record_pin_attempt(Actor(teacher, Channel.KIOSK, kiosk.id), row, right, now)
        db.session.commit()
        if not right and row.ended_at is not None:
            raise Refusal(
                "login_required", _l("Za dużo błędnych PIN-ów. Zaloguj się loginem i hasłem.")
            )
        if not right:
            raise Refusal(
                "pin_wrong",
                _l("Nieprawidłowy PIN."),
                attempts_left=PIN_ATTEMPTS - row.pin_failures,
            )
        # The same checks as every later event (account, hard logout), now that it is open.
        row, teacher = load_teacher_session(kiosk, token_of(row), now)
        return {"ok": True, **_session_reply(row, teacher), **teacher_day(kiosk, teacher, now)}

    @kiosk_event(SET_PIN)
    def on_set_pin(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        pin_hash = hash_pin(data["pin"])  # first, with no transaction open
        row, teacher = load_teacher_session(kiosk, data["session"], utcnow())
        set_pin(Actor(teacher, Channel.KIOSK, kiosk.id), row, pin_hash)
        db.session.commit()
        return {"ok": True, "pin_set": True}

    @kiosk_event(LOGOUT)
    def on_teacher_logout(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        """Locks the teacher's day on this kiosk (the PIN reopens it), or with `end` ends it
        (only a full login opens a new one). Twice is not an error."""
        now = utcnow()
        try:
            row, teacher = load_teacher_session(kiosk, data["session"], now)
        except SessionEnded:
            return {"ok": True}
        actor = Actor(teacher, Channel.KIOSK, kiosk.id)
        if data.get("end"):
            end_teacher_session(actor, row, "logout", now)
        else:
            lock_teacher_session(actor, row, now)
        db.session.commit()
        _follow(None)
        return {"ok": True}

    @kiosk_event(SESSION_ONLY)
    def on_lessons(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        _row, teacher = load_teacher_session(kiosk, data["session"], now)
        _ensure_today(kiosk, now)
        db.session.commit()
        return {"ok": True, **teacher_day(kiosk, teacher, now)}

    @kiosk_event(LESSON)
    def on_roster(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        row, teacher = load_teacher_session(kiosk, data["session"], utcnow())
        lesson = load_kiosk_lesson(kiosk, row, data["lesson_id"])
        sheet = lesson_sheet(lesson, teacher)
        if data.get("follow", True):
            _follow(lesson.id)
        return {"ok": True, **sheet}

    @kiosk_event(None)
    def on_submit(self, kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
        ack = receive_submission(kiosk, data)
        if ack.get("status") == "applied" and not ack["delivered"]:
            socketio.start_background_task(
                _announce_delivered,
                request.sid,  # type: ignore[attr-defined]
                ack["key"],
                ack["event_ids"],
            )
        return ack


def receive_submission(kiosk: Kiosk, data: dict[str, Any]) -> dict[str, Any]:
    """A validated submission from `kiosk`, below the socket (bench/roll_cost.py calls it too):
    the stored answer for a known key, else applied and committed, retried on contention."""
    key, kind, lesson_id, payload = (
        data["key"],
        data["kind"],
        data["lesson_id"],
        data["payload"],
    )
    digest = digest_of(kind, lesson_id, payload)
    for _attempt in range(ATTEMPTS):
        stored = stored_submission(key)
        if stored is not None:
            return _replay(stored, kiosk, digest)
        row, teacher = load_teacher_session(kiosk, data["session"], utcnow(), for_entries=True)
        lesson = load_kiosk_lesson(kiosk, row, lesson_id)
        try:
            result = apply_submission(
                Actor(teacher, Channel.KIOSK, kiosk.id),
                kiosk=kiosk,
                key=key,
                digest=digest,
                kind=kind,
                lesson=lesson,
                payload=payload,
            )
            db.session.commit()
        except (IntegrityError, StaleDataError, OperationalError):
            # A twin with the same key won, or another kiosk wrote the same rows at the same
            # moment: start again from a clean transaction (the key lookup comes first).
            db.session.rollback()
            continue
        return _ack("applied", key, result, delivered=not result["event_ids"])
    return {
        "ok": False,
        "error": "busy",
        "message": _("Serwer jest zajęty. Wpis zostanie wysłany ponownie."),
        "retry": True,
    }


def _replay(stored: ProcessedSubmission, kiosk: Kiosk, digest: str) -> dict[str, Any]:
    if stored.kiosk_id != kiosk.id or stored.digest != digest:
        return {
            "ok": False,
            "error": "key_reused",
            "message": _("Ten klucz wpisu był już użyty dla innej treści."),
        }
    # Committed earlier, so its events were pushed then (or reach parents on their resume).
    return _ack("duplicate", stored.key, stored.result, delivered=True)


def _ack(status: str, key: str, result: dict[str, Any], *, delivered: bool) -> dict[str, Any]:
    return {
        "ok": True,
        "status": status,
        "key": key,
        "result": result,
        "event_ids": result.get("event_ids", []),
        "delivered": delivered,
    }


def _announce_delivered(sid: str, key: str, event_ids: list[int]) -> None:
    """Runs after the acknowledgement. Tells the kiosk once every server process has pushed the
    submission's journal events to its parents' sockets: this one's relay and each live peer
    (see docs/protocol.md, "Entry states on the kiosk"); after the wait, nothing is said."""
    relay = local_relay()
    if relay is not None and not relay.wait_delivered(max(event_ids), DELIVERY_WAIT_SECONDS):
        return  # not pushed everywhere yet: the kiosk keeps "on the server"; parents resume it
    socketio.emit("delivered", {"key": key, "event_ids": event_ids}, to=sid, namespace=NAMESPACE)


def register(sio: SocketIO) -> None:
    """Registers the namespace on the Socket.IO server of the app being built (see api.py)."""
    sio.on_namespace(KioskNamespace(NAMESPACE))
