"""What logging "who looked at a child's record" costs a staff page view (issue 17 item 5).

    python -m bench.privacy                      # a scratch SQLite file
    python -m bench.privacy --database-url postgresql+psycopg://postgres@127.0.0.1:5432/privacy

Creates the database named in the URL (it must not exist yet) and drops it at the end, builds
the tests' small world in it (tests/factories.py), then GETs a teacher's view of a pupil's card
(/pupils/<id>) through the Flask test client, alternating rounds with the view log on and off
(`note_view` replaced by a no-op), and prints the median ms per page view of each and the
difference. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.roll_cost import scratch_database
from ediary import create_app
from ediary.config import Config
from ediary.db import Base, db
from ediary.diary import views as diary_views
from ediary.privacy.views_log import note_view


def _not_logged(*_args: object) -> None:
    """The page view without the log: `note_view` replaced."""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--views", type=int, default=20, help="page views per round")
    args = parser.parse_args()
    from tests.factories import make_world  # the tests' world: a pupil card with a lesson

    folder = tempfile.mkdtemp(prefix="privacy-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'privacy.db'}"
    with scratch_database(url):
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY=uuid.uuid4().hex, REDIS_URL=None))
        with app.app_context():
            assert db.engine is not None
            Base.metadata.create_all(db.engine)
            world = make_world()
            db.session.commit()
            teacher_id, path = world.teacher.get_id(), f"/pupils/{world.pupil.id}"
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = teacher_id
            flask_session["_fresh"] = True
        timings: dict[bool, list[float]] = {True: [], False: []}
        for round_ in range(args.rounds + 1):
            for logged in (True, False):
                setattr(diary_views, "note_view", note_view if logged else _not_logged)  # noqa: B010
                for _ in range(args.views):
                    started = time.perf_counter()
                    response = client.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.status_code
                    if round_:  # round 0 warms caches up
                        timings[logged].append(elapsed)
        setattr(diary_views, "note_view", note_view)  # noqa: B010
        with_log, without = (statistics.median(timings[k]) for k in (True, False))
        print(f"pupil card GET on {url.split(':', 1)[0]}, {len(timings[True])} views each")
        print(f"median with the view log:    {with_log:7.2f} ms")
        print(f"median without the view log: {without:7.2f} ms")
        print(f"cost of logging one view:    {with_log - without:7.2f} ms")


if __name__ == "__main__":
    main()
