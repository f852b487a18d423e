"""The office's operations (issue 13 items 1-4) under `capture_events`: what they write, what
they refuse in Polish, what they publish (nothing but changes of access), and the search."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.access import roles
from ediary.access.scope import scope_of
from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel, operation
from ediary.errors import Conflict, Refusal
from ediary.folding import fold
from ediary.office.models import RecordedParent
from ediary.office.movements import former_guardians, record_leaving, record_return, transfer_pupil
from ediary.office.operations import (
    GuardianDetails,
    GuardianEdit,
    Particulars,
    add_guardian,
    edit_guardian,
    edit_pupil,
    link_existing_guardian,
    register_pupil,
    resend_access,
    set_guardian_contacts,
)
from ediary.office.queries import movements_of, office_today, record_of, register_of
from ediary.office.search import search
from ediary.people.activation.operations import find_code
from ediary.people.models import User
from ediary.realtime.controls import ACCESS
from ediary.schools.models import ClassGroup, GuardianRelation, Guardianship, Pupil
from ediary.schools.pesel import make_pesel
from tests.events import capture_events
from tests.factories import SYSTEM, World, _add

BORN = dt.date(2015, 3, 14)
PESEL = make_pesel(BORN, 123, "F")


def _office(world: World) -> Actor:
    return Actor(world.secretary, Channel.WEB)


def _new(world: World, **fields: object) -> Pupil:
    p = Particulars(first_name="Hanna", last_name="Wąchocka", pesel=PESEL, address="Wąchock 1")
    for key, value in fields.items():
        setattr(p, key, value)
    return register_pupil(_office(world), world.class_a, p, dt.date(2026, 9, 1))


def test_folding_ignores_case_and_polish_letters() -> None:
    assert fold("  WĄCHOCK  Łódź żółć ") == "wachock lodz zolc"


def test_a_pupil_with_a_pesel_gets_the_birth_date_from_it(world: World, session: Session) -> None:
    captured = capture_events(lambda: _new(world))  # no journal event: access declared only
    pupil = captured.result
    assert (pupil.pesel, pupil.birth_date, pupil.admitted_on) == (PESEL, BORN, dt.date(2026, 9, 1))
    assert pupil.search_key == f" hanna wachocka {PESEL} "
    created = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "pupils", HistoryEntry.entity_id == pupil.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert created[-1].new is not None and created[-1].new["pesel"] == PESEL
    assert created[-1].actor_id == world.secretary.id
    assert "search_key" not in created[-1].new


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"pesel": "1234567890"}, "pesel_format"),
        ({"pesel": PESEL[:-1] + str((int(PESEL[-1]) + 1) % 10)}, "pesel_checksum"),
        ({"first_name": "  "}, "pupil_name"),
        ({"birth_date": dt.date(2015, 3, 15)}, "pesel_birth_date"),
        ({"pesel": "", "birth_date": BORN, "birth_place": "Kijów"}, "no_pesel"),
        ({"address": "x" * 251}, "too_long"),
    ],
)
def test_bad_particulars_are_refused_in_polish(
    world: World, session: Session, fields: dict[str, object], code: str
) -> None:
    def refused() -> None:
        with pytest.raises(Refusal) as refusal:
            _new(world, **fields)
        assert refusal.value.code == code
        assert str(refusal.value.message)

    capture_events(refused)


def test_a_pupil_without_pesel_needs_birth_date_place_and_document(
    world: World, session: Session
) -> None:
    pupil = _new(world, pesel="", birth_date=BORN, birth_place="Kijów", identity_document="FX123")
    assert (pupil.pesel, pupil.identity_document) == (None, "FX123")


def test_a_pesel_is_unique_in_the_school(world: World, session: Session) -> None:
    _new(world)
    with pytest.raises(Refusal, match="pesel_taken"):
        _new(world, first_name="Inna")


def test_an_edit_from_a_stale_page_is_a_conflict(world: World, session: Session) -> None:
    pupil = _new(world)
    seen = pupil.version
    edit_pupil(_office(world), pupil, Particulars("Hanna Maria", "Wąchocka", PESEL), seen)
    assert pupil.version == seen + 1 and pupil.first_name == "Hanna Maria"
    with pytest.raises(Conflict):
        edit_pupil(_office(world), pupil, Particulars("Hania", "Wąchocka", PESEL), seen)


def test_a_transfer_moves_the_pupil_and_rescopes_the_guardians(
    world: World, session: Session, rings: list[tuple[int | None, list[object]]]
) -> None:
    group = ClassGroup(school_id=world.school.id, class_id=world.class_b.id, name="ang. 1")
    _add(SYSTEM, group)
    capture_events(lambda: transfer_pupil(_office(world), world.pupil, world.class_b, [group]))
    session.commit()
    assert world.pupil.class_id == world.class_b.id
    assert world.class_b.id in scope_of(world.parent).classes
    assert record_of(world.pupil).groups == [group]
    controls = [c for _newest, cs in rings for c in cs]
    assert any(c.kind == ACCESS and c.target == world.parent.id for c in controls)  # type: ignore[attr-defined]
    with pytest.raises(Refusal, match="group_other_class"):
        transfer_pupil(_office(world), world.pupil, world.class_a, [group])


def test_leaving_ends_the_guardians_access_at_once_and_keeps_the_data(
    world: World, session: Session
) -> None:
    version = world.pupil.version
    capture_events(
        lambda: record_leaving(_office(world), world.pupil, world.today, "zmiana szkoły", version)
    )
    assert not roles.can_read_pupil(world.parent, world.pupil)
    assert world.pupil.id not in scope_of(world.parent).pupils
    assert roles.can_read_pupil(world.parent, world.sibling)  # the sibling stays
    assert world.pupil in [p for p, _c in register_of(world.school)]
    assert former_guardians(world.pupil) == [world.parent]
    # The same form again changes nothing; a transfer of a pupil who left is refused.
    record_leaving(_office(world), world.pupil, world.today, "zmiana szkoły")
    with pytest.raises(Refusal, match="pupil_left"):
        transfer_pupil(_office(world), world.pupil, world.class_b)
    record_return(_office(world), world.pupil, world.today, world.class_a, [world.parent])
    assert world.pupil.active and roles.can_read_pupil(world.parent, world.pupil)
    kinds = [str(line.what) for line in movements_of(world.school)]
    assert kinds[:2] == ["powrót do szkoły", "odejście ze szkoły"]


def test_leaving_needs_a_reason(world: World, session: Session) -> None:
    with pytest.raises(Refusal, match="leave_reason"):
        record_leaving(_office(world), world.pupil, world.today, "   ")


def test_guardians_with_and_without_access(world: World, session: Session) -> None:
    pupil = _new(world)
    mother = add_guardian(
        _office(world),
        pupil,
        GuardianDetails(
            "Anna",
            "Wąchocka",
            "Wąchock 1",
            "Anna@Example.org",
            "600 100 200",
            GuardianRelation.MOTHER,
        ),
    )
    assert isinstance(mother, User)
    # The contacts' normal form (ediary/contacts): the domain folded, the phone in E.164.
    assert (mother.email, mother.phone, mother.login) == (
        "Anna@example.org",
        "+48600100200",
        "anna.wachocka",
    )
    assert roles.can_read_pupil(mother, pupil)
    father = add_guardian(
        _office(world),
        pupil,
        GuardianDetails("Jan", "Wąchocki", relation=GuardianRelation.FATHER, may_see=False),
    )
    assert isinstance(father, RecordedParent)
    assert (
        session.scalar(
            select(Guardianship)
            .where(Guardianship.pupil_id == pupil.id)
            .where(Guardianship.user_id != mother.id)
        )
        is None
    )
    assert [p.full_name for p in record_of(pupil).recorded] == ["Jan Wąchocki"]
    with pytest.raises(Refusal, match="email_invalid"):
        set_guardian_contacts(_office(world), mother, "not-an-address", None)
    with pytest.raises(Refusal, match="phone_invalid"):
        set_guardian_contacts(_office(world), mother, None, "12")


def test_a_siblings_guardian_is_linked_and_edited_with_the_version_seen(
    world: World, session: Session
) -> None:
    link = link_existing_guardian(
        _office(world), world.classmate, world.parent, GuardianRelation.MOTHER
    )
    assert roles.can_read_pupil(world.parent, world.classmate)
    seen = GuardianEdit(None, None, None, GuardianRelation.MOTHER)
    wanted = GuardianEdit("Mirzec 2", "maria@example.org", "+48600100200", GuardianRelation.MOTHER)
    edit_guardian(_office(world), link, world.parent, wanted, seen)
    assert (world.parent.email, world.parent.address) == ("maria@example.org", "Mirzec 2")
    with pytest.raises(Conflict):
        edit_guardian(_office(world), link, world.parent, wanted, seen)


def test_access_sent_again_is_a_new_code_and_the_old_one_stops(
    world: World, session: Session
) -> None:
    first = resend_access(_office(world), world.parent)
    second = resend_access(_office(world), world.parent)
    now = dt.datetime.now(dt.UTC)
    assert find_code(world.parent.login, first, now) is None
    assert find_code(world.parent.login, second, now) is not None


def test_search_finds_pupils_and_guardians_without_diacritics(
    world: World, session: Session
) -> None:
    pupil = _new(world)
    assert [p.id for p, _c in search(world.school, "wachock").pupils] == [pupil.id]
    assert [p.id for p, _c in search(world.school, "HANNA WĄCH").pupils] == [pupil.id]
    assert [p.id for p, _c in search(world.school, PESEL[:6]).pupils] == [pupil.id]
    in_5b = {p.id for p, _c in search(world.school, "5b").pupils}
    assert in_5b == {world.sibling.id, world.pupil_b.id}
    found = search(world.school, "wisniewska")
    assert world.pupil.id in [p.id for p, _c in found.pupils]
    assert [g.id for g in found.guardians] == [world.parent.id]
    assert found.children[world.parent.id] == [world.sibling, world.pupil] or {
        c.id for c in found.children[world.parent.id]
    } == {world.sibling.id, world.pupil.id}
    assert search(world.other_school, "wisniewska").empty  # another school's office
    assert search(world.school, "%").empty and search(world.school, "  ").empty


def test_the_start_page_lists_what_needs_doing(world: World, session: Session) -> None:
    todos = {str(t.title): t for t in office_today(world.school)}
    assert todos["Uczniowie bez opiekuna z dostępem"].count == 1  # the classmate
    assert todos["Uczniowie bez opiekuna z dostępem"].pupils == [world.classmate]


@operation
def _never_activated(actor: Actor, user: User) -> None:
    user.password_hash = None  # the factories give every account a password


def test_a_guardian_without_contacts_or_activation_is_listed_for_their_child_only(
    world: World, session: Session
) -> None:
    _never_activated(SYSTEM, world.parent)
    todos = {str(t.title): t for t in office_today(world.school)}
    unreachable = todos["Uczniowie, których opiekun nie ma e-maila ani telefonu"]
    assert {p.id for p in unreachable.pupils} == {
        world.pupil.id,
        world.sibling.id,
        world.pupil_b.id,
    }
    inactive = todos["Uczniowie, których opiekun nie aktywował konta"]
    assert {p.id for p in inactive.pupils} == {world.pupil.id, world.sibling.id}
