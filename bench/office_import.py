"""The office import's cost: 1,900 pupils and 3,000 guardians, dry run and commit.

    python -m bench.office_import                                  # SQLite, a temporary file
    python -m bench.office_import --database-url postgresql+psycopg://postgres@127.0.0.1:5432/office_import

Creates the database named in the URL (it must not exist yet; dropped at the end), one school
with 80 classes (grades 1-8, "a" to "j") of the current year, and a generated Windows-1250 CSV
of 1,900 pupils with 3,000 distinct guardians (most pupils two, siblings sharing theirs, as
in the demo district). Then, as the pages do: reads the file and makes the dry run (the page
the secretary sees), makes it again and applies it in one transaction (the commit), and runs the
dry run of the same file once more (everything must be unchanged). The target is dry run +
commit ≤ 30 s. Figures only; it exits 1 if the second dry run is not all "unchanged".
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.config import Config
from ediary.db import Base, db
from ediary.office.imports.fields import guess
from ediary.office.imports.operations import import_rows
from ediary.office.imports.plan import UNCHANGED, Plan, make_plan
from ediary.office.imports.reading import read_sheet
from ediary.schools.models import School
from ediary.schools.operations import (
    create_class,
    create_district,
    create_school,
    create_school_year,
)
from ediary.schools.pesel import checksum_digit

PUPILS = 1900
GUARDIANS = 3000
SYSTEM = Actor.system(Channel.CLI)
FIRST = ["Anna", "Jan", "Łucja", "Piotr", "Zofia", "Wiktor", "Maja", "Jakub", "Ewa", "Michał"]
LAST = ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński"]
HEADERS = [
    "Imię",
    "Nazwisko",
    "PESEL",
    "Klasa",
    "Imię opiekuna 1",
    "Nazwisko opiekuna 1",
    "E-mail opiekuna 1",
    "Telefon opiekuna 1",
    "Imię opiekuna 2",
    "Nazwisko opiekuna 2",
    "E-mail opiekuna 2",
    "Telefon opiekuna 2",
]


def _pesel(born: dt.date, serial: int) -> str:
    first_ten = f"{born.year % 100:02d}{born.month + 20:02d}{born.day:02d}{serial:04d}"
    return first_ten + str(checksum_digit(first_ten))


def generated_csv(today: dt.date) -> bytes:
    """1,900 pupils in 80 classes; 3,000 guardians: families of one or two children."""
    rng = random.Random(13)  # noqa: S311 - made-up people, the same on every run
    classes = [f"{grade}{letter}" for grade in range(1, 9) for letter in "abcdefghij"]
    lines = [";".join(HEADERS)]
    guardian = 0
    pupil = 0
    while pupil < PUPILS:
        children = min(rng.choice((1, 1, 1, 1, 2)), PUPILS - pupil)
        # Two guardians for most families, one for the rest, until there are 3,000 in all.
        parents = []
        for _ in range(min(2 if rng.random() < 0.95 else 1, GUARDIANS - guardian)):
            guardian += 1
            parents.append(
                [
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    f"rodzic{guardian}@example.pl",
                    f"600{guardian:06d}",
                ]
            )
        for _ in range(children):
            pupil += 1
            grade = rng.randint(1, 8)
            born = dt.date(today.year - 6 - grade, rng.randint(1, 12), rng.randint(1, 28))
            cells = [rng.choice(FIRST), rng.choice(LAST), _pesel(born, pupil)]
            cells.append(f"{grade}{rng.choice('abcdefghij')}")
            for parent in parents + [["", "", "", ""]] * (2 - len(parents)):
                cells.extend(parent)
            lines.append(";".join(cells))
    assert len(classes) == 80
    print(f"file: {PUPILS} pupils, {guardian} guardians", flush=True)
    return ("\r\n".join(lines) + "\r\n").encode("cp1250")


def run(url: str) -> int:
    secret = "bench"  # noqa: S105 - a throwaway app
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY=secret, TESTING=True))
    with app.app_context():
        assert db.engine is not None
        Base.metadata.create_all(db.engine)
        today = dt.datetime.now(ZoneInfo("Europe/Warsaw")).date()
        start = today.year if today.month >= 9 else today.year - 1
        district = create_district(SYSTEM, "Gmina (benchmark)")
        school = create_school(SYSTEM, district, "Szkoła (benchmark)", "SB")
        year = create_school_year(
            SYSTEM,
            school,
            dt.date(start, 9, 1),
            dt.date(start + 1, 2, 1),
            dt.date(start + 1, 6, 26),
        )
        for grade in range(1, 9):
            for letter in "abcdefghij":
                create_class(SYSTEM, year, f"{grade}{letter}", grade)
        db.session.commit()
        school_id = school.id
        data = generated_csv(today)

    def dry_run() -> tuple[float, Plan]:
        with app.app_context():
            began = time.perf_counter()
            found = db.session.get(School, school_id)
            assert found is not None
            sheet = read_sheet(data, "csv")
            plan = make_plan(found, sheet, guess(sheet.headers), today)
            db.session.rollback()
            return time.perf_counter() - began, plan

    shown, plan = dry_run()
    print(f"dry run: {shown:.1f} s ({plan.count('new')} new, {plan.count('refused')} refused)")
    with app.app_context():
        began = time.perf_counter()
        found = db.session.get(School, school_id)
        assert found is not None
        sheet = read_sheet(data, "csv")
        plan = make_plan(found, sheet, guess(sheet.headers), today)
        summary = import_rows(Actor(None, Channel.IMPORT), found, plan)
        db.session.commit()
        committed = time.perf_counter() - began
    print(
        f"commit: {committed:.1f} s ({summary.pupils_new} pupils, {summary.guardians_new} "
        f"guardian accounts, {summary.links_new} links)"
    )
    print(f"dry run + commit: {shown + committed:.1f} s (target ≤ 30 s)")
    again, plan = dry_run()
    unchanged = plan.count(UNCHANGED)
    print(f"the same file again, dry run: {again:.1f} s, {unchanged} of {PUPILS} unchanged")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return 0 if unchanged == PUPILS else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database that does not exist yet")
    args = parser.parse_args()
    if args.database_url:
        with scratch_database(args.database_url) as url:
            sys.exit(run(url))
    with tempfile.TemporaryDirectory() as folder:
        sys.exit(run(f"sqlite:///{Path(folder) / 'office_import.db'}"))


if __name__ == "__main__":
    main()
