"""The WSGI entry point: `gunicorn -k ediary.deploy.worker.Worker -w 1 ediary.wsgi:app`.

gunicorn's gevent worker monkey-patches before it imports this module; configuration comes from
EDIARY_* environment variables (see ediary/config.py).
"""

import os

import gevent

from ediary import create_app
from ediary.realtime import pings, websocket

# gevent records, for every greenlet, the stack that spawned it (for debugging tools only). A
# process holding 10,000 sockets keeps two greenlets per socket: the records cost ~0.7 KB per
# greenlet, and most of the CPU of spawning one (bench/idle.py). gevent's own setting,
# GEVENT_TRACK_GREENLET_TREE, still decides when it is set.
if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
    gevent.config.track_greenlet_tree = False

pings.install()  # Engine.IO's pings on a timer, not a greenlet per socket (realtime/pings.py)
websocket.install()  # a socket read in its request's greenlet (realtime/websocket.py)

app = create_app()
