"""The local screens: a small Flask app on loopback, served by waitress (a production WSGI server).

The browser is disposable and shared, so it holds nothing: no cookies, no storage, `no-store` on
every response. Each page load gets a token that lives in the page's memory only; a new page load
means the browser restarted (or reloaded), and the agent locks. Requests must name the agent's own
loopback address in Host, and in Origin when they change anything (DNS rebinding, other local
pages).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from kiosk.agent import Agent
from kiosk.desk import UserError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SAFE_METHODS = frozenset({"GET", "HEAD"})
TOKEN_HEADER = "X-Kiosk-Screen"  # noqa: S105 - a header name, not a secret


def create_app(agent: Agent) -> Flask:
    config = agent.config
    app = Flask(
        __name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static")
    )
    app.config.update(MAX_CONTENT_LENGTH=config.max_body_bytes, JSON_AS_ASCII=False)
    origin, netloc = config.origin, config.netloc

    @app.before_request
    def guard() -> None:
        if request.host != netloc:
            abort(403)
        sent_origin = request.headers.get("Origin")
        if sent_origin is not None and sent_origin != origin:
            abort(403)
        if request.method not in SAFE_METHODS and sent_origin is None:
            abort(403)
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            abort(403)
        length = request.content_length
        if length is not None and length > config.max_body_bytes:
            abort(413)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
            " connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers.pop("Set-Cookie", None)
        return response

    @app.errorhandler(UserError)
    def user_error(error: UserError) -> ResponseReturnValue:
        return jsonify({"ok": False, "error": error.code, "message": error.message}), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        return jsonify({"ok": False, "error": error.name}), error.code or 500

    def body() -> dict[str, Any]:
        if not request.is_json:
            abort(415)
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400)
        return data

    def screen() -> None:
        agent.check(request.headers.get(TOKEN_HEADER))

    def text(data: dict[str, Any], name: str, limit: int = 5000) -> str:
        value = data.get(name, "")
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > limit:
            raise UserError(agent.t("Nieprawidłowe dane."), code="bad_input")
        return value

    def number(data: dict[str, Any], name: str, optional: bool = False) -> Any:
        value = data.get(name)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(agent.t("Nieprawidłowe dane."), code="bad_input")
        return value

    @app.get("/")
    def index() -> ResponseReturnValue:
        token = agent.hello()
        response = Response(render_template("index.html", token=token, t=agent.t))
        # Nothing of a previous session may stay in this browser profile.
        response.headers["Clear-Site-Data"] = '"cookies", "storage"'
        return response

    @app.get("/api/state")
    def state() -> ResponseReturnValue:
        screen()
        return jsonify(agent.state())

    @app.post("/api/activity")
    def activity() -> ResponseReturnValue:
        screen()
        agent.touch()
        return jsonify({"ok": True})

    @app.post("/api/login")
    def login() -> ResponseReturnValue:
        data = body()
        screen()
        agent.login(text(data, "login", 200), text(data, "password", 1000), text(data, "pin", 16))
        return jsonify({"ok": True})

    @app.post("/api/unlock")
    def unlock() -> ResponseReturnValue:
        data = body()
        screen()
        agent.unlock(number(data, "teacher_id"), text(data, "pin", 16))
        return jsonify({"ok": True})

    @app.post("/api/lock")
    def lock() -> ResponseReturnValue:
        screen()
        agent.lock(agent.t("Wylogowano."))
        return jsonify({"ok": True})

    @app.post("/api/end-day")
    def end_day() -> ResponseReturnValue:
        screen()
        agent.end_day()
        return jsonify({"ok": True})

    @app.post("/api/lesson")
    def lesson() -> ResponseReturnValue:
        data = body()
        screen()
        return jsonify(agent.open_lesson(number(data, "lesson_id")))

    def mapping(data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict) or len(value) > 500:
            raise UserError(agent.t("Nieprawidłowe dane."), code="bad_input")
        return value

    def optional_text(data: dict[str, Any], name: str, limit: int) -> str | None:
        return None if data.get(name) is None else text(data, name, limit)

    def key(data: dict[str, Any]) -> str | None:
        """The teacher's intent, made by the page when a dialog opens or a roll draft starts."""
        return optional_text(data, "key", 40)

    @app.post("/api/roll")
    def roll() -> ResponseReturnValue:
        data = body()
        screen()
        lesson_id = number(data, "lesson_id")
        entry = agent.submit_roll(
            lesson_id,
            mapping(data, "states"),
            mapping(data, "base"),
            optional_text(data, "topic", 1000),
            optional_text(data, "base_topic", 1000),
            key(data),
        )
        # What the screen shows now, with this roll on it until the server acknowledges it.
        shown = agent.roster(lesson_id)
        return jsonify(
            {
                "ok": True,
                "entry": entry.public(),
                "attendance": shown["attendance"],
                "topic": shown["topic"],
            }
        )

    @app.post("/api/conflict")
    def conflict() -> ResponseReturnValue:
        data = body()
        screen()
        agent.decide_conflict(
            text(data, "key", 40), text(data, "item", 12), text(data, "decision", 8)
        )
        return jsonify({"ok": True})

    @app.post("/api/grade")
    def grade() -> ResponseReturnValue:
        data = body()
        screen()
        entry = agent.add_grade(
            number(data, "lesson_id"),
            number(data, "pupil_id"),
            number(data, "category_id", optional=True),
            text(data, "value", 4),
            text(data, "description", 1000),
            key(data),
            descriptive=optional_text(data, "descriptive", 5000),
            improves_id=number(data, "improves_id", optional=True),
        )
        return jsonify({"ok": True, "entry": entry.public()})

    @app.post("/api/grades")
    def grades() -> ResponseReturnValue:
        data = body()
        screen()
        found = agent.pupil_grades(number(data, "lesson_id"), number(data, "pupil_id"))
        return jsonify({"ok": True, "grades": found})

    @app.post("/api/grade/correct")
    def grade_correct() -> ResponseReturnValue:
        data = body()
        screen()
        entry = agent.correct_grade(
            number(data, "lesson_id"),
            number(data, "grade_id"),
            number(data, "category_id", optional=True),
            text(data, "value", 4),
            text(data, "description", 1000),
            key(data),
            descriptive=optional_text(data, "descriptive", 5000),
        )
        return jsonify({"ok": True, "entry": entry.public()})

    @app.post("/api/grade/remove")
    def grade_remove() -> ResponseReturnValue:
        data = body()
        screen()
        entry = agent.remove_grade(number(data, "lesson_id"), number(data, "grade_id"), key(data))
        return jsonify({"ok": True, "entry": entry.public()})

    @app.post("/api/remark")
    def remark() -> ResponseReturnValue:
        data = body()
        screen()
        entry = agent.add_remark(
            number(data, "lesson_id"),
            number(data, "pupil_id"),
            text(data, "kind", 20),
            text(data, "text", 5000),
            key(data),
        )
        return jsonify({"ok": True, "entry": entry.public()})

    @app.post("/api/homework/dates")
    def homework_dates() -> ResponseReturnValue:
        data = body()
        screen()
        return jsonify({"ok": True, "lessons": agent.homework_dates(number(data, "lesson_id"))})

    @app.post("/api/homework")
    def homework() -> ResponseReturnValue:
        data = body()
        screen()
        entry = agent.announce_homework(
            number(data, "lesson_id"),
            text(data, "kind", 12),
            text(data, "date", 10),
            text(data, "description", 5000),
            optional_text(data, "due_date", 10),
            data.get("confirm") is True,
            key(data),
        )
        return jsonify({"ok": True, "entry": entry.public()})

    return app


def serve(agent: Agent) -> None:
    """Runs until SIGTERM/SIGINT (waitress handles them by closing the listening socket)."""
    from waitress.server import create_server

    config = agent.config
    server = create_server(
        create_app(agent),
        host=config.host,
        port=config.port,
        threads=8,
        ident="",
        max_request_body_size=config.max_body_bytes,
        max_request_header_size=16 * 1024,
        clear_untrusted_proxy_headers=True,
    )
    log.info("kiosk screens on %s", config.origin)
    try:
        server.run()
    finally:
        server.close()
