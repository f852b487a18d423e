"""The year-end archive (§22 of the regulation on school documentation): one ZIP file with the
school's year as XML (docs/dziennik-1.xsd), a manifest with the SHA-256 of every file, and a
detached CAdES signature of the manifest made with the director's certificate (pyHanko);
`verify` checks the signature, the certificate's chain to a trust anchor, and every file's hash.

Nothing half-written is left behind: the archive is written next to its destination under a
temporary name and renamed only once complete and signed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from asn1crypto import cms, pem, x509
from cryptography.utils import CryptographyDeprecationWarning
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ediary.audit.recording import Actor, operation
from ediary.db import db
from ediary.errors import Refusal
from ediary.records import export
from ediary.records.models import YearArchive
from ediary.schools.models import SchoolYear

# pyHanko imports cryptography's DSA key class to recognise DSA signers, which cryptography now
# marks deprecated; nothing here signs with DSA, so the import's warning is noise (and the test
# suite turns warnings into errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "DSA is deprecated", CryptographyDeprecationWarning)
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

XML_NAME = "dziennik.xml"

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """pyHanko's coroutine, run to its end on a thread of its own: the caller's thread may
    already run an event loop (a test process that drove a browser, a server's worker), where
    `asyncio.run` refuses to start a second one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"


class _Hashing:
    """A write-only stream that hashes what passes through it (the XML goes straight into the
    ZIP entry, never whole into memory)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def load_signer(p12: bytes, password: bytes | None, now: dt.datetime) -> SimpleSigner:
    try:
        signer: SimpleSigner = SimpleSigner.load_pkcs12_data(
            p12, other_certs=[], passphrase=password
        )
    except ValueError:
        raise Refusal(
            "certificate_unreadable",
            _l("Nie można otworzyć certyfikatu: złe hasło albo to nie jest plik PKCS#12."),
        ) from None
    cert = signer.signing_cert
    if cert is None:  # a PKCS#12 file with a key but no certificate
        raise Refusal("certificate_unreadable", _l("W pliku PKCS#12 nie ma certyfikatu."))
    if cert.not_valid_after < now:
        raise Refusal(
            "certificate_expired",
            _l(
                "Certyfikat wygasł %(date)s: podpisz ważnym.",
                date=cert.not_valid_after.date().isoformat(),
            ),
        )
    if cert.not_valid_before > now:
        raise Refusal("certificate_not_yet_valid", _l("Certyfikat nie jest jeszcze ważny."))
    return signer


def _closed_year(session: Session, school_id: int, year_id: int, today: dt.date) -> SchoolYear:
    year = session.get(SchoolYear, year_id)
    assert year is not None  # export.scope_of checked it
    if year.ends_on >= today:
        raise Refusal(
            "year_open",
            _l(
                "Rok szkolny trwa do %(date)s: archiwum buduje się po jego zakończeniu.",
                date=year.ends_on.isoformat(),
            ),
        )
    return year


@operation
def record_archive(
    actor: Actor, year: SchoolYear, path: Path, sha256: str, signer: str
) -> YearArchive:
    archive = YearArchive(
        school_id=year.school_id,
        year_id=year.id,
        file_name=path.name,
        size=path.stat().st_size,
        sha256=sha256,
        signer=signer,
    )
    db.session.add(archive)
    return archive


def build(
    actor: Actor,
    *,
    school_id: int,
    year_id: int,
    signer: SimpleSigner,
    destination: Path,
    now: dt.datetime,
) -> YearArchive:
    """Builds, signs and records the archive; the caller commits. Refusals leave no file."""
    session = db.session()
    scope = export.scope_of(session, school_id, year_id)
    year = _closed_year(session, school_id, year_id, now.date())
    if destination.exists():
        raise Refusal(
            "archive_exists",
            _l("Plik %(name)s już istnieje: wybierz inną nazwę.", name=destination.name),
        )
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(XML_NAME, "w", force_zip64=True) as entry:
                hashing = _Hashing(entry)
                summary = export.write(session, scope, hashing)  # type: ignore[arg-type]
            manifest = json.dumps(
                {
                    "format": "ediary-archive-1",
                    "school_id": school_id,
                    "year": year.name,
                    "built_at": now.astimezone(dt.UTC).isoformat(),
                    "rows": summary.rows,
                    "files": {XML_NAME: hashing.sha256.hexdigest()},
                },
                ensure_ascii=False,
                indent=2,
                sort_keys=True,
            ).encode()
            archive.writestr(MANIFEST, manifest)
            signature = _run(
                signer.async_sign_general_data(manifest, "sha256", detached=True, use_cades=True)
            )
            archive.writestr(SIGNATURE, signature.dump())
        os.replace(partial, destination)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise Refusal(
            "archive_write",
            _l(
                "Nie udało się zapisać archiwum (%(reason)s): nic nie zostało zapisane.",
                reason=error.strerror or str(error),
            ),
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    digest = hashlib.sha256()
    with destination.open("rb") as done:
        for chunk in iter(lambda: done.read(1 << 20), b""):
            digest.update(chunk)
    assert signer.signing_cert is not None  # load_signer checked it
    subject = signer.signing_cert.subject.human_friendly
    return record_archive(actor, year, destination, digest.hexdigest(), subject)


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    signer: str = ""
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def trust_anchors(data: bytes) -> list[x509.Certificate]:
    if pem.detect(data):
        return [
            x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(data, multiple=True)
        ]
    return [x509.Certificate.load(data)]


def verify(path: Path, anchors: list[x509.Certificate]) -> Verdict:
    """Everything wrong with the archive at `path` (none: signed, trusted, intact). In English,
    like every message of the `ediary` command (its operators' language, see ediary/cli)."""
    verdict = Verdict()
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for needed in (MANIFEST, SIGNATURE):
                if needed not in names:
                    verdict.problems.append(f"{needed} is missing")
            if verdict.problems:
                return verdict
            manifest_bytes = archive.read(MANIFEST)
            _check_signature(manifest_bytes, archive.read(SIGNATURE), anchors, verdict)
            manifest: dict[str, Any] = json.loads(manifest_bytes)
            files: dict[str, str] = manifest.get("files", {})
            for name in sorted(names - {MANIFEST, SIGNATURE} - set(files)):
                verdict.problems.append(f"{name}: a file the manifest does not list")
            for name, expected in sorted(files.items()):
                if name not in names:
                    verdict.problems.append(f"{name}: listed in the manifest but missing")
                    continue
                digest = hashlib.sha256()
                try:
                    with archive.open(name) as entry:
                        for chunk in iter(lambda: entry.read(1 << 20), b""):
                            digest.update(chunk)
                except zipfile.BadZipFile as error:
                    verdict.problems.append(f"{name}: damaged ({error})")
                    continue
                verdict.files += 1
                if digest.hexdigest() != expected:
                    verdict.problems.append(
                        f"{name}: changed (its SHA-256 differs from the manifest)"
                    )
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        verdict.problems.append(f"not a readable ZIP archive ({error})")
    return verdict


def _check_signature(
    manifest: bytes, der: bytes, anchors: list[x509.Certificate], verdict: Verdict
) -> None:
    try:
        signed_data = cms.ContentInfo.load(der)["content"]
        context = ValidationContext(trust_roots=anchors, allow_fetching=False)
        status = _run(
            async_validate_detached_cms(manifest, signed_data, signer_validation_context=context)
        )
    except Exception as error:  # a malformed signature is a finding, not a crash
        verdict.problems.append(f"the signature cannot be read ({type(error).__name__})")
        return
    if status.signing_cert is not None:
        verdict.signer = status.signing_cert.subject.human_friendly
    if not (status.intact and status.valid):
        verdict.problems.append(
            "the signature does not match the manifest: the manifest changed after signing"
        )
    elif not status.trusted:
        verdict.problems.append("the signing certificate does not chain to the given trust anchor")
