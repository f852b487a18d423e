"""The contacts end-to-end test: the kiosk's world in a SQLite file migrated by Alembic first
(so that `ediary send-notifications` accepts it, as on a real server), served by a real server
process; kiosk agent processes from tests/kiosk/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kiosk.conftest import Site, make_agent, world_command
from tests.servers import running_server

__all__ = ["make_agent", "site"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from ediary.migrations import upgrade

    tmp = tmp_path_factory.mktemp("contacts-site")
    db = tmp / "ediary.db"
    upgrade(f"sqlite:///{db}")
    ids = world_command(db, "build")
    with running_server(f"sqlite:///{db}", tmp) as server:
        yield Site(db=db, server=server, ids=ids, tmp=tmp)
