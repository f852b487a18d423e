"""Small pieces of the agent in-process: configuration, the credential file, the PIN verifier."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from kiosk import credential
from kiosk.config import ConfigError, load
from kiosk.offline import PinVerifiers
from kiosk.protocol import is_revocation, outcome
from kiosk.roster import from_sheet

TODAY = dt.date(2026, 11, 26)


def test_config_layers_file_then_environment_then_options(tmp_path: Path) -> None:
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        '[kiosk]\nserver = "https://dziennik.example"\nport = 8100\nidle_lock_seconds = 240\n'
    )
    config = load(toml, environ={"EDIARY_KIOSK_PORT": "8200"}, idle_lock_seconds=None)
    assert (config.server, config.port, config.idle_lock_seconds) == (
        "https://dziennik.example",
        8200,
        240,
    )
    assert load(toml, environ={}, port=8300).origin == "http://127.0.0.1:8300"
    assert load(environ={"EDIARY_KIOSK_CONFIG": str(tmp_path / "none.toml")}).port == 8090


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104 - the point: refused
        "192.168.1.10",
        "localhost",
        "example.org",
    ],
)
def test_config_refuses_anything_but_loopback(host: str) -> None:
    with pytest.raises(ConfigError):
        load(environ={"EDIARY_KIOSK_HOST": host, "EDIARY_KIOSK_CONFIG": "/nonexistent"})


def test_config_refuses_unknown_settings_and_missing_file(tmp_path: Path) -> None:
    toml = tmp_path / "kiosk.toml"
    toml.write_text("idle_lok_seconds = 5\n")
    with pytest.raises(ConfigError, match="idle_lok_seconds"):
        load(toml, environ={})
    with pytest.raises(ConfigError):
        load(tmp_path / "missing.toml", environ={})


def test_credential_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = credential.Credential(kiosk_id=3, secret="s" * 43, server="https://x", room="12")
    path = credential.save(state, first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert credential.load(state) == first
    assert "secret" not in first.public()
    second = credential.Credential(kiosk_id=3, secret="t" * 43, server="https://x")
    credential.save(state, second)
    assert credential.load(state) == second
    assert sorted(p.name for p in state.iterdir()) == ["credential.json"]
    credential.delete(state)
    assert credential.load(state) is None


@pytest.fixture
def pins() -> PinVerifiers:
    return PinVerifiers(sqlite3.connect(":memory:", check_same_thread=False), threading.RLock())


def test_pin_verifier_is_salted_argon2_and_never_the_pin(pins: PinVerifiers) -> None:
    pins.remember(7, "Anna Nowak", "2468", TODAY, {"token": "t"})
    pins.remember(8, "Jan Kowalski", "2468", TODAY, {})
    rows = pins._db.execute("SELECT verifier FROM pin_verifiers ORDER BY teacher_id").fetchall()
    assert all(r[0].startswith("$argon2id$") and "2468" not in r[0] for r in rows)
    assert rows[0][0] != rows[1][0]  # salted: the same PIN, two different verifiers
    teacher = pins.verify(7, "2468", TODAY, max_failures=3)
    assert teacher is not None and teacher.data == {"token": "t"}


def test_pin_is_for_that_day_only(pins: PinVerifiers) -> None:
    pins.remember(7, "Anna Nowak", "2468", TODAY, {})
    assert pins.verify(7, "2468", TODAY + dt.timedelta(days=1), max_failures=3) is None
    assert pins.teachers(TODAY + dt.timedelta(days=1)) == []
    pins.expire(TODAY + dt.timedelta(days=1))
    assert pins._db.execute("SELECT COUNT(*) FROM pin_verifiers").fetchone() == (0,)


def test_three_wrong_pins_erase_the_verifier(pins: PinVerifiers) -> None:
    pins.remember(7, "Anna Nowak", "2468", TODAY, {})
    assert pins.verify(7, "1111", TODAY, max_failures=3) is None
    assert pins.verify(7, "2222", TODAY, max_failures=3) is None
    assert pins.has(7, TODAY)
    assert pins.verify(7, "3333", TODAY, max_failures=3) is None
    assert not pins.has(7, TODAY)
    assert pins.verify(7, "2468", TODAY, max_failures=3) is None  # a full login is needed now


def test_a_right_pin_resets_the_count(pins: PinVerifiers) -> None:
    pins.remember(7, "Anna Nowak", "2468", TODAY, {})
    for _ in range(2):
        assert pins.verify(7, "0000", TODAY, max_failures=3) is None
    assert pins.verify(7, "2468", TODAY, max_failures=3) is not None
    for _ in range(2):
        assert pins.verify(7, "0000", TODAY, max_failures=3) is None
    assert pins.has(7, TODAY)


@pytest.mark.parametrize(
    ("ack", "kind"),
    [
        ({"ok": True, "status": "applied", "delivered": False}, "synced"),
        ({"ok": True, "status": "duplicate", "delivered": True}, "synced"),
        ({"ok": False, "error": "key_reused", "message": "x"}, "parked"),
        ({"ok": False, "error": "not_found", "message": "x"}, "parked"),
        ({"ok": False, "error": "invalid", "message": "x"}, "parked"),
        ({"ok": False, "error": "session_ended", "message": "x"}, "parked"),
        ({"ok": False, "error": "busy", "message": "x", "retry": True}, "retry"),
        ({"ok": False, "error": "internal", "message": "x", "retry": True}, "retry"),
        ({"ok": False, "error": "throttled", "message": "x", "retry_after": 900}, "retry"),
        ({"ok": False, "error": "kiosk_revoked", "message": "x"}, "hold"),
        ("garbage", "parked"),
    ],
)
def test_how_an_acknowledgement_is_read(ack: object, kind: str) -> None:
    assert outcome(ack).kind == kind


def test_revocation_is_read_from_a_refused_connect() -> None:
    wrapped = {"message": "m", "data": {"error": "kiosk_revoked", "message": "m"}}
    assert is_revocation(wrapped)
    assert is_revocation({"ok": False, "error": "kiosk_unknown"})
    assert not is_revocation({"message": "Connection error"})
    assert not is_revocation("Connection refused")


def test_a_pupil_with_nothing_recorded_is_shown_as_the_servers_default_and_no_other() -> None:
    """The server gives a pupil with nothing recorded its `default_code`, or, in a school that
    has none, refuses the roll (`attendance_no_default`): the agent showed the first type then."""
    sheet = {
        "lesson": {"id": 1, "status": "planned", "topic": None},
        "attendance_types": [
            {"code": "nb", "name": "nieobecny", "counts_as": "absent", "excused": False},
            {"code": "sp", "name": "spóźniony", "counts_as": "present", "excused": False},
        ],
        "default_code": None,
        "grade_categories": [],
        "pupils": [{"id": 7, "first_name": "Ala", "last_name": "Nowak", "attendance": None}],
    }
    assert from_sheet(sheet)["default_code"] is None
    assert from_sheet({**sheet, "default_code": "sp"})["default_code"] == "sp"
