"""The signed year-end archive (issue 17, item 4): built from a finished year, signed with the
director's certificate, its hash in the history; `verify` finds any changed byte, a manifest
changed after signing, a file added, a signature from outside the trust anchor; every refusal
leaves no file and no record."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import hashlib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ediary.audit.models import HistoryEntry
from ediary.audit.recording import Actor, Channel
from ediary.db import db
from ediary.errors import Refusal
from ediary.records import archive
from ediary.records.models import YearArchive
from tests.factories import World, make_graded_world
from tests.records.pki import PASSWORD, Authority, authority, director_p12

pytestmark = pytest.mark.usefixtures("session")


@pytest.fixture
def finished(time_machine: Any) -> tuple[World, dt.datetime]:
    """The world's school year, and a moment in August after it ended."""
    world, _earlier = make_graded_world()
    after = dt.datetime.combine(
        world.year.ends_on + dt.timedelta(days=40), dt.time(9), tzinfo=dt.UTC
    )
    time_machine.move_to(after, tick=False)
    return world, after


@pytest.fixture
def ca(finished: tuple[World, dt.datetime]) -> Authority:
    return authority("Testowe Centrum Certyfikacji", finished[1])


def _p12(
    ca: Authority,
    tmp_path: Path,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> bytes:
    return director_p12(
        ca,
        tmp_path / "dyrektor.p12",
        not_before=not_before or now - dt.timedelta(days=400),
        not_after=not_after or now + dt.timedelta(days=365),
    ).read_bytes()


def _build(
    world: World, tmp_path: Path, p12: bytes, now: dt.datetime, password: bytes = PASSWORD
) -> Path:
    signer = archive.load_signer(p12, password, now)
    destination = tmp_path / "archiwum-2026.zip"
    archive.build(
        Actor(world.school_admin, Channel.CLI),
        school_id=world.school.id,
        year_id=world.year.id,
        signer=signer,
        destination=destination,
        now=now,
    )
    db.session.flush()
    return destination


def test_a_built_archive_verifies_and_its_hash_is_in_the_history(
    finished, ca, tmp_path: Path
) -> None:
    world, now = finished
    path = _build(world, tmp_path, _p12(ca, tmp_path, now), now)
    verdict = archive.verify(
        path, [archive.trust_anchors(ca.pem(tmp_path / "ca.pem").read_bytes())[0]]
    )
    assert verdict.ok, verdict.problems
    assert verdict.files == 1 and "Dyrektor" in verdict.signer
    with zipfile.ZipFile(path) as done:
        assert set(done.namelist()) == {archive.XML_NAME, archive.MANIFEST, archive.SIGNATURE}
        assert "Wiśniewska".encode() in done.read(archive.XML_NAME)
    record = db.session.scalars(select(YearArchive)).one()
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    history = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "year_archives").order_by(HistoryEntry.id)
    ).one()
    assert history.actor_id == world.school_admin.id
    assert (history.new or {})["sha256"] == record.sha256
    assert list(tmp_path.glob(".*partial")) == []


def _rewrite(path: Path, change: dict[str, bytes | None]) -> None:
    """The archive with some entries replaced, removed (None) or added; the rest as they were."""
    with zipfile.ZipFile(path) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    for name, data in change.items():
        if data is None:
            entries.pop(name)
        else:
            entries[name] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in entries.items():
            new.writestr(name, data)


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        (
            lambda e: {archive.XML_NAME: e[archive.XML_NAME].replace(b"4+", b"5+", 1)},
            "dziennik.xml: changed",
        ),
        (
            lambda e: {archive.MANIFEST: e[archive.MANIFEST].replace(b'"rows"', b'"Rows"')},
            "manifest changed after signing",
        ),
        (lambda e: {"extra.pdf": b"%PDF-1.7"}, "extra.pdf: a file the manifest does not list"),
        (lambda e: {archive.XML_NAME: None}, "dziennik.xml: listed in the manifest but missing"),
        (lambda e: {archive.SIGNATURE: b"\x30\x03\x02\x01\x01"}, "the signature cannot be read"),
    ],
    ids=[
        "a changed byte",
        "a changed manifest",
        "an added file",
        "a removed file",
        "a broken signature",
    ],
)
def test_verify_names_what_was_tampered_with(finished, ca, tmp_path: Path, tamper, finding) -> None:
    world, now = finished
    path = _build(world, tmp_path, _p12(ca, tmp_path, now), now)
    with zipfile.ZipFile(path) as done:
        entries = {name: done.read(name) for name in done.namelist()}
    _rewrite(path, tamper(entries))
    verdict = archive.verify(path, archive.trust_anchors(ca.pem(tmp_path / "ca.pem").read_bytes()))
    assert not verdict.ok and any(finding in problem for problem in verdict.problems), (
        verdict.problems
    )


