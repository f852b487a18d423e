"""The timetable import: aSc XML and CSV read safely, the dry run row by row, the commit in one
operation (channel `import`) that does exactly the dry run; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.errors import Refusal
from ediary.timetable.grid import plan_on
from ediary.timetable.imports.asc import read_asc
from ediary.timetable.imports.commit import commit_import, store_upload
from ediary.timetable.imports.csvfile import read_csv
from ediary.timetable.imports.dryrun import dry_run
from ediary.timetable.imports.source import MAX_BYTES
from ediary.timetable.models import Lesson
from ediary.timetable.planning import SlotTimes, save_bell_schedule
from tests.events import capture_events
from tests.factories import World

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_asc_export_is_read_into_cards(app_ctx: object) -> None:
    source = read_asc(fixture("asc_plan.xml"))
    assert [(p.number, f"{p.starts_at:%H:%M}") for p in source.periods] == [
        (1, "08:00"),
        (2, "08:55"),
        (3, "09:50"),
    ]
    assert len(source.cards) == 10
    first = source.cards[0]
    assert (first.weekday, first.slot_number, first.class_name, first.group_name) == (
        0,
        1,
        "5a",
        None,
    )
    assert (first.teacher, first.room, first.room_short, first.weekly_hours) == (
        "Anna Nowak",
        "Sala 12",
        "12",
        4,
    )
    english = [c for c in source.cards if c.subject == "Język angielski"]
    assert {(c.group_name, c.teacher, c.weekday) for c in english} == {
        ("gr. 1", "Ewa Zielińska", 4),
        ("gr. 2", "Marek Nowy", 4),
    }


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml", "external_dtd.xml"])
def test_hostile_xml_is_refused_before_anything_is_read(app_ctx: object, name: str) -> None:
    with pytest.raises(Refusal) as refusal:
        read_asc(fixture(name))
    assert refusal.value.code == "xml_forbidden"
    assert "bezpieczeństwa" in str(refusal.value.message)


def test_broken_empty_or_huge_files_are_refused(app_ctx: object) -> None:
    with pytest.raises(Refusal, match="xml_invalid"):
        read_asc(b"<timetable><periods>")
    with pytest.raises(Refusal, match="xml_not_asc"):
        read_asc(b"<html></html>")
    with pytest.raises(Refusal, match="empty_file"):
        read_csv(b"  \r\n")
    huge = b"<timetable>" + b" " * MAX_BYTES + b"</timetable>"
    with pytest.raises(Refusal, match="too_large"):
        read_asc(huge)


def _csv_utf8(separator: str, bom: bool) -> bytes:
    text = (FIXTURES / "plan_cp1250.csv").read_bytes().decode("cp1250")
    text = text.replace(";", separator)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: fixture("plan_cp1250.csv"), id="cp1250-semicolons"),
        pytest.param(lambda: _csv_utf8(",", True), id="utf8-bom-commas"),
        pytest.param(lambda: _csv_utf8(";", False), id="utf8-semicolons"),
    ],
)
def test_csv_in_windows_1250_or_utf_8_with_either_separator(app_ctx: object, data: object) -> None:
    assert callable(data)
    source = read_csv(data())
    assert [(c.line, c.weekday, c.slot_number, c.class_name) for c in source.cards[:3]] == [
        (2, 0, 1, "5a"),
        (3, 2, 1, "5a"),
        (4, 1, 2, "5b"),
    ]
    assert source.cards[3].teacher == "Ewa Zielińska" and source.cards[3].group_name == "gr. 1"
    assert source.cards[5].problem == "nieznany dzień „sobota”"


def _statuses(world: World, data: bytes, reader: object = read_asc) -> dict[str, list[str]]:
    assert callable(reader)
    result = dry_run(world.school, reader(data), world.today)
    found: dict[str, list[str]] = {}
    for row in result.rows:
        found.setdefault(row.status, []).append(
            row.what
            + (f" [{row.old}]" if row.old else "")
            + (f" ({row.reason})" if row.reason else "")
        )
    return found


def test_the_dry_run_says_per_row_what_would_happen(world: World, session: Session) -> None:
    found = _statuses(world, fixture("asc_plan.xml"))
    assert "śr. 1: Matematyka, 5a, Anna Nowak, sala 12" in found["unchanged"]
    assert "dzwonek: lekcja 1, 08:00-08:45" in found["unchanged"]
    assert "dzwonek: lekcja 2, 08:55-09:40" in found["new"]
    assert "pon. 1: Matematyka, 5a, Anna Nowak, sala 12" in found["new"]
    # Matched to the school's Ewa Zielinska, diacritics aside.
    assert "pt. 1: Język angielski, 5a (gr. 1), Ewa Zielinska, sala 14" in found["new"]
    assert "przydział: Anna Nowak, Matematyka, 5a, 4 godz. tyg. [1 godz. tyg.]" in found["changed"]
    (refused,) = found["refused"]
    assert refused.startswith("pt. 1: Język angielski, 5a (gr. 2), Marek Nowy")
    assert "nieznany nauczyciel „Marek Nowy”" in refused
    assert "removed" not in found
    # Nothing was written by looking.
    assert len(plan_on(world.school.id, world.today)) == 1


def test_the_commit_does_the_dry_run_once_and_the_same_file_again_changes_nothing(
    world: World, session: Session
) -> None:
    actor = Actor(world.school_admin, Channel.IMPORT)
    upload = store_upload(world.school_admin, world.school, "plan.xml", fixture("asc_plan.xml"))
    monday = world.today + dt.timedelta(days=7 - world.today.weekday())
    done = capture_events(
        lambda: commit_import(actor, world.school, upload, monday),
        "timetable.changed",
        "timetable.changed",
    )
    assert {e.audience_id for e in done.events} == {world.class_a.id, world.class_b.id}
    plan = plan_on(world.school.id, monday)
    assert len(plan) == 9  # ten cards, one refused
    assert len(plan_on(world.school.id, world.today)) == 1  # before the date: as it was
    history = session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.entity == "timetable_entries",
            HistoryEntry.actor_id == world.school_admin.id,
        )
        .order_by(HistoryEntry.id)
    ).all()
    assert len([h for h in history if h.action == "create"]) == 8  # Wednesday's math was there
    assert {h.channel for h in history} == {"import"}
    lessons = session.scalars(select(Lesson).where(Lesson.date == monday)).all()
    assert {(lesson.slot_number, lesson.class_id) for lesson in lessons} == {
        (1, world.class_a.id),
        (2, world.class_a.id),
    }
    # The same file again: every row unchanged (but the refused one), nothing written.
    again = store_upload(world.school_admin, world.school, "plan.xml", fixture("asc_plan.xml"))
    before = session.scalar(select(HistoryEntry.id).order_by(HistoryEntry.id.desc()).limit(1))
    second = capture_events(lambda: commit_import(actor, world.school, again, monday))
    assert not second.result.changes
    assert {r.status for r in second.result.rows} == {"unchanged", "refused"}
    after = session.scalar(select(HistoryEntry.id).order_by(HistoryEntry.id.desc()).limit(1))
    assert after == before


def test_a_csv_naming_one_class_replaces_only_its_plan(world: World, session: Session) -> None:
    save_bell_schedule(
        Actor(world.school_admin, Channel.WEB),
        world.school,
        [SlotTimes(1, dt.time(8), dt.time(8, 45)), SlotTimes(2, dt.time(8, 55), dt.time(9, 40))],
    )
    found = _statuses(world, fixture("plan_cp1250.csv"), read_csv)
    assert "śr. 1: matematyka, 5a, Anna Nowak, sala 12" in found["unchanged"]
    assert "wt. 2: fizyka, 5b, Jan Kowalski, sala 14" in found["new"]
    reasons = " ".join(found["refused"])
    assert "nie ma lekcji nr 9 w dzwonkach" in reasons and "nieznany dzień „sobota”" in reasons
