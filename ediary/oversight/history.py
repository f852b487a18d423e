"""The school's change history for its director: every HistoryEntry row of the school, filtered
by who, which pupil, which class, dates, channel and kiosk; newest first, paged by "before id".

Filters come from the query string as ids only (never names: children's data stays out of URLs).
Each id must be the school's own, else the page is missing (404), like any foreign object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from werkzeug.exceptions import NotFound

from ediary.audit.models import HistoryEntry
from ediary.audit.queries import ACTION_NAMES, CHANNEL_NAMES, ENTITY_NAMES
from ediary.audit.recording import Channel
from ediary.db import db
from ediary.ids import MAX_BIG_ID, MAX_ID, parse_id
from ediary.kiosks.models import Kiosk
from ediary.people.models import User
from ediary.schools.models import Pupil, School, SchoolClass

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000


@dataclass
class Filters:
    actor: int | None = None
    pupil: int | None = None
    school_class: int | None = None
    kiosk: int | None = None
    channel: str = ""
    since: str = ""  # as typed (kept on a refusal), checked into `since_day`
    until: str = ""
    since_day: dt.date | None = None
    until_day: dt.date | None = None
    errors: list[LazyString] = field(default_factory=list)

    def query(self) -> dict[str, str | int]:
        """The filters as query-string parameters (for the next page's and the export's links)."""
        pairs = {
            "actor": self.actor,
            "pupil": self.pupil,
            "class": self.school_class,
            "kiosk": self.kiosk,
            "channel": self.channel,
            "from": self.since,
            "to": self.until,
        }
        return {k: v for k, v in pairs.items() if v is not None and v != ""}


def _day(raw: str, label: LazyString, errors: list[LazyString]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(_l("%(field)s: podaj datę w postaci RRRR-MM-DD.", field=label))
        return None


def _id(name: str, high: int = MAX_ID) -> int | None:
    """`?name=<id>`: None when absent or empty (the form's "all"); anything else but an id, 404."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    value = parse_id(raw, high)
    if value is None:
        raise NotFound()
    return value


def read_filters(school: School) -> Filters:
    """The query string's filters; a foreign or impossible id is a 404, a bad date a message."""
    f = Filters(
        actor=_id("actor"),
        pupil=_id("pupil"),
        school_class=_id("class"),
        kiosk=_id("kiosk"),
        channel=request.args.get("channel", ""),
        since=request.args.get("from", "").strip()[:20],
        until=request.args.get("to", "").strip()[:20],
    )
    if f.channel and f.channel not in {c.value for c in Channel}:
        raise NotFound()
    if f.actor is not None and not db.session.scalar(  # someone who acted in this school
        select(HistoryEntry.id)
        .where(HistoryEntry.school_id == school.id, HistoryEntry.actor_id == f.actor)
        .limit(1)
    ):
        raise NotFound()
    owners = (
        (select(Pupil.school_id).where(Pupil.id == f.pupil), f.pupil),
        (select(SchoolClass.school_id).where(SchoolClass.id == f.school_class), f.school_class),
        (select(Kiosk.school_id).where(Kiosk.id == f.kiosk), f.kiosk),
    )
    for owner, value in owners:
        if value is not None and db.session.scalar(owner) != school.id:
            raise NotFound()
    f.since_day = _day(f.since, _l("Od"), f.errors)
    f.until_day = _day(f.until, _l("Do"), f.errors)
    if f.since_day and f.until_day and f.since_day > f.until_day:
        f.errors.append(_l("Data „od” jest późniejsza niż data „do”."))
    return f


def _filtered(school: School, f: Filters) -> Select[HistoryEntry]:
    query = select(HistoryEntry).where(HistoryEntry.school_id == school.id)
    if f.actor is not None:
        query = query.where(HistoryEntry.actor_id == f.actor)
    if f.pupil is not None:
        query = query.where(HistoryEntry.pupil_id == f.pupil)
    if f.school_class is not None:  # the pupils now in the class
        members = select(Pupil.id).where(Pupil.class_id == f.school_class)
        query = query.where(HistoryEntry.pupil_id.in_(members))
    if f.kiosk is not None:
        query = query.where(HistoryEntry.kiosk_id == f.kiosk)
    if f.channel:
        query = query.where(HistoryEntry.channel == f.channel)
    zone = ZoneInfo(school.timezone)
    if f.since_day:
        start = dt.datetime.combine(f.since_day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        query = query.where(HistoryEntry.at >= start)
    if f.until_day:
        end_day = f.until_day + dt.timedelta(days=1)
        end = dt.datetime.combine(end_day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        query = query.where(HistoryEntry.at < end)
    return query.order_by(HistoryEntry.id.desc())


@dataclass(frozen=True)
class Row:
    id: int
    at: dt.datetime
    who: str
    channel: str | LazyString
    kiosk_id: int | None
    entity: str | LazyString
    entity_id: int | None
    action: str | LazyString
    fields: str


def _rows(entries: list[HistoryEntry], zone: ZoneInfo) -> list[Row]:
    actors = {e.actor_id for e in entries if e.actor_id is not None}
    names = (
        {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(actors)))}
        if actors
        else {}
    )
    return [
        Row(
            id=e.id,
            at=e.at.astimezone(zone),
            who=names.get(e.actor_id, "") if e.actor_id else "",
            channel=CHANNEL_NAMES.get(e.channel, e.channel),
            kiosk_id=e.kiosk_id,
            entity=ENTITY_NAMES.get(e.entity, e.entity),
            entity_id=e.entity_id,
            action=ACTION_NAMES.get(e.action, e.action),
            # Field names only: the values may be a child's data, read on the object's own page.
            fields=", ".join(sorted(set(e.new or {}) | set(e.old or {}))),
        )
        for e in entries
    ]


def page(school: School, f: Filters, before: int | None) -> tuple[list[Row], int | None]:
    """A page of rows, newest first, and the "before" id of the next page (None: the last)."""
    query = _filtered(school, f)
    if before is not None:
        query = query.where(HistoryEntry.id < before)
    entries = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return _rows(entries, ZoneInfo(school.timezone)), entries[-1].id if more else None


def export_rows(school: School, f: Filters) -> list[Row]:
    entries = list(db.session.scalars(_filtered(school, f).limit(EXPORT_LIMIT)))
    return _rows(entries, ZoneInfo(school.timezone))


def before_arg() -> int | None:
    return _id("before", MAX_BIG_ID)


@dataclass(frozen=True)
class Choices:
    actors: list[tuple[int, str]]
    classes: list[tuple[int, str]]
    pupils: list[tuple[int, str]]  # of the chosen class only: a school's pupils are too many
    kiosks: list[int]
    channels: list[tuple[str, str | LazyString]]


def choices(school: School, f: Filters) -> Choices:
    actor_ids = select(HistoryEntry.actor_id).where(HistoryEntry.school_id == school.id).distinct()
    actors = db.session.scalars(select(User).where(User.id.in_(actor_ids)))
    classes = db.session.scalars(
        select(SchoolClass)
        .where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.grade_level, SchoolClass.name, SchoolClass.id)
    )
    pupils: Iterable[Pupil] = (
        db.session.scalars(
            select(Pupil)
            .where(Pupil.class_id == f.school_class)
            .order_by(Pupil.last_name, Pupil.first_name)
        )
        if f.school_class is not None
        else []
    )
    return Choices(
        actors=sorted(((u.id, u.full_name) for u in actors), key=lambda a: a[1]),
        classes=[(c.id, c.name) for c in classes],
        pupils=[(p.id, f"{p.last_name} {p.first_name}") for p in pupils],
        kiosks=list(
            db.session.scalars(
                select(Kiosk.id).where(Kiosk.school_id == school.id).order_by(Kiosk.id)
            )
        ),
        channels=[(c.value, CHANNEL_NAMES.get(c.value, c.value)) for c in Channel],
    )
