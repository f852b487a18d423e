"""The server-rendered pages: what each person reads, and what the lesson form saves or refuses.

Who may open which page is the role matrix's job (test_access_matrix.py); these tests are about
content: the numbers and words on the page, and the writes behind the one form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.queries import pupil_history
from ediary.audit.recording import Actor, Channel, operation
from ediary.diary.models import Attendance, GradeKind, RemarkKind
from ediary.diary.operations import (
    add_remark,
    correct_grade,
    record_grade,
    remove_grade,
    remove_remark,
    submit_roll,
)
from ediary.people.models import User
from ediary.schools.models import School, Term
from ediary.timetable.models import Lesson, LessonStatus
from ediary.timetable.operations import cancel_lesson
from tests.clock import WARSAW
from tests.factories import World, make_lesson, make_subject
from tests.html import csrf_token, hidden_fields, text

Login = Callable[[User], FlaskClient]


@operation
def _set_school_rules(actor: Actor, school: School, **rules: Any) -> None:
    for name, value in rules.items():
        setattr(school, name, value)


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return text(response.get_data(as_text=True))


def teacher_actor(world: World, channel: Channel = Channel.WEB) -> Actor:
    return Actor(world.teacher, channel)


def more_lessons(world: World, count: int) -> list[Lesson]:
    """Further mathematics lessons of 5a today, in slots 2.. (slot 1 is the world's lesson)."""
    return [
        make_lesson(
            world.school, world.class_a, world.math, world.teacher, world.room, world.today, n
        )
        for n in range(2, 2 + count)
    ]


# --- the pupil card -------------------------------------------------------------------------


@pytest.mark.calendar
def test_card_shows_grades_their_weights_and_how_the_average_is_computed(
    world: World, session: Session, login_as: Login
) -> None:
    actor = teacher_actor(world)
    grade: dict[str, Any] = dict(pupil=world.pupil, subject=world.math, given_on=world.today)
    record_grade(actor, value="4+", category=world.test_category, description="Ułamki", **grade)
    record_grade(actor, value="3", category=world.quiz_category, **grade)
    record_grade(actor, value="np", **grade)
    withdrawn = record_grade(actor, value="1", description="pomyłka", **grade)
    remove_grade(actor, withdrawn)
    session.commit()

    html = login_as(world.parent).get(f"/pupils/{world.pupil.id}").get_data(as_text=True)
    shown = text(html)
    assert "4+ sprawdzian · waga 3" in shown
    assert "3 kartkówka · waga 2" in shown
    assert "np" in shown and "pomyłka" not in shown  # a withdrawn grade is not on the card
    assert 'title="sprawdzian, waga 3 · ' in html and "Anna Nowak · Ułamki" in html
    assert "Średnia ważona: 3,90" in shown
    # Σ value × weight / Σ weights, term by term: np counts in no average.
    assert "4+ = 4,50 × 3 = 13,50" in shown
    assert "3 = 3,00 × 2 = 6,00" in shown
    assert "19,50 / 5 = 3,90" in shown
    assert "np =" not in shown


def test_card_average_follows_the_schools_modifier_rules(
    world: World, session: Session, login_as: Login
) -> None:
    actor = teacher_actor(world)
    grade: dict[str, Any] = dict(pupil=world.pupil, subject=world.math, given_on=world.today)
    record_grade(actor, value="4+", category=world.test_category, **grade)
    record_grade(actor, value="3", category=world.quiz_category, **grade)
    _set_school_rules(teacher_actor(world), world.school, plus_value=Decimal("0.75"))
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "4+ = 4,75 × 3 = 14,25" in shown
    assert "20,25 / 5 = 4,05" in shown and "Średnia ważona: 4,05" in shown
    assert "plus dodaje 0,75" in shown


def test_card_shows_proposed_and_term_grades_apart_from_the_average(
    world: World, session: Session, login_as: Login
) -> None:
    actor = teacher_actor(world)
    record_grade(actor, pupil=world.pupil, subject=world.math, value="5", given_on=world.today)
    record_grade(
        actor,
        pupil=world.pupil,
        subject=world.math,
        value="4",
        kind=GradeKind.PROPOSED_TERM,
        given_on=world.today,
    )
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "Przewidywana śródroczna 4 (dobry)" in shown
    assert "Średnia ważona: 5,00" in shown  # the proposed grade is not an ongoing grade


def _roll(world: World, lessons: list[Lesson], absent_in: int, code: str = "nb") -> None:
    actor = teacher_actor(world)
    for number, lesson in enumerate(lessons):
        submit_roll(
            actor, lesson, {world.pupil.id: code if number < absent_in else "ob"}, base=None
        )


def test_attendance_per_subject_without_warning_below_the_schools_threshold(
    world: World, session: Session, login_as: Login
) -> None:
    _roll(world, [world.lesson, *more_lessons(world, 3)], absent_in=1)
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "matematyka 75,0 % (3 z 4) nieobecności: 1" in shown
    assert "ryzyko nieklasyfikowania" not in shown


def test_attendance_warning_at_the_schools_threshold_counts_excused_absences_too(
    world: World, session: Session, login_as: Login
) -> None:
    # 30% is the default threshold: 2 of 4 lessons missed (one excused) is 50%.
    lessons = [world.lesson, *more_lessons(world, 3)]
    _roll(world, lessons[:1], absent_in=1, code="u")
    _roll(world, lessons[1:], absent_in=1, code="nb")
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "matematyka 50,0 % (2 z 4) nieobecności: 2 uwaga: ryzyko nieklasyfikowania" in shown
    assert "Uwaga: ryzyko nieklasyfikowania." in shown
    assert "progu ostrzeżenia szkoły (30 %) w przedmiotach: matematyka." in shown


def test_attendance_warning_threshold_is_the_schools_setting(
    world: World, session: Session, login_as: Login
) -> None:
    _roll(world, [world.lesson, *more_lessons(world, 3)], absent_in=1)
    _set_school_rules(teacher_actor(world), world.school, absence_warning_percent=25)
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "matematyka 75,0 % (3 z 4) nieobecności: 1 uwaga: ryzyko nieklasyfikowania" in shown
    assert "(25 %)" in shown


def test_card_shows_remarks_and_the_classes_recent_topics_only(
    world: World, session: Session, login_as: Login
) -> None:
    actor = teacher_actor(world)
    add_remark(
        actor,
        pupil=world.pupil,
        kind=RemarkKind.POSITIVE,
        text="Pomaga kolegom.",
        given_on=world.today,
    )
    gone = add_remark(
        actor,
        pupil=world.pupil,
        kind=RemarkKind.NEGATIVE,
        text="Wpis omyłkowy.",
        given_on=world.today,
    )
    remove_remark(actor, gone)
    submit_roll(actor, world.lesson, {}, topic="Ułamki zwykłe", base=None)
    physics = make_subject(world.school, "fizyka", "fiz")
    other_class = make_lesson(
        world.school, world.class_b, physics, world.other_teacher, world.room, world.today, 2
    )
    submit_roll(
        Actor(world.other_teacher, Channel.WEB),
        other_class,
        {},
        topic="Ruch jednostajny",
        base=None,
    )
    session.commit()

    shown = page(login_as(world.parent), f"/pupils/{world.pupil.id}")
    assert "pozytywna" in shown and "Pomaga kolegom." in shown
    assert "Wpis omyłkowy." not in shown
    assert "matematyka Ułamki zwykłe" in shown
    assert "Ruch jednostajny" not in shown  # another class's lesson


@pytest.mark.calendar
def test_card_switches_terms_and_refuses_a_term_of_another_year(
    world: World, session: Session, login_as: Login
) -> None:
    record_grade(
        teacher_actor(world),
        pupil=world.pupil,
        subject=world.math,
        value="5-",
        category=world.test_category,
        given_on=world.today,
    )
    session.commit()
    terms = session.scalars(select(Term).where(Term.year_id == world.year.id)).all()
    current = next(t for t in terms if t.starts_on <= world.today <= t.ends_on)
    other = next(t for t in terms if t.id != current.id)
    foreign = session.scalars(select(Term).where(Term.school_id == world.other_school.id)).first()
    assert foreign is not None
    client = login_as(world.parent)

    assert "5- sprawdzian" in page(client, f"/pupils/{world.pupil.id}?term={current.id}")
    assert "5- sprawdzian" not in page(client, f"/pupils/{world.pupil.id}?term={other.id}")
    page(client, f"/pupils/{world.pupil.id}?term={foreign.id}", status=404)


# --- the history ----------------------------------------------------------------------------


@pytest.mark.calendar
def test_history_shows_old_and_new_who_when_and_through_what(
    world: World, session: Session, login_as: Login
) -> None:
    submit_roll(teacher_actor(world), world.lesson, {}, base=None)
    submit_roll(
        Actor(world.teacher, Channel.KIOSK, world.kiosk.id),
        world.lesson,
        {world.pupil.id: "nb"},
        base=None,
    )
    grade = record_grade(
        teacher_actor(world),
        pupil=world.pupil,
        subject=world.math,
        value="4",
        category=world.quiz_category,
        given_on=world.today,
    )
    correct_grade(teacher_actor(world), grade, value="5", category=world.quiz_category)
    submit_roll(teacher_actor(world), world.lesson, {world.classmate.id: "sp"}, base=None)
    session.commit()

    html = login_as(world.parent).get(f"/pupils/{world.pupil.id}/history").get_data(as_text=True)
    shown = text(html)
    assert "ocena: 4 → zmieniono na 5 Anna Nowak" in shown
    assert "obecność: obecny (ob) → zmieniono na nieobecny (nb) Anna Nowak" in shown
    assert "komputer w sali" in shown and "przeglądarka" in shown
    assert "kategoria: kartkówka (waga 2)" in shown
    assert "spóźniony" not in shown  # the classmate's entry is not this pupil's history
    # CLDR's short Polish date has a one-digit day ("5.12.2026"); the time is Warsaw's, also in
    # the hour that happens twice and while UTC is still on the previous day.
    at = dt.datetime.now(WARSAW)
    assert f"Anna Nowak · {at.day}.{at:%m.%Y, %H:%M} · przeglądarka" in shown


def test_history_pages_newest_first_and_leaves_out_guardian_links(
    world: World, session: Session
) -> None:
    actor = teacher_actor(world)
    for value in ("2", "3", "4"):
        record_grade(
            actor, pupil=world.pupil, subject=world.math, value=value, given_on=world.today
        )
    session.commit()
    linked = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.pupil_id == world.pupil.id, HistoryEntry.entity == "guardianships")
        .order_by(HistoryEntry.id)
    ).all()
    assert linked  # the history holds the parent's link to the child ...

    first = pupil_history(world.pupil, limit=2)
    assert [c.fields[0].new for c in first.changes] == ["4", "3"]
    assert first.older_than is not None
    rest = pupil_history(world.pupil, before=first.older_than, limit=2)
    assert [c.fields[0].new for c in rest.changes] == ["2"]
    assert rest.older_than is None  # ... but the page lists only the child's diary entries


