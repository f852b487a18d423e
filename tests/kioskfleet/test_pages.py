"""The fleet pages: the director's (state, code, revoke, move), one kiosk's outages, the gmina's
(filter, no teacher names), and the start page's alerts, with the clock pinned."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.errors import Conflict, Refusal
from ediary.kiosks.models import EnrollmentCode, Kiosk, KioskTeacherSession
from ediary.kiosks.operations import code_digest, create_kiosk, move_kiosk
from ediary.people.models import User
from tests import factories
from tests.events import capture_events
from tests.html import hidden_fields, text
from tests.kiosk_server.conftest import NS, KioskWorld, call, login
from tests.kioskfleet.test_heartbeat import report

Login = Callable[[User], FlaskClient]
ADMIN = Actor.system(Channel.CLI)


def fleet_url(kworld: KioskWorld) -> str:
    return f"/schools/{kworld.school.id}/kiosks"


def action(kworld: KioskWorld, what: str, kiosk_id: int | None = None) -> str:
    return f"{fleet_url(kworld)}/{kiosk_id or kworld.kiosk.id}/{what}"


def test_the_director_sees_room_state_version_outbox_and_teacher(
    connect: Any, kworld: KioskWorld, login_as: Login
) -> None:
    client = connect()
    login(client, kworld.teacher)
    call(
        client,
        "heartbeat",
        report(outbox_depth=3, oldest_unsent_seconds=120, teacher_id=kworld.teacher.id),
    )
    page = text(login_as(kworld.school_admin).get(fleet_url(kworld)).get_data(as_text=True))
    assert "Komputery w salach" in page
    row = page.split(kworld.room.name, 1)[1]
    assert "działa" in row and "0.1.0" in row and "3 (najstarszy 2 min temu)" in row
    assert kworld.teacher.full_name in row
    assert "Komputery wymagające uwagi" not in page


def test_an_entry_older_than_ten_minutes_is_an_alert_on_the_page_and_the_start_page(
    connect: Any, kworld: KioskWorld, login_as: Login
) -> None:
    call(connect(), "heartbeat", report(outbox_depth=1, oldest_unsent_seconds=11 * 60))
    admin = login_as(kworld.school_admin)
    page = text(admin.get(fleet_url(kworld)).get_data(as_text=True))
    assert "Komputery wymagające uwagi" in page
    assert "wpis czeka na wysłanie ponad 10 minut (najstarszy wpis 11 min temu)" in page
    home = text(admin.get("/").get_data(as_text=True))
    assert "wpis czeka na wysłanie ponad 10 minut" in home
    assert "wymagają uwagi: 1" in home
    gmina = text(login_as(kworld.district_admin).get("/").get_data(as_text=True))
    assert "Komputery w salach: " in gmina and "wymagają uwagi: 1" in gmina


def test_offline_during_a_lesson_is_an_alert(
    connect: Any, kworld: KioskWorld, login_as: Login, time_machine: Any
) -> None:
    client = connect()
    call(client, "heartbeat", report())
    client.disconnect(namespace=NS)
    factories.make_lesson(
        kworld.school, kworld.class_a, kworld.math, kworld.teacher, kworld.room, kworld.today, 3
    )
    db.session.commit()
    time_machine.shift(dt.timedelta(minutes=2))
    page = text(login_as(kworld.school_admin).get(fleet_url(kworld)).get_data(as_text=True))
    assert "bez połączenia w czasie lekcji (ostatnio widziany 2 min temu)" in page


def test_an_enrollment_code_is_shown_as_text_and_qr_and_works(
    kworld: KioskWorld, login_as: Login
) -> None:
    admin = login_as(kworld.school_admin)
    form = hidden_fields(admin, fleet_url(kworld))
    response = admin.post(action(kworld, "code"), data=form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code = re.search(r'id="code-text">([A-Z0-9]{5}-[A-Z0-9]{5})<', html)
    assert code is not None and "<svg" in html
    row = db.session.scalar(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code.group(1)))
    )
    assert row is not None and row.kiosk_id == kworld.kiosk.id
    assert row.issued_by_id == kworld.school_admin.id
    # Sent again (a double click): no second code.
    again = admin.post(action(kworld, "code"), data=form)
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EnrollmentCode)) == 2  # kworld's


def test_revoking_needs_the_tick_then_ends_the_session_with_history(
    connect: Any, kworld: KioskWorld, login_as: Login
) -> None:
    client = connect()
    login(client, kworld.teacher)
    admin = login_as(kworld.school_admin)
    form = hidden_fields(admin, fleet_url(kworld))
    refused = admin.post(action(kworld, "revoke"), data=form)
    assert refused.status_code == 400
    assert "Zaznacz „Tak, odłącz ten komputer”" in text(refused.get_data(as_text=True))
    assert db.session.get_one(Kiosk, kworld.kiosk.id).revoked_at is None

    sent = capture_events(
        lambda: admin.post(action(kworld, "revoke"), data={**form, "confirm": "y"}),
        "kiosk.revoked",
    )
    assert sent.result.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Kiosk, kworld.kiosk.id).revoked_at is not None
    live = select(KioskTeacherSession).where(KioskTeacherSession.ended_at.is_(None))
    assert db.session.scalars(live).all() == []
    history = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "kiosks", HistoryEntry.entity_id == kworld.kiosk.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert any(
        h.actor_id == kworld.school_admin.id
        and h.channel == "web"
        and (h.new or {}).get("revoked_at")
        for h in history
    ), [(h.entity, h.actor_id, h.new) for h in history]
    page = text(admin.get(fleet_url(kworld)).get_data(as_text=True))
    assert "odłączony" in page
    # The open socket is refused at its next event (a server process also cuts it: e2e test).
    assert call(client, "heartbeat", report())["error"] == "kiosk_revoked"


def test_moving_a_kiosk_to_a_free_room_and_the_refusals(
    connect: Any, kworld: KioskWorld, login_as: Login
) -> None:
    client = connect()
    login(client, kworld.teacher)
    free = factories.make_room(kworld.school, "21")
    taken = factories.make_room(kworld.school, "22")
    create_kiosk(ADMIN, taken)
    foreign = factories.make_room(kworld.other_school, "23")
    db.session.commit()
    admin = login_as(kworld.school_admin)
    form = hidden_fields(admin, fleet_url(kworld))
    del form["form_token"]  # the code form's: the move form has none
    seen = str(kworld.room.id)

    for room_id, message in (
        (foreign.id, "Wybierz salę tej szkoły."),
        (2**40, "Wybierz salę tej szkoły."),
        (taken.id, "W tej sali jest już inny komputer."),
    ):
        data = {**form, "room": str(room_id), "seen_room": seen}
        response = admin.post(action(kworld, "move"), data=data)
        assert response.status_code == 400
        assert message in text(response.get_data(as_text=True))
    moved = admin.post(
        action(kworld, "move"), data={**form, "room": str(free.id), "seen_room": seen}
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Kiosk, kworld.kiosk.id).room_id == free.id
    # The teacher's session there ends: a new login lists the new room's lessons.
    (ended,) = db.session.scalars(select(KioskTeacherSession)).all()
    assert ended.ended_reason == "kiosk_moved"
    # A page that still shows the old room: a conflict, not a silent second move.
    stale = admin.post(
        action(kworld, "move"), data={**form, "room": str(kworld.room.id), "seen_room": seen}
    )
    assert stale.status_code == 409
    assert "Ktoś w międzyczasie przeniósł ten komputer." in text(stale.get_data(as_text=True))


def test_move_kiosk_refuses_a_room_of_another_school(kworld: KioskWorld) -> None:
    foreign = factories.make_room(kworld.other_school, "31")
    kiosk = db.session.get_one(Kiosk, kworld.kiosk.id)
    try:
        move_kiosk(ADMIN, kiosk, foreign, seen_room_id=kiosk.room_id)
    except Conflict:
        raise AssertionError("not a conflict") from None
    except Refusal as refusal:
        assert refusal.code == "room_unknown"
    else:
        raise AssertionError("moved to another school")


def test_a_kiosk_of_another_school_is_not_found_through_this_school(
    kworld: KioskWorld, login_as: Login
) -> None:
    other = create_kiosk(ADMIN, factories.make_room(kworld.other_school, "41"))
    db.session.commit()
    admin = login_as(kworld.school_admin)
    form = hidden_fields(admin, fleet_url(kworld))
    for what in ("code", "revoke", "move"):
        assert admin.post(action(kworld, what, other.id), data=form).status_code == 404
    assert admin.get(f"/kiosks/{other.id}").status_code == 404
    assert admin.get(f"/kiosks/{2**63}").status_code == 404
    assert admin.get(f"/schools/{kworld.other_school.id}/kiosks").status_code == 404


def test_the_gmina_sees_every_kiosk_filters_and_no_teacher(
    connect: Any, kworld: KioskWorld, login_as: Login
) -> None:
    client = connect()
    login(client, kworld.teacher)
    call(client, "heartbeat", report(teacher_id=kworld.teacher.id))
    create_kiosk(ADMIN, factories.make_room(kworld.school, "51"))
    db.session.commit()
    gmina = login_as(kworld.district_admin)
    url = f"/districts/{kworld.district.id}/kiosks"
    page = text(gmina.get(url).get_data(as_text=True))
    assert kworld.school.name in page and "działa (1)" in page and "niezarejestrowany (1)" in page
    assert kworld.teacher.last_name not in page
    only_online = text(gmina.get(url + "?state=online").get_data(as_text=True))
    assert "51" not in only_online.split("Wpisy do wysłania", 1)[1]
    assert kworld.room.name in only_online
    assert gmina.get(url + "?state=bogus").status_code == 200
    detail = text(gmina.get(f"/kiosks/{kworld.kiosk.id}").get_data(as_text=True))
    assert "Przerwy w połączeniu" in detail and kworld.teacher.last_name not in detail
    other = login_as(kworld.other_district_admin)
    assert other.get(url).status_code == 404
    assert other.get(f"/kiosks/{kworld.kiosk.id}").status_code == 404


def test_the_outage_history_on_the_kiosk_page(
    connect: Any, kworld: KioskWorld, login_as: Login, time_machine: Any
) -> None:
    client = connect()
    call(client, "heartbeat", report())
    client.disconnect(namespace=NS)
    time_machine.shift(dt.timedelta(minutes=7))
    call(connect(), "heartbeat", report(outbox_depth=5, oldest_unsent_seconds=400))
    page = text(
        login_as(kworld.school_admin).get(f"/kiosks/{kworld.kiosk.id}").get_data(as_text=True)
    )
    assert "Przerwy w połączeniu" in page
    rows = page.split("Wpisów w kolejce po powrocie", 1)[1]
    assert "7 min" in rows and " 5" in rows
