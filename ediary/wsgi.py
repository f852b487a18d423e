"""The WSGI entry point for gunicorn: `gunicorn -k gevent -w 1 ediary.wsgi:app`.

gunicorn's gevent worker monkey-patches before it imports this module; configuration comes from
EDIARY_* environment variables (see ediary/config.py).
"""

import os

import gevent

from ediary import create_app

# gevent records, for every greenlet, the stack that spawned it (for debugging tools only). A
# process holding 10,000 sockets spawns one greenlet per socket every ping (Engine.IO's pinger)
# and keeps four per socket: the records cost ~2 KB per socket and most of a spawn's CPU
# (bench/idle.py). gevent's own GEVENT_TRACK_GREENLET_TREE, when set, still decides.
if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
    gevent.config.track_greenlet_tree = False

app = create_app()