# --- the lesson page and its form -----------------------------------------------------------


def post_roll(client: FlaskClient, world: World, **fields: str) -> Any:
    """The form as the page gives it (its token and bases), with the fields a person set."""
    path = f"/lessons/{world.lesson.id}"
    return client.post(path, data={**hidden_fields(client, path), **fields})


def states(session: Session, lesson: Lesson) -> dict[int, str]:
    rows = session.scalars(select(Attendance).where(Attendance.lesson_id == lesson.id))
    return {a.pupil_id: a.type.code for a in rows}


def test_teacher_saves_roll_and_topic_in_one_operation_and_one_commit(
    school_hours: object,
    world: World,
    session: Session,
    login_as: Login,
    commits: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[dict[int, str], Any]] = []

    def counted(actor: Actor, lesson: Lesson, roll: dict[int, str], **options: Any) -> Any:
        calls.append((dict(roll), options))
        return submit_roll(actor, lesson, roll, **options)

    monkeypatch.setattr("ediary.timetable.views.submit_roll", counted)
    client = login_as(world.teacher)
    before = page(client, f"/lessons/{world.lesson.id}")
    assert "Obecność nie była jeszcze zapisana" in before
    commits.clear()

    response = post_roll(
        client, world, topic=" Ułamki zwykłe ", **{f"state-{world.pupil.id}": "nb"}
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/lessons/{world.lesson.id}")
    # Only the pupil the teacher changed, with what the page showed (nothing recorded).
    assert calls == [
        (
            {world.pupil.id: "nb"},
            {"base": {world.pupil.id: None}, "topic": "Ułamki zwykłe", "base_topic": None},
        )
    ]
    assert len(commits) == 1
    session.expire_all()
    assert states(session, world.lesson) == {world.pupil.id: "nb", world.classmate.id: "ob"}
    assert world.lesson.topic == "Ułamki zwykłe" and world.lesson.status is LessonStatus.HELD
    after = page(client, f"/lessons/{world.lesson.id}")
    assert "Zapisano obecność i temat lekcji." in after
    assert "Obecność nie była jeszcze zapisana" not in after
    html = client.get(f"/lessons/{world.lesson.id}").get_data(as_text=True)
    assert '<option value="nb" selected>nb – nieobecny</option>' in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topic": "x" * 501}, "Temat lekcji jest za długi."),
        ({"topic": "Ułamki", "state-{pupil}": "xx"}, "Nieznany rodzaj obecności."),
    ],
    ids=["topic too long", "unknown attendance code"],
)
def test_refused_roll_saves_nothing_and_says_why_in_polish(
    school_hours: object,
    world: World,
    session: Session,
    login_as: Login,
    fields: dict[str, str],
    message: str,
) -> None:
    session.commit()  # the world must outlive the view's rollback
    client = login_as(world.teacher)
    data = {k.replace("{pupil}", str(world.pupil.id)): v for k, v in fields.items()}
    data.setdefault(f"state-{world.classmate.id}", "nb")

    response = post_roll(client, world, **data)

    assert response.status_code == 400
    shown = text(response.get_data(as_text=True))
    assert f"Nic nie zapisano: {message}" in shown
    # The teacher's choices stay on the form, to correct and send again.
    assert f'name="state-{world.classmate.id}">' in response.get_data(as_text=True)
    assert '<option value="nb" selected>' in response.get_data(as_text=True)
    session.expire_all()
    assert states(session, world.lesson) == {}
    assert world.lesson.topic is None and world.lesson.status is LessonStatus.PLANNED


