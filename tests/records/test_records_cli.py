"""`ediary export-xml` and `ediary archive build|verify` on the demo district, as an operator
runs them: one-line messages for mistakes, exit status 1 for a tampered archive."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ediary.cli import main
from ediary.db import db
from ediary.records import export
from tests import test_demo_seed as seed
from tests.records.pki import PASSWORD, authority, director_p12
from tests.test_cli import mirzec_id, rows

demo_district = seed.demo_district
demo_copy = seed.demo_copy


def run(*args: str, **env: str) -> Result:
    saved = db.engine
    try:
        return CliRunner().invoke(main, list(args), env={**seed.CHEAP_HASHING, **env})
    finally:
        if db.engine is not None and db.engine is not saved:
            db.engine.dispose()
        if saved is not None:
            db.bind(saved)


def test_export_build_and_verify_from_the_command_line(
    demo_copy: Any, tmp_path: Path, time_machine: Any
) -> None:
    url = demo_copy.url
    school = mirzec_id(url)
    year, ends_on = rows(
        url, "SELECT id, ends_on FROM school_years WHERE school_id = :s", s=school
    )[0]
    director = rows(
        url,
        "SELECT u.login FROM users u JOIN memberships m ON m.user_id = u.id "
        "WHERE m.role = 'school_admin' AND m.school_id = :s",
        s=school,
    )[0][0]
    xml = tmp_path / "mirzec.xml"
    exported = run(
        "export-xml",
        "--database-url",
        url,
        "--school",
        str(school),
        "--year",
        str(year),
        "--out",
        str(xml),
    )
    assert exported.exit_code == 0, exported.output
    export.validate(xml)

    common = [
        "archive",
        "build",
        "--database-url",
        url,
        "--school",
        str(school),
        "--year",
        str(year),
    ]
    out = tmp_path / "archiwum.zip"
    now = dt.datetime.combine(
        dt.date.fromisoformat(str(ends_on)) + dt.timedelta(days=40), dt.time(9), tzinfo=dt.UTC
    )
    time_machine.move_to(now, tick=False)
    ca = authority("Testowe CA", now)
    p12 = director_p12(
        ca,
        tmp_path / "d.p12",
        not_before=now - dt.timedelta(days=400),
        not_after=now + dt.timedelta(days=30),
    )
    args = [*common, "--certificate", str(p12), "--out", str(out)]

    wrong = run(*args, "--director", director, EDIARY_CERTIFICATE_PASSWORD="zle")
    assert wrong.exit_code == 1 and "złe hasło" in wrong.output and "Traceback" not in wrong.output
    stranger = run(
        *args, "--director", "nauczyciel1", EDIARY_CERTIFICATE_PASSWORD=PASSWORD.decode()
    )
    assert stranger.exit_code == 1 and "is not an administrator" in stranger.output
    assert not out.exists()

    built = run(*args, "--director", director, EDIARY_CERTIFICATE_PASSWORD=PASSWORD.decode())
    assert built.exit_code == 0, built.output
    assert rows(url, "SELECT sha256 FROM year_archives")[0][0] in built.output

    anchor = ca.pem(tmp_path / "ca.pem")
    verified = run("archive", "verify", str(out), "--trust", str(anchor))
    assert verified.exit_code == 0 and verified.output.startswith("OK: 1 file(s) intact"), (
        verified.output
    )

    with zipfile.ZipFile(out) as done:
        entries = {name: done.read(name) for name in done.namelist()}
    entries["dziennik.xml"] = entries["dziennik.xml"].replace(b'value="5"', b'value="6"', 1)
    with zipfile.ZipFile(out, "w") as changed:
        for name, data in entries.items():
            changed.writestr(name, data)
    tampered = run("archive", "verify", str(out), "--trust", str(anchor))
    assert tampered.exit_code == 1 and "TAMPERED: dziennik.xml: changed" in tampered.output


@pytest.mark.parametrize("year", ["999999", str(2**63)])
def test_an_unknown_year_is_a_message(demo_copy: Any, tmp_path: Path, year: str) -> None:
    url = demo_copy.url
    result = run(
        "export-xml",
        "--database-url",
        url,
        "--school",
        str(mirzec_id(url)),
        "--year",
        year,
        "--out",
        str(tmp_path / "x.xml"),
    )
    assert (
        result.exit_code == 1
        and "Traceback" not in result.output
        and not (tmp_path / "x.xml").exists()
    )
