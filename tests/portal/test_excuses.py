"""Excuse requests: a guardian asks (past absences, days announced ahead, a note photo), the form
tutor decides in bulk, approved absences turn excused through the diary; every refusal tested."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.diary.models import Attendance
from ediary.errors import Refusal
from ediary.excuses.models import ExcuseRequest, ExcuseStatus
from ediary.excuses.notes import MAX_NOTE_BYTES
from ediary.excuses.operations import decide_excuses, request_excuse
from tests.events import capture_events
from tests.factories import World
from tests.html import comparable, csrf_token, text
from tests.portal.world import absent_at, second_lesson

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
ACTORS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "ediary" / "access" / "matrix.yaml").read_text()
)["actors"]


def _ask(client: FlaskClient, world: World, **form: object):
    data = {"csrf_token": csrf_token(client, f"/portal/{world.pupil.id}/excuses"), **form}
    files = {k: v for k, v in data.items() if isinstance(v, tuple)}
    fields = {k: v for k, v in data.items() if not isinstance(v, tuple)}
    values = MultiDict(list(fields.items()))
    for name, (stream, filename) in files.items():
        values.add(name, FileStorage(stream, filename=filename))
    # Encoded in memory: the test client's own encoder leaves a temporary file open for big bodies.
    boundary, body = encode_multipart(values)
    return client.post(
        f"/portal/{world.pupil.id}/excuses",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _code(world: World, lesson_id: int) -> str:
    record = db.session.scalar(
        select(Attendance).where(
            Attendance.lesson_id == lesson_id, Attendance.pupil_id == world.pupil.id
        )
    )
    assert record is not None
    return record.type.code


@pytest.mark.calendar
def test_parent_asks_tutor_approves_and_the_absence_turns_excused(world, client, login_as, session):
    record = absent_at(world, world.lesson)
    ahead = school_day(world.today, 1)
    session.commit()
    login_as(world.parent)
    asked = capture_events(
        lambda: _ask(
            client, world, absence=str(record.id), reason="Grypa, zwolnienie lekarskie.",
            note=(io.BytesIO(JPEG), "IMG_Zosia_Wisniewska.jpg"),
            **{"from": ahead.isoformat(), "to": ahead.isoformat()},
        ),
        "excuse.requested",
    )  # fmt: skip
    assert asked.result.status_code == 302
    assert (
        asked.events[0].payload["absences"] == 2 and asked.events[0].payload["status"] == "pending"
    )
    request = db.session.scalars(select(ExcuseRequest)).one()
    assert request.status is ExcuseStatus.PENDING and request.note_type == "image/jpeg"
    # A random name on disk, never the child's.
    assert request.note_file is not None and "Zosia" not in request.note_file
    assert [i.lesson_id for i in request.items] == [world.lesson.id, None]
    assert text(client.get(f"/portal/{world.pupil.id}/excuses").get_data(as_text=True)).count(
        "oczekuje"
    )

    login_as(world.tutor)
    queue = text(client.get("/excuses").get_data(as_text=True))
    assert "Zosia Wiśniewska" in queue and "Grypa, zwolnienie lekarskie." in queue
    token = csrf_token(client, "/excuses")
    decided = capture_events(
        lambda: client.post(
            "/excuses/decide",
            data={"csrf_token": token, "excuse": str(request.id), "decision": "approve"},
        ),
        "attendance.recorded",  # the absence, excused, then the decision
        "excuse.decided",
    )
    assert decided.result.status_code == 302
    assert request.status is ExcuseStatus.APPROVED and request.decided_by_id == world.tutor.id
    assert _code(world, world.lesson.id) == "u"
    excused, decision = decided.events
    assert (excused.payload["code"], excused.payload["previous_code"]) == ("u", "nb")
    assert decision.payload["status"] == "approved"
    history = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "excuse_requests")
        .order_by(HistoryEntry.id)
    ).all()
    assert [h.action for h in history] == ["create", "update"]
    assert history[1].new["status"] == "approved" and history[1].actor_id == world.tutor.id

    login_as(world.parent)
    page = text(client.get(f"/portal/{world.pupil.id}/history").get_data(as_text=True))
    assert "oczekuje → zmieniono na usprawiedliwiona" in page and "Jan Kowalski" in page
    assert "nieobecny (nb) → zmieniono na nieobecny usprawiedliwiony (u)" in page


@pytest.mark.calendar
def test_a_day_announced_ahead_is_excused_once_its_roll_is_taken(world, session):
    tomorrow = world.today + dt.timedelta(days=1)
    request = request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[], future_days=[tomorrow],
        reason="Wyjazd rodzinny.", note=None, today=world.today,
    )  # fmt: skip
    assert decide_excuses(Actor(world.tutor, Channel.WEB), [request], approve=True) == 0
    lesson = second_lesson(world, tomorrow, 1)
    absent_at(world, lesson)
    from ediary.excuses.queries import tutor_queue

    queue = tutor_queue([world.class_a], world.today)
    assert [e.request.id for e in queue.to_apply] == [request.id]
    from ediary.excuses.operations import apply_excuse

    assert apply_excuse(Actor(world.tutor, Channel.WEB), request) == 1
    assert _code(world, lesson.id) == "u"
    assert tutor_queue([world.class_a], world.today).to_apply == []


def test_rejection_keeps_the_absence(world, session):
    record = absent_at(world, world.lesson, "sp")
    request = request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[record], future_days=[],
        reason="Autobus się spóźnił.", note=None, today=world.today,
    )  # fmt: skip
    rejected = capture_events(
        lambda: decide_excuses(
            Actor(world.tutor, Channel.WEB), [request], approve=False, note="Bez kartki."
        ),
        "excuse.decided",  # and no attendance.recorded: the absence stays
    )
    assert rejected.events[0].payload["status"] == "rejected"
    assert request.status is ExcuseStatus.REJECTED and _code(world, world.lesson.id) == "sp"

    def again() -> None:
        with pytest.raises(Refusal) as refused:
            decide_excuses(Actor(world.tutor, Channel.WEB), [request], approve=True)
        assert refused.value.code == "already_decided"

    capture_events(again)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"reason": "Choroba"}, "Zaznacz nieobecności albo podaj dni nieobecności."),
        ({"reason": "  ", "from": "+1"}, "Podaj powód nieobecności."),
        ({"reason": "x" * 501, "from": "+1"}, "Powód jest za długi"),
        ({"reason": "Wyjazd", "from": "+31"}, "w ciągu najbliższych 30 dni"),
        ({"reason": "Wyjazd", "from": "-1"}, "w ciągu najbliższych 30 dni"),
        ({"reason": "Wyjazd", "from": "not-a-date"}, "Nieprawidłowa data."),
        ({"reason": "Choroba", "absence": "other"}, "Tej nieobecności nie można usprawiedliwić."),
        ({"reason": "Choroba", "absence": "present"}, "Tej nieobecności nie można usprawiedliwić."),
        # Not ids at all: a 5,000-digit number (past int()'s digit limit), one past PostgreSQL's
        # and SQLite's integers, a digit only str.isdigit accepts, a word.
        ({"reason": "Choroba", "absence": "9" * 5000}, "Nieprawidłowe dane formularza."),
        ({"reason": "Choroba", "absence": str(2**63)}, "Nieprawidłowe dane formularza."),
        ({"reason": "Choroba", "absence": str(2**31)}, "Nieprawidłowe dane formularza."),
        ({"reason": "Choroba", "absence": "²"}, "Nieprawidłowe dane formularza."),
        ({"reason": "Choroba", "absence": "x"}, "Nieprawidłowe dane formularza."),
        ({"reason": "Choroba", "from": "+1", "note": "gif"}, "Dozwolone są zdjęcia JPEG"),
        ({"reason": "Choroba", "from": "+1", "note": "big"}, "Plik jest za duży"),
    ],
)
def test_refused_requests_write_nothing(world, client, login_as, session, form, message):
    classmate_absence = submit_for(world, world.classmate)
    present = second_lesson(world)
    absent_at(world, present, "ob")
    session.commit()
    form = dict(form)
    if "from" in form and form["from"][0] in "+-":
        form["from"] = school_day(world.today, int(form["from"])).isoformat()
    if form.get("absence") == "other":
        form["absence"] = str(classmate_absence.id)  # another family's child's absence
    if form.get("absence") == "present":
        form["absence"] = str(
            db.session.scalar(
                select(Attendance.id).where(
                    Attendance.lesson_id == present.id, Attendance.pupil_id == world.pupil.id
                )
            )
        )
    if form.get("note") == "gif":
        form["note"] = (io.BytesIO(b"GIF89a" + b"\x00" * 50), "note.jpg")  # the name lies
    if form.get("note") == "big":
        form["note"] = (io.BytesIO(JPEG + b"\x00" * MAX_NOTE_BYTES), "note.jpg")
    login_as(world.parent)
    response = _ask(client, world, **form)
    assert response.status_code == 400
    assert message in text(response.get_data(as_text=True))
    assert db.session.scalar(select(ExcuseRequest)) is None


def school_day(today: dt.date, offset: int) -> dt.date:
    """`offset` days away, moved further away until it is a weekday (weekends are skipped)."""
    day = today + dt.timedelta(days=offset)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if offset > 0 else -1)
    return day


def submit_for(world: World, pupil) -> Attendance:
    from ediary.diary.operations import submit_roll
    from tests.portal.world import teacher

    submit_roll(teacher(world), world.lesson, {pupil.id: "nb"}, base=None)
    return db.session.scalars(
        select(Attendance).where(
            Attendance.lesson_id == world.lesson.id, Attendance.pupil_id == pupil.id
        )
    ).one()


def test_an_absence_is_asked_about_once(world, session):
    record = absent_at(world, world.lesson)
    parent = Actor(world.parent, Channel.WEB)
    request_excuse(parent, world.pupil, absences=[record], future_days=[], reason="Choroba.",
                   note=None, today=world.today)  # fmt: skip
    with pytest.raises(Refusal) as twice:
        request_excuse(parent, world.pupil, absences=[record], future_days=[], reason="Znowu.",
                       note=None, today=world.today)  # fmt: skip
    assert twice.value.code == "absence_invalid"


def test_bulk_decision_with_a_foreign_request_changes_nothing(world, client, login_as, session):
    ours = request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[], future_days=[world.today],
        reason="Lekarz.", note=None, today=world.today,
    )  # fmt: skip
    theirs = request_excuse(
        Actor(world.other_parent, Channel.WEB), world.pupil_b, absences=[],
        future_days=[world.today], reason="Lekarz.", note=None, today=world.today,
    )  # fmt: skip
    session.commit()
    login_as(world.tutor)  # the tutor of 5a; pupil_b is in 5b
    token = csrf_token(client, "/excuses")
    response = client.post(
        "/excuses/decide",
        data={"csrf_token": token, "excuse": [str(ours.id), str(theirs.id)], "decision": "approve"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert ours.status is ExcuseStatus.PENDING and theirs.status is ExcuseStatus.PENDING
    no_token = client.post("/excuses/decide", data={"excuse": str(ours.id), "decision": "approve"})
    assert no_token.status_code == 400  # CSRF
    db.session.expire_all()
    assert ours.status is ExcuseStatus.PENDING


@pytest.mark.parametrize(
    "bad",
    ["9" * 5000, str(2**63), str(2**31), "²", "0", "-1"],
    ids=["5000-digits", "2**63", "2**31", "superscript-two", "zero", "negative"],
)
def test_a_decision_on_something_that_is_no_id_is_refused_and_changes_nothing(
    world, client, login_as, session, bad
):
    ours = request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[], future_days=[world.today],
        reason="Lekarz.", note=None, today=world.today,
    )  # fmt: skip
    session.commit()
    login_as(world.tutor)
    token = csrf_token(client, "/excuses")
    for action in ("/excuses/decide", "/excuses/apply"):
        response = client.post(
            action, data={"csrf_token": token, "excuse": [str(ours.id), bad], "decision": "approve"}
        )
        assert response.status_code == 400, action
        assert "Nieprawidłowe dane formularza." in text(response.get_data(as_text=True))
    db.session.expire_all()
    assert ours.status is ExcuseStatus.PENDING


def test_the_note_photo_reaches_only_the_guardian_and_the_form_tutor(
    world, client, login_as, session
):
    record = absent_at(world, world.lesson)
    session.commit()
    login_as(world.parent)
    _ask(client, world, absence=str(record.id), reason="Choroba.",
         note=(io.BytesIO(JPEG), "kartka.jpg"))  # fmt: skip
    request = db.session.scalars(select(ExcuseRequest)).one()
    url = f"/excuses/{request.id}/note"
    expected = {actor: 404 for actor in ACTORS}
    expected.update(anonymous=302, parent=200, tutor=200)
    missing = client.get("/excuses/2000000000/note")
    for actor, status in expected.items():
        client.get("/logout")  # nothing: logout is a POST; start each actor afresh
        with client.session_transaction() as flask_session:
            flask_session.clear()
        if actor != "anonymous":
            login_as(getattr(world, actor))
        response = client.get(url)
        assert response.status_code == status, actor
        if status == 200:
            assert response.data == JPEG and response.mimetype == "image/jpeg"
            assert response.headers["Cache-Control"] == "no-store"
        if status == 404:
            assert comparable(response.get_data(as_text=True)) == comparable(
                client.get("/excuses/2000000000/note").get_data(as_text=True)
            )
    assert missing.status_code == 404


def test_a_note_over_the_limit_is_refused_by_the_form_keeping_what_was_typed(
    world, client, login_as, session
):
    """A phone's 5 MB PDF: a message on the form (not a bare 413), the reason, the ticked
    absence and the announced days as they were sent, nothing written."""
    absence = submit_for(world, world.pupil)
    session.commit()
    login_as(world.parent)
    first = school_day(world.today, 1).isoformat()
    pdf = b"%PDF-1.4\n" + b"0" * (5 * 1000 * 1000)
    response = _ask(
        client, world, reason="Wizyta u ortodonty.", absence=str(absence.id), **{"from": first},
        note=(io.BytesIO(pdf), "zwolnienie.pdf"),
    )  # fmt: skip
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Plik jest za duży (najwyżej 1,5 MB)" in text(page)
    assert ">Wizyta u ortodonty.</textarea>" in page
    assert f'value="{absence.id}" checked' in page
    assert f'name="from" min="{world.today.isoformat()}"' in page and f'value="{first}"' in page
    assert db.session.scalar(select(ExcuseRequest)) is None


@pytest.mark.parametrize(
    ("headers", "cookie", "expected"),
    [
        ({}, None, "Wysłane dane są za duże i nie zostały zapisane."),
        ({}, "en", "What you sent is too large and was not saved."),
        (
            {"Accept": "application/json"},
            None,
            "Wysłane dane są za duże i nie zostały zapisane. Zdjęcie zwolnienia może mieć "
            "najwyżej 1,5 MB: wróć, wybierz mniejszy plik i wyślij ponownie.",
        ),
    ],
)
def test_a_body_over_the_request_limit_gets_the_sites_413_page(
    world, client, login_as, session, headers, cookie, expected
):
    from ediary.excuses.views import NOTE_REQUEST_BYTES

    login_as(world.parent)
    if cookie:
        client.set_cookie("lang", cookie)
    boundary, body = encode_multipart(
        MultiDict(
            {
                "reason": "Choroba",
                "note": FileStorage(io.BytesIO(b"0" * NOTE_REQUEST_BYTES), "big.pdf"),
            }
        )
    )
    response = client.post(
        f"/portal/{world.pupil.id}/excuses",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )
    assert response.status_code == 413
    if headers:
        assert response.json == {"ok": False, "error": "too_large", "message": expected}
    else:
        assert expected in text(response.get_data(as_text=True))


def _pending(world: World, session) -> ExcuseRequest:
    request = request_excuse(
        Actor(world.parent, Channel.WEB), world.pupil, absences=[], future_days=[world.today],
        reason="Lekarz.", note=None, today=world.today,
    )  # fmt: skip
    session.commit()
    return request


def test_deciding_with_nothing_ticked_stays_on_the_queue_and_keeps_the_comment(
    world, client, login_as, session
):
    request = _pending(world, session)
    login_as(world.tutor)
    token = csrf_token(client, "/excuses")
    response = client.post(
        "/excuses/decide",
        data={"csrf_token": token, "decision": "approve", "note": "Proszę o kartkę."},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<h1>Usprawiedliwienia do rozpatrzenia</h1>" in page  # the queue, not an error page
    assert 'role="alert">Zaznacz co najmniej jeden wniosek.</p>' in page
    assert 'name="note" maxlength="500" value="Proszę o kartkę."' in page
    assert f'name="excuse" value="{request.id}">' in page  # still offered, not ticked
    db.session.expire_all()
    assert request.status is ExcuseStatus.PENDING


def test_a_refused_decision_keeps_the_ticks_and_applying_nothing_stays_too(
    world, client, login_as, session
):
    request = _pending(world, session)
    login_as(world.tutor)
    token = csrf_token(client, "/excuses")
    too_long = client.post(
        "/excuses/decide",
        data={"csrf_token": token, "excuse": str(request.id), "decision": "reject",
              "note": "x" * 501},
    )  # fmt: skip
    assert too_long.status_code == 400
    page = too_long.get_data(as_text=True)
    assert 'role="alert">Komentarz jest za długi.</p>' in page
    assert f'name="excuse" value="{request.id}" checked>' in page
    nothing = client.post("/excuses/apply", data={"csrf_token": token})
    assert nothing.status_code == 400
    page = nothing.get_data(as_text=True)
    assert "<h1>Usprawiedliwienia do rozpatrzenia</h1>" in page
    assert 'role="alert">Zaznacz co najmniej jeden wniosek.</p>' in page
    db.session.expire_all()
    assert request.status is ExcuseStatus.PENDING
