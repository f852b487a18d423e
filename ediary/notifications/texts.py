"""The words of outgoing messages, in Polish (the parents' language; the catalogue has English).

An SMS is short and plain: which child, what happened, where to look. Full remark texts stay in
the diary: an SMS may be read by anyone holding the phone.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from ediary.diary.values import GRADE_NAMES


def _(message: str, /, **values: Any) -> str:
    """Flask-Babel's gettext, typed (the library has no annotations)."""
    return str(gettext(message, **values))


def event_line(topic: str, payload: dict[str, Any], child: str) -> str:
    """One line about one event (an SMS, or a line of a digest)."""
    if topic == "first_absence":
        return _(
            "%(child)s: nieobecność na pierwszej lekcji (%(subject)s, %(date)s).",
            child=child,
            subject=payload["subject"],
            date=payload["date"],
        )
    if topic == "first_cancelled":
        if payload.get("first_slot") is None:
            return _(
                "%(child)s: %(date)s wszystkie lekcje odwołane (odwołano %(subject)s).",
                child=child,
                date=payload["date"],
                subject=payload["subject"],
            )
        return _(
            "%(child)s: %(date)s odwołano pierwszą lekcję (%(subject)s). Zajęcia zaczynają się "
            "od lekcji nr %(slot)s o %(time)s.",
            child=child,
            date=payload["date"],
            subject=payload["subject"],
            slot=payload["first_slot"],
            time=payload["first_at"],
        )
    if topic == "absence":
        return _(
            "%(child)s: nieobecność, %(subject)s, lekcja %(slot)s, %(date)s.",
            child=child,
            subject=payload["subject"],
            slot=payload["slot_number"],
            date=payload["date"],
        )
    if topic == "grade":
        value = payload.get("value") or _("ocena opisowa")
        if str(value).isdigit() and int(value) in GRADE_NAMES:
            value = f"{value} ({GRADE_NAMES[int(value)]})"
        return _(
            "%(child)s: nowa ocena %(value)s z przedmiotu %(subject)s.",
            child=child,
            value=value,
            subject=payload["subject"],
        )
    if topic == "remark":
        kinds = {"positive": _("pozytywna"), "negative": _("negatywna")}
        return _(
            "%(child)s: nowa uwaga %(kind)s.",
            child=child,
            kind=kinds.get(payload.get("kind", ""), _("neutralna")),
        )
    if topic == "message":
        return _(
            "Nowa wiadomość od: %(sender)s (%(subject)s).",
            sender=payload["sender"],
            subject=payload["subject"],
        )
    if topic == "announcement":
        return _("Ogłoszenie: %(title)s.", title=payload["title"])
    if topic == "excuse_decision":
        if payload.get("status") == "approved":
            return _("%(child)s: usprawiedliwienie przyjęte.", child=child)
        return _("%(child)s: usprawiedliwienie odrzucone.", child=child)
    return _("%(child)s: nowy wpis w dzienniku.", child=child)


def event_subject(topic: str, child: str) -> str:
    subjects = {
        "first_absence": _("Nieobecność na pierwszej lekcji: %(child)s", child=child),
        "absence": _("Nieobecność: %(child)s", child=child),
        "first_cancelled": _("Odwołana pierwsza lekcja: %(child)s", child=child),
        "grade": _("Nowa ocena: %(child)s", child=child),
        "remark": _("Nowa uwaga: %(child)s", child=child),
        "message": _("Nowa wiadomość w dzienniku"),
        "announcement": _("Nowe ogłoszenie w dzienniku"),
        "excuse_decision": _("Usprawiedliwienie: %(child)s", child=child),
    }
    return subjects.get(topic, _("Nowy wpis w dzienniku"))


def digest_subject() -> str:
    return _("Dziennik: podsumowanie dnia")


def with_link(text: str, url: str) -> str:
    return _("%(text)s Szczegóły: %(url)s", text=text, url=url)


def reset_subject() -> str:
    return _("Zmiana hasła do dziennika")


def reset_body(link: str, minutes: int) -> str:
    return _(
        "Ktoś (zapewne Ty) poprosił o zmianę hasła do dziennika. Aby ustawić nowe hasło, otwórz "
        "link (ważny %(minutes)s minut, działa raz):\n\n%(link)s\n\nJeśli to nie Ty, zignoruj tę "
        "wiadomość: hasło się nie zmieni.",
        minutes=minutes,
        link=link,
    )
