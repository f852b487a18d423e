"""The event catalogue: every type declared once with its audience; payloads exactly as declared."""

from __future__ import annotations

import pytest

from ediary.journal.catalogue import EVENT_TYPES, Audience
from ediary.journal.operations import UnknownEvent, publish


def test_every_type_has_an_audience_and_fields():
    for name, event_type in EVENT_TYPES.items():
        assert event_type.name == name and isinstance(event_type.audience, Audience)
        assert event_type.fields and event_type.doc


def test_pupil_events_name_the_pupil_they_concern():
    for event_type in EVENT_TYPES.values():
        if event_type.audience is Audience.PUPIL:
            assert "pupil_id" in event_type.fields, event_type.name


def test_payloads_carry_no_staff_internals():
    forbidden = {
        "password_hash",
        "secret_hash",
        "email",
        "phone",
        "login",
        "teacher_id",
        "session_version",
    }
    for event_type in EVENT_TYPES.values():
        assert not event_type.fields & forbidden, event_type.name


def test_unknown_type_or_wrong_fields_are_refused(world, session):
    with pytest.raises(UnknownEvent):
        publish(  # type: ignore[call-overload]
            "grade.invented", school_id=world.school.id, audience_id=world.pupil.id
        )
    with pytest.raises(UnknownEvent):
        publish(  # type: ignore[call-overload]
            "remark.removed",
            school_id=world.school.id,
            audience_id=world.pupil.id,
            pupil_id=world.pupil.id,
        )  # remark_id missing
    with pytest.raises(UnknownEvent):
        publish(  # type: ignore[call-overload]
            "remark.removed",
            school_id=world.school.id,
            audience_id=world.pupil.id,
            pupil_id=world.pupil.id,
            remark_id=1,
            pupil_name="Zosia",
        )  # an extra field
