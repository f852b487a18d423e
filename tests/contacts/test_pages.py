"""The contact pages through the test client: the office's form, a parent's own page with the
SMS code, the e-mail's link; their refusals (kept typing), scope (404), conflicts and repeats."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.recording import Actor
from ediary.audit.recording import Channel as AuditChannel
from ediary.contacts.models import ContactKind
from ediary.contacts.operations import MAX_ATTEMPTS, change_contact
from ediary.contacts.queries import state_of, verified_address
from ediary.notifications.models import Channel
from ediary.people.models import User
from ediary.schools.operations import link_guardian
from tests.contacts.helpers import code_in, link_path_in, proofs, verified_contacts
from tests.factories import World, make_user
from tests.html import csrf_token, text

Login = Callable[[User], FlaskClient]


@pytest.fixture(autouse=True)
def committed(world: World, session: Session) -> None:
    """The world as a page finds it: committed (a refused form rolls back only its own)."""
    session.commit()


def _office(world: World) -> str:
    return f"/office/guardians/{world.parent.id}/contacts"


def _post(client: FlaskClient, path: str, **form: str) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **form})


def _save(client: FlaskClient, path: str, email: str, phone: str, seen=("", "")):
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "email": email,
            "phone": phone,
            "seen-email": seen[0],
            "seen-phone": seen[1],
        },
    )


def test_the_secretary_enters_contacts_and_proofs_go_out(world, login_as: Login, session):
    client = login_as(world.secretary)
    home = client.get("/").get_data(as_text=True)
    assert "/office/contacts" in home
    listing = client.get("/office/contacts").get_data(as_text=True)
    assert _office(world) in listing
    assert "Zosia Wiśniewska (5a), Staś Wiśniewski (5b)" in text(listing)  # whose parent
    response = _save(client, _office(world), "maria@example.test", "601 234 567")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Wysłaliśmy potwierdzenie" in page
    assert "Czeka na potwierdzenie: maria@example.test" in page
    assert "Czeka na potwierdzenie: +48601234567" in page
    session.expire_all()
    assert len(proofs(world.parent, Channel.EMAIL)) == len(proofs(world.parent, Channel.SMS)) == 1
    # The same form sent again (a double click): no second proof.
    again = _save(client, _office(world), "maria@example.test", "601 234 567")
    assert again.status_code == 302
    assert len(proofs(world.parent, Channel.SMS)) == 1
    assert verified_address(world.parent.id, ContactKind.EMAIL) is None


def test_a_bad_address_is_refused_on_the_form_with_what_was_typed(world, login_as: Login, session):
    client = login_as(world.secretary)
    response = _save(client, _office(world), "maria(at)example", "601 234 567")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "To nie jest poprawny adres e-mail" in text(page)
    assert 'value="maria(at)example"' in page and 'value="601 234 567"' in page
    phone = _save(client, _office(world), "maria@example.test", "22 621 00 00")
    assert phone.status_code == 400 and "numer telefonu komórkowego" in text(phone.get_data(True))
    session.expire_all()
    assert world.parent.email is None and world.parent.phone is None  # nothing of it saved


def test_someone_elses_change_meanwhile_is_a_conflict(world, login_as: Login, session):
    change_contact(
        Actor(world.parent, AuditChannel.WEB), world.parent, ContactKind.EMAIL, "a@example.test"
    )
    session.commit()
    client = login_as(world.secretary)
    stale = _save(client, _office(world), "b@example.test", "", seen=("", ""))
    assert stale.status_code == 409
    assert "a@example.test" in text(stale.get_data(as_text=True))
    session.expire_all()
    assert world.parent.email == "a@example.test"


def test_a_guardian_of_another_school_or_a_huge_id_is_not_found(world, login_as: Login, session):
    foreign = make_user("obcy_rodzic")
    link_guardian(Actor.system(), foreign, world.pupil_other_school)
    session.commit()
    client = login_as(world.secretary)
    assert client.get(f"/office/guardians/{foreign.id}/contacts").status_code == 404
    assert client.get(f"/office/guardians/{world.teacher.id}/contacts").status_code == 404
    assert client.get(f"/office/guardians/{2**63}/contacts").status_code == 404
    refused = _save(client, f"/office/guardians/{foreign.id}/contacts", "x@example.test", "")
    assert refused.status_code == 404
    assert "obcy" not in client.get("/office/contacts").get_data(as_text=True).lower()


def test_a_parent_proves_a_new_number_with_the_sms_code(world, login_as: Login, session):
    verified_contacts(world.parent, phone="+48500100200")
    session.commit()
    client = login_as(world.parent)
    assert "/portal/contacts" in client.get("/portal/settings").get_data(as_text=True)
    saved = _save(client, "/portal/contacts", "", "602 345 678", seen=("", "+48500100200"))
    assert saved.status_code == 302
    page = text(client.get("/portal/contacts").get_data(as_text=True))
    assert "Powiadomienia idą na: +48500100200" in page  # the old one, until the new is proved
    assert "Czeka na potwierdzenie: +48602345678" in page
    session.expire_all()
    code = code_in(proofs(world.parent, Channel.SMS)[-1].payload["body"])
    wrong = _post(client, "/portal/contacts/code", code="000000" if code != "000000" else "1")
    assert wrong.status_code == 400
    assert "Nieprawidłowy kod" in text(wrong.get_data(as_text=True))
    session.expire_all()
    pending = state_of(world.parent.id, ContactKind.PHONE).pending
    assert pending is not None and pending.attempts == 1  # the wrong code counted: committed
    right = _post(client, "/portal/contacts/code", code=code)
    assert right.status_code == 302
    session.expire_all()
    assert verified_address(world.parent.id, ContactKind.PHONE) == "+48602345678"
    used = _post(client, "/portal/contacts/code", code=code)
    assert used.status_code == 400


def test_too_many_wrong_codes_spend_the_code_and_resend_is_throttled(
    world, login_as: Login, session
):
    client = login_as(world.parent)
    assert _save(client, "/portal/contacts", "", "602345678").status_code == 302
    session.expire_all()
    code = code_in(proofs(world.parent, Channel.SMS)[-1].payload["body"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        assert _post(client, "/portal/contacts/code", code=wrong).status_code == 400
    spent = _post(client, "/portal/contacts/code", code=code)
    assert spent.status_code == 400 and "zbyt wiele" in text(spent.get_data(as_text=True))
    soon = _post(client, "/portal/contacts/resend", kind="phone")
    assert soon.status_code == 400 and "Poczekaj minutę" in text(soon.get_data(as_text=True))
    assert _post(client, "/portal/contacts/resend", kind="fax").status_code == 404


def test_the_email_link_proves_the_address_once(world, client: FlaskClient, session: Session):
    change_contact(Actor.system(), world.parent, ContactKind.EMAIL, "maria@example.test")
    session.commit()
    path = link_path_in(proofs(world.parent, Channel.EMAIL)[0].payload["body"])
    shown = client.get(path)  # a mail scanner opening it proves nothing
    assert shown.status_code == 200 and "maria@example.test" in shown.get_data(as_text=True)
    assert verified_address(world.parent.id, ContactKind.EMAIL) is None
    confirmed = _post(client, path)
    assert confirmed.status_code == 200
    assert "Adres potwierdzony" in confirmed.get_data(as_text=True)
    session.expire_all()
    assert verified_address(world.parent.id, ContactKind.EMAIL) == "maria@example.test"
    assert client.get(path).status_code == 400  # used
    tampered = path[:-2] + ("xy" if not path.endswith("xy") else "zz")
    assert client.get(tampered).status_code == 400


def test_staff_have_no_parents_contacts_page(world, login_as: Login, session):
    client = login_as(world.teacher)
    assert client.get("/portal/contacts").status_code == 404
    assert _save(client, "/portal/contacts", "a@example.test", "").status_code == 404


def test_the_notification_settings_say_which_address_receives(world, login_as: Login, session):
    verified_contacts(world.parent, email="stary@example.test")
    change_contact(
        Actor(world.parent, AuditChannel.WEB), world.parent, ContactKind.EMAIL, "nowy@example.test"
    )
    change_contact(
        Actor(world.parent, AuditChannel.WEB), world.parent, ContactKind.PHONE, "601234567"
    )
    session.commit()
    page = text(login_as(world.parent).get("/portal/settings").get_data(as_text=True))
    assert "E-mail (stary@example.test)" in page  # the proved one receives, not the new one
    assert "SMS (+48601234567) — numer czeka na potwierdzenie" in page


def test_an_emptied_field_removes_the_address(world, login_as: Login, session):
    verified_contacts(world.parent, "maria@example.test", "+48500100200")
    session.commit()
    client = login_as(world.secretary)
    removed = _save(
        client, _office(world), "", "+48500100200", seen=("maria@example.test", "+48500100200")
    )
    assert removed.status_code == 302
    session.expire_all()
    assert world.parent.email is None and world.parent.phone == "+48500100200"
    assert verified_address(world.parent.id, ContactKind.EMAIL) is None
    assert verified_address(world.parent.id, ContactKind.PHONE) == "+48500100200"
