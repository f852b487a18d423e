"""Translations: every Polish source string has an English translation, and pages follow the
person's language (Polish by default, English with the `lang` cookie).

Messages are extracted with Babel's API at test time, from babel.cfg, so a new untranslated
string fails here, not in front of a parent. The compiled catalogues (*.mo) are build products
(`make compile-translations`); this module compiles its own into a temporary directory, so it
proves the committed *.po files whatever state the working tree's *.mo files are in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, Channel
from ediary.diary.operations import record_grade
from ediary.extensions import babel
from ediary.people.models import User
from tests.factories import World
from tests.html import text

try:
    from babel.messages.frontend import parse_mapping_cfg
except ImportError:  # Babel < 2.17 names it parse_mapping
    from babel.messages.frontend import parse_mapping as parse_mapping_cfg

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "ediary" / "translations"
# The lazy forms are named here as well as in babel.cfg: older Babel ignores keywords there.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def extracted() -> dict[str, list[str]]:
    """Every message id in the code and the templates, with where it is used."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def test_the_extraction_finds_the_code_and_the_templates() -> None:
    messages = extracted()
    places = {where.split(":")[0] for spots in messages.values() for where in spots}
    assert "Nieprawidłowy login lub hasło." in messages  # Python, `_`
    assert "Temat lekcji" in messages  # Python, `_l`
    assert "Jak obliczono średnią?" in messages  # a template
    assert any(p.startswith("templates/") for p in places)
    assert any(p.startswith("ediary/") for p in places)


def test_every_message_has_an_english_translation() -> None:
    english = catalogue("en")
    untranslated = []
    for msgid, where in sorted(extracted().items()):
        entry = english.get(msgid)
        strings = entry.string if entry is not None else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or "fuzzy" in entry.flags or not all(forms):
            untranslated.append(f"{msgid!r} ({where[0]})")
    assert not untranslated, (
        "untranslated in ediary/translations/en (run `make translations`, then translate):\n"
        + "\n".join(untranslated)
    )


def test_english_keeps_every_placeholder() -> None:
    for entry in catalogue("en"):
        if not entry.id or not entry.string:
            continue
        source = entry.id if isinstance(entry.id, str) else entry.id[0]
        target = entry.string if isinstance(entry.string, str) else entry.string[0]
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed catalogues compiled into a temporary directory."""
    directory = tmp_path_factory.mktemp("translations")
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        locale = po.parent.parent.name
        target = directory / locale / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as mo:
            write_mo(mo, catalogue(locale))
    return directory


@pytest.fixture
def translated(app: Flask, compiled: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app reads the freshly compiled catalogues (and forgets any it loaded before)."""
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(compiled)])
    with app.app_context():  # the domain is made on first use, from the app's configuration
        domain = babel.domain_instance
    monkeypatch.setattr(domain, "cache", {})
    yield


@pytest.fixture
def graded_card(world: World, session: Session) -> World:
    actor = Actor(world.teacher, Channel.WEB)
    for value, category in (("4+", world.test_category), ("3", world.quiz_category)):
        record_grade(
            actor,
            pupil=world.pupil,
            subject=world.math,
            value=value,
            category=category,
            given_on=world.today,
        )
    session.commit()
    return world


def test_pages_are_polish_by_default(
    translated: None, graded_card: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(graded_card.parent)
    html = client.get(f"/pupils/{graded_card.pupil.id}").get_data(as_text=True)
    shown = text(html)
    assert '<html lang="pl">' in html
    assert "Średnia ważona: 3,90" in shown and "Jak obliczono średnią?" in shown
    assert "19,50 / 5 = 3,90" in shown


def test_pages_are_english_with_the_lang_cookie(
    translated: None, graded_card: World, login_as: Callable[[User], FlaskClient]
) -> None:
    client = login_as(graded_card.parent)
    client.set_cookie("lang", "en")
    html = client.get(f"/pupils/{graded_card.pupil.id}").get_data(as_text=True)
    shown = text(html)
    assert '<html lang="en">' in html
    assert "Weighted average: 3.90" in shown and "How was the average computed?" in shown
    assert "4+ sprawdzian · weight 3" in shown  # category names are the school's data
    assert "19.50 / 5 = 3.90" in shown
    assert "Średnia" not in shown and "Oceny" not in shown
    missing = text(client.get("/pupils/2000000000").get_data(as_text=True))
    assert "There is no such page." in missing


def test_login_page_in_both_languages(translated: None, client: FlaskClient) -> None:
    assert "Logowanie do dziennika" in text(client.get("/login").get_data(as_text=True))
    client.set_cookie("lang", "en")
    shown = text(client.get("/login").get_data(as_text=True))
    assert "Log in to the diary" in shown and "Password" in shown and "Polski" in shown
