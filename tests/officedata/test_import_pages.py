"""The import pages: upload, dry run, commit in one transaction on the `import` channel, and
every hostile upload refused on the page in Polish with nothing kept."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ediary.audit.models import HistoryEntry
from ediary.office.imports.models import ImportMapping, ImportUpload
from ediary.people.models import User
from ediary.schools.models import Pupil
from tests.factories import World
from tests.html import csrf_token, hidden_fields
from tests.html import text as page_text
from tests.officedata.sheets import BORN, HEADERS, csv_text, pesel, row, xlsx

Login = Callable[[User], FlaskClient]


def text(response: TestResponse) -> str:
    return page_text(response.get_data(as_text=True))


def _upload(client: FlaskClient, world: World, data: bytes, name: str) -> TestResponse:
    page = f"/office/schools/{world.school.id}/import"
    fields = hidden_fields(client, page)
    return client.post(
        page, data={**fields, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _token(response: TestResponse) -> str:
    match = re.search(r"/office/imports/([0-9a-f]{64})$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


FILE = csv_text(
    [
        row("Łucja", "Wąchocka", pesel(BORN, 1), "5a"),
        row("Piotr", "Nowak", "12345678901", "5a"),
    ]
).encode("cp1250")


def test_upload_dry_run_and_commit(
    office_world: World, login_as: Login, session: Session, commits: list[int]
) -> None:
    world = office_world
    client = login_as(world.secretary)
    token = _token(_upload(client, world, FILE, "uczniowie.csv"))
    kept = session.get(ImportUpload, token)
    assert "Łucja" not in token and kept is not None and kept.data == FILE
    page = client.get(f"/office/imports/{token}")
    shown = text(page)
    assert page.status_code == 200
    assert "Windows-1250" in shown and "Łucja Wąchocka" in shown
    assert "odrzucony" in shown and "cyfrę kontrolną" in shown
    before = len(commits)
    fields = hidden_fields(client, f"/office/imports/{token}")
    done = client.post(f"/office/imports/{token}/commit", data=fields)
    assert done.status_code == 302 and len(commits) == before + 1
    assert "1 nowych uczniów" in text(client.get(done.headers["Location"]))
    lucja = session.scalar(select(Pupil).where(Pupil.pesel == pesel(BORN, 1)))
    assert lucja is not None
    channels = session.scalars(
        select(HistoryEntry.channel).where(
            HistoryEntry.entity == "pupils", HistoryEntry.entity_id == lucja.id
        )
    ).all()
    assert channels == ["import"]
    # The upload is gone with the commit: the token opens nothing now.
    assert session.get(ImportUpload, token) is None
    assert client.get(f"/office/imports/{token}").status_code == 404
    again = client.post(f"/office/imports/{token}/commit", data=fields)  # a double click
    assert again.status_code == 302 and again.headers["Location"] == done.headers["Location"]
    assert (
        session.scalar(select(func.count()).select_from(Pupil).where(Pupil.last_name == "Wąchocka"))
        == 1
    )


def test_the_same_file_twice_changes_nothing(
    office_world: World, login_as: Login, session: Session
) -> None:
    world = office_world
    client = login_as(world.secretary)
    for _ in range(2):
        token = _token(_upload(client, world, FILE, "uczniowie.csv"))
        fields = hidden_fields(client, f"/office/imports/{token}")
        written = session.scalar(select(func.count()).select_from(HistoryEntry))
        client.post(f"/office/imports/{token}/commit", data=fields)
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written
    assert "bez zmian" in text(
        client.get(f"/office/imports/{_token(_upload(client, world, FILE, 'u.csv'))}")
    )


def test_an_upload_opens_only_for_its_uploader(
    office_world: World, login_as: Login, client: FlaskClient
) -> None:
    world = office_world
    token = _token(_upload(login_as(world.secretary), world, FILE, "uczniowie.csv"))
    for other in (world.school_admin, world.other_secretary, world.district_admin, world.teacher):
        login_as(other)
        assert client.get(f"/office/imports/{token}").status_code == 404
        assert client.get(f"/office/imports/{token}/progress").status_code == 404
        token_field = {"csrf_token": csrf_token(client, "/")}
        assert client.post(f"/office/imports/{token}/commit", data=token_field).status_code == 404


def test_the_mapping_is_remembered_for_the_school(
    office_world: World, login_as: Login, session: Session
) -> None:
    world = office_world
    client = login_as(world.secretary)
    headers = ["Nazwisko i coś", "Imiona", "Nr PESEL", "Oddział"]
    data = csv_text([["Nowak", "Ola", pesel(BORN, 31), "5a"]], headers=headers).encode()
    token = _token(_upload(client, world, data, "sio.csv"))
    fields = hidden_fields(client, f"/office/imports/{token}")
    mapping = {
        "last_name": "Nazwisko i coś",
        "first_name": "Imiona",
        "pesel": "Nr PESEL",
        "class_name": "Oddział",
    }
    assert client.post(f"/office/imports/{token}", data={**fields, **mapping}).status_code == 302
    remembered = session.get(ImportMapping, world.school.id)
    assert remembered is not None and remembered.columns == mapping
    # The next file of the same shape uses it without asking.
    token = _token(_upload(client, world, data, "sio.csv"))
    assert "Ola Nowak" in text(client.get(f"/office/imports/{token}"))
    assert "nowy" in text(client.get(f"/office/imports/{token}"))


def _refused(client: FlaskClient, world: World, data: bytes, name: str, status: int = 400) -> str:
    response = _upload(client, world, data, name)
    assert response.status_code == status, response.status_code
    return text(response)


def test_hostile_uploads_are_refused_in_polish_and_nothing_is_kept(
    office_world: World, login_as: Login, session: Session
) -> None:
    world = office_world
    client = login_as(world.secretary)
    assert "bajty zerowe" in _refused(client, world, FILE + b"\x00", "uczniowie.csv")
    assert "znaki sterujące" in _refused(client, world, bytes(range(1, 128)) * 10, "obraz.csv")
    assert "Nie da się odczytać" in _refused(client, world, bytes(range(1, 256)) * 10, "x.csv")
    assert "więcej niż" in _refused(client, world, ("a;b\r\n" * 100_001).encode(), "duzo.csv")
    assert "XLSX" in _refused(client, world, b"PK\x03\x04 broken", "zepsuty.xlsx")
    assert "CSV albo XLSX" in _refused(client, world, FILE, "uczniowie.exe")
    assert "Wybierz plik" in _refused(client, world, b"", "")
    # 50 MB, as a browser sends it (a body built here: the test client would spool it to a file).
    body = (
        b'--X\r\nContent-Disposition: form-data; name="file"; filename="duzy.csv"\r\n\r\n'
        + b"x" * (50 * 1024 * 1024)
        + b"\r\n--X--\r\n"
    )
    response = client.post(
        f"/office/schools/{world.school.id}/import",
        data=body,
        content_type="multipart/form-data; boundary=X",
    )
    assert response.status_code == 413
    big = text(response)
    assert "za duży" in big and "Traceback" not in big
    assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_an_xlsx_upload_reaches_the_dry_run(office_world: World, login_as: Login) -> None:
    world = office_world
    client = login_as(world.secretary)
    data = xlsx([["Ola", "Wójcik", pesel(BORN, 41), "", "5b", "", "", "", ""]], headers=HEADERS)
    token = _token(_upload(client, world, data, "uczniowie.xlsx"))
    shown = text(client.get(f"/office/imports/{token}"))
    assert "Ola Wójcik" in shown and "nowy" in shown


def test_the_pages_script_gets_where_to_go_and_the_message_waits_there(
    office_world: World, login_as: Login
) -> None:
    client = login_as(office_world.secretary)
    token = _token(_upload(client, office_world, FILE, "uczniowie.csv"))
    fields = hidden_fields(client, f"/office/imports/{token}")
    done = client.post(
        f"/office/imports/{token}/commit", data=fields, headers={"Accept": "application/json"}
    )
    assert done.status_code == 200
    assert done.json == {"ok": True, "location": f"/office/schools/{office_world.school.id}/import"}
    assert "1 nowych uczniów" in text(client.get(done.json["location"]))
    progress = client.get(f"/office/imports/{token}/progress")
    assert progress.status_code == 404  # the upload is gone with its commit


def test_a_register_changed_since_the_dry_run_is_shown_again_not_written(
    office_world: World, login_as: Login, session: Session
) -> None:
    client = login_as(office_world.secretary)
    token = _token(_upload(client, office_world, FILE, "uczniowie.csv"))
    fields = hidden_fields(client, f"/office/imports/{token}")  # the dry run: Łucja is new
    other = _token(_upload(client, office_world, FILE, "kopia.csv"))
    client.post(
        f"/office/imports/{other}/commit", data=hidden_fields(client, f"/office/imports/{other}")
    )
    written = session.scalar(select(func.count()).select_from(HistoryEntry))
    stale = client.post(f"/office/imports/{token}/commit", data=fields)
    assert stale.status_code == 409
    shown = text(stale)
    assert "zmieniły się od próby" in shown and "bez zmian" in shown
    assert session.scalar(select(func.count()).select_from(HistoryEntry)) == written
    assert session.get(ImportUpload, token) is not None  # still there, to commit after a look
