"""Activation letters for a class's guardians (issue 13 item 6): one PDF page per guardian with
the school, the child, the login, a working one-time code and a QR code; a reprint revokes the
earlier codes; who printed whose letter is in the history; refusals and scope."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.extensions import limiter
from ediary.people.activation.letters import LetterRequest, issue_letters, letters_html
from ediary.people.models import User
from tests.factories import make_user
from tests.html import csrf_token
from tests.staff.helpers import codes_in, pdf_pages, post

NEW_PASSWORD = "kot Filemon lubi pierogi"


@pytest.fixture(autouse=True)
def fresh_limits() -> Any:
    limiter.reset()
    yield
    limiter.reset()


def _activate(app: Any, login: str, code: str) -> int:
    stranger = app.test_client()
    data = {"login": login, "code": code, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    data["csrf_token"] = csrf_token(stranger, "/activate")
    return int(stranger.post("/activate", data=data).status_code)


def test_the_class_letters_pdf_has_a_page_per_guardian_with_a_working_code(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    second = make_user("tomasz_lewandowski")
    from ediary.schools.operations import link_guardian
    from tests.factories import SYSTEM

    link_guardian(SYSTEM, second, world.classmate)
    session.commit()
    office = login_as(world.secretary)
    path = f"/classes/{world.class_a.id}/letters"
    page = office.get(path).get_data(as_text=True)
    assert "Maria Wisniewska" in page and "Tomasz Lewandowski" in page
    response = post(office, path, {"guardian": [world.parent.id, second.id], "format": "pdf"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.data)
    assert len(pages) == 2
    maria = next(p for p in pages if "maria_wisniewska" in p)
    assert "Szkoła Podstawowa nr 1" in maria and "Zosia Wiśniewska" in maria
    assert "Dostęp do dziennika elektronicznego" in maria and "jednorazowy" in maria
    [code] = codes_in(maria)
    assert _activate(app, "maria_wisniewska", code) == 302
    session.expire_all()
    assert session.get(User, world.parent.id).password_hash is not None
    # Who printed whose letter: the code's row in the history, by the secretary.
    printed = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "activation_codes")
        .order_by(HistoryEntry.id)
    ).all()
    assert {(h.actor_id, h.new["user_id"]) for h in printed} == {
        (world.secretary.id, world.parent.id),
        (world.secretary.id, second.id),
    }
    assert all(h.new["code_hash"] == "***" for h in printed)  # the code is in the letter only


def test_a_reprint_revokes_the_earlier_letters_code(
    app: Any, world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    office = login_as(world.school_admin)
    path = f"/classes/{world.class_a.id}/letters"
    first = codes_in(pdf_pages(post(office, path, {"guardian": world.parent.id}).data)[0])[0]
    again = post(office, path, {"guardian": world.parent.id, "format": "html"})
    assert again.status_code == 200 and "text/html" in again.content_type
    second = codes_in(again.get_data(as_text=True))[0]
    assert first != second
    assert _activate(app, "maria_wisniewska", first) == 400
    assert _activate(app, "maria_wisniewska", second) == 302


def test_nothing_chosen_or_a_foreign_guardian_is_refused_in_polish(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    office = login_as(world.secretary)
    path = f"/classes/{world.class_a.id}/letters"
    # piotr_wojcik's child is in 5b: not a guardian of this class, so nothing is chosen.
    refused = post(office, path, {"guardian": [world.other_parent.id, "99999999999999999999"]})
    assert refused.status_code == 400
    assert "Zaznacz co najmniej jednego rodzica." in refused.get_data(as_text=True)
    assert (
        session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity == "activation_codes")
            .order_by(HistoryEntry.id)
        ).all()
        == []
    )


def test_the_class_page_links_to_the_letters_for_the_office_only(
    world: Any, login_as: Any, session: Any
) -> None:
    session.commit()
    link = f"/classes/{world.class_a.id}/letters"
    assert link in login_as(world.secretary).get(f"/classes/{world.class_a.id}").get_data(
        as_text=True
    )
    assert link not in login_as(world.tutor).get(f"/classes/{world.class_a.id}").get_data(
        as_text=True
    )


def test_a_guardian_of_two_children_gets_one_page_naming_both(
    app: Any, world: Any, session: Any
) -> None:
    from tests.factories import SYSTEM

    with app.test_request_context():
        letters = issue_letters(
            SYSTEM,
            [
                LetterRequest(world.parent, world.school, world.pupil),
                LetterRequest(world.parent, world.school, world.sibling),
            ],
        )
        assert len(letters) == 1 and letters[0].children == [world.pupil, world.sibling]
        html = letters_html(letters)
    assert "Zosia Wiśniewska" in html and "Staś Wiśniewski" in html
    assert "/activate?login=maria_wisniewska" in html and "<svg" in html
