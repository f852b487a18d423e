"""Writing and reading the log of staff views of a pupil's record.

A view is one Core INSERT committed with the page's (otherwise read-only) transaction: no ORM
object, no history row, no journal event. bench/privacy.py prints what it costs a page view.
Guardians are not logged: their own views of their own child are not what the log is for.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import insert, or_, select

from ediary.access import roles
from ediary.db import db
from ediary.people.models import Membership, Role, User
from ediary.privacy.models import RecordView, Viewed
from ediary.schools.models import Pupil

LIST_LIMIT = 200  # the parent's page shows the most recent views


def note_view(viewer: User, pupil: Pupil, what: Viewed) -> None:
    """Log that `viewer` opened `what` of `pupil`'s record (and commit: a GET has nothing else)."""
    if roles.is_guardian_of(viewer, pupil.id):
        return
    db.session.execute(insert(RecordView).values(viewer_id=viewer.id, pupil_id=pupil.id, what=what))
    db.session.commit()


class SeenBy(NamedTuple):
    """One line of the parent's list: who (name and roles at the child's school), what, when."""

    who: str
    roles: list[Role]
    what: Viewed
    at: dt.datetime


def views_of(pupil: Pupil, limit: int = LIST_LIMIT) -> list[SeenBy]:
    rows = db.session.execute(
        select(RecordView, User)
        .join(User, User.id == RecordView.viewer_id)
        .where(RecordView.pupil_id == pupil.id)
        .order_by(RecordView.id.desc())
        .limit(limit)
    ).all()
    viewer_ids = {user.id for _view, user in rows}
    memberships = db.session.scalars(
        select(Membership).where(
            Membership.user_id.in_(viewer_ids),
            or_(Membership.school_id == pupil.school_id, Membership.role == Role.DISTRICT_ADMIN),
        )
    ).all()
    roles_of: dict[int, list[Role]] = {}
    for membership in memberships:
        roles_of.setdefault(membership.user_id, []).append(membership.role)
    return [
        SeenBy(user.full_name, sorted(roles_of.get(user.id, [])), view.what, view.at)
        for view, user in rows
    ]
