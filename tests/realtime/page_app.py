"""The real server with one extra page for tests/realtime/test_live_js.py (never deployed).

A parent's page in miniature: the status element with translated words and a hook that records
every applied event; served by the real app, so the CSP, the cookie and the Origin are real.
"""

from __future__ import annotations

from flask import Response, request

from ediary.wsgi import app

PAGE = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8">{head}
<script type="module" src="/live-test.js"></script></head>
<body>
<span id="live-status" data-live="Na żywo" data-offline="Brak połączenia"
      data-connecting="Łączenie…"></span>
</body></html>"""

SCRIPT = """import { startLive } from "/static/js/live.js";
window.applied = [];
window.reloads = [];
window.live = startLive({
  onEvent: (event) => window.applied.push(event),
  reload: (reason) => window.reloads.push(reason),
});
"""


@app.get("/live-test")
def live_test_page() -> Response:
    head = request.args.get("head")
    meta = f'<meta name="ediary-live-last-id" content="{int(head)}">' if head else ""
    return Response(PAGE.format(head=meta), mimetype="text/html")


@app.get("/live-test.js")
def live_test_script() -> Response:
    return Response(SCRIPT, mimetype="text/javascript")