def test_a_saved_topic_cannot_be_cleared(
    school_hours: object, world: World, session: Session, login_as: Login
) -> None:
    submit_roll(teacher_actor(world), world.lesson, {}, topic="Ułamki", base=None)
    session.commit()

    response = post_roll(
        login_as(world.teacher), world, topic="  ", **{f"state-{world.pupil.id}": "nb"}
    )

    assert response.status_code == 400
    assert "Nic nie zapisano: Wpisz temat lekcji." in text(response.get_data(as_text=True))
    session.expire_all()
    assert world.lesson.topic == "Ułamki"
    assert states(session, world.lesson)[world.pupil.id] == "ob"


def test_roll_without_csrf_token_is_refused(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.teacher)
    response = client.post(f"/lessons/{world.lesson.id}", data={"topic": "Ułamki"})
    assert response.status_code == 400
    session.expire_all()
    assert states(session, world.lesson) == {} and world.lesson.topic is None


def test_tutor_and_school_admin_read_the_lesson_without_a_form(
    world: World, session: Session, login_as: Login
) -> None:
    submit_roll(
        teacher_actor(world), world.lesson, {world.pupil.id: "nb"}, topic="Ułamki", base=None
    )
    session.commit()
    for reader in (world.tutor, world.school_admin):
        html = login_as(reader).get(f"/lessons/{world.lesson.id}").get_data(as_text=True)
        assert "<select" not in html and "<textarea" not in html
        shown = text(html)
        assert "Temat Ułamki" in shown
        assert "Wiśniewska nieobecny (nb)" in shown and "Lewandowski obecny (ob)" in shown


