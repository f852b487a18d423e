"""Every page a person may open is reachable by clicking from their start page.

A person does not type addresses: a page that no link leads to does not exist for them (the form
tutor's excuse queue once had no link). For every actor of ediary/access/matrix.yaml, the links
of the pages are followed from where the login form sends them (as a browser would, redirects
included), and every GET page the matrix lets the actor open (200) and they need must be among
those reached.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient

from ediary.people.models import User
from tests.factories import World
from tests.test_access_matrix import ACTORS, ROUTES, fill

HREF = re.compile(r'<a\s[^>]*href="([^"#]+)')
# Pages for people who are not logged in: reached from the login page, not from a home page.
BEFORE_LOGIN = ("/login", "/activate", "/password/")
# Where the login form sends each person (people.views.login): a parent to the portal.
START = {"parent": "/portal/", "other_parent": "/portal/"}
# Pages the matrix opens to an actor who has no need of them, each with its reason:
# The staff's home page and pupil card: a parent's home is the portal, with the same grades.
PARENTS_ELSEWHERE = {
    ("parent", "/"),
    ("other_parent", "/"),
    ("parent", "/pupils/{pupil}"),
    ("parent", "/pupils/{pupil}/history"),
    ("parent", "/pupils/{sibling}"),
    ("parent", "/pupils/{sibling}/history"),
    ("other_parent", "/pupils/{pupil_b}"),
    ("other_parent", "/pupils/{pupil_b}/history"),
}
# The parents' portal: to staff without children it only says that they have none.
PORTAL_OF_STAFF = {(actor, "/portal/") for actor in ACTORS}
# A known gap, left for the timetable pages: no page lists a class's lessons yet, so a form tutor
# or the office reaches another teacher's lesson only by its address.
KNOWN_GAPS = {("tutor", "/lessons/{lesson}"), ("school_admin", "/lessons/{lesson}")}
# Parts of a page that its script fetches (the gmina's board reads its figures again), not pages.
FRAGMENTS = {
    ("district_admin", "/districts/{district}/board/table"),
    ("other_district_admin", "/districts/{other_district}/board/table"),
}
# The portal's service worker: a script the browser fetches (static/js/sw.js), not a page.
SERVICE_WORKER = {(actor, "/portal/sw.js") for actor in ACTORS}
NOT_NEEDED = PARENTS_ELSEWHERE | PORTAL_OF_STAFF | KNOWN_GAPS | FRAGMENTS | SERVICE_WORKER


def reached(client: FlaskClient, start: str = "/", limit: int = 300) -> set[str]:
    """The paths reached by following same-site links from `start` (breadth first)."""
    seen: set[str] = set()
    queue = deque([start])
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        seen.add(response.request.path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            target = urlsplit(urljoin(response.request.path, href))
            if not target.netloc and not target.path.startswith("/static/"):
                queue.append(target.path)
    return seen


def pages_of(actor: str, world: World) -> set[str]:
    return {
        fill(route["path"], world)
        for route in ROUTES
        if route["method"] == "GET"
        and route["expect"][actor] == 200
        and not route["path"].startswith(BEFORE_LOGIN)
        and (actor, route["path"]) not in NOT_NEEDED
    }


@pytest.mark.parametrize("actor", [a for a in ACTORS if a != "anonymous"])
def test_every_page_of_a_person_is_a_click_away_from_their_home_page(
    actor: str, world: World, client: FlaskClient, login_as: Callable[[User], FlaskClient]
) -> None:
    login_as(getattr(world, actor))
    assert pages_of(actor, world) - reached(client, START.get(actor, "/")) == set()
