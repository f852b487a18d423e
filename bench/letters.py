"""How long the office waits for a class's activation letters (issue 13 item 6: 25 ≤ 3 s).

    python -m bench.letters [--letters 25] [--rounds 3]

Builds one class with that many pupils, each with a guardian, in a scratch SQLite file, then
times what the page's POST does: issue a new code per guardian (one operation, history rows)
and render the PDF with WeasyPrint (one A4 page each, with a QR code). Prints the median and the
worst of the rounds in seconds, and the PDF's size. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from ediary import create_app
from ediary.audit.recording import Actor, Channel
from ediary.config import Config
from ediary.db import Base, db
from ediary.people.activation.letters import LetterRequest, issue_letters, letters_pdf
from ediary.people.operations import create_user
from ediary.schools.operations import (
    create_class,
    create_district,
    create_school,
    create_school_year,
    enrol_pupil,
    link_guardian,
)

SYSTEM = Actor.system(Channel.CLI)
FIRST = ("Zofia", "Łucja", "Jędrzej", "Bożena", "Małgorzata", "Ścibor", "Źdźisław", "Grażyna")
LAST = ("Wąchocka", "Żółkiewski", "Dęboróg", "Świętokrzyska", "Łukasik", "Kęsicka")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'letters.db'}"
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY=uuid.uuid4().hex, REDIS_URL=None))
        with app.test_request_context():
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            district = create_district(SYSTEM, "Gmina Mirzec")
            school = create_school(SYSTEM, district, "Szkoła Podstawowa w Mirzcu", "SP Mirzec")
            year = dt.datetime.now(dt.UTC).year
            school_year = create_school_year(
                SYSTEM,
                school,
                dt.date(year, 9, 1),
                dt.date(year + 1, 2, 1),
                dt.date(year + 1, 6, 26),
            )
            school_class = create_class(SYSTEM, school_year, "4b", 4)
            requests = []
            for n in range(args.letters):
                first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
                pupil = enrol_pupil(SYSTEM, school_class, first, last)
                guardian = create_user(
                    SYSTEM, login=f"rodzic{n}", first_name=FIRST[-1 - n % 8], last_name=last
                )
                db.session.flush()
                link_guardian(SYSTEM, guardian, pupil)
                requests.append(LetterRequest(guardian, school, pupil))
            db.session.commit()
            letters_pdf(issue_letters(SYSTEM, requests[:1]))  # WeasyPrint's fonts, loaded once
            db.session.commit()
            took, size = [], 0
            for _round in range(args.rounds):
                started = time.perf_counter()
                data = letters_pdf(issue_letters(SYSTEM, requests))
                db.session.commit()
                took.append(time.perf_counter() - started)
                size = len(data)
    print(
        f"{args.letters} activation letters (codes + PDF): median {statistics.median(took):.2f} s, "
        f"worst {max(took):.2f} s over {args.rounds} rounds; PDF {size / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