def test_cancelled_lesson_is_read_only_even_for_its_teacher(
    world: World, session: Session, login_as: Login
) -> None:
    cancel_lesson(Actor(world.school_admin, Channel.WEB), world.lesson)
    session.commit()
    client = login_as(world.teacher)
    html = client.get(f"/lessons/{world.lesson.id}").get_data(as_text=True)
    assert "Ta lekcja została odwołana." in text(html) and "<select" not in html
    token = csrf_token(client, "/")
    response = client.post(f"/lessons/{world.lesson.id}", data={"csrf_token": token, "topic": "x"})
    assert response.status_code == 404


# --- class, school, gmina -------------------------------------------------------------------


def test_class_page_lists_pupils_tutor_and_subjects(
    world: World, session: Session, login_as: Login
) -> None:
    html = login_as(world.tutor).get(f"/classes/{world.class_a.id}").get_data(as_text=True)
    shown = text(html)
    assert "Wychowawca: Jan Kowalski" in shown
    assert "Uczniowie (2) Lewandowski Adam Wiśniewska Zosia" in shown
    assert "matematyka Anna Nowak" in shown
    assert (
        f'href="/pupils/{world.pupil.id}"' in html
        and f'href="/pupils/{world.classmate.id}"' in html
    )
    assert "Ola" not in shown  # 5b


def test_school_page_counts_classes_staff_and_lists_kiosks(
    world: World, session: Session, login_as: Login
) -> None:
    shown = page(login_as(world.secretary), f"/schools/{world.school.id}")
    assert "5a 2 5b 2" in shown
    assert "Nauczyciele 3 Sekretariat 1 Administratorzy szkoły 1" in shown
    assert "Kiosk 12 12 czeka na rejestrację" in shown
    assert "1a" not in shown  # the other school's class


