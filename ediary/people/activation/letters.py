"""Printable activation letters: one A4 page per person with the school, the child (for a
guardian), the login, a new one-time code and a QR code of the activation address.

Issuing the letters is one operation: every person gets a new code (`issue_activation_code`),
which revokes their earlier unused codes, so a reprint makes the earlier letters useless. The
history keeps who printed whose letter: the new `activation_codes` rows carry the actor and
the person (`issued_by_id`, `user_id`). The codes exist in plain text only in the rendered
document, never in the database or a log.

Used for guardians (the office, a class's letters) and for staff (the director's console).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app, render_template, url_for

from ediary.audit.recording import Actor, operation
from ediary.documents.pdf import render_pdf
from ediary.documents.qr import qr_svg
from ediary.people.activation.operations import issue_activation_code
from ediary.people.models import User
from ediary.schools.models import Pupil, School

TEMPLATE = "documents/activation_letters.html"


@dataclass(frozen=True)
class LetterRequest:
    user: User
    school: School
    child: Pupil | None = None


@dataclass
class Letter:
    user: User
    school: School
    children: list[Pupil] = field(default_factory=list)
    code: str = ""

    @property
    def address(self) -> str:
        """The activation page with the login filled in (the code is typed: never in a URL)."""
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        return f"{base}{url_for('activation.activate')}?{urlencode({'login': self.user.login})}"


@operation
def issue_letters(actor: Actor, requests: Sequence[LetterRequest]) -> list[Letter]:
    """One letter per person (a guardian of two children listed gets one page naming both), in
    the order first named; each with a fresh code, every earlier code of the person revoked."""
    letters: dict[int, Letter] = {}
    for request in requests:
        letter = letters.setdefault(request.user.id, Letter(request.user, request.school))
        if request.child is not None and request.child not in letter.children:
            letter.children.append(request.child)
    for letter in letters.values():
        letter.code = issue_activation_code(actor, letter.user)
    return list(letters.values())


def letters_html(letters: Sequence[Letter], *, print_bar: str | None = None) -> str:
    """The print view: the same template as the PDF, with a bar to print."""
    return render_template(TEMPLATE, letters=letters, pdf=False, print_bar=print_bar, qr_svg=qr_svg)


def letters_pdf(letters: Sequence[Letter]) -> bytes:
    return render_pdf(TEMPLATE, letters=letters, print_bar=None, qr_svg=qr_svg)
