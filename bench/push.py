"""Web Push at a lesson start: kiosk rolls → journal → push queue → sender → a push service.

    python -m bench.push --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_push

Creates the database (it must not exist; dropped at the end), builds the load benchmark's
district (bench/world.py: 94 kiosks, 25 pupils each, 3,000 parents), subscribes every parent's
device to the local fake push service (tests/portal/pushfake.py, which verifies each VAPID
signature and decrypts each payload, RFC 8291) for "absent at the first lesson" of each child,
with no quiet hours. The sender runs as deployed: `ediary send-notifications --loop` in its own
process. Then every kiosk submits its first-lesson roll with every pupil absent, one after
another as fast as the server takes them (a harsher burst than a real lesson start), through the
code the `/kiosk` `submit` handler runs (`--spread 60`: over a minute, as teachers take the
roll at a lesson start).

Prints p50/p99/max of "roll committed → the push service has decrypted the notification" over
all notifications (target p99 ≤ 2 s), and the portal start page's cold weight: the page and
everything it loads, with the web app manifest, its icon and the service worker (target
≤ 60 KB; uncompressed, as without nginx's gzip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
import zlib
from multiprocessing.connection import Connection

from flask import Flask
from sqlalchemy import func, insert, select, text

from bench.roll_cost import _open_sessions, scratch_database
from bench.world import BenchWorld, build
from ediary import create_app
from ediary.audit.recording import Actor, Channel, operation
from ediary.config import Config
from ediary.db import db
from ediary.kiosks.models import Kiosk
from ediary.kiosks.receipt import receive_submission
from ediary.notifications.models import (
    NotificationPreference,
    OutgoingPush,
    PushChoice,
    PushSubscription,
)
from ediary.notifications.push import new_vapid_private_key
from ediary.people.models import User
from tests.portal.pushfake import fake_push_service


def _serve(conn: Connection) -> None:
    """The fake push service in its own process, as a real one is on another machine: the
    bench's rolls do not share its interpreter lock."""
    with fake_push_service() as service:
        conn.send(service.host)
        while True:
            order, value = conn.recv()
            if order == "subscribe":
                conn.send([service.new_subscription() for _ in range(value)])
            elif order == "count":
                conn.send(len(service.received))
            else:
                received = [(r.payload["url"], r.at) for r in service.received]
                conn.send((received, len(service.refused)))
                return


