"""The fleet pages: a school's kiosks for its administrator (state, enrollment code, revoke,
move), one kiosk with its outages, and a district's kiosks for the gmina (no personal data).

The states and alerts come from fleet.py, the one read side (the gmina's board uses it too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ediary.audit.recording import Actor
from ediary.db import db, utcnow
from ediary.documents.qr import qr_svg
from ediary.errors import Refusal
from ediary.ids import parse_id
from ediary.kiosks import fleet
from ediary.kiosks.fleet import Alert, KioskState, State
from ediary.kiosks.fleet_access import (
    admin_district_ids,
    admin_school_ids,
    district_school_ids,
    load_district_fleet,
    load_kiosk_for_managing,
    load_kiosk_for_reading,
    load_school_fleet,
)
from ediary.kiosks.forms import CodeForm, MoveForm, RevokeForm
from ediary.kiosks.models import Kiosk
from ediary.kiosks.operations import issue_enrollment_code, move_kiosk, revoke_kiosk
from ediary.people.models import User
from ediary.schools.models import District, Room, School
from ediary.web.auth import login_required
from ediary.web.pages import perform

bp = Blueprint("fleet", __name__)

STATE_NAMES = {
    State.ONLINE: _l("działa"),
    State.OFFLINE: _l("bez połączenia"),
    State.STUCK: _l("zalegające wpisy"),
    State.REVOKED: _l("odłączony"),
    State.NOT_ENROLLED: _l("niezarejestrowany"),
}
ALERT_NAMES = {
    Alert.OFFLINE_IN_LESSON: _l("bez połączenia w czasie lekcji"),
    Alert.STUCK_OUTBOX: _l("wpis czeka na wysłanie ponad 10 minut"),
}
CODE_MINUTES = 30


def ago(seconds: int | None) -> str:
    """ "3 min temu": how long ago, for a person glancing at the page."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return str(_("%(n)s s temu", n=seconds))
    if seconds < 3600:
        return str(_("%(n)s min temu", n=seconds // 60))
    if seconds < 48 * 3600:
        return str(_("%(n)s godz. temu", n=seconds // 3600))
    return str(_("%(n)s dni temu", n=seconds // 86400))


def duration(seconds: int) -> str:
    if seconds < 60:
        return str(_("%(n)s s", n=seconds))
    if seconds < 3600:
        return str(_("%(n)s min", n=seconds // 60))
    return str(_("%(h)s godz. %(m)s min", h=seconds // 3600, m=seconds % 3600 // 60))


def _helpers(now: dt.datetime, zone: str = "Europe/Warsaw") -> dict[str, object]:
    local = ZoneInfo(zone)

    def since(at: dt.datetime | None) -> str:
        return ago(None if at is None else max(0, int((now - at).total_seconds())))

    def clock(at: dt.datetime | None) -> str:
        return "—" if at is None else at.astimezone(local).strftime("%Y-%m-%d %H:%M")

    return {
        "since": since,
        "clock": clock,
        "duration": duration,
        "state_names": STATE_NAMES,
        "alert_names": ALERT_NAMES,
    }


# --- the school's fleet ----------------------------------------------------------------------


@bp.get("/schools/<int:school_id>/kiosks")
@login_required
def school_fleet(school_id: int) -> ResponseReturnValue:
    school = load_school_fleet(current_user, school_id)
    return _school_page(school)


def _school_page(
    school: School,
    *,
    refusal: Refusal | None = None,
    code: str | None = None,
    code_kiosk: Kiosk | None = None,
    failed_kiosk_id: int | None = None,
) -> str:
    now = utcnow()
    states = fleet.fleet_states(db.session, [school.id], now)
    rooms = db.session.scalars(
        select(Room).where(Room.school_id == school.id).order_by(Room.name)
    ).all()
    taken = {s.room_id for s in states}
    return render_template(
        "kiosks/fleet.html",
        school=school,
        states=states,
        alerts=[s for s in states if s.alerts],
        free_rooms=[r for r in rooms if r.id not in taken],
        refusal=refusal,
        failed_kiosk_id=failed_kiosk_id,
        code=code,
        code_kiosk=code_kiosk,
        code_qr=qr_svg(code, scale=6) if code else None,
        code_minutes=CODE_MINUTES,
        revoke_form=RevokeForm(formdata=None),
        move_form=MoveForm(formdata=None),
        code_form=CodeForm(formdata=None),
        **_helpers(now, school.timezone),
    )


@bp.post("/schools/<int:school_id>/kiosks/<int:kiosk_id>/code")
@login_required
def issue_code(school_id: int, kiosk_id: int) -> ResponseReturnValue:
    """A one-time enrollment code, shown once as text and as a QR code (a scanner types it)."""
    school = load_school_fleet(current_user, school_id)
    kiosk = load_kiosk_for_managing(current_user, school, kiosk_id)
    CodeForm().validate_on_submit()  # the CSRF check is the app's; nothing else to read

    def refused(refusal: Refusal) -> str:
        return _school_page(_again(school_id), refusal=refusal, failed_kiosk_id=kiosk_id)

    def shown(code: str) -> str:
        again = _again(school_id)
        return _school_page(again, code=code, code_kiosk=db.session.get(Kiosk, kiosk_id))

    return perform(
        lambda actor: issue_enrollment_code(actor, kiosk, CODE_MINUTES),
        to=url_for(".school_fleet", school_id=school.id),
        message=_("Kod rejestracji został wydany: wydaj nowy, jeśli nie zdążono go zapisać."),
        refused=refused,
        then=shown,
    )


@bp.post("/schools/<int:school_id>/kiosks/<int:kiosk_id>/revoke")
@login_required
def revoke(school_id: int, kiosk_id: int) -> ResponseReturnValue:
    """The device loses its access at once: its teacher's screen and roster go within a second;
    the entries it has not sent stay on it and sync after it is enrolled again."""
    school = load_school_fleet(current_user, school_id)
    kiosk = load_kiosk_for_managing(current_user, school, kiosk_id)
    form = RevokeForm()

    def revoke_it(actor: Actor) -> Kiosk:
        if not form.confirm.data:
            raise Refusal(
                "not_confirmed", _("Zaznacz „Tak, odłącz ten komputer”, aby go odłączyć.")
            )
        return revoke_kiosk(actor, kiosk, utcnow())

    return perform(
        revoke_it,
        to=url_for(".school_fleet", school_id=school.id),
        message=_("Komputer %(name)s został odłączony od dziennika.", name=kiosk.name),
        refused=lambda refusal: _school_page(
            _again(school_id), refusal=refusal, failed_kiosk_id=kiosk_id
        ),
    )


@bp.post("/schools/<int:school_id>/kiosks/<int:kiosk_id>/move")
@login_required
def move(school_id: int, kiosk_id: int) -> ResponseReturnValue:
    school = load_school_fleet(current_user, school_id)
    kiosk = load_kiosk_for_managing(current_user, school, kiosk_id)
    form = MoveForm()
    room_id = parse_id(form.room.data or "")
    seen = parse_id(form.seen_room.data or "")

    def move_it(actor: Actor) -> Kiosk:
        room = db.session.get(Room, room_id) if room_id is not None else None
        if room is None or room.school_id != school.id:
            raise Refusal("room_unknown", _("Wybierz salę tej szkoły."))
        if seen is None:
            raise Refusal("invalid", _("Nieprawidłowe dane formularza. Odśwież stronę."))
        return move_kiosk(actor, kiosk, room, seen_room_id=seen)

    return perform(
        move_it,
        to=url_for(".school_fleet", school_id=school.id),
        message=lambda moved: _(
            "Komputer %(name)s jest teraz w sali %(room)s.", name=moved.name, room=moved.room.name
        ),
        refused=lambda refusal: _school_page(
            _again(school_id), refusal=refusal, failed_kiosk_id=kiosk_id
        ),
    )


def _again(school_id: int) -> School:
    """The school, read again after the rollback of a refusal (it expired every row)."""
    return db.session.get_one(School, school_id)


# --- one kiosk, and the district's fleet ---------------------------------------------------


@bp.get("/kiosks/<int:kiosk_id>")
@login_required
def kiosk(kiosk_id: int) -> ResponseReturnValue:
    found = load_kiosk_for_reading(current_user, kiosk_id)
    now = utcnow()
    (state,) = [
        s for s in fleet.fleet_states(db.session, [found.school_id], now) if s.kiosk_id == found.id
    ]
    school = db.session.get_one(School, found.school_id)
    user: User = current_user
    manager = found.school_id in admin_school_ids(user)
    return render_template(
        "kiosks/kiosk.html",
        state=_shown(state, manager),
        school=school,
        manager=manager,
        outages=fleet.outages(db.session, found.id, now),
        **_helpers(now, school.timezone),
    )


def _shown(state: KioskState, personal: bool) -> KioskState:
    """A district administrator sees no teacher: not even a name of who is at the screen."""
    if personal:
        return state
    return replace(state, teacher_id=None, teacher_name=None)


@bp.get("/districts/<int:district_id>/kiosks")
@login_required
def district_fleet(district_id: int) -> ResponseReturnValue:
    district = load_district_fleet(current_user, district_id)
    now = utcnow()
    states = [
        _shown(s, False) for s in fleet.fleet_states(db.session, district_school_ids(district), now)
    ]
    chosen = request.args.get("state", "")
    wanted = State(chosen) if chosen in State.__members__.values() else None
    shown = [s for s in states if wanted is None or s.state == wanted]
    counts = {s: sum(1 for k in states if k.state == s) for s in State}
    return render_template(
        "kiosks/district.html",
        district=district,
        states=shown,
        total=len(states),
        counts=counts,
        wanted=wanted,
        alerts=[s for s in states if s.alerts],
        **_helpers(now),
    )


# --- the start page's alerts ---------------------------------------------------------------


@bp.app_template_global()
def kiosk_alerts() -> Markup:
    """The start page's block: kiosks needing attention, with a link to the fleet page, for a
    school administrator (per school) and a district administrator (per district)."""
    user = current_user
    if not user.is_authenticated:
        return Markup("")
    now = utcnow()
    schools = [db.session.get_one(School, i) for i in admin_school_ids(user)]
    districts = [db.session.get_one(District, i) for i in admin_district_ids(user)]
    if not schools and not districts:
        return Markup("")
    school_rows = []
    for school in schools:
        states = fleet.fleet_states(db.session, [school.id], now)
        school_rows.append((school, [s for s in states if s.alerts]))
    district_rows = []
    for district in districts:
        states = fleet.fleet_states(db.session, district_school_ids(district), now)
        district_rows.append((district, sum(1 for s in states if s.alerts)))
    # A template's output, escaped by Jinja: safe to embed in the start page.
    return Markup(  # noqa: S704
        render_template(
            "kiosks/_home.html",
            school_rows=school_rows,
            district_rows=district_rows,
            **_helpers(now),
        )
    )


@bp.app_template_global()
def runs_fleet(school_id: int) -> bool:
    """Whether the signed-in person runs this school's kiosks (the school page's link)."""
    user = current_user
    return bool(user.is_authenticated) and school_id in admin_school_ids(user)
