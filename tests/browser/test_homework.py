"""Issue 18 in a real Chromium against a real server: a teacher announces a sprawdzian from the
lesson page; it is the class's fourth that week, so the form warns first and the teacher
confirms; the parent's week (on a phone, open since before) shows it without a reload, next to
a substituted lesson.

The server process keeps the suite's shared clock (tests/clock.py), not a test's pinned one, so
the world is built on the week after the current one: the same on any day of the week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.homework.models import HomeworkKind
from ediary.homework.operations import announce
from ediary.timetable.operations import substitute_lesson
from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.browser.person import fits_the_screen, log_in, storage_holds_nothing_personal
from tests.factories import cover_days, make_lesson, make_world
from tests.servers import running_server
from tests.worlds import bound

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    pupil_id: int
    thursday_lesson_id: int
    substitute: str


def _build(database_url: str) -> Site:
    """Next week's maths of 5a Monday to Thursday, tests announced Monday to Wednesday, and a
    second Thursday lesson the school administrator gave to a substitute."""
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
        world = make_world(today)
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        cover_days(world, monday + dt.timedelta(days=4))
        lessons = [
            make_lesson(
                world.school, world.class_a, world.math, world.teacher, world.room,
                monday + dt.timedelta(days=n),
            )
            for n in range(4)
        ]  # fmt: skip
        teacher = Actor(world.teacher, Channel.WEB)
        for lesson in lessons[:3]:
            announce(
                teacher, lesson, kind=HomeworkKind.TEST, description="Ułamki", due_date=None,
                today=today,
            )  # fmt: skip
        second = make_lesson(
            world.school, world.class_a, world.math, world.teacher, world.room, lessons[3].date,
            slot_number=2,
        )  # fmt: skip
        substitute_lesson(Actor(world.school_admin, Channel.WEB), second, world.other_teacher)
        db.session.commit()
        return Site("", world.pupil.id, lessons[3].id, world.other_teacher.full_name)


@pytest.fixture(scope="module")
def homework_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("homework")
    url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build(url)
    with running_server(url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def test_a_fourth_test_is_warned_then_reaches_the_parents_week_live(
    homework_site: Site, browser: Browser
) -> None:
    site = homework_site
    parent_context, parent = new_page(browser, PHONE)
    teacher_context, teacher = new_page(browser, DESKTOP)
    try:
        # The parent opens next week from the start page, on a phone.
        log_in(parent, site.url, "maria_wisniewska")
        parent.goto(f"{site.url}/portal/{site.pupil_id}")
        parent.get_by_role("navigation", name="Sekcje").get_by_role("link", name="Tydzień").click()
        parent.get_by_role("link", name="następny →").click()
        expect(parent.locator("#live-status")).to_have_attribute("data-state", "live")
        thursday = parent.locator(".day").nth(3)
        expect(thursday).to_contain_text(f"Zastępstwo: {site.substitute}")
        expect(thursday).to_contain_text("matematyka")
        expect(parent.locator(".homework.test")).to_have_count(3)
        assert fits_the_screen(parent)
        parent.evaluate("window.__sameDocument = true")

        # The teacher announces a sprawdzian for Thursday from the lesson's page.
        log_in(teacher, site.url, "anna_nowak")
        teacher.goto(f"{site.url}/lessons/{site.thursday_lesson_id}")
        teacher.get_by_role("link", name="Zapowiedz sprawdzian lub zadanie").click()
        teacher.get_by_label("Sprawdzian").check()
        teacher.get_by_label("Zakres materiału lub treść zadania").fill("Potęgi i pierwiastki")
        teacher.get_by_role("button", name="Zapisz").click()
        warning = teacher.locator("#limit-warning")
        expect(warning).to_contain_text("Sprawdzianów klasy w tym tygodniu jest już: 3")
        expect(teacher.get_by_label("Zakres materiału lub treść zadania")).to_have_value(
            "Potęgi i pierwiastki"
        )  # the input stays
        expect(parent.locator(".homework.test")).to_have_count(3)  # nothing saved yet
        teacher.get_by_label("Wiem o limicie, zapisz mimo to").check()
        teacher.get_by_role("button", name="Zapisz").click()
        expect(teacher.get_by_role("status")).to_contain_text("Zapowiedź zapisana")

        # The parent's week follows, without a reload.
        expect(thursday.locator(".homework.test")).to_contain_text("Potęgi i pierwiastki")
        expect(parent.locator(".toast").last).to_contain_text("Sprawdzian lub zadanie")
        assert parent.evaluate("window.__sameDocument") is True
        assert storage_holds_nothing_personal(parent)
    finally:
        parent_context.close()
        teacher_context.close()
