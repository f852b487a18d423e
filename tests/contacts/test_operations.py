"""Changing and proving a contact: the operations, their refusals, their history, and that
notifications reach only proved addresses (the old one until the new one is proved)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.contacts.models import ContactKind, ContactVerification
from ediary.contacts.operations import (
    MAX_ATTEMPTS,
    Outcome,
    change_contact,
    resend_proof,
    verification_of_link,
    verify_contact,
)
from ediary.contacts.queries import state_of, verified_address
from ediary.errors import Refusal
from ediary.notifications.gateways import Outgoing
from ediary.notifications.models import Channel as MessageChannel
from ediary.notifications.models import OutgoingMessage, Topic
from ediary.notifications.operations import save_preferences
from ediary.notifications.sender import Sender
from tests.contacts.helpers import code_in, link_path_in, proofs, verified_contacts
from tests.events import capture_events
from tests.factories import World
from tests.portal.world import absent_at

EMAIL, PHONE = ContactKind.EMAIL, ContactKind.PHONE


def _secretary(world: World) -> Actor:
    return Actor(world.secretary, Channel.WEB)


def _parent(world: World) -> Actor:
    return Actor(world.parent, Channel.WEB)


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (EMAIL, " Maria.W@Example.test ", "Maria.W@example.test"),
        (PHONE, "601 234 567", "+48601234567"),
        (PHONE, "+48 601-234-567", "+48601234567"),
        (PHONE, "0049 1512 3456789", "+4915123456789"),  # a German mobile
    ],
)
def test_an_address_is_stored_normalised_and_unverified(world, session, kind, typed, stored):
    row = change_contact(_secretary(world), world.parent, kind, typed)
    assert row is not None and row.address == stored and row.verified_at is None
    assert (world.parent.email if kind is EMAIL else world.parent.phone) == stored
    assert verified_address(world.parent.id, kind) is None
    (proof,) = proofs(world.parent, MessageChannel.EMAIL if kind is EMAIL else MessageChannel.SMS)
    assert proof.payload["verification_id"] == row.id and proof.urgent


@pytest.mark.parametrize(
    ("kind", "typed", "code"),
    [
        (EMAIL, "maria", "email_invalid"),
        (EMAIL, "maria@localhost", "email_invalid"),
        (EMAIL, "ma ria@example.pl", "email_invalid"),
        (PHONE, "12345", "phone_invalid"),
        (PHONE, "22 621 00 00", "phone_invalid"),  # a Warsaw landline: no SMS reaches it
        (PHONE, "abc", "phone_invalid"),
        (PHONE, "+48 601 234 567 1", "phone_invalid"),
    ],
)
def test_bad_addresses_are_refused_in_polish(world, session, kind, typed, code):
    with pytest.raises(Refusal) as refused:
        change_contact(_secretary(world), world.parent, kind, typed)
    assert refused.value.code == code
    assert "poprawny" in str(refused.value.message)


def test_the_sms_code_proves_the_number_once_with_history(world, session: Session):
    row = change_contact(_secretary(world), world.parent, PHONE, "601234567")
    assert row is not None
    (proof,) = proofs(world.parent, MessageChannel.SMS)
    code = code_in(proof.payload["body"])
    # Contacts are nobody's live page: no journal event.
    assert capture_events(lambda: verify_contact(_parent(world), row, code)).result is (
        Outcome.VERIFIED
    )
    assert verified_address(world.parent.id, PHONE) == "+48601234567"
    assert row.secret_hash is None
    with pytest.raises(Refusal) as again:
        verify_contact(_parent(world), row, code)
    assert again.value.code == "already_verified"
    session.flush()
    changes = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "contact_verifications", HistoryEntry.entity_id == row.id)
        .order_by(HistoryEntry.id)
    ).all()
    # Written by the secretary (the row, then its proof), proved by the parent.
    assert [c.actor_id for c in changes] == [world.secretary.id] * 2 + [world.parent.id]
    assert changes[1].new is not None and changes[1].new["secret_hash"] == "***"
    assert changes[-1].new is not None and changes[-1].new["verified_at"]


def test_wrong_codes_are_counted_then_the_code_is_spent(world, session):
    row = change_contact(_secretary(world), world.parent, PHONE, "601234567")
    assert row is not None
    code = code_in(proofs(world.parent, MessageChannel.SMS)[0].payload["body"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        assert verify_contact(_parent(world), row, wrong) is Outcome.WRONG
    with pytest.raises(Refusal) as refused:
        verify_contact(_parent(world), row, code)  # even the right one: the code is spent
    assert refused.value.code == "too_many_attempts"
    assert verified_address(world.parent.id, PHONE) is None


def test_an_expired_code_and_link_are_refused(world, session, time_machine):
    phone = change_contact(_secretary(world), world.parent, PHONE, "601234567")
    mail = change_contact(_secretary(world), world.parent, EMAIL, "maria@example.test")
    assert phone is not None and mail is not None
    code = code_in(proofs(world.parent, MessageChannel.SMS)[0].payload["body"])
    path = link_path_in(proofs(world.parent, MessageChannel.EMAIL)[0].payload["body"])
    time_machine.shift(dt.timedelta(minutes=16))
    with pytest.raises(Refusal) as late:
        verify_contact(_parent(world), phone, code)
    assert late.value.code == "proof_expired"
    time_machine.shift(dt.timedelta(hours=48))
    assert verification_of_link(path.rsplit("/", 1)[1]) is None  # the signature's age


def test_resending_is_throttled_and_a_new_code_replaces_the_old(world, session, time_machine):
    row = change_contact(_secretary(world), world.parent, PHONE, "601234567")
    assert row is not None
    with pytest.raises(Refusal) as soon:
        resend_proof(_parent(world), world.parent, PHONE)
    assert soon.value.code == "too_soon"
    first = code_in(proofs(world.parent, MessageChannel.SMS)[0].payload["body"])
    sent = 1
    while True:
        time_machine.shift(dt.timedelta(seconds=61))
        try:
            resend_proof(_parent(world), world.parent, PHONE)
        except Refusal as refusal:
            assert refusal.code == "too_many_sends"
            break
        sent += 1
    assert sent == 5 and len(proofs(world.parent, MessageChannel.SMS)) == 5
    last = code_in(proofs(world.parent, MessageChannel.SMS)[-1].payload["body"])
    if first != last:
        assert verify_contact(_parent(world), row, first) is Outcome.WRONG
    assert verify_contact(_parent(world), row, last) is Outcome.VERIFIED


def test_the_same_address_twice_sends_one_proof(world, session):
    first = change_contact(_secretary(world), world.parent, EMAIL, "maria@example.test")
    second = change_contact(_secretary(world), world.parent, EMAIL, "maria@example.test")
    assert first is second and len(proofs(world.parent, MessageChannel.EMAIL)) == 1
    verified_contacts(world.other_parent, email="piotr@example.test")
    assert change_contact(_parent(world), world.other_parent, EMAIL, "piotr@example.test") is None


def test_the_old_verified_address_receives_until_the_new_one_is_proved(world, session):
    verified_contacts(world.parent, "stary@example.test", "+48500100200")
    save_preferences(
        _parent(world), world.parent, channels={MessageChannel.EMAIL, MessageChannel.SMS},
        topics={Topic.ABSENCE, Topic.FIRST_ABSENCE}, digest=False,
        quiet_from=dt.time(0), quiet_until=dt.time(0),
    )  # fmt: skip
    change_contact(_parent(world), world.parent, EMAIL, "nowy@example.test")
    change_contact(_parent(world), world.parent, PHONE, "601234567")
    state = state_of(world.parent.id, EMAIL)
    assert state.verified == "stary@example.test" and state.pending is not None
    assert state.pending.address == "nowy@example.test"
    absent_at(world, world.lesson)
    session.commit()  # messages are queued with their event, at the commit
    events = session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.event_id.is_not(None))
    ).all()
    assert {m.channel for m in events} == {MessageChannel.EMAIL, MessageChannel.SMS}
    assert verified_address(world.parent.id, EMAIL) == "stary@example.test"
    assert verified_address(world.parent.id, PHONE) == "+48500100200"


def test_an_unverified_address_alone_receives_nothing(world, session):
    change_contact(_secretary(world), world.parent, EMAIL, "maria@example.test")
    save_preferences(
        _parent(world), world.parent, channels={MessageChannel.EMAIL}, topics={Topic.ABSENCE},
        digest=False, quiet_from=dt.time(0), quiet_until=dt.time(0),
    )  # fmt: skip
    absent_at(world, world.lesson)
    session.commit()  # messages are queued with their event, at the commit
    assert not session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.event_id.is_not(None))
    ).all()


def test_a_replaced_address_voids_its_proof(world, session):
    old = change_contact(_secretary(world), world.parent, PHONE, "601234567")
    assert old is not None
    code = code_in(proofs(world.parent, MessageChannel.SMS)[0].payload["body"])
    change_contact(_secretary(world), world.parent, PHONE, "602345678")
    with pytest.raises(Refusal) as void:
        verify_contact(_parent(world), old, code)
    assert void.value.code == "proof_void"
    assert (
        session.scalars(select(ContactVerification).order_by(ContactVerification.id.desc()))
        .first()
        .address
        == "+48602345678"
    )


def test_a_person_cannot_add_addresses_without_end(world, session):
    with pytest.raises(Refusal) as refused:
        for n in range(20):
            change_contact(_parent(world), world.parent, PHONE, f"6012345{n:02d}")
    assert refused.value.code == "too_many_addresses"
    assert n == 10  # ten new numbers a day, then no more SMS to strangers' phones


class _Kept:
    """A gateway that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        return f"id-{len(self.sent)}"


