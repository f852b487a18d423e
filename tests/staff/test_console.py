"""The staff console (issue 14 item 1, issue 16 item 4): accounts with their letters, roles per
school, leavers, password resets; each refusal; each person kept to their own schools."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.errors import Refusal
from ediary.extensions import limiter
from ediary.people.models import Role, User
from ediary.people.passwords import verify_password
from ediary.staff.operations import disable_staff, set_staff_roles
from tests.factories import PASSWORD, make_user
from tests.html import csrf_token
from tests.staff.helpers import codes_in, pdf_pages, post

NEW_PASSWORD = "kot Filemon lubi pierogi"


@pytest.fixture(autouse=True)
def fresh_limits() -> Any:
    limiter.reset()
    yield
    limiter.reset()


def _held(user: User, school_id: int) -> set[Role]:
    return {m.role for m in user.memberships if m.school_id == school_id}


def test_the_director_creates_a_teacher_whose_letter_activates_the_account(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    director = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/staff/new"
    form = {
        "first_name": "Łucja",
        "last_name": "Żółkiewska",
        "login": "Lucja.Z ",
        "role": "teacher",
    }
    letter = post(director, path, form)
    assert letter.status_code == 200, letter.get_data(as_text=True)
    text = letter.get_data(as_text=True)
    assert "Łucja Żółkiewska" in text and "lucja.z" in text
    [code] = codes_in(text)
    teacher = session.scalar(select(User).where(User.login == "lucja.z"))
    assert teacher is not None and teacher.password_hash is None
    assert _held(teacher, world.school.id) == {Role.TEACHER}
    stranger = app.test_client()
    data = {"login": "lucja.z", "code": code, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    data["csrf_token"] = csrf_token(stranger, "/activate?login=lucja.z")
    assert stranger.post("/activate", data=data).status_code == 302
    # The list shows the new person with their role.
    listing = director.get(f"/schools/{world.school.id}/staff").get_data(as_text=True)
    assert "Żółkiewska Łucja" in listing and "nauczyciel" in listing


def test_a_taken_login_and_a_missing_role_are_refused_keeping_what_was_typed(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    director = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/staff/new"
    taken = post(
        director,
        path,
        {"first_name": "Anna", "last_name": "Nowak", "login": "anna_nowak", "role": "teacher"},
    )
    assert taken.status_code == 400
    page = taken.get_data(as_text=True)
    assert "Ten login jest już zajęty." in page and 'value="Nowak"' in page
    no_role = post(
        director, path, {"first_name": "Anna", "last_name": "Nowa", "login": "anna.nowa"}
    )
    assert no_role.status_code == 400
    assert "Wybierz co najmniej jedną rolę." in no_role.get_data(as_text=True)
    bad = post(
        director,
        path,
        {"first_name": "A", "last_name": "B", "login": "zła nazwa", "role": "teacher"},
    )
    assert bad.status_code == 400 and "małe litery" in bad.get_data(as_text=True)
    assert session.scalar(select(User).where(User.login == "anna.nowa")) is None


def test_roles_are_given_and_taken_with_history(world: Any, login_as: Any, session: Any) -> None:
    session.commit()
    director = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/staff/{world.teacher.id}/roles"
    done = post(director, path, {"role": ["teacher", "secretary"]}, page=path[: -len("/roles")])
    assert done.status_code == 302
    session.expire_all()
    assert _held(session.get(User, world.teacher.id), world.school.id) == {
        Role.TEACHER,
        Role.SECRETARY,
    }
    rows = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "memberships", HistoryEntry.actor_id == world.school_admin.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert [(r.action, r.new["role"]) for r in rows] == [("create", "secretary")]


def test_the_last_administrator_and_self_lockout_are_refused(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    director = login_as(world.school_admin)
    member = f"/schools/{world.school.id}/staff/{world.school_admin.id}"
    refused = post(director, member + "/roles", {"role": "teacher"}, page=member)
    assert refused.status_code == 400
    assert "Nie możesz odebrać sobie roli administratora" in refused.get_data(as_text=True)
    refused = post(director, member + "/disable", {"confirm": "y"}, page=member)
    assert refused.status_code == 400
    assert "Nie możesz wyłączyć własnego konta." in refused.get_data(as_text=True)
    # Another administrator (the gmina) may not take the school's last one either.
    gmina = Actor(world.district_admin, Channel.WEB)
    with pytest.raises(Refusal, match="last_admin"):
        set_staff_roles(gmina, world.school, world.school_admin, [])
    with pytest.raises(Refusal, match="last_admin"):
        disable_staff(gmina, world.school, world.school_admin)
    session.rollback()
    session.expire_all()
    assert session.get(User, world.school_admin.id).active


def test_disabling_a_leaver_ends_their_sessions_and_keeps_their_entries(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    teacher_browser = app.test_client()
    with teacher_browser.session_transaction() as flask_session:
        flask_session["_user_id"] = world.teacher.get_id()
    assert teacher_browser.get("/").status_code == 200
    director = login_as(world.school_admin)
    member = f"/schools/{world.school.id}/staff/{world.teacher.id}"
    unconfirmed = post(director, member + "/disable", {}, page=member)
    assert unconfirmed.status_code == 400 and "Zaznacz potwierdzenie." in unconfirmed.get_data(
        as_text=True
    )
    assert post(director, member + "/disable", {"confirm": "y"}, page=member).status_code == 302
    assert teacher_browser.get("/").status_code == 302  # logged out at once
    session.expire_all()
    assert session.get(User, world.teacher.id).active is False
    assert session.get(type(world.lesson), world.lesson.id).teacher_id == world.teacher.id


def test_a_password_reset_stops_the_old_password_and_prints_a_new_letter(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    director = login_as(world.school_admin)
    member = f"/schools/{world.school.id}/staff/{world.secretary.id}"
    unconfirmed = post(director, member + "/letter", {"format": "pdf"}, page=member)
    assert unconfirmed.status_code == 400
    letter = post(director, member + "/letter", {"format": "pdf", "confirm": "y"}, page=member)
    assert letter.mimetype == "application/pdf"
    [page] = pdf_pages(letter.data)
    assert "beata_sekretarz" in page and len(codes_in(page)) == 1
    session.expire_all()
    reset = session.get(User, world.secretary.id)
    assert reset.password_hash is None or not verify_password(reset.password_hash, PASSWORD)


def test_the_district_administrator_manages_office_accounts_of_its_schools_only(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    gmina = login_as(world.district_admin)
    school = f"/schools/{world.school.id}/staff"
    assert gmina.get(school).status_code == 200
    assert gmina.get(f"/schools/{world.other_school.id}/staff").status_code == 404
    assert gmina.get(f"{school}/{world.secretary.id}").status_code == 200
    assert gmina.get(f"{school}/{world.teacher.id}").status_code == 404  # the director's
    new = f"{school}/new"
    teacher = post(
        gmina,
        new,
        {"first_name": "Jan", "last_name": "Nowy", "login": "jan.nowy", "role": "teacher"},
    )
    assert teacher.status_code == 400 and "Nie możesz nadać tej roli." in teacher.get_data(
        as_text=True
    )
    director = post(
        gmina,
        new,
        {"first_name": "Jan", "last_name": "Nowy", "login": "jan.nowy", "role": "school_admin"},
    )
    assert director.status_code == 200 and len(codes_in(director.get_data(as_text=True))) == 1
    # The district's page leads to the console.
    assert school in gmina.get(f"/districts/{world.district.id}").get_data(as_text=True)


def test_a_director_sees_nothing_of_another_school(world: Any, login_as: Any, session: Any) -> None:
    other = make_user("obcy_nauczyciel", Role.TEACHER, school=world.other_school)
    session.commit()
    director = login_as(world.school_admin)
    assert director.get(f"/schools/{world.other_school.id}/staff").status_code == 404
    assert director.get(f"/schools/{world.school.id}/staff/{other.id}").status_code == 404
    assert director.get(f"/schools/{world.school.id}/staff/{2**63}").status_code == 404
    refused = post(
        director, f"/schools/{world.school.id}/staff/{other.id}/disable", {"confirm": "y"}, page="/"
    )
    assert refused.status_code == 404
    session.expire_all()
    assert session.get(User, other.id).active


def test_the_new_account_form_sent_twice_creates_one_account(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    director = login_as(world.school_admin)
    path = f"/schools/{world.school.id}/staff/new"
    page = director.get(path).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    form = {"first_name": "Ola", "last_name": "Nowa", "login": "ola.nowa", "role": "teacher"}
    first = post(director, path, {**form, "form_token": token})
    second = post(director, path, {**form, "form_token": token})
    assert first.status_code == 200 and len(codes_in(first.get_data(as_text=True))) == 1
    assert second.status_code == 302 and second.headers["Location"].endswith("/staff")
    assert len(session.scalars(select(User).where(User.login == "ola.nowa")).all()) == 1
