"""The contacts migration marks the addresses already on file as proved (they came from the
school's trusted set-up: no page could store one before), so existing parents keep receiving."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from ediary import migrations
from ediary.db import make_engine

REVISION = "a5415cbcf8e6"  # ediary/migrations/versions/20261205_a5415cbcf8e6_contact_verifications


def test_existing_addresses_are_marked_proved(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    migrations.upgrade(url, f"{REVISION}-1")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for login, email, phone in (
                ("z_adresem", "maria@example.test", "48500100200"),
                ("z_telefonem", None, "+48601234567"),
                ("bez_niczego", None, ""),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (login, first_name, last_name, email, phone, active,"
                        " is_demo, session_version, created_at) VALUES (:login, 'A', 'B', :email,"
                        " :phone, true, false, 1, CURRENT_TIMESTAMP)"
                    ),
                    {"login": login, "email": email, "phone": phone},
                )
        migrations.upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT u.login, c.kind, c.address, c.verified_at IS NOT NULL"
                    " FROM contact_verifications c JOIN users u ON u.id = c.user_id"
                    " ORDER BY u.login, c.kind"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("z_adresem", "email", "maria@example.test", True),
        ("z_adresem", "phone", "48500100200", True),
        ("z_telefonem", "phone", "+48601234567", True),
    ]
