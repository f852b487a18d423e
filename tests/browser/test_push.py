"""Web Push in a real Chromium against a real server: the settings page switches a device on
(permission, subscribe with the server's VAPID key, the subscription POSTed with the CSRF token),
and the portal's service worker shows a pushed notification and opens its page when tapped.

Headless Chromium reaches no push service offline, so `pushManager.subscribe` is replaced by one
that returns a subscription on a public address (the server's checks pass it; nothing is sent),
and the push is delivered to the worker over the DevTools protocol
(`ServiceWorker.deliverPushMessage`), as the browser does with what a push service brings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from ediary.notifications.push import new_vapid_private_key
from tests.browser.conftest import PHONE, Site, _build_world
from tests.browser.person import log_in, storage_holds_nothing_personal
from tests.servers import running_server

pytestmark = pytest.mark.browser
KEY = new_vapid_private_key()
FAKE_SUBSCRIBE = """
PushManager.prototype.subscribe = async function (options) {
  window.__subscribedWith = options.applicationServerKey.byteLength;
  const p256dh = Uint8Array.from(atob(%(p256dh)s), (c) => c.charCodeAt(0));
  const auth = Uint8Array.from(atob(%(auth)s), (c) => c.charCodeAt(0));
  return {
    endpoint: "https://142.250.1.1/push/browser-test",
    getKey: (name) => (name === "p256dh" ? p256dh : auth).buffer,
    unsubscribe: async () => true,
  };
};
"""


@pytest.fixture(scope="module")
def push_site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("push")
    database_url = f"sqlite:///{directory / 'ediary.db'}"
    built = _build_world(database_url)
    with running_server(database_url, directory, EDIARY_VAPID_PRIVATE_KEY=KEY) as server:
        yield Site(**{**built.__dict__, "url": server.url})


def _context(browser: Browser, url: str) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, locale="pl-PL")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    context.grant_permissions(["notifications"], origin=url)
    return context


def _device_keys() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    import base64

    return {
        "p256dh": json.dumps(base64.b64encode(point).decode()),
        "auth": json.dumps(base64.b64encode(b"0123456789abcdef").decode()),
    }


def test_a_parent_switches_on_push_and_the_worker_shows_and_opens_a_notification(
    push_site: Site, browser: Browser
) -> None:
    context = _context(browser, push_site.url)
    try:
        context.add_init_script(FAKE_SUBSCRIBE % _device_keys())
        page = context.new_page()
        log_in(page, push_site.url, push_site.parent_login)
        page.goto(f"{push_site.url}/portal/settings")
        page.get_by_role("button", name="Włącz powiadomienia na tym urządzeniu").click()
        # The page reloads with the device listed and the choices per child and kind.
        expect(page.get_by_role("button", name="Wyłącz", exact=True)).to_be_visible()
        expect(
            page.get_by_role("checkbox", name="Decyzja o usprawiedliwieniu").first
        ).to_be_checked()
        assert page.evaluate("window.__subscribedWith") is None  # reloaded: a new document
        assert storage_holds_nothing_personal(page)

        # The worker registered by the portal (scope /portal/), then a push delivered to it.
        scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
        assert scope == f"{push_site.url}/portal/"
        cdp = context.new_cdp_session(page)
        registrations: list[dict[str, str]] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        for _ in range(50):  # the registrations arrive as events, possibly more than once
            ids = {r["registrationId"] for r in registrations if r["scopeURL"] == scope}
            if ids:
                break
            page.wait_for_timeout(100)
        (registration_id,) = ids
        target = f"/portal/{push_site.pupil_id}/attendance"
        shown = {
            "title": "Nieobecność: Zosia",
            "body": "Zosia: nieobecność, matematyka, lekcja 2, 2026-12-07.",
            "url": target,
            "tag": "ediary-41",
        }
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": push_site.url,
                "registrationId": registration_id,
                "data": json.dumps(shown),
            },
        )
        notifications = page.evaluate(
            """async () => {
                const reg = await navigator.serviceWorker.ready;
                for (let i = 0; i < 50; i++) {
                    const found = await reg.getNotifications();
                    if (found.length) return found.map((n) => ({
                        title: n.title, body: n.body, tag: n.tag, url: n.data.url}));
                    await new Promise((r) => setTimeout(r, 100));
                }
                return [];
            }"""
        )
        assert notifications == [
            {
                "title": shown["title"],
                "body": shown["body"],
                "tag": shown["tag"],
                "url": f"{push_site.url}{target}",
            }
        ]

        # Tapping it: the worker's notificationclick handler opens the page. Headless Chromium
        # cannot tap, so the same handler gets a NotificationEvent for the shown notification;
        # clients.openWindow (which needs a real tap) is observed instead of called.
        (worker,) = [w for w in context.service_workers if w.url.endswith("/portal/sw.js")]
        opened = worker.evaluate(
            """async () => {
                const [shown] = await self.registration.getNotifications();
                let opened = null;
                self.clients.openWindow = async (url) => { opened = url; return null; };
                const event = new NotificationEvent("notificationclick", {notification: shown});
                event.waitUntil = (promise) => { self.__clicked = promise; };
                self.dispatchEvent(event);
                await self.__clicked;
                const left = await self.registration.getNotifications();
                return {opened, left: left.length,
                        foreign: self.portalUrl("https://evil.example/portal/1")};
            }"""
        )
        assert opened == {
            "opened": f"{push_site.url}{target}",
            "left": 0,  # closed by the tap
            "foreign": f"{push_site.url}/portal/",  # never another site's address
        }
    finally:
        context.close()
