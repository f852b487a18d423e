"""Issue 13 item 5 end to end: contacts entered on the secretary's page → proved (the e-mail's
link opened, the SMS code typed in the portal) → a teacher's roll at a kiosk → the local SMTP
server and the local SMSAPI fake receive the absence for exactly the guardians who should get it.

All real: a server process (gunicorn) on a SQLite file, a kiosk agent process enrolled with a
one-time code, the web pages through HTTP with their CSRF tokens and logins, and the sender as
the command production runs (`ediary send-notifications`), against local SMTP and SMSAPI fakes.
Who must get nothing: the pupil's second guardian, whose address the secretary entered but
nobody proved, and another family (their child was not absent), whose addresses are proved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from email.message import Message

import pytest
import requests

from tests import twofactor
from tests.factories import PASSWORD
from tests.kiosk.conftest import AgentProcess, Screen, Site, wait_until
from tests.portal.fakes import TOKEN, Mailbox, SmsApi, fake_smsapi, smtp_server
from tests.servers import ROOT

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
SECRETARY, OTHER_PARENT = "beata_sekretarz", "piotr_wojcik"  # tests/factories.py's world


class Person:
    """Someone at a browser: pages fetched and forms sent over HTTP, with the CSRF token."""

    def __init__(self, url: str, login: str | None = None) -> None:
        self.url = url
        self.http = requests.Session()
        if login is not None:
            answer = self.send("/login", {"login": login, "password": PASSWORD})
            assert answer.status_code == 302, answer.status_code
            # Staff whose role needs a second factor (issue 14): an authenticator app's code.
            step = answer.headers["Location"]
            if step.endswith("/login/enrol"):
                page = self.http.get(url + "/login/enrol", timeout=10).text
                code = twofactor.enrol_code(url, login, page)
                assert self.send("/login/enrol", {"code": code}).status_code == 200
            elif step.endswith("/login/code"):
                code = twofactor.next_code(url, login)
                assert self.send("/login/code", {"code": code}).status_code == 302

    def send(self, path: str, form: dict[str, str], page: str | None = None) -> requests.Response:
        shown = self.http.get(self.url + (page or path), timeout=10)
        token = CSRF.search(shown.text)
        assert token, f"no CSRF token on {page or path}: {shown.status_code}"
        return self.http.post(
            self.url + path,
            data={"csrf_token": token.group(1), **form},
            timeout=10,
            allow_redirects=False,
        )


def send_notifications(site: Site, box: Mailbox, api: SmsApi) -> str:
    """One pass of `ediary send-notifications`, as the service runs it."""
    env = {
        **os.environ,
        "EDIARY_SMTP_HOST": box.host,
        "EDIARY_SMTP_PORT": str(box.port),
        "EDIARY_SMSAPI_URL": api.url,
        "EDIARY_SMSAPI_TOKEN": TOKEN,
        "EDIARY_PUBLIC_URL": site.server.url,
    }
    url = f"sqlite:///{site.db}"
    out = subprocess.run(
        [sys.executable, "-m", "ediary.cli", "send-notifications", "--database-url", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()


def body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(mail.get_content_charset() or "utf-8")


@pytest.fixture
def agent(site: Site, make_agent: Callable[..., AgentProcess]) -> AgentProcess:
    agent = make_agent()
    result = agent.enroll(site.server.url, site.code())
    assert result.returncode == 0, result.stderr
    return agent.start()


def test_contacts_from_the_office_to_a_kiosk_absence(site: Site, agent: AgentProcess) -> None:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "tests.contacts.e2e_world", str(site.db), "prepare"),
            *(str(site.ids["pupil_id"]), site.ids["parent_login"], OTHER_PARENT),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    url = site.server.url

    with smtp_server() as box, fake_smsapi() as api:
        # 1. The secretary enters both guardians' contacts on the office page.
        office = Person(url, SECRETARY)
        for user_id, email, phone in (
            (ids["parent_id"], "maria@example.test", "601 234 567"),
            (ids["second_id"], "tomasz@example.test", "602 345 678"),
        ):
            path = f"/office/guardians/{user_id}/contacts"
            saved = office.send(
                path, {"email": email, "phone": phone, "seen-email": "", "seen-phone": ""}
            )
            assert saved.status_code == 302, saved.text[-2000:]

        # 2. The proofs go out: a link to each e-mail, a code to each phone, nothing else.
        assert send_notifications(site, box, api).startswith("sent 4,")
        proofs = {mail["To"]: body(mail) for mail in box.messages}
        assert set(proofs) == {"maria@example.test", "tomasz@example.test"}
        codes = {sms["to"]: sms["message"] for sms in api.sent}
        assert set(codes) == {"48601234567", "48602345678"}

        # 3. Maria opens her link and types her code in the portal; Tomasz does neither.
        link = re.search(r"https?://\S+/contacts/confirm/\S+", proofs["maria@example.test"])
        assert link is not None
        path = "/" + link.group(0).split("/", 3)[3]
        anyone = Person(url)
        assert anyone.send(path, {}).status_code == 200  # the page that says "confirmed"
        code = re.search(r"\b(\d{6})\b", codes["48601234567"])
        assert code is not None
        maria = Person(url, site.ids["parent_login"])
        entered = maria.send("/portal/contacts/code", {"code": code.group(1)}, "/portal/contacts")
        assert entered.status_code == 302
        mine = maria.http.get(url + "/portal/contacts", timeout=10).text
        assert "maria@example.test (potwierdzony)" in mine
        assert "+48601234567 (potwierdzony)" in mine

        # 4. The teacher's roll at the kiosk: the pupil absent.
        screen = Screen(agent)
        screen.wait_online()
        screen.ok("/api/login", {"login": site.ids["teacher_login"], "password": PASSWORD})
        roster = screen.ok("/api/lesson", {"lesson_id": site.ids["lesson_id"]})
        pupil = str(site.ids["pupil_id"])
        key = str(uuid.uuid4())
        screen.ok(
            "/api/roll",
            {
                "lesson_id": site.ids["lesson_id"],
                "states": {pupil: "nb"},
                "base": {pupil: roster["attendance"].get(pupil)},
                "key": key,
            },
        )

        def synced() -> bool:
            entries = screen.state()["session"]["entries"]
            return any(e["key"] == key and e["state"] in ("synced", "delivered") for e in entries)

        wait_until(synced, timeout=20)

        # 5. The absence reaches Maria's proved e-mail and phone, and nobody else.
        before_mail, before_sms = len(box.messages), len(api.sent)
        report = send_notifications(site, box, api)
        news = box.messages[before_mail:]
        texts = api.sent[before_sms:]
        assert [mail["To"] for mail in news] == ["maria@example.test"], report
        assert [sms["to"] for sms in texts] == ["48601234567"], report
        assert "Zosia" in news[0]["Subject"] and "nieobecność" in texts[0]["message"].lower()
        assert report.startswith("sent 2,")
        # A second pass sends nothing more (nothing doubled).
        assert send_notifications(site, box, api).startswith("sent 0,")
        assert len(box.messages) == before_mail + 1 and len(api.sent) == before_sms + 1
