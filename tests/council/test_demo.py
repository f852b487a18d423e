"""The demo's council (ediary/demo/council.py): `wychowawca1`'s class has opinions, proposed and
final behaviour grades and final term grades, written in the name of who gives them, so the
council sheet shows content and `rodzic1` has a proposed behaviour grade to acknowledge. Uses
the demo district that tests/test_demo_seed.py seeds once per run (its fixtures)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Connection, text

from ediary.demo.accounts import DEMO_PASSWORD
from tests import test_demo_seed as seeded
from tests.html import text as page_text
from tests.test_demo_seed import Demo, login, scalar

# The demo seed's fixtures, shared: the district is seeded once per run.
demo_district, sql, app_on = seeded.demo_district, seeded.sql, seeded.app_on

TUTORED = (
    "SELECT c.id FROM classes c JOIN users u ON u.id = c.form_tutor_id "
    "WHERE u.login = 'wychowawca1' AND c.grade_level >= 4 ORDER BY c.id LIMIT 1"
)


def test_the_tutors_class_has_behaviour_grades_and_final_grades(sql: Connection) -> None:
    class_id = scalar(sql, TUTORED)
    pupils = scalar(sql, "SELECT count(*) FROM pupils WHERE class_id = :c AND active", c=class_id)
    graded = (
        "SELECT count(*) FROM behaviour_grades b JOIN pupils p ON p.id = b.pupil_id "
        "WHERE p.class_id = :c AND b.kind = :kind"
    )
    assert scalar(sql, graded, c=class_id, kind="proposed") == pupils - 2
    assert 0 < scalar(sql, graded, c=class_id, kind="final") < pupils - 2
    opinions = (
        "SELECT count(DISTINCT o.teacher_id) FROM behaviour_opinions o "
        "JOIN pupils p ON p.id = o.pupil_id WHERE p.class_id = :c"
    )
    assert scalar(sql, opinions, c=class_id) == 2
    finals = (
        "SELECT count(*) FROM grades g JOIN pupils p ON p.id = g.pupil_id "
        "WHERE p.class_id = :c AND g.kind IN ('term', 'year')"
    )
    assert scalar(sql, finals, c=class_id) >= pupils * 5
    # Each row's history names who gives it: the tutor the behaviour grades.
    wrong_actor = (
        "SELECT count(*) FROM behaviour_grades b JOIN pupils p ON p.id = b.pupil_id "
        "JOIN classes c ON c.id = p.class_id JOIN history h ON h.entity = 'behaviour_grades' "
        "AND h.entity_id = b.id WHERE h.actor_id IS NULL OR h.actor_id != c.form_tutor_id"
    )
    assert scalar(sql, wrong_actor) == 0
    # rodzic1's child in this class has a proposed behaviour grade to acknowledge.
    child = (
        "SELECT count(*) FROM behaviour_grades b JOIN guardianships g ON g.pupil_id = b.pupil_id "
        "JOIN users u ON u.id = g.user_id JOIN pupils p ON p.id = b.pupil_id "
        "WHERE u.login = 'rodzic1' AND p.class_id = :c AND b.kind = 'proposed'"
    )
    assert scalar(sql, child, c=class_id) == 1


def test_the_tutor_sees_the_council_sheet_with_content(
    demo_district: Demo, sql: Connection, app_on: Callable[..., Flask]
) -> None:
    class_id = scalar(sql, TUTORED)
    client = app_on(demo_district.url, DEMO_MODE=True).test_client()
    assert login(client, "wychowawca1", DEMO_PASSWORD).status_code == 302
    home = page_text(client.get("/").get_data(as_text=True))
    assert "Zestawienie na radę klasyfikacyjną: klasa" in home
    sheet = client.get(f"/council/classes/{class_id}/sheet")
    shown = page_text(sheet.get_data(as_text=True))
    assert sheet.status_code == 200
    assert "bardzo dobre" in shown and "Średnia klasy" in shown
    names = sql.execute(
        text("SELECT count(*) FROM pupils WHERE class_id = :c AND active"), {"c": class_id}
    ).scalar_one()
    assert shown.count(",") >= names  # an average (4,18) per pupil at least
