"""ediary: an open-source school e-diary. `create_app` only wires (house rule 7)."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask, has_request_context, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from ediary import realtime
from ediary.config import Config
from ediary.db import db as database  # not `db`: that name is the submodule
from ediary.errors import Refusal
from ediary.extensions import babel, csrf, limiter, login_manager, socketio
from ediary.ids import IdConverter
from ediary.jsonio import ClientJSONProvider
from ediary.people.auth import load_session_user

BLUEPRINTS: list[str] = [
    "ediary.people.views",
    "ediary.schools.views",
    "ediary.diary.views",
    "ediary.timetable.views",
    "ediary.kiosks.api",
    "ediary.portal.views",
    "ediary.excuses.views",
    "ediary.notifications.views",
    "ediary.people.activation.views",
]


def create_app(config: Config | None = None) -> Flask:
    import ediary.models  # noqa: F401 - every mapper must be known before the first query

    config = config or Config.from_env()
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_mapping(config.as_flask())
    app.json = ClientJSONProvider(app)

    database.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "people.login"
    login_manager.login_message = _l("Zaloguj się, aby zobaczyć tę stronę.")
    login_manager.user_loader(load_session_user)
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    # While Redis (the shared counters) is down, count in this process's memory instead of
    # failing every rate-limited request: logins and enrollments go on, still limited.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    limiter.init_app(app)
    socketio.init_app(
        app,
        message_queue=config.REDIS_URL,
        cors_allowed_origins=config.SOCKETIO_ORIGINS,
        max_http_buffer_size=256 * 1024,
    )
    realtime.init_app(app)
    if config.PROXIES:
        # Outermost, so Socket.IO's handshake sees the client's address too. Not X-Forwarded-
        # Host: nginx passes Host itself and would let a client's X-Forwarded-Host through.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.PROXIES, x_proto=config.PROXIES
        )

    # Before any rule is added: every `<int:...>` is an id the database can hold (ediary/ids.py).
    app.url_map.converters["int"] = IdConverter
    for module_name in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)

    app.jinja_env.globals["get_locale"] = get_locale
    app.register_error_handler(Refusal, _refusal)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.after_request(_security_headers)
    return app


def _select_locale() -> str:
    """Polish unless the person chose English (a cookie set by the language switch)."""
    if not has_request_context():  # CLI, background work: the default language
        return "pl"
    chosen = request.cookies.get("lang")
    return chosen if chosen in ("pl", "en") else "pl"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _refusal(error: Refusal) -> ResponseReturnValue:
    database.session.rollback()
    if _wants_json():
        return jsonify(error.as_dict()), error.status
    return render_template("error.html", message=str(error.message)), error.status


def _not_found(_error: Any) -> ResponseReturnValue:
    if _wants_json():
        return jsonify({"ok": False, "error": "not_found"}), 404
    return render_template("error.html", message=_l("Nie ma takiej strony.")), 404


def _csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    """A form sent without its token, or after the token expired: nothing was saved."""
    message = _l("Formularz wygasł albo jest niepełny. Odśwież stronę i spróbuj ponownie.")
    if _wants_json():
        return jsonify({"ok": False, "error": "csrf", "message": str(message)}), 400
    return render_template("error.html", message=message), 400


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    if request.endpoint and request.endpoint != "static":
        # Pages hold pupils' data: never cached by the browser (kiosks are shared computers).
        response.headers.setdefault("Cache-Control", "no-store")
    return response
