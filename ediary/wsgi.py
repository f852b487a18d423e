"""The WSGI entry point for gunicorn: `gunicorn -k gevent -w 1 ediary.wsgi:app`.

gunicorn's gevent worker monkey-patches before it imports this module; configuration comes from
EDIARY_* environment variables (see ediary/config.py).
"""

from ediary import create_app

app = create_app()
