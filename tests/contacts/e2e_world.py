"""The contacts end-to-end test's additions to the kiosk's world file, made in a child process
(like tests/kiosk/world.py, whose world it extends).

`python -m tests.contacts.e2e_world DB prepare PUPIL_ID PARENT_LOGIN OTHER_LOGIN` adds a second
guardian of the pupil, gives the other family (another child) proved addresses, records that
every guardian wants absences by e-mail and SMS at any hour, and prints their ids as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from ediary import create_app
from ediary.audit.recording import Actor, Channel, operation
from ediary.db import db
from ediary.notifications.models import NotificationPreference
from ediary.people.models import User
from ediary.schools.models import Pupil
from ediary.schools.operations import link_guardian
from tests.conftest import test_config
from tests.contacts.helpers import verified_contacts
from tests.factories import make_user

SYSTEM = Actor.system(Channel.CLI)


@operation
def _wants_everything(actor: Actor, user: User) -> None:
    """The parent's choices, stored as the settings page stores them; set before any address
    is on file (the page itself asks for one first: tests/portal/test_settings_form.py)."""
    db.session.add(
        NotificationPreference(
            user_id=user.id, email=True, sms=True, first_absence=True, absence=True,
            grade=False, remark=False, digest=False,
            quiet_from=dt.time(0), quiet_until=dt.time(0),  # none: the test runs at any hour
        )
    )  # fmt: skip


def prepare(pupil_id: int, parent_login: str, other_login: str) -> dict[str, object]:
    pupil = db.session.get(Pupil, pupil_id)
    assert pupil is not None
    parent = db.session.query(User).filter_by(login=parent_login).one()
    other = db.session.query(User).filter_by(login=other_login).one()
    second = make_user("tomasz_wisniewski")
    link_guardian(SYSTEM, second, pupil)
    verified_contacts(other, "piotr@example.test", "+48500900900")
    for user in (parent, second, other):
        _wants_everything(SYSTEM, user)
    db.session.commit()
    return {"parent_id": parent.id, "second_id": second.id, "other_parent_id": other.id}


def main(argv: list[str]) -> None:
    path, command = argv[0], argv[1]
    app = create_app(test_config(f"sqlite:///{path}"))
    with app.app_context():
        if command != "prepare":
            raise SystemExit(f"unknown command {command}")
        result = prepare(int(argv[2]), argv[3], argv[4])
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
