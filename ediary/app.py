"""The application: `create_app` only wires (house rule 7); the error pages all blueprints share."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from ediary import realtime, transactions
from ediary.config import Config
from ediary.db import db as database  # not `db`: that name is the submodule
from ediary.errors import Refusal
from ediary.extensions import babel, csrf, limiter, login_manager, socketio
from ediary.ids import IdConverter
from ediary.jsonio import ClientJSONProvider
from ediary.people.auth import load_session_user
from ediary.people.throttle import retry_message
from ediary.people.twofactor.gate import guard as second_factor_guard
from ediary.realtime.manager import client_manager
from ediary.web.pages import form_token

BLUEPRINTS: list[str] = [
    "ediary.people.views",
    "ediary.schools.views",
    "ediary.diary.views",
    "ediary.timetable.views",
    "ediary.timetable.pages",
    "ediary.kiosks.api",
    "ediary.kiosks.views",
    "ediary.portal.views",
    "ediary.excuses.views",
    "ediary.notifications.views",
    "ediary.notifications.pushviews",
    "ediary.contacts.views",
    "ediary.people.activation.views",
    "ediary.district.views",
    "ediary.district.school_pages",
    "ediary.records.views",
    "ediary.oversight.views",
    "ediary.office.views",
    "ediary.office.guardian_views",
    "ediary.staff.letters_views",
    "ediary.staff.views",
    "ediary.people.twofactor.views",
    "ediary.gradebook.views",
    "ediary.homework.views",
    "ediary.office.imports.views",
    "ediary.office.exports",
    "ediary.office.rollover.views",
    "ediary.privacy.views",
    "ediary.gradingrules.views",
    "ediary.tutor.views",
    "ediary.classification.views",
    "ediary.classification.director_views",
    "ediary.council.views",
    "ediary.messages.views",
    "ediary.messages.announcement_views",
]


def create_app(config: Config | None = None) -> Flask:
    import ediary.models  # noqa: F401 - every mapper must be known before the first query

    config = config or Config.from_env()
    # The package's name (its directory is the root path; the logger is "ediary").
    app = Flask("ediary", template_folder="../templates", static_folder="../static")
    app.config.from_mapping(config.as_flask())
    app.json = ClientJSONProvider(app)

    transactions.install()  # the session listeners, in their written order (transactions.py)
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
        client_manager=client_manager(config.REDIS_URL),  # rooms indexed by socket
        cors_allowed_origins=config.SOCKETIO_ORIGINS,
        max_http_buffer_size=256 * 1024,
        ping_interval=realtime.ping_interval(app.config),
        # The relay checks the pings of all sockets in one pass instead (relay._watch_pings).
        monitor_clients=False,
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
    app.jinja_env.globals["form_token"] = form_token
    app.register_error_handler(Refusal, _refusal)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
    app.add_url_rule("/favicon.ico", endpoint="favicon", view_func=_favicon)
    app.before_request(second_factor_guard)  # staff without their second factor: enrol
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
    return error_page(404, "not_found", _l("Nie ma takiej strony."))


def _csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    """A form sent without its token, or after the token expired: nothing was saved."""
    message = _l("Formularz wygasł albo jest niepełny. Odśwież stronę i spróbuj ponownie.")
    if _wants_json():
        return jsonify({"ok": False, "error": "csrf", "message": str(message)}), 400
    return render_template("error.html", message=message), 400


log = logging.getLogger(__name__)

# What a person reads for each HTTP error they can meet; JSON clients get the code as well.
HTTP_ERRORS: dict[int, tuple[str, LazyString]] = {
    400: ("bad_request", _l("Nieprawidłowe zapytanie. Odśwież stronę i spróbuj ponownie.")),
    403: ("forbidden", _l("Nie masz dostępu do tej strony.")),
    405: (
        "method_not_allowed",
        _l("Tej strony nie otwiera się w ten sposób. Wróć i użyj przycisku na stronie."),
    ),
    413: (
        "too_large",
        _l(
            "Wysłane dane są za duże i nie zostały zapisane. Zdjęcie zwolnienia może mieć "
            "najwyżej 1,5 MB: wróć, wybierz mniejszy plik i wyślij ponownie."
        ),
    ),
    500: ("internal", _l("Błąd serwera. Nic nie zostało zapisane. Spróbuj ponownie za chwilę.")),
}
OTHER_ERROR = ("error", _l("Nie udało się wykonać tej operacji."))


def error_page(status: int, code: str, message: str | LazyString, **details: Any) -> Response:
    """The site's error page (in the person's language), or JSON for a program."""
    if _wants_json():
        return make_response(
            jsonify({"ok": False, "error": code, "message": str(message), **details}), status
        )
    return make_response(render_template("error.html", message=message), status)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error  # routing redirects (308) are HTTPExceptions too: they pass through
    code, message = HTTP_ERRORS.get(error.code, OTHER_ERROR)
    response = error_page(error.code, code, message)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


def _server_error(error: InternalServerError) -> ResponseReturnValue:
    database.session.rollback()
    try:
        return error_page(500, *HTTP_ERRORS[500])
    except Exception:  # the page itself failed (the database is down): a page all the same
        log.exception("the error page failed")
        return str(HTTP_ERRORS[500][1]), 500, {"Content-Type": "text/plain; charset=utf-8"}


def _rate_limited(_error: RateLimitExceeded) -> ResponseReturnValue:
    """A flask-limiter limit (activation, password reset): when to try again, in words."""
    limit = limiter.current_limit
    # `reset_at` is a whole second, rounded up: its floor is the wait a person expects.
    left = limit.reset_at - dt.datetime.now(dt.UTC).timestamp() if limit is not None else 60
    wait = max(1, math.floor(left))
    response = error_page(429, "throttled", retry_message(wait), retry_after=wait)
    response.headers["Retry-After"] = str(wait)
    return response


def _favicon() -> ResponseReturnValue:
    """Browsers and bookmarks ask for /favicon.ico whatever a page links; the static file."""
    return current_app.send_static_file("favicon.ico")


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    if request.endpoint and request.endpoint not in ("static", "favicon"):
        # Pages hold pupils' data: never cached by the browser (kiosks are shared computers).
        response.headers.setdefault("Cache-Control", "no-store")
    return response
