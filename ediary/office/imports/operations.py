"""The import's writes: the upload kept for the dry run, the remembered mapping, the commit.

The commit is ONE operation in one transaction (channel `import`): it recomputes the plan from
the kept file (the register may have changed since the dry run) and applies the accepted rows;
a refusal or an error anywhere leaves nothing written. Rows are added through the ORM so that
the history listener writes a row per change, and flushed in chunks, the progress reported
after each (`Progress`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select

from ediary.access.revocation import access_changed, class_members_changed, pupil_moved
from ediary.audit.recording import Actor, operation
from ediary.db import db, utcnow
from ediary.office.imports.fields import folded
from ediary.office.imports.models import ImportMapping, ImportUpload
from ediary.office.imports.plan import NEW, GuardianPlan, Plan, RowPlan
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil, School
from ediary.schools.queries import school_today

KEPT = dt.timedelta(hours=2)  # an upload not committed within this is deleted
CHUNK = 200  # rows per flush: a progress step

Progress = Callable[[int, int], None]  # (rows done, rows to do)


@dataclass
class Summary:
    pupils_new: int = 0
    pupils_changed: int = 0
    guardians_new: int = 0
    links_new: int = 0


@operation
def keep_upload(actor: Actor, school: School, filename: str, kind: str, data: bytes) -> str:
    """Keeps an uploaded file server-side under a random token bound to the person and the
    school; expired uploads (of anyone) go at the same time."""
    assert actor.user is not None
    discard_expired()
    token = secrets.token_hex(32)
    db.session.add(
        ImportUpload(
            token=token,
            user_id=actor.user.id,
            school_id=school.id,
            kind=kind,
            filename=filename[:200],
            data=data,
        )
    )
    return token


def discard_expired() -> None:
    db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - KEPT))


def discard(upload: ImportUpload) -> None:
    db.session.delete(upload)


@operation
def remember_mapping(actor: Actor, school: School, columns: dict[str, str]) -> ImportMapping:
    mapping = db.session.get(ImportMapping, school.id)
    if mapping is None:
        mapping = ImportMapping(school_id=school.id, columns=columns)
        db.session.add(mapping)
    elif mapping.columns != columns:
        mapping.columns = columns
    return mapping


@operation
def import_rows(
    actor: Actor, school: School, plan: Plan, progress: Progress | None = None
) -> Summary:
    """Applies the accepted rows of `plan` (made in this transaction by the caller)."""
    summary = Summary()
    accepted = plan.accepted
    logins = _Logins()
    created: dict[str, User] = {}
    changed_classes: set[int] = set()
    linked: dict[tuple[int, int], int] = {}
    for start in range(0, len(accepted), CHUNK):
        chunk = accepted[start : start + CHUNK]
        pupils = [_pupil(school, row, summary, changed_classes) for row in chunk]
        users = [
            [_guardian_user(g, created, logins, summary) for g in row.guardians] for row in chunk
        ]
        db.session.flush()  # ids for the guardianships (the models have no relationships)
        for row, pupil, guardians in zip(chunk, pupils, users, strict=True):
            for guardian, user in zip(row.guardians, guardians, strict=True):
                if guardian.link and (user.id, pupil.id) not in linked:
                    db.session.add(
                        Guardianship(school_id=school.id, user_id=user.id, pupil_id=pupil.id)
                    )
                    linked[(user.id, pupil.id)] = user.id
                    summary.links_new += 1
        db.session.flush()
        if progress is not None:
            progress(start + len(chunk), len(accepted))
    class_members_changed(*changed_classes)
    access_changed(*linked.values())
    if progress is not None:
        progress(len(accepted), len(accepted))
    return summary


def _pupil(school: School, row: RowPlan, summary: Summary, changed_classes: set[int]) -> Pupil:
    if row.status == NEW:
        assert row.class_id is not None
        pupil = Pupil(school_id=school.id, class_id=row.class_id, **row.pupil_values)
        pupil.admitted_on = pupil.admitted_on or school_today(school)
        db.session.add(pupil)
        changed_classes.add(row.class_id)
        summary.pupils_new += 1
        return pupil
    found = db.session.get(Pupil, row.pupil_id)
    assert found is not None
    for key, value in row.pupil_values.items():
        setattr(found, key, value)
    if row.class_id is not None and row.class_id != found.class_id:
        previous = found.class_id
        found.class_id = row.class_id
        pupil_moved(found, previous)
    summary.pupils_changed += 1
    return found


def _guardian_user(
    guardian: GuardianPlan, created: dict[str, User], logins: _Logins, summary: Summary
) -> User:
    if guardian.user_id is not None:
        user = db.session.get(User, guardian.user_id)
        assert user is not None
        for key, value in guardian.updates.items():
            setattr(user, key, value)
        return user
    if guardian.key in created:
        return created[guardian.key]
    values = guardian.values
    user = User(
        login=logins.new(values["first_name"], values["last_name"]),
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"].lower() or None,
        phone=values["phone"] or None,
        password_hash=None,  # the activation letter gives them a way in
    )
    db.session.add(user)
    created[guardian.key] = user
    summary.guardians_new += 1
    return user


class _Logins:
    """New guardians' logins, "jan.kowalski", "jan.kowalski2"...: the logins taken are read
    once, not one query per guardian."""

    def __init__(self) -> None:
        self.taken = set(db.session.scalars(select(User.login)))

    def new(self, first: str, last: str) -> str:
        base = re.sub(r"[^a-z0-9]+", ".", f"{folded(first)}.{folded(last)}").strip(".")[:60]
        base = base or "rodzic"
        login, n = base, 1
        while login in self.taken:
            n += 1
            login = f"{base}{n}"
        self.taken.add(login)
        return login