def test_district_page_shows_aggregates_and_no_pupil(
    world: World, session: Session, login_as: Login
) -> None:
    actor = teacher_actor(world)
    submit_roll(actor, world.lesson, {world.pupil.id: "nb"}, base=None)
    for value in ("4+", "3", "np"):
        record_grade(
            actor, pupil=world.pupil, subject=world.math, value=value, given_on=world.today
        )
    session.commit()

    html = (
        login_as(world.district_admin).get(f"/districts/{world.district.id}").get_data(as_text=True)
    )
    shown = text(html)
    assert "Szkoła Podstawowa nr 1 Uczniów 4 Klas 2 Frekwencja 50,0 % Ocen bieżących 2" in shown
    assert "Średnia ocen (bez plusów i minusów, bez wag) 3,50" in shown
    assert "Rozkład ocen: 3: 1 · 4: 1" in shown
    assert "Sąsiedztwie" not in shown  # another gmina's school
    for pupil in (world.pupil, world.sibling, world.classmate, world.pupil_b):
        assert pupil.first_name not in shown and pupil.last_name not in shown
    assert "/pupils/" not in html and "/classes/" not in html


# --- home page, language, URLs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "links"),
    [
        ("parent", ["/pupils/{pupil}", "/pupils/{sibling}"]),
        ("teacher", ["/lessons/{lesson}", "/classes/{class_a}"]),  # and the classes taught
        ("tutor", ["/classes/{class_a}"]),
        ("secretary", ["/schools/{school}"]),
        ("school_admin", ["/schools/{school}"]),
        ("district_admin", ["/districts/{district}"]),
    ],
)
@pytest.mark.calendar
def test_home_page_links_to_each_persons_pages(
    world: World, session: Session, login_as: Login, actor: str, links: list[str]
) -> None:
    html = login_as(getattr(world, actor)).get("/").get_data(as_text=True)
    hrefs = set(re.findall(r'href="(/(?:pupils|lessons|classes|schools|districts)/[^"]*)"', html))
    expected = {
        re.sub(r"\{(\w+)\}", lambda m: str(getattr(world, m.group(1)).id), link) for link in links
    }
    assert hrefs == expected


def test_urls_on_pupil_pages_carry_ids_only(
    world: World, session: Session, login_as: Login
) -> None:
    record_grade(
        teacher_actor(world), pupil=world.pupil, subject=world.math, value="5", given_on=world.today
    )
    session.commit()
    client = login_as(world.parent)
    for path in ("/", f"/pupils/{world.pupil.id}", f"/pupils/{world.pupil.id}/history"):
        html = client.get(path).get_data(as_text=True)
        urls = re.findall(r'(?:href|action|value)="(/[^"]*)"', html)
        assert urls
        for url in urls:
            assert re.fullmatch(r"[/a-z0-9._-]*(\?[a-z]+=\d+)?", url), url


def test_language_switch_sets_a_cookie_and_returns_to_the_page(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.parent)
    token = csrf_token(client)
    path = f"/pupils/{world.pupil.id}"
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": path})
    assert response.status_code == 302 and response.headers["Location"] == path
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en" and cookie.http_only
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in html and 'value="pl" class="link" lang="pl">Polski' in html


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "\\\\evil",
        "",
        # Browsers drop tabs and newlines from a URL and read a backslash as a slash, so each of
        # these is //evil.example to them; CR/LF would also split the Location header.
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\r\nSet-Cookie: session=x",
        "\t//evil.example",
        "/\\evil.example",
        "/\x00/evil.example",
        "/\x7f/evil.example",
        "https:evil.example",
        "https:/evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_language_switch_never_redirects_off_site(
    client: FlaskClient, session: Session, target: str
) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "lang": "xx", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get_cookie("lang") is None  # an unknown language is not stored


@pytest.mark.parametrize("path", ["/%09/evil.example", "/%0d%0a/evil.example", "/%5C/evil"])
def test_a_crafted_404_page_offers_no_way_off_site(
    client: FlaskClient, session: Session, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 404
    (target,) = re.findall(r'name="next" value="([^"]*)"', page.get_data(as_text=True))
    assert target == "/"
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_language_switch_keeps_a_local_page_and_its_query(
    world: World, session: Session, login_as: Login
) -> None:
    client = login_as(world.parent)
    path = f"/pupils/{world.pupil.id}/history?before=12"
    (target,) = re.findall(r'name="next" value="([^"]*)"', client.get(path).get_data(as_text=True))
    assert target == path
    token = csrf_token(client)
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.headers["Location"] == path


def test_pages_are_polish_by_default(client: FlaskClient, session: Session) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="pl">' in html and "Logowanie do dziennika" in text(html)
    assert 'value="en" class="link" lang="en">English' in html