class RemoteService:
    def __init__(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        self.host: str = self.conn.recv()

    def subscriptions(self, n: int) -> list[dict[str, str]]:
        self.conn.send(("subscribe", n))
        return list(self.conn.recv())

    def count(self) -> int:
        self.conn.send(("count", 0))
        return int(self.conn.recv())

    def results(self) -> tuple[list[tuple[str, float]], int]:
        self.conn.send(("results", 0))
        received, refused = self.conn.recv()
        self.process.join(10)
        return received, refused


@operation
def _subscribe(actor: Actor, world: BenchWorld, service: RemoteService) -> int:
    """Every parent: one device, "first absence" for each child, no quiet hours."""
    parent_ids = [uid for uid, _version in world.parents]
    devices = service.subscriptions(len(parent_ids))
    subs = [
        {"user_id": uid, "label": "bench", **sub}
        for uid, sub in zip(parent_ids, devices, strict=True)
    ]
    db.session.execute(insert(PushSubscription), subs)
    choices = [
        {"user_id": uid, "pupil_id": pupil, "topic": "first_absence"}
        for pupil, uids in world.guardians.items()
        for uid in uids
    ]
    db.session.execute(insert(PushChoice), choices)
    db.session.add_all(
        NotificationPreference(user_id=uid, quiet_from=dt.time(0), quiet_until=dt.time(0))
        for uid in parent_ids
    )
    return len(choices)


def _cold_weight(app: Flask, pupil_id: int, login: str) -> tuple[int, list[tuple[str, int, int]]]:
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        assert user is not None
        user_id = user.get_id()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = user_id
        flask_session["_fresh"] = True
    page = client.get(f"/portal/{pupil_id}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    # nginx gzips /static/ (level 1, its default); the page itself travels uncompressed.
    parts = [(f"/portal/{pupil_id}", len(page.get_data()), len(page.get_data()))]
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    extra = ["/static/icons/icon-192.png", "/portal/sw.js"]  # the manifest's icon, the worker
    for path in dict.fromkeys([*links, *extra]):
        answer = client.get(path)
        body = answer.get_data()
        packed = (
            len(zlib.compress(body, 1))
            if path.startswith("/static/") and not path.endswith((".png", ".ico"))
            else len(body)
        )
        parts.append((path, len(body), min(packed, len(body))))
        answer.close()
    return sum(size for _path, size, _gz in parts), parts


def run(url: str, *, kiosks: int, parents: int, spread: float) -> None:
    key = new_vapid_private_key()
    world = build(url, kiosks=kiosks, parents=parents)
    service = RemoteService()
    app = create_app(
        Config(
            DATABASE_URL=url,
            SECRET_KEY="bench-push-" + uuid.uuid4().hex,
            REDIS_URL=None,
            VAPID_PRIVATE_KEY=key,
            PUSH_ALLOW_HOSTS=[service.host],
        )
    )
    with app.app_context():
        chosen = _subscribe(Actor.system(Channel.IMPORT), world, service)
        db.session.commit()
    tokens = _open_sessions(app, world)
    assert db.engine is not None
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    devices = []
    with app.app_context():
        for info in world.kiosks:
            kiosk = db.session.get(Kiosk, info["id"])
            assert kiosk is not None
            devices.append({"kiosk_id": kiosk.id, "secret_hash": kiosk.secret_hash})
    env = {
        **os.environ,
        "EDIARY_DATABASE_URL": url,
        "EDIARY_VAPID_PRIVATE_KEY": key,
        "EDIARY_PUSH_ALLOW_HOSTS": service.host,
    }
    # What `ediary send-notifications --loop` runs (that command also wants the schema made
    # by migrations; this database was made by create_all).
    sender = subprocess.Popen(
        [sys.executable, "-m", "bench.push", "--sender"], env=env, stdout=subprocess.PIPE
    )
    try:
        assert sender.stdout is not None
        sender.stdout.readline()  # "ready": the sender has made its first (empty) pass
        committed: dict[int, float] = {}
        started = time.time()
        for n, info in enumerate(world.kiosks):
            if spread:  # the rolls of a lesson start, evenly over `spread` seconds
                time.sleep(max(0.0, started + n * spread / len(world.kiosks) - time.time()))
            data = {
                "key": str(uuid.uuid4()),
                "session": tokens[n],
                "kind": "roll",
                "lesson_id": info["lesson"],
                "payload": {
                    "states": {str(p): "nb" for p in info["pupils"]},
                    "base": {str(p): None for p in info["pupils"]},
                },
            }
            with app.app_context():
                ack = receive_submission(devices[n], data)
            if ack.get("status") != "applied":
                raise SystemExit(f"roll not applied: {ack}")
            done = time.time()
            for pupil in info["pupils"]:
                committed[pupil] = done
        rolls_took = time.time() - started
        with app.app_context():
            expected = db.session.scalar(select(func.count()).select_from(OutgoingPush))
        deadline = time.time() + 120
        while service.count() < (expected or 0) and time.time() < deadline:
            time.sleep(0.2)
    finally:
        sender.terminate()
        sender.wait(10)
    latencies = []
    received, refused = service.results()
    for url_of, at in received:
        latencies.append(at - committed[int(url_of.split("/")[2])])
    latencies.sort()
    pupil = world.kiosks[0]["pupils"][0]
    with app.app_context():
        parent = db.session.get(User, world.guardians[pupil][0])
        assert parent is not None
        login = parent.login
    weight, parts = _cold_weight(app, pupil, login)
    db.session.remove()
    db.engine.dispose()
    backend = url.split(":", 1)[0]
    print(
        f"{backend}: {kiosks} kiosks x 25 pupils, {parents} parents subscribed "
        f"({chosen} parent-child choices), every pupil absent at the first lesson"
    )
    print(f"rolls submitted in {rolls_took:.2f} s; pushes queued {expected}, received and "
          f"decrypted {len(latencies)}, refused by the service {refused}")  # fmt: skip
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"roll committed -> push received: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms (target p99 <= 2000 ms)"
        )
    gzipped = sum(gz for _path, _size, gz in parts)
    print(f"portal start page cold, with manifest, icon and service worker: "
          f"{weight / 1024:.1f} KB uncompressed, {gzipped / 1024:.1f} KB as nginx sends it "
          f"(gzip on /static/), {len(parts)} requests (target <= 60 KB)")  # fmt: skip
    for path, size, gz in parts:
        print(f"  {size:>7} {gz:>7}  {path}")


def sender_loop() -> None:
    from ediary.notifications.push import PushSender, gateway_from_config

    app = create_app(Config.from_env())
    with app.app_context():
        gateway = gateway_from_config(app)
        assert gateway is not None
        pusher = PushSender(app, gateway)
        pusher.run_once()
        print("ready", flush=True)
        while True:
            if pusher.run_once().sent == 0:
                time.sleep(0.1)


def main() -> None:
    if sys.argv[1:] == ["--sender"]:
        sender_loop()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a database to create and drop")
    parser.add_argument("--kiosks", type=int, default=94)
    parser.add_argument("--parents", type=int, default=3000)
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="seconds over which the rolls come (default 0: one after another, a burst)",
    )
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        run(url, kiosks=args.kiosks, parents=args.parents, spread=args.spread)


if __name__ == "__main__":
    main()
