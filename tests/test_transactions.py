"""The session listeners: installed from one place (ediary/transactions.py), in their written
order, by `create_app` and by nothing else; publishing needs an operation, as writing does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from sqlalchemy import select

from ediary import transactions
from ediary.audit.recording import UnauditedWrite
from ediary.journal.models import JournalEvent
from ediary.journal.operations import publish
from tests.factories import World

# Run in a fresh interpreter: this test process installed the hooks long ago (tests/conftest.py).
PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    import ediary

    # Every module of the package, but the entry points that run something when imported.
    skip = ("ediary.wsgi", "ediary.migrations.env", "ediary.migrations.versions")
    for module in pkgutil.walk_packages(ediary.__path__, "ediary."):
        if not module.name.startswith(skip) and not module.name.endswith("__main__"):
            importlib.import_module(module.name)

    from ediary import create_app, transactions
    from ediary.config import Config

    def names():
        return [[h.event, f"{h.listener.__module__}.{h.listener.__name__}"]
                for h in transactions.installed()]

    seen = {"imported": names()}
    config = Config(DATABASE_URL="sqlite://", TESTING=True, SECRET_KEY="probe")
    create_app(config)
    seen["created"] = names()
    create_app(config)
    seen["twice"] = names()
    json.dump(seen, sys.stdout)
    """
)

WRITTEN = [
    [hook.event, f"{hook.listener.__module__}.{hook.listener.__name__}"]
    for hook in transactions.HOOKS
]


def test_the_hooks_are_installed_by_create_app_alone_in_their_written_order() -> None:
    import json

    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["imported"] == [], "a listener installed as a side effect of an import"
    assert seen["created"] == WRITTEN
    assert seen["twice"] == WRITTEN  # idempotent: tests and the CLI create many apps
    assert [event for event, _ in WRITTEN] == [
        "before_flush",
        "before_flush",  # a closed school year is read-only (ediary/office/rollover/closed.py)
        "before_flush",  # journal rows held back until the commit (realtime/delivery.py)
        "after_flush",
        "after_flush",
        "after_flush",
        "after_flush",
        "before_commit",  # declarations checked, after the work's last flush
        "before_commit",  # who is told of the held rows, read before the lock
        "before_commit",  # the lock, the journal rows numbered under it, a key with their ids
        "before_commit",  # their planned messages inserted with their ids
        "before_commit",  # controls after the newest id, still under the lock
        "after_commit",  # the connection's round trips yield to other greenlets again
        "after_commit",
        "after_rollback",  # the same after a rollback
        "after_soft_rollback",
        "after_transaction_end",
    ]


def test_an_operation_refuses_to_run_without_the_hooks() -> None:
    probe = textwrap.dedent(
        """
        import ediary.models
        from ediary.audit.recording import Actor, Channel, HooksMissing
        from ediary.schools.operations import create_district
        try:
            create_district(Actor.system(Channel.CLI), "Gmina bez historii")
        except HooksMissing:
            print("refused")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "refused", done.stderr


def test_publish_refuses_to_run_outside_an_operation(world: World, session: Any) -> None:
    kiosk = world.kiosk
    with pytest.raises(UnauditedWrite):
        publish("kiosk.revoked", school_id=kiosk.school_id, audience_id=kiosk.id, kiosk_id=kiosk.id)
    session.flush()
    assert session.scalars(select(JournalEvent)).all() == []
