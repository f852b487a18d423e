"""JSON from clients: nesting deeper than Python can parse is malformed input, like bad syntax.

Python's json module raises RecursionError for arrays or objects nested past the interpreter's
recursion limit (a 50,000-deep body is 100 KB), and `Request.get_json(silent=True)` only turns
ValueError into "no JSON", so such a body was a 500. Every JSON body the app reads goes through
this provider (create_app sets it), so a too-deep body is refused like any other malformed one.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class ClientJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
