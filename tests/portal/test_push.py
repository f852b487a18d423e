"""Web Push to parents: subscriptions refused when they could reach the school's network (SSRF),
choices per child and kind, and delivery from a journal event through the queue and the sender
to a local push service that checks the VAPID signature and decrypts the payload (RFC 8291)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import delete, select

from ediary.audit.recording import Actor
from ediary.audit.recording import Channel as AuditChannel
from ediary.db import db
from ediary.journal.models import JournalEvent
from ediary.notifications.enqueue import next_local_time, topics_of
from ediary.notifications.models import (
    Channel,
    MessageStatus,
    OutgoingMessage,
    OutgoingPush,
    PushChoice,
    PushSubscription,
    Topic,
)
from ediary.notifications.operations import save_preferences, set_urgent_topics
from ediary.notifications.push import (
    BadSubscription,
    PushGateway,
    PushSender,
    check_endpoint,
    new_vapid_private_key,
    vapid_public_key,
)
from ediary.notifications.pushviews import save_choices, subscribe
from ediary.schools.models import Guardianship
from tests.clock import DEFAULT
from tests.contacts.helpers import verified_contacts
from tests.html import csrf_token
from tests.portal.pushfake import fake_push_service, verify_vapid
from tests.portal.world import absent_at, second_lesson, teacher

NOON = next_local_time(dt.time(12, 0), DEFAULT.utc)
NIGHT = next_local_time(dt.time(23, 30), DEFAULT.utc)
KEY = new_vapid_private_key()


def _resolver(table):
    return lambda host, port: table[host]


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "endpoint_not_https"),
        ("ftp://push.example/x", "endpoint_not_https"),
        ("https://10.1.2.3/push", "endpoint_private"),
        ("https://127.0.0.1:8443/push", "endpoint_private"),
        ("https://[::1]/push", "endpoint_private"),
        ("https://169.254.169.254/latest/meta-data", "endpoint_private"),
        ("https://[::ffff:192.168.1.1]/push", "endpoint_private"),
        ("https://intranet.school/push", "endpoint_private"),  # resolves to 192.168.0.5
        ("https://rebind.example/push", "endpoint_private"),  # one public, one private address
        ("https://user:pw@push.example/x", "endpoint_invalid"),
        ("https://push.example:99999/x", "endpoint_invalid"),
        ("https://push.example/" + "x" * 1000, "endpoint_length"),
        ("", "endpoint_length"),
    ],
)
def test_an_endpoint_that_could_reach_the_school_network_is_refused(endpoint, why):
    resolve = _resolver(
        {
            "intranet.school": ["192.168.0.5"],
            "rebind.example": ["142.250.1.1", "10.0.0.1"],
            "push.example": ["142.250.1.1"],
            **{h: [h.strip("[]")] for h in ("10.1.2.3", "127.0.0.1", "169.254.169.254")},
            "::1": ["::1"],
            "::ffff:192.168.1.1": ["::ffff:192.168.1.1"],
        }
    )
    with pytest.raises(BadSubscription) as refused:
        check_endpoint(endpoint, resolve=resolve)
    assert refused.value.code == why


def test_a_public_https_endpoint_and_an_allowed_test_host_pass():
    check_endpoint(
        "https://fcm.googleapis.com/fcm/send/abc",
        resolve=_resolver({"fcm.googleapis.com": ["142.250.1.1"]}),
    )
    check_endpoint("http://127.0.0.1:8123/push/d1", allow_hosts=["127.0.0.1:8123"])
    with pytest.raises(BadSubscription):  # another port of the same host is not allowed
        check_endpoint("http://127.0.0.1:8124/push/d1", allow_hosts=["127.0.0.1:8123"])


def _post(client, path, page="/portal/settings", **form):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **form})


def test_subscriptions_are_refused_cleanly_and_foreign_ones_are_not_found(
    world, app, client, login_as, session, monkeypatch
):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", KEY)
    with fake_push_service() as service:
        monkeypatch.setitem(app.config, "PUSH_ALLOW_HOSTS", [service.host])
        good = service.new_subscription()
        login_as(world.parent)
        for form, code in (
            ({**good, "endpoint": "http://push.example.test/x"}, "endpoint_not_https"),
            ({**good, "endpoint": "https://10.0.0.7/x"}, "endpoint_private"),
            ({**good, "p256dh": "A" * 5000}, "keys_too_long"),
            ({**good, "p256dh": "A" * 87}, "keys_invalid"),
            ({**good, "auth": "short"}, "keys_invalid"),
            ({"endpoint": good["endpoint"]}, "keys_missing"),
        ):
            answer = _post(client, "/portal/push/subscribe", **form)
            assert answer.status_code == 400, form
            assert answer.json["error"] == code and answer.json["message"]
        assert db.session.scalars(select(PushSubscription)).all() == []

        answer = _post(client, "/portal/push/subscribe", **good)
        assert answer.status_code == 201
        mine = answer.json["id"]
        # Maria's device is not the other parent's to switch off; ids past 2^63 are 404 too.
        login_as(world.other_parent)
        assert _post(client, "/portal/push/off", subscription=str(mine)).status_code == 404
        assert _post(client, "/portal/push/off", endpoint=good["endpoint"]).status_code == 404
        assert _post(client, "/portal/push/off", subscription=str(2**64)).status_code == 404
        assert db.session.get(PushSubscription, mine) is not None
        login_as(world.teacher)  # staff have no portal
        assert _post(client, "/portal/push/subscribe", page="/", **good).status_code == 404


def test_a_parent_switches_on_two_devices_chooses_per_child_and_kind_and_switches_off(
    world, app, client, login_as, session, monkeypatch
):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", KEY)
    with fake_push_service() as service:
        monkeypatch.setitem(app.config, "PUSH_ALLOW_HOSTS", [service.host])
        login_as(world.parent)
        page = client.get("/portal/settings").get_data(as_text=True)
        assert f'data-key="{vapid_public_key(KEY)}"' in page
        phone, laptop = service.new_subscription(), service.new_subscription()
        assert _post(client, "/portal/push/subscribe", **phone).status_code == 201
        assert _post(client, "/portal/push/subscribe", **laptop).status_code == 201
        assert _post(client, "/portal/push/subscribe", **phone).status_code == 201  # again: same
        devices = db.session.scalars(select(PushSubscription)).all()
        assert len(devices) == 2
        # The first device switches on everything about both children.
        chosen = set(db.session.execute(select(PushChoice.pupil_id, PushChoice.topic)).all())
        assert chosen == {(p.id, t.value) for p in (world.pupil, world.sibling) for t in Topic}

        page = client.get("/portal/settings").get_data(as_text=True)
        assert f'name="push-{world.sibling.id}-grade"' in page
        answer = _post(
            client, "/portal/push/choices",
            **{f"push-{world.pupil.id}-grade": "1", f"push-{world.sibling.id}-absence": "1",
               f"push-{world.pupil_b.id}-grade": "1"},  # not her child: ignored
        )  # fmt: skip
        assert answer.status_code == 302
        chosen = set(db.session.execute(select(PushChoice.pupil_id, PushChoice.topic)).all())
        assert chosen == {(world.pupil.id, "grade"), (world.sibling.id, "absence")}

        assert _post(client, "/portal/push/off", endpoint=phone["endpoint"]).status_code == 302
        assert [d.endpoint for d in db.session.scalars(select(PushSubscription))] == [
            laptop["endpoint"]
        ]


def _subscribed(world, service, *topics: Topic, devices: int = 1) -> list[dict[str, str]]:
    actor = Actor(world.parent, AuditChannel.WEB)
    subs = [service.new_subscription() for _ in range(devices)]
    for sub in subs:
        subscribe(actor, world.parent, sub["endpoint"], sub["p256dh"], sub["auth"], "test")
    save_choices(actor, world.parent, {(world.pupil.id, t.value) for t in topics})
    return subs


def _sender(app, service, clock):
    gateway = PushGateway(KEY, "mailto:szkola@example.test", allow_hosts=[service.host])
    return PushSender(app, gateway, clock=clock)


def _pushes() -> list[OutgoingPush]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingPush).order_by(OutgoingPush.id)))


def test_an_absence_reaches_every_device_encrypted_and_signed_once(world, app, session):
    with fake_push_service() as service:
        _subscribed(world, service, Topic.FIRST_ABSENCE, Topic.ABSENCE, devices=2)
        nested = db.session.begin_nested()
        absent_at(world, world.lesson)
        nested.rollback()  # queued with the journal event at the commit: none rolled back
        session.commit()
        assert _pushes() == []
        absent_at(world, world.lesson)
        session.commit()
        rows = _pushes()
        assert {r.topic for r in rows} == {"first_absence"} and len({r.event_id for r in rows}) == 1

        report = _sender(app, service, lambda: NOON).run_once()
        assert report.sent == 2 and service.refused == []
        shown = service.payloads()[0]
        assert shown == {
            "title": "Nieobecność na pierwszej lekcji: Zosia",
            "body": f"Zosia: nieobecność na pierwszej lekcji (matematyka, {world.today}).",
            "url": f"/portal/{world.pupil.id}/attendance",
            "tag": f"ediary-{rows[0].event_id}",
        }
        assert service.received[0].headers["TTL"].isdigit()
        # A sender started again (or a second one) sends nothing twice.
        assert _sender(app, service, lambda: NOON).run_once().sent == 0
        assert len(service.received) == 2
        assert {r.status for r in _pushes()} == {MessageStatus.SENT}


def test_an_absence_s_e_mails_and_pushes_come_from_one_read_of_its_guardians(
    world, session, statements
):
    """Who is told of an entry about a pupil, by e-mail, SMS and Web Push, is one statement
    (every entry's commit runs it): a guardian with two devices is one reader, with two pushes."""
    with fake_push_service() as service:
        _subscribed(world, service, Topic.ABSENCE, Topic.FIRST_ABSENCE, devices=2)
        parent = verified_contacts(world.parent, "maria@example.test", "+48500100200")
        save_preferences(
            Actor(parent, AuditChannel.WEB), parent, channels={Channel.EMAIL},
            topics={Topic.FIRST_ABSENCE}, digest=False, quiet_from=dt.time(21),
            quiet_until=dt.time(7),
        )  # fmt: skip
        session.commit()
        absent_at(world, world.lesson)
        statements.clear()
        session.commit()
    [read] = [s for s in statements if "push_choices" in s]
    assert "notification_preferences" in read
    pushes = _pushes()
    assert [(p.user_id, p.topic) for p in pushes] == [(world.parent.id, "first_absence")] * 2
    assert len({p.subscription_id for p in pushes}) == 2
    messages = db.session.scalars(select(OutgoingMessage)).all()
    assert [(m.user_id, m.channel, m.topic) for m in messages] == [
        (world.parent.id, Channel.EMAIL, "first_absence")
    ]


def test_the_vapid_check_of_the_fake_refuses_a_wrong_audience_and_a_forged_signature():
    with fake_push_service() as service:
        gateway = PushGateway(KEY, "mailto:a@example.test", allow_hosts=[service.host])
        header = gateway.vapid_headers(service.origin + "/push/d1")["Authorization"]
        import time

        assert verify_vapid(header, service.origin, time.time()) is None
        assert "aud" in str(verify_vapid(header, "https://other.example", time.time()))
        other = PushGateway(new_vapid_private_key(), "mailto:a@example.test")
        forged = (
            header.split(",k=")[0]
            + ",k="
            + other.vapid_headers(service.origin)["Authorization"].split(",k=")[1]
        )
        assert verify_vapid(forged, service.origin, time.time()) == "bad signature"


def test_a_failing_push_service_is_retried_and_a_gone_device_removed(world, app, session):
    with fake_push_service() as service:
        _subscribed(world, service, Topic.GRADE, Topic.ABSENCE, devices=2)
        from ediary.diary.operations import record_grade

        record_grade(teacher(world), pupil=world.pupil, subject=world.math, value="5",
                     given_on=world.today)  # fmt: skip
        session.commit()
        service.answer_next(500, 410)
        report = _sender(app, service, lambda: NOON).run_once()
        assert (report.sent, report.retried, report.dropped) == (0, 1, 1)
        (left,) = db.session.scalars(select(PushSubscription)).all()
        (retry,) = _pushes()
        assert retry.subscription_id == left.id and retry.status is MessageStatus.PENDING
        assert retry.next_attempt_at > NOON
        assert _sender(app, service, lambda: NOON).run_once().sent == 0  # not yet due
        later = retry.next_attempt_at
        assert _sender(app, service, lambda: later).run_once().sent == 1
        assert service.payloads()[0]["body"].startswith("Zosia: nowa ocena 5 (bardzo dobry)")
        assert service.payloads()[0]["url"] == f"/portal/{world.pupil.id}/grades"

        # 429 waits too, then goes.
        absent_at(world, second_lesson(world, slot=3))
        session.commit()
        service.answer_next(429)
        assert _sender(app, service, lambda: later).run_once().retried == 1
        (_, again) = _pushes()
        when = again.next_attempt_at
        assert _sender(app, service, lambda: when).run_once().sent == 1
        assert len(service.received) == 2


def test_quiet_hours_hold_pushes_unless_the_school_marks_the_kind_urgent(world, app, session):
    with fake_push_service() as service:
        _subscribed(world, service, Topic.FIRST_ABSENCE, Topic.GRADE)
        parent = world.parent
        save_preferences(
            Actor(parent, AuditChannel.WEB), parent, channels=set(), topics=set(), digest=False,
            quiet_from=dt.time(21), quiet_until=dt.time(7),
        )  # fmt: skip
        absent_at(world, world.lesson)
        session.commit()
        report = _sender(app, service, lambda: NIGHT).run_once()
        assert report.held == 1 and service.received == []
        (held,) = _pushes()
        morning = held.next_attempt_at
        assert morning > NIGHT
        set_urgent_topics(Actor(world.school_admin, AuditChannel.WEB), world.school,
                          {Topic.FIRST_ABSENCE})  # fmt: skip
        absent_at(world, second_lesson(world, world.today + dt.timedelta(days=1), 1))
        session.commit()
        assert _sender(app, service, lambda: NIGHT).run_once().sent == 1  # urgent: at night
        assert _sender(app, service, lambda: morning).run_once().sent == 1


def test_a_parent_whose_link_ends_gets_no_more_pushes_about_the_child(world, app, session):
    with fake_push_service() as service:
        _subscribed(world, service, Topic.ABSENCE, Topic.FIRST_ABSENCE)
        absent_at(world, world.lesson)
        session.commit()
        # The link ends before the sender runs: the queued push is dropped, not sent.
        db.session.execute(
            delete(Guardianship).where(
                Guardianship.user_id == world.parent.id, Guardianship.pupil_id == world.pupil.id
            )
        )
        session.commit()
        report = _sender(app, service, lambda: NOON).run_once()
        assert (report.sent, report.dropped) == (0, 1) and service.received == []
        absent_at(world, second_lesson(world, slot=4))  # and nothing new is queued
        session.commit()
        assert [r.status for r in _pushes()] == [MessageStatus.DROPPED]


def test_every_topic_fans_out_to_pushes_including_excuse_decisions(world, session):
    event = JournalEvent(
        id=1, type="excuse.decided", school_id=world.school.id, audience="pupil",
        audience_id=world.pupil.id,
        payload={"pupil_id": world.pupil.id, "excuse_id": 1, "status": "approved",
                 "first_date": "2026-12-01", "last_date": "2026-12-01", "absences": 1},
    )  # fmt: skip
    assert topics_of(event, {}) == [Topic.EXCUSE_DECISION]
    from ediary.notifications.push import notification_of

    push = OutgoingPush(event_id=1, topic="excuse_decision", pupil_id=world.pupil.id,
                        payload=event.payload)  # fmt: skip
    assert notification_of(push, "Zosia") == {
        "title": "Usprawiedliwienie: Zosia",
        "body": "Zosia: usprawiedliwienie przyjęte.",
        "url": f"/portal/{world.pupil.id}/excuses",
        "tag": "ediary-1",
    }
    # An unknown topic (a later issue's) still has words and a page.
    push.topic = "something_new"
    assert notification_of(push, "Zosia")["url"] == f"/portal/{world.pupil.id}"
    assert list(itertools.islice(Topic, 1))  # the enum is iterable for the settings page


def test_vapid_keys_are_made_by_a_command_and_checked_at_deploy(cli):
    from ediary.config import Config
    from ediary.deploy.checks import check_push

    result = cli("vapid-keys")
    assert result.exit_code == 0, result.output
    line, comment = result.output.splitlines()
    private = line.removeprefix("EDIARY_VAPID_PRIVATE_KEY=")
    assert comment == f"# public key: {vapid_public_key(private)}"
    assert list(check_push(Config(VAPID_PRIVATE_KEY=private))) == []
    codes = [p.code for p in check_push(Config(VAPID_PRIVATE_KEY="not-a-key"))]
    assert codes == ["vapid-key"]
    codes = [p.code for p in check_push(Config(PUSH_ALLOW_HOSTS=["127.0.0.1:9"]))]
    assert codes == ["push-allow-hosts"]
