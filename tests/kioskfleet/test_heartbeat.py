"""The heartbeat and the fleet's read side: one status row per kiosk, outages, states, alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from ediary.audit.recording import Actor, Channel
from ediary.db import db, utcnow
from ediary.kiosks import fleet
from ediary.kiosks.fleet import Alert, State
from ediary.kiosks.models import Kiosk, KioskOutage, KioskStatus
from ediary.kiosks.operations import create_kiosk, revoke_kiosk
from tests import factories
from tests.kiosk_server.conftest import NS, KioskWorld, call, login

SYSTEM = Actor.system(Channel.CLI)


def report(**changes: Any) -> dict[str, Any]:
    return {
        "version": "0.1.0",
        "outbox_depth": 0,
        "outbox_parked": 0,
        "oldest_unsent_seconds": None,
        "teacher_id": None,
        **changes,
    }


def state_of(kworld: KioskWorld, kiosk_id: int | None = None) -> fleet.KioskState:
    states = fleet.fleet_states(db.session, [kworld.school.id], utcnow())
    return next(s for s in states if s.kiosk_id == (kiosk_id or kworld.kiosk.id))


def test_beats_update_one_row_per_kiosk(connect: Any, kworld: KioskWorld) -> None:
    client = connect()
    for depth in (3, 2, 1):
        ack = call(client, "heartbeat", report(outbox_depth=depth, oldest_unsent_seconds=42))
        assert ack["ok"] is True
    rows = db.session.scalar(select(func.count()).select_from(KioskStatus))
    assert rows == 1
    state = state_of(kworld)
    assert state.state == State.ONLINE
    assert (state.agent_version, state.outbox_depth) == ("0.1.0", 1)
    assert state.oldest_unsent_seconds is not None and 40 <= state.oldest_unsent_seconds <= 50
    assert state.last_seen_at is not None


def test_a_malformed_heartbeat_is_refused_and_changes_nothing(
    connect: Any, kworld: KioskWorld
) -> None:
    client = connect()
    call(client, "heartbeat", report(outbox_depth=5))
    for bad in (
        report(outbox_depth=-1),
        report(outbox_depth=True),
        report(version=""),
        report(teacher_id=2**63),
        {**report(), "extra": 1},
    ):
        ack = call(client, "heartbeat", bad)
        assert ack["error"] == "invalid"
    assert state_of(kworld).outbox_depth == 5


def test_the_teacher_is_shown_only_with_a_live_session_here(
    connect: Any, kworld: KioskWorld
) -> None:
    client = connect()
    call(client, "heartbeat", report(teacher_id=kworld.teacher.id))
    assert state_of(kworld).teacher_id is None  # claimed, but never logged in here
    login(client, kworld.teacher)
    call(client, "heartbeat", report(teacher_id=kworld.teacher.id))
    state = state_of(kworld)
    assert state.teacher_id == kworld.teacher.id
    assert state.teacher_name == kworld.teacher.full_name


def test_a_disconnect_opens_an_outage_and_the_return_closes_it(
    connect: Any, kworld: KioskWorld, time_machine: Any
) -> None:
    client = connect()
    call(client, "heartbeat", report())
    client.disconnect(namespace=NS)
    assert state_of(kworld).state == State.OFFLINE
    (open_outage,) = fleet.outages(db.session, kworld.kiosk.id, utcnow())
    assert open_outage.ended_at is None
    time_machine.shift(dt.timedelta(minutes=5))
    again = connect()
    call(again, "heartbeat", report(outbox_depth=4, oldest_unsent_seconds=290))
    (outage,) = fleet.outages(db.session, kworld.kiosk.id, utcnow())
    assert outage.ended_at is not None
    assert 299 <= outage.seconds <= 330
    assert outage.queued == 4  # closed by the connect, counted by its first beat
    assert state_of(kworld).state == State.ONLINE


def test_silence_is_offline_and_its_outage_is_written_on_return(
    connect: Any, kworld: KioskWorld, time_machine: Any
) -> None:
    client = connect()
    call(client, "heartbeat", report())
    time_machine.shift(dt.timedelta(seconds=60))
    assert state_of(kworld).state == State.ONLINE  # two beats late is not yet away
    time_machine.shift(dt.timedelta(seconds=40))
    assert state_of(kworld).state == State.OFFLINE
    (silent,) = fleet.outages(db.session, kworld.kiosk.id, utcnow())
    assert silent.ended_at is None and silent.seconds >= 100
    time_machine.shift(dt.timedelta(minutes=20))
    call(client, "heartbeat", report(outbox_depth=7, oldest_unsent_seconds=60))
    (outage,) = fleet.outages(db.session, kworld.kiosk.id, utcnow())
    assert outage.ended_at is not None and outage.queued == 7
    assert 1300 <= outage.seconds <= 1340
    assert db.session.scalar(select(func.count()).select_from(KioskOutage)) == 1


def test_offline_during_a_lesson_in_its_room_is_an_alert(
    connect: Any, kworld: KioskWorld, time_machine: Any
) -> None:
    client = connect()
    call(client, "heartbeat", report())
    client.disconnect(namespace=NS)
    assert state_of(kworld).alerts == ()  # no lesson in the room at 10:00
    factories.make_lesson(
        kworld.school, kworld.class_a, kworld.math, kworld.teacher, kworld.room, kworld.today, 3
    )
    db.session.commit()
    time_machine.shift(dt.timedelta(minutes=1))
    state = state_of(kworld)
    assert state.lesson_now and state.alerts == (Alert.OFFLINE_IN_LESSON,)
    counts = fleet.fleet_counts(db.session, [kworld.school.id], utcnow())[kworld.school.id]
    assert (counts.offline, counts.alerts) == (1, 1)


def test_an_entry_older_than_ten_minutes_is_a_stuck_outbox(
    connect: Any, kworld: KioskWorld
) -> None:
    client = connect()
    call(client, "heartbeat", report(outbox_depth=2, oldest_unsent_seconds=9 * 60))
    assert state_of(kworld).state == State.ONLINE
    call(client, "heartbeat", report(outbox_depth=2, oldest_unsent_seconds=11 * 60))
    state = state_of(kworld)
    assert state.state == State.STUCK and state.alerts == (Alert.STUCK_OUTBOX,)
    counts = fleet.fleet_counts(db.session, [kworld.school.id], utcnow())[kworld.school.id]
    assert counts.stuck == 1 and counts.oldest_unsent_at == state.oldest_unsent_at


def test_revoked_and_never_enrolled_kiosks(connect: Any, kworld: KioskWorld) -> None:
    spare = create_kiosk(SYSTEM, factories.make_room(kworld.school, "S1"))
    db.session.commit()
    assert state_of(kworld, spare.id).state == State.NOT_ENROLLED
    revoke_kiosk(SYSTEM, db.session.get_one(Kiosk, kworld.kiosk.id))
    db.session.commit()
    assert state_of(kworld).state == State.REVOKED
    counts = fleet.fleet_counts(db.session, [kworld.school.id, kworld.other_school.id], utcnow())
    assert counts[kworld.school.id].by_state[State.REVOKED] == 1
    assert counts[kworld.school.id].by_state[State.NOT_ENROLLED] == 1
    assert counts[kworld.other_school.id].total == 0


def test_only_the_schools_asked_for(kworld: KioskWorld) -> None:
    states = fleet.fleet_states(db.session, [kworld.other_school.id], utcnow())
    assert all(s.school_id == kworld.other_school.id for s in states)
    assert kworld.kiosk.id not in {s.kiosk_id for s in states}


def test_a_first_connect_that_lost_the_race_for_the_status_row_reads_the_winners(
    kworld: KioskWorld, monkeypatch: Any
) -> None:
    """Two first connects of one kiosk (in two processes) both see no status row; the second
    one's insert must not fail its connect: it reads the row the first one made."""
    from ediary.kiosks import heartbeat

    first = heartbeat.record_connect(SYSTEM, kworld.kiosk, utcnow())
    db.session.flush()
    assert first.connected
    # The racing connect looked before the first one's row existed.
    real_get = db.session.get
    looked: list[object] = []

    def get_before_the_row(entity: Any, ident: Any, **kwargs: Any) -> Any:
        if entity is KioskStatus and not looked:
            looked.append(ident)
            return None
        return real_get(entity, ident, **kwargs)

    monkeypatch.setattr(db.session, "get", get_before_the_row)
    second = heartbeat.record_connect(SYSTEM, kworld.kiosk, utcnow())
    db.session.flush()
    assert looked == [kworld.kiosk.id]
    assert second is first and second.connected
    rows = db.session.scalar(select(func.count()).select_from(KioskStatus))
    assert rows == 1
