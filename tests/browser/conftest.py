"""Browser tests: a real server (gunicorn + gevent) on a SQLite file, driven by headless Chromium.

The world is built once per session through the real operations, committed to a file database,
and served by `tests.servers.running_server`; each test opens a fresh browser context (no
cookies, no storage) and logs in through the login form like a person would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from ediary.audit.recording import Actor, Channel
from ediary.db import Base, db
from ediary.diary.operations import submit_roll
from tests.chromium import CHROMIUM, launch
from tests.conftest import IN_CI
from tests.factories import begun, make_graded_world
from tests.servers import running_server
from tests.worlds import bound

PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Site:
    """The running server and what the tests need to know about its world."""

    url: str
    pupil_id: int
    lesson_id: int
    pupil_names: tuple[str, ...]  # every pupil's first and last name: never in a URL
    parent_login: str
    teacher_login: str
    tutor_login: str
    teacher_name: str


def _build_world(database_url: str) -> Site:
    """Schema, the factories' world, a second lesson and grades, all committed to the file."""
    with bound(database_url):
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        world, earlier = make_graded_world()
        begun(world.lesson)  # the server keeps the suite's clock: the roll must be open
        # The roll the teacher took at the classroom computer: everyone present, in the
        # world's lesson and in an earlier one, so the card has attendance to show.
        at_kiosk = Actor(world.teacher, Channel.KIOSK, world.kiosk.id)
        submit_roll(at_kiosk, earlier, {}, base=None)
        submit_roll(at_kiosk, world.lesson, {}, base=None)
        pupils = (world.pupil, world.sibling, world.classmate, world.pupil_b)
        return Site(
            url="",
            pupil_id=world.pupil.id,
            lesson_id=world.lesson.id,
            pupil_names=tuple(n for p in pupils for n in (p.first_name, p.last_name)),
            parent_login=world.parent.login,
            teacher_login=world.teacher.login,
            tutor_login=world.tutor.login,
            teacher_name=world.teacher.full_name,
        )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install the Debian package chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build_world(database_url)
    with running_server(database_url, directory) as server:
        yield Site(**{**built.__dict__, "url": server.url})


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = launch(playwright, chromium_path)
    yield browser
    browser.close()


def new_page(browser: Browser, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser, DESKTOP)
    yield page
    context.close()
