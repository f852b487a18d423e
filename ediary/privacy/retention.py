"""Retention: the personal data of pupils who left long ago are pseudonymised, with history.

The lesson diary is kept 5 years after the pupil left: archive category B5 of the school's
"jednolity rzeczowy wykaz akt" (the diary's documents, rozporządzenie MEN z 25 sierpnia 2017 r. w
sprawie sposobu prowadzenia ... dokumentacji przebiegu nauczania, and the archive regulations it
points to). The period is `--years` of `ediary privacy retention` (default `KEEP_YEARS`), so a
school whose wykaz akt says otherwise can follow it. The diary rows (grades, attendance) stay,
tied to "Uczeń #id"; the name, PESEL, address, birth place and identity document are cleared
and the guardians unlinked. A pupil already pseudonymised is not due again (idempotent).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select

from ediary.access.revocation import access_changed
from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.schools.models import Guardianship, Pupil

KEEP_YEARS = 5  # category B5: five years after the pupil left (see the module's docstring)
PSEUDONYM_FIRST = "Uczeń"


def pseudonym_last(pupil_id: int) -> str:
    return f"#{pupil_id}"


def cutoff(today: dt.date, years: int) -> dt.date:
    """The last leaving date that is due: more than `years` years before `today`."""
    try:
        return today.replace(year=today.year - years) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28) - dt.timedelta(days=1)


def due(today: dt.date, years: int = KEEP_YEARS) -> list[Pupil]:
    """Pupils who left more than `years` years ago and still carry personal data or guardians."""
    guarded = select(Guardianship.id).where(Guardianship.pupil_id == Pupil.id).exists()
    return list(
        db.session.scalars(
            select(Pupil)
            .where(Pupil.left_on.is_not(None), Pupil.left_on <= cutoff(today, years))
            .where(
                or_(
                    Pupil.first_name != PSEUDONYM_FIRST,
                    Pupil.pesel.is_not(None),
                    Pupil.address.is_not(None),
                    Pupil.birth_place.is_not(None),
                    Pupil.identity_document.is_not(None),
                    guarded,
                )
            )
            .order_by(Pupil.id)
        )
    )


@operation
def pseudonymise(actor: Actor, pupil: Pupil) -> int:
    """Clear `pupil`'s personal data and unlink the guardians; the number unlinked."""
    pupil.first_name = PSEUDONYM_FIRST
    pupil.last_name = pseudonym_last(pupil.id)
    pupil.pesel = None
    pupil.address = None
    pupil.birth_place = None
    pupil.identity_document = None
    links = db.session.scalars(select(Guardianship).where(Guardianship.pupil_id == pupil.id)).all()
    for link in links:
        db.session.delete(link)
    access_changed(*(link.user_id for link in links))  # their open pages lose the child now
    return len(links)
