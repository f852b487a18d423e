"""The device credential: written once at enrollment, readable only by the agent's own user."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILENAME = "credential.json"


@dataclass(frozen=True)
class Credential:
    kiosk_id: int
    secret: str
    server: str
    room: str = ""
    school: str = ""
    enrolled_at: str = ""

    def public(self) -> dict[str, Any]:
        """What may be shown or logged: never the secret."""
        data = asdict(self)
        data.pop("secret")
        return data


def path_in(state_dir: Path) -> Path:
    return state_dir / FILENAME


def load(state_dir: Path) -> Credential | None:
    try:
        raw = json.loads(path_in(state_dir).read_text("utf-8"))
    except FileNotFoundError:
        return None
    return Credential(
        kiosk_id=int(raw["kiosk_id"]),
        secret=str(raw["secret"]),
        server=str(raw["server"]),
        room=str(raw.get("room", "")),
        school=str(raw.get("school", "")),
        enrolled_at=str(raw.get("enrolled_at", "")),
    )


def save(state_dir: Path, credential: Credential, owner: str | None = None) -> Path:
    """Atomically replaces the credential; the file is created 0600, never briefly wider."""
    ensure_private_dir(state_dir, owner)
    target = path_in(state_dir)
    temporary = target.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(credential), out)
        out.flush()
        os.fsync(out.fileno())
    _chown(temporary, owner)
    os.replace(temporary, target)
    _fsync_dir(state_dir)
    return target


def delete(state_dir: Path) -> None:
    """A revoked device forgets its secret; it is useless anyway and must not be reused."""
    with contextlib.suppress(FileNotFoundError):
        path_in(state_dir).unlink()
    _fsync_dir(state_dir)


def ensure_private_dir(state_dir: Path, owner: str | None = None) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)
    _chown(state_dir, owner)


def _chown(path: Path, owner: str | None) -> None:
    # Enrollment may run as root from the provisioning script; the agent runs as its own user.
    if owner is None or os.geteuid() != 0:
        return
    entry = pwd.getpwnam(owner)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
