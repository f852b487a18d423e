"""The parent's notification settings form: what an empty or half-filled quiet-hours field means.

Both fields emptied means "no quiet hours", and the page says so; one field without the other is
refused on the form, which keeps everything the parent had chosen and typed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ediary.db import db
from ediary.notifications.models import NotificationPreference
from tests.html import csrf_token, text


def _save(client, **form: str):
    token = csrf_token(client, "/portal/settings")
    return client.post("/portal/settings", data={"csrf_token": token, **form})


def _stored(world) -> NotificationPreference | None:
    db.session.expire_all()
    return db.session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == world.parent.id)
    )


def test_both_times_emptied_means_no_quiet_hours_and_the_page_says_so(
    world, client, login_as, session
):
    login_as(world.parent)
    response = _save(client, **{"topic-grade": "1", "quiet_from": "", "quiet_until": ""})
    assert response.status_code == 302
    stored = _stored(world)
    assert stored is not None and stored.grade is True
    assert stored.quiet_from == stored.quiet_until  # the sender holds nothing back
    page = client.get("/portal/settings").get_data(as_text=True)
    assert "Bez ciszy nocnej: wiadomości wysyłamy o każdej porze." in text(page)
    assert 'name="quiet_from" value=""' in page and 'name="quiet_until" value=""' in page
    # Hours typed again turn the quiet hours back on.
    assert _save(client, quiet_from="22:00", quiet_until="06:30").status_code == 302
    stored = _stored(world)
    assert stored is not None
    assert (stored.quiet_from, stored.quiet_until) == (dt.time(22), dt.time(6, 30))
    page = client.get("/portal/settings").get_data(as_text=True)
    assert 'name="quiet_from" value="22:00"' in page
    assert "Cisza nocna: 22:00–06:30." in text(page)


def test_one_time_without_the_other_is_refused_on_the_form_keeping_the_choices(
    world, client, login_as, session
):
    login_as(world.parent)
    response = _save(
        client, **{"topic-grade": "1", "digest": "1", "quiet_from": "22:15", "quiet_until": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<h1>Powiadomienia</h1>" in page  # the form, not an error page
    assert (
        'role="alert">Podaj obie godziny ciszy nocnej albo wyczyść oba pola, '
        "jeśli nie chcesz ciszy nocnej.</p>"
    ) in page
    assert 'name="quiet_from" value="22:15"' in page and 'name="quiet_until" value=""' in page
    assert 'name="topic-grade" value="1" checked' in page
    assert 'name="digest" value="1" checked' in page
    assert 'name="topic-first_absence" value="1" checked' not in page  # unticked stays so
    assert db.session.scalar(select(func.count(NotificationPreference.id))) == 0