def test_a_signature_from_another_authority_is_not_trusted(finished, ca, tmp_path: Path) -> None:
    world, now = finished
    path = _build(world, tmp_path, _p12(ca, tmp_path, now), now)
    stranger = authority("Obce Centrum", now)
    verdict = archive.verify(
        path, archive.trust_anchors(stranger.pem(tmp_path / "obce.pem").read_bytes())
    )
    assert verdict.problems == ["the signing certificate does not chain to the given trust anchor"]
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not really")
    assert "not a readable ZIP archive" in archive.verify(garbage, []).problems[0]


def _refused(world: World, tmp_path: Path, code: str, build: Any) -> None:
    with pytest.raises(Refusal) as refusal:
        build()
    assert refusal.value.code == code
    assert [p.name for p in tmp_path.glob("*.zip")] == [] and list(tmp_path.glob(".*partial")) == []
    assert db.session.scalars(select(YearArchive)).all() == []


def test_refusals_leave_no_archive_and_no_record(finished, ca, tmp_path: Path, monkeypatch) -> None:
    world, now = finished
    good = _p12(ca, tmp_path, now)
    _refused(
        world,
        tmp_path,
        "certificate_unreadable",
        lambda: _build(world, tmp_path, good, now, b"zle-haslo"),
    )
    _refused(
        world,
        tmp_path,
        "certificate_unreadable",
        lambda: _build(world, tmp_path, b"not a p12", now),
    )
    expired = _p12(
        ca,
        tmp_path,
        now,
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=1),
    )
    _refused(world, tmp_path, "certificate_expired", lambda: _build(world, tmp_path, expired, now))
    early = _p12(ca, tmp_path, now, not_before=now + dt.timedelta(days=1))
    _refused(
        world, tmp_path, "certificate_not_yet_valid", lambda: _build(world, tmp_path, early, now)
    )
    during = dt.datetime.combine(
        world.year.ends_on - dt.timedelta(days=5), dt.time(9), tzinfo=dt.UTC
    )
    _refused(world, tmp_path, "year_open", lambda: _build(world, tmp_path, good, during))

    def full_disk(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(zipfile.ZipFile, "writestr", full_disk)
        _refused(world, tmp_path, "archive_write", lambda: _build(world, tmp_path, good, now))

    path = _build(world, tmp_path, good, now)
    before = path.read_bytes()
    with pytest.raises(Refusal) as exists:
        _build(world, tmp_path, good, now)
    assert exists.value.code == "archive_exists" and path.read_bytes() == before


def test_an_archive_is_built_and_verified_where_an_event_loop_already_runs(
    finished, ca, tmp_path: Path
) -> None:
    """As in a process whose thread runs an event loop (Playwright's, a server's worker):
    pyHanko's coroutines get a thread of their own (seen: "asyncio.run() cannot be called from a
    running event loop" in the full suite)."""
    world, now = finished
    p12 = _p12(ca, tmp_path, now)
    anchors = archive.trust_anchors(ca.pem(tmp_path / "ca.pem").read_bytes())

    async def inside_a_loop() -> archive.Verdict:
        return archive.verify(_build(world, tmp_path, p12, now), anchors)

    # A thread of the test's own: the test process's main thread may run Playwright's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, inside_a_loop()).result().ok
