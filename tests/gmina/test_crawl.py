"""The district administrator sees aggregates only: logged in as the demo's gmina, every page
reachable by clicking from the start page (downloads included) is opened, and no demo pupil's or
parent's name appears on any of them; the other gmina's pages are missing (404)."""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from ediary.db import db
from ediary.people.models import Membership, User
from ediary.schools.models import District, Guardianship, Pupil
from tests.test_demo_seed import Demo, demo_staff_login

pytestmark = pytest.mark.shared_clock

HREF = re.compile(r'<a\s[^>]*href="([^"#]+)"')


def _names() -> set[str]:
    pupils = db.session.execute(select(Pupil.first_name, Pupil.last_name)).all()
    parents = db.session.execute(
        select(User.first_name, User.last_name).join(Guardianship, Guardianship.user_id == User.id)
    ).all()
    # The gmina manages the staff's accounts (issue 16 item 4) and sees their names; the demo's
    # staff and parents are drawn from one pool of names, so a parent may share a teacher's.
    staff = db.session.execute(
        select(User.first_name, User.last_name).join(Membership, Membership.user_id == User.id)
    ).all()
    names = set()
    for first, last in [*pupils, *parents]:
        names |= {f"{first} {last}", f"{last} {first}"}
    for first, last in staff:
        names -= {f"{first} {last}", f"{last} {first}"}
    return names


def _body(response: object) -> str:
    data: bytes = response.data  # type: ignore[attr-defined]
    mimetype: str = response.mimetype  # type: ignore[attr-defined]
    if mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return data.decode("utf-8", "replace")


def _crawl(client: FlaskClient, start: str, limit: int = 400) -> dict[str, str]:
    pages: dict[str, str] = {}
    queue = deque([start])
    while queue and len(pages) < limit:
        url = queue.popleft()
        if url in pages:
            continue
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = _body(response)
        if response.mimetype == "text/html":
            for href in HREF.findall(pages[url]):
                href = href.replace("&amp;", "&")
                target = urlsplit(urljoin(response.request.path, href))
                if target.netloc or target.path.startswith("/static/"):
                    continue
                path = target.path + (f"?{target.query}" if target.query else "")
                if path not in pages:
                    queue.append(path)
    return pages


def test_no_pupil_or_parent_name_on_any_page_the_gmina_reaches(
    demo_copy: Demo, app_on: Callable[..., Flask]
) -> None:
    app = app_on(demo_copy.url, DEMO_MODE=True)
    client = app.test_client()
    with app.app_context():
        me = db.session.scalars(select(User).where(User.login == "gmina.mirzec")).one()
        # Her own name is in the page's header; two demo parents happen to share it.
        names = _names() - {me.full_name, f"{me.last_name} {me.first_name}"}
        other = db.session.scalar(select(District.id).where(District.name == "Gmina Wąchock"))
        db.session.remove()
    assert len(names) > 1000
    demo_staff_login(client, "gmina.mirzec")  # the password, then the second factor
    pages = _crawl(client, "/")
    reached = set(pages)
    for wanted in ("/board", "/figures", "/figures/schools.csv", "/figures/averages.xlsx"):
        assert any(wanted in page for page in reached), wanted
    assert sum(p.startswith("/gmina/schools/") for p in reached) >= 4  # Mirzec's schools
    for url, body in pages.items():
        found = [name for name in names if name in body]
        assert not found, (url, found[:5])
    assert client.get(f"/districts/{other}/board").status_code == 404
    assert client.get(f"/districts/{other}/figures").status_code == 404