def test_the_sender_sends_proofs_to_the_new_address_only_while_it_waits(world, app, session):
    change_contact(_secretary(world), world.parent, PHONE, "601234567")
    change_contact(_secretary(world), world.parent, PHONE, "602345678")  # the first one replaced
    change_contact(_secretary(world), world.parent, EMAIL, "maria@example.test")
    session.commit()
    mail, sms = _Kept(), _Kept()
    report = Sender(app, {MessageChannel.EMAIL: mail, MessageChannel.SMS: sms}).run_once()
    assert (report.sent, report.dropped) == (2, 1)
    assert [m.to for m in sms.sent] == ["48602345678"]  # SMSAPI's form: digits, no "+"
    assert [m.to for m in mail.sent] == ["maria@example.test"]
    assert "/contacts/confirm/" in mail.sent[0].body
    # The codes and links are credentials: not kept in the queue once they left.
    assert all(m.payload == {} for m in proofs(world.parent, MessageChannel.SMS))


def test_a_removed_address_stops_receiving_and_voids_its_proof(world, session):
    verified_contacts(world.parent, "stary@example.test", "+48500100200")
    save_preferences(
        _parent(world), world.parent, channels={MessageChannel.EMAIL, MessageChannel.SMS},
        topics={Topic.ABSENCE}, digest=False, quiet_from=dt.time(0), quiet_until=dt.time(0),
    )  # fmt: skip
    change_contact(_parent(world), world.parent, PHONE, "601234567")  # waiting for its code
    assert change_contact(_secretary(world), world.parent, EMAIL, " ") is None
    assert change_contact(_secretary(world), world.parent, PHONE, "") is None
    assert world.parent.email is None and world.parent.phone is None
    assert verified_address(world.parent.id, EMAIL) is None
    assert verified_address(world.parent.id, PHONE) is None
    assert state_of(world.parent.id, PHONE).pending is None
    absent_at(world, world.lesson)
    session.commit()  # messages are queued with their event, at the commit
    assert not session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.event_id.is_not(None))
    ).all()
    # A new address after a removal is proved like any other.
    row = change_contact(_parent(world), world.parent, EMAIL, "nowy@example.test")
    assert row is not None and row.verified_at is None
