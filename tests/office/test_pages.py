"""The office's pages (issue 13 items 1-4): where a secretary lands, the search, registering a
pupil and every refusal on the form (typed values kept), a form sent twice, a stale edit,
leaving, access sent again. Who may open which page is the role matrix's (matrix.yaml)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.access import roles
from ediary.office.models import RecordedParent
from ediary.people.activation.models import ActivationCode
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil
from ediary.schools.pesel import make_pesel
from tests.events import capture_events
from tests.factories import World
from tests.html import csrf_token, hidden_fields, text
from tests.staff.test_twofactor import _code, _enrol, _password

Login = Callable[[User], FlaskClient]
PESEL = make_pesel(__import__("datetime").date(2016, 5, 20), 77, "F")


def _form(world: World, **fields: str) -> dict[str, str]:
    return {
        "first_name": "Hanna",
        "last_name": "Wąchocka",
        "pesel": PESEL,
        "address": "ul. Kościelna 1, Wąchock",
        "class_id": str(world.class_a.id),
        "admitted_on": "2026-09-01",
        "g_first_name": "Anna",
        "g_last_name": "Wąchocka",
        "g_relation": "mother",
        "g_email": "anna@example.org",
        "g_phone": "600100200",
        "g_may_see": "y",
        **fields,
    }


def _register(client: FlaskClient, world: World, **fields: str) -> TestResponse:
    path = f"/office/{world.school.id}/pupils/new"
    return client.post(path, data={**hidden_fields(client, path), **_form(world, **fields)})


def test_a_secretary_lands_on_the_office_after_login(
    world: World, session: Session, client: FlaskClient
) -> None:
    session.commit()
    secret, _codes = _enrol(client, world.secretary.login)  # two-factor login (issue 14)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert _password(client, world.secretary.login).headers["Location"] == "/login/code"
    response = _code(client, "/login/code", pyotp.TOTP(secret).at(time.time() + 30))
    assert response.headers["Location"] == f"/office/{world.school.id}"
    page = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Szukaj ucznia lub opiekuna" in page and "Księga uczniów" in page
    assert "Uczniowie bez opiekuna z dostępem: 1" in page  # the classmate


def test_the_staff_home_page_links_to_the_office(
    world: World, session: Session, login_as: Login
) -> None:
    page = login_as(world.school_admin).get("/").get_data(as_text=True)
    assert f'href="/office/{world.school.id}"' in page


def test_the_search_answers_a_post_with_the_page_or_the_list_alone(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/{world.school.id}/search"
    token = csrf_token(client, f"/office/{world.school.id}")
    page = client.post(path, data={"q": "WIŚNIEWSKA", "csrf_token": token})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "Wiśniewska Zosia" in text(page.get_data(as_text=True))
    fragment = client.post(
        path, data={"q": "wisniewsk", "csrf_token": token}, headers={"X-Requested-With": "fetch"}
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Wiśniewska Zosia" in text(fragment) and "Wiśniewski Staś" in text(fragment)
    assert "Maria" in text(fragment)  # the guardian, with both children
    nobody = client.post(path, data={"q": "kaminski", "csrf_token": token}).get_data(as_text=True)
    assert "Nikogo nie znaleziono." in text(nobody)  # Kuba Kamiński is another school's


def test_a_pupil_is_registered_with_a_guardian_in_one_commit(
    world: World, session: Session, login_as: Login, commits: list[int]
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/{world.school.id}/pupils/new"
    sent = {**hidden_fields(client, path), **_form(world)}
    commits.clear()
    response = capture_events(lambda: client.post(path, data=sent))
    assert response.result.status_code == 302 and len(commits) == 1
    pupil = session.scalars(select(Pupil).where(Pupil.pesel == PESEL)).one()
    assert response.result.headers["Location"] == f"/office/pupils/{pupil.id}"
    assert pupil.birth_date is not None and pupil.birth_date.isoformat() == "2016-05-20"
    record = text(client.get(f"/office/pupils/{pupil.id}").get_data(as_text=True))
    assert "Uczeń został wpisany do księgi uczniów." in record
    assert "Anna Wąchocka · matka" in record and "konto nieaktywowane" in record
    (mother,) = session.scalars(select(User).where(User.email == "anna@example.org")).all()
    assert roles.can_read_pupil(mother, pupil)
    # The same form sent again (a double click): where the first went, no second pupil.
    again = client.post(path, data=sent)
    assert again.status_code == 302
    assert session.scalar(select(func.count(Pupil.id)).where(Pupil.pesel == PESEL)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pesel": "12345678901"}, "PESEL ma błędną cyfrę kontrolną"),
        ({"pesel": "123"}, "PESEL to 11 cyfr."),
        ({"first_name": ""}, "Podaj imię i nazwisko ucznia."),
        ({"class_id": "OTHER"}, "Wybierz klasę tej szkoły."),
        ({"class_id": str(2**63)}, "Wybierz klasę tej szkoły."),
        ({"admitted_on": "1 września"}, "Nieprawidłowa data"),
        ({"birth_date": "2016-05-21"}, "Data urodzenia nie zgadza się z PESEL-em"),
        ({"g_email": "anna@"}, "To nie jest poprawny adres e-mail"),
        ({"last_name": "Wą\x00chocka"}, "Pole zawiera niedozwolone znaki."),
    ],
)
def test_a_refused_pupil_form_says_why_and_keeps_what_was_typed(
    world: World, session: Session, login_as: Login, fields: dict[str, str], message: str
) -> None:
    if fields.get("class_id") == "OTHER":
        fields = {"class_id": str(world.class_other_school.id)}
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    before = session.scalar(select(func.count(Pupil.id)))
    response = capture_events(lambda: _register(client, world, **fields)).result
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in text(page)
    assert 'value="ul. Kościelna 1, Wąchock"' in page and 'value="anna@' in page
    assert session.scalar(select(func.count(Pupil.id))) == before


def test_a_duplicate_pesel_is_refused(world: World, session: Session, login_as: Login) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    assert _register(client, world).status_code == 302
    again = _register(client, world, first_name="Inna", form_token="0" * 32)
    assert again.status_code == 400
    assert "Uczeń z tym PESEL-em jest już w księdze uczniów." in text(again.get_data(as_text=True))


def test_an_edit_from_a_stale_page_is_shown_as_a_conflict(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    shown = {k: v for k, v in hidden_fields(client, path).items() if k != "form_token"}
    fields = {
        "first_name": "Zofia",
        "last_name": "Wiśniewska",
        "pesel": "",
        "birth_date": "2015-01-02",
        "birth_place": "Kielce",
        "identity_document": "AB123",
    }
    assert client.post(path, data={**shown, **fields}).status_code == 302
    stale = client.post(path, data={**shown, **fields, "first_name": "Zosia"})
    assert stale.status_code == 409
    assert "Dane ucznia zmieniły się od wczytania strony" in text(stale.get_data(as_text=True))
    assert world.pupil.first_name == "Zofia"


def test_leaving_from_the_record_ends_the_guardians_access(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    left = client.post(
        f"{path}/leave",
        data={
            **hidden_fields(client, path),
            "left_on": "2026-12-01",
            "leave_reason": "zmiana szkoły",
        },
    )
    assert left.status_code == 302
    assert not roles.can_read_pupil(world.parent, world.pupil)
    assert (
        session.scalar(select(Guardianship).where(Guardianship.pupil_id == world.pupil.id)) is None
    )
    page = text(client.get(path).get_data(as_text=True))
    assert "Powrót do szkoły" in page and "Maria Wisniewska" in page  # offered back at return
    movements = text(client.get(f"/office/{world.school.id}/movements").get_data(as_text=True))
    assert "odejście ze szkoły" in movements and "zmiana szkoły" in movements
    register = text(client.get(f"/office/{world.school.id}/register").get_data(as_text=True))
    assert "Wiśniewska Zosia" in register  # never deleted


def test_access_sent_again_shows_a_new_code_once(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    sent = hidden_fields(client, path)
    first = client.post(f"{path}/guardians/{world.parent.id}/access", data=sent)
    assert first.status_code == 200
    code = re.search(r'id="code"><strong>([A-Z0-9-]+)<', first.get_data(as_text=True))
    assert code is not None
    again = client.post(f"{path}/guardians/{world.parent.id}/access", data=sent)
    assert again.status_code == 302  # the same form: no second code
    codes = session.scalar(
        select(func.count(ActivationCode.id)).where(ActivationCode.user_id == world.parent.id)
    )
    assert codes == 1


def test_a_siblings_guardian_is_found_and_linked(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()  # the world stays when a refused request rolls back
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.classmate.id}"
    token = csrf_token(client, path)
    found = client.post(f"{path}/guardians/find", data={"q": "wiśniewska", "csrf_token": token})
    assert "Połącz z tym dzieckiem" in text(found.get_data(as_text=True))
    linked = client.post(
        f"{path}/guardians/link",
        data={"guardian_id": str(world.parent.id), "relation": "mother", "csrf_token": token},
    )
    assert linked.status_code == 302 and roles.can_read_pupil(world.parent, world.classmate)
    foreign = client.post(
        f"{path}/guardians/link",
        data={"guardian_id": str(world.teacher.id), "csrf_token": token},  # no guardian here
    )
    assert foreign.status_code == 400


@pytest.mark.parametrize("class_id", ["OTHER", str(2**63), "5a", ""])
def test_a_transfer_to_a_class_not_of_the_school_is_refused(
    world: World, session: Session, login_as: Login, class_id: str
) -> None:
    session.commit()
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    if class_id == "OTHER":
        class_id = str(world.class_other_school.id)
    sent = {k: v for k, v in hidden_fields(client, path).items() if k != "form_token"}
    response = client.post(f"{path}/transfer", data={**sent, "class_id": class_id})
    assert response.status_code == 400
    assert "Wybierz klasę tej szkoły." in text(response.get_data(as_text=True))
    assert world.pupil.class_id == world.class_a.id


def test_a_guardians_contacts_are_edited_and_a_stale_form_is_a_conflict(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    action = f"{path}/guardians/{world.parent.id}"
    token = csrf_token(client, path)
    seen = {"seen_address": "", "seen_email": "", "seen_phone": "", "seen_relation": ""}
    wanted = {
        "address": "Mirzec 5",
        "email": "maria@example.org",
        "phone": "600 100 200",
        "relation": "mother",
        "csrf_token": token,
    }
    assert client.post(action, data={**seen, **wanted}).status_code == 302
    assert (world.parent.email, world.parent.phone) == ("maria@example.org", "+48600100200")
    stale = client.post(action, data={**seen, **wanted, "email": "inny@example.org"})
    assert stale.status_code == 409
    assert "Dane opiekuna zmieniły się od wczytania strony" in text(stale.get_data(as_text=True))
    bad = client.post(
        action,
        data={
            "seen_address": "Mirzec 5",
            "seen_email": "maria@example.org",
            "seen_phone": "+48600100200",
            "seen_relation": "mother",
            **wanted,
            "phone": "12",
        },
    )
    assert bad.status_code == 400 and 'value="12"' in bad.get_data(as_text=True)
    assert world.parent.email == "maria@example.org"


def test_a_return_restores_the_chosen_guardians(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    sent = {k: v for k, v in hidden_fields(client, path).items() if k != "form_token"}
    client.post(f"{path}/leave", data={**sent, "left_on": "2026-12-01", "leave_reason": "wyjazd"})
    early = client.post(
        f"{path}/return",
        data={
            "csrf_token": sent["csrf_token"],
            "returned_on": "2026-11-01",
            "class_id": str(world.class_a.id),
            "relink": str(world.parent.id),
        },
    )
    assert early.status_code == 400
    assert "Data powrotu jest wcześniejsza niż odejścia." in text(early.get_data(as_text=True))
    back = client.post(
        f"{path}/return",
        data={
            "csrf_token": sent["csrf_token"],
            "returned_on": "2027-01-04",
            "class_id": str(world.class_b.id),
            "relink": str(world.parent.id),
        },
    )
    assert back.status_code == 302
    assert world.pupil.active and world.pupil.class_id == world.class_b.id
    assert roles.can_read_pupil(world.parent, world.pupil)


def test_a_guardian_whose_only_child_left_gets_access_back_at_the_return(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil_b.id}"
    sent = {k: v for k, v in hidden_fields(client, path).items() if k != "form_token"}
    client.post(f"{path}/leave", data={**sent, "left_on": "2026-12-01", "leave_reason": "wyjazd"})
    assert not roles.can_read_pupil(world.other_parent, world.pupil_b)
    back = {
        "csrf_token": sent["csrf_token"],
        "returned_on": "2027-01-04",
        "class_id": str(world.class_b.id),
    }
    stranger = client.post(f"{path}/return", data={**back, "relink": str(world.parent.id)})
    assert stranger.status_code == 400  # never this child's guardian
    returned = client.post(f"{path}/return", data={**back, "relink": str(world.other_parent.id)})
    assert returned.status_code == 302
    assert roles.can_read_pupil(world.other_parent, world.pupil_b)


def test_a_parent_recorded_without_access_is_corrected_with_the_values_seen(
    world: World, session: Session, login_as: Login
) -> None:
    session.commit()
    client = login_as(world.secretary)
    path = f"/office/pupils/{world.pupil.id}"
    token = csrf_token(client, path)
    added = client.post(
        f"{path}/guardians",
        data={
            "g_first_name": "Jan",
            "g_last_name": "Wiśniewski",
            "g_relation": "father",
            "csrf_token": token,
            "form_token": "1" * 32,
        },
    )
    assert added.status_code == 302
    assert not roles.can_read_pupil(world.parent, world.classmate)
    (parent,) = session.scalars(select(RecordedParent)).all()
    assert session.scalar(select(func.count(User.id)).where(User.last_name == "Wiśniewski")) == 0
    seen = {
        "seen_first_name": "Jan",
        "seen_last_name": "Wiśniewski",
        "seen_address": "",
        "seen_relation": "father",
        "csrf_token": token,
    }
    action = f"{path}/parents/{parent.id}"
    fixed = client.post(
        action,
        data={
            **seen,
            "first_name": "Jan",
            "last_name": "Wiśniewski",
            "address": "Kielce",
            "relation": "father",
        },
    )
    assert fixed.status_code == 302 and parent.address == "Kielce"
    stale = client.post(action, data={**seen, "first_name": "Janusz", "last_name": "W"})
    assert stale.status_code == 409 and parent.first_name == "Jan"
    other = client.post(f"/office/pupils/{world.classmate.id}/parents/{parent.id}", data=seen)
    assert other.status_code == 404  # the parent of another pupil
    record = text(client.get(path).get_data(as_text=True))
    assert "bez dostępu do danych dziecka" in record and "rodzic bez dostępu" in record
