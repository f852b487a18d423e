"""The import's dry run and commit: per-row outcomes with Polish reasons, one operation on the
`import` channel with its history, and a second import of the same file changing nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.office.imports.fields import guess
from ediary.office.imports.operations import import_rows
from ediary.office.imports.plan import CHANGED, NEW, REFUSED, UNCHANGED, Plan, make_plan
from ediary.office.imports.reading import read_sheet
from ediary.people.models import User
from ediary.schools.models import Guardianship, Pupil
from tests.factories import World
from tests.officedata.sheets import BORN, csv_text, pesel, row


def _plan(world: World, text: str) -> Plan:
    sheet = read_sheet(text.encode("cp1250"), "csv")
    return make_plan(world.school, sheet, guess(sheet.headers), world.today)


def _apply(world: World, text: str) -> Plan:
    plan = _plan(world, text)
    import_rows(Actor(world.secretary, Channel.IMPORT), world.school, plan)
    return plan


def _history(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HistoryEntry)) or 0


def test_new_pupils_and_guardians_are_imported_on_the_import_channel(
    world: World, session: Session
) -> None:
    text = csv_text(
        [
            row(
                "Łucja",
                "Wąchocka",
                pesel(BORN, 1),
                "5a",
                ("Ewa", "Wąchocka", "ewa@example.pl", "600100200"),
            ),
            # Her brother in 5b: the same mother, one account for both.
            row(
                "Żelisław",
                "Wąchocki",
                pesel(BORN.replace(year=2013), 3),
                "5B",
                ("Ewa", "Wąchocka", "EWA@example.pl", ""),
            ),
        ]
    )
    plan = _plan(world, text)
    assert [r.status for r in plan.rows] == [NEW, NEW]
    _apply(world, text)
    lucja = session.scalar(select(Pupil).where(Pupil.pesel == pesel(BORN, 1)))
    assert lucja is not None and lucja.school_class.name == "5a" and lucja.birth_date == BORN
    mother = session.scalar(select(User).where(User.email == "ewa@example.pl"))
    assert mother is not None and mother.password_hash is None and mother.login == "ewa.wachocka"
    links = session.scalars(select(Guardianship).where(Guardianship.user_id == mother.id)).all()
    assert len(links) == 2
    created = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "pupils", HistoryEntry.entity_id == lucja.id)
        .order_by(HistoryEntry.id)
    ).all()
    assert [(h.action, h.channel, h.actor_id) for h in created] == [
        ("create", "import", world.secretary.id)
    ]


def test_importing_the_same_file_twice_changes_nothing(world: World, session: Session) -> None:
    text = csv_text([row("Jan", "Kowalczyk", pesel(BORN, 5), "5a")])
    _apply(world, text)
    written = _history(session)
    plan = _apply(world, text)
    assert [r.status for r in plan.rows] == [UNCHANGED]
    assert _history(session) == written


def test_a_changed_row_shows_old_and_new(world: World, session: Session) -> None:
    number = pesel(BORN, 7)
    _apply(world, csv_text([row("Jan", "Kowalczyk", number, "5a")]))
    plan = _plan(world, csv_text([row("Jan", "Kowalczyk-Nowak", number, "5b")]))
    (changed,) = plan.rows
    assert changed.status == CHANGED
    assert ("Nazwisko ucznia", "Kowalczyk", "Kowalczyk-Nowak") in changed.changes
    assert ("Klasa", "5a", "5b") in changed.changes
    import_rows(Actor(world.secretary, Channel.IMPORT), world.school, plan)
    pupil = session.scalar(select(Pupil).where(Pupil.pesel == number))
    assert pupil is not None and pupil.last_name == "Kowalczyk-Nowak"
    assert pupil.school_class.name == "5b"


def test_each_refused_row_says_why_in_polish_and_nothing_of_it_is_written(
    world: World, session: Session
) -> None:
    good = pesel(BORN, 11)
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    text = csv_text(
        [
            row("Jan", "Kowalczyk", good, "5a"),
            row("Jan", "Kowalczyk", good, "5a"),  # the same child again
            row("Piotr", "Nowak", bad, "5a"),
            row("Ola", "Nowak", pesel(BORN, 13), "9z"),
            row("", "Nowak", pesel(BORN, 15), "5a"),
            row("Ewa", "Nowak", pesel(BORN, 17), "5a", ("Jan", "Nowak", "not-an-address", "")),
            ["Ada", "Nowak", pesel(BORN, 19), "2016-01-01", "5a", "", "", "", ""],
            ["Iza", "Nowak", "", "", "5a", "", "", "", ""],
        ]
    )
    plan = _plan(world, text)
    reasons = {r.number: " ".join(r.reasons) for r in plan.rows if r.status == REFUSED}
    assert plan.rows[0].status == NEW
    assert "wierszu 2" in reasons[3]
    assert "cyfrę kontrolną" in reasons[4]
    assert "Nie ma klasy „9z”" in reasons[5]
    assert "Brak imienia lub nazwiska ucznia" in reasons[6]
    assert "e-mail opiekuna 1" in reasons[7]
    assert "nie zgadza się z numerem PESEL" in reasons[8]
    assert "PESEL albo datę urodzenia" in reasons[9]
    before = session.scalar(select(func.count()).select_from(Pupil))
    import_rows(Actor(world.secretary, Channel.IMPORT), world.school, plan)
    assert session.scalar(select(func.count()).select_from(Pupil)) == (before or 0) + 1


def test_a_pupil_without_pesel_is_matched_by_names_and_birth_date(
    world: World, session: Session
) -> None:
    text = csv_text([["Yusuf", "Demir", "", "14.03.2015", "5a", "", "", "", ""]])
    _apply(world, text)
    plan = _plan(world, csv_text([["Yusuf", "Demir", "", "2015-03-14", "5a", "", "", "", ""]]))
    assert [r.status for r in plan.rows] == [UNCHANGED]


def test_a_guardian_is_matched_within_the_pupil_by_names(world: World, session: Session) -> None:
    number = pesel(BORN, 21)
    _apply(world, csv_text([row("Jan", "Kowalczyk", number, "5a", ("Anna", "Kowalczyk", "", ""))]))
    plan = _plan(
        world,
        csv_text([row("Jan", "Kowalczyk", number, "5a", ("Anna", "Kowalczyk", "", "600 100 200"))]),
    )
    (changed,) = plan.rows
    assert changed.status == CHANGED and changed.guardians[0].updates == {"phone": "600 100 200"}
    import_rows(Actor(world.secretary, Channel.IMPORT), world.school, plan)
    assert (
        session.scalar(select(func.count()).select_from(User).where(User.last_name == "Kowalczyk"))
        == 1
    )


def test_the_commit_reports_its_progress_chunk_by_chunk(world: World) -> None:
    from ediary.office.imports import progress

    rows = [row(f"Uczeń{n}", "Nowak", pesel(BORN, 200 + n), "5a") for n in range(450)]
    plan = _plan(world, csv_text(rows))
    seen: list[tuple[int, int]] = []
    report = progress.reporter("t" * 64)

    def both(done: int, total: int) -> None:
        report(done, total)
        seen.append(progress.state("t" * 64) or (0, 0))

    import_rows(Actor(world.secretary, Channel.IMPORT), world.school, plan, both)
    progress.finished("t" * 64)
    assert seen == [(200, 450), (400, 450), (450, 450), (450, 450)]
    assert progress.state("t" * 64) is None
