"""`ediary check --deploy`: refuse a production configuration that is unsafe.

Each check is a plain function of the configuration (and, for durability, of the settings the
database reports); `check_deploy` runs them all and returns every problem found, so that an
operator fixes the whole list in one go. Messages are for the operator, in English, and say what
to change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ediary.config import Config

DEFAULT_SECRET_KEY = Config.SECRET_KEY
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12
WEAK_SECRET_WORDS = ("secret", "changeme", "password", "haslo", "ediary", "example", "test")

# EDIARY_* variables that are read elsewhere than ediary/config.py: gunicorn.conf.py, the
# provisioning scripts, the kiosk agent and the tests.
KNOWN_OTHER_VARIABLES = frozenset(
    {
        "EDIARY_BIND",
        "EDIARY_ACCESS_LOG",
        "EDIARY_WORKER_CONNECTIONS",
        "EDIARY_WORKER_TIMEOUT",
        "EDIARY_GRACEFUL_TIMEOUT",
        "EDIARY_EXIT_WITH_WORKER",  # gunicorn.conf.py: set by the systemd units (child_exit)
        "EDIARY_GC_THRESHOLD",  # provisioning/gunicorn.conf.py: the workers' garbage collector
        "EDIARY_PG_BIN",  # bench/district: the PostgreSQL binaries its throwaway cluster runs
        "EDIARY_FORWARDED_ALLOW_IPS",
        "EDIARY_LOG_LEVEL",
        "EDIARY_DB_PASSWORD",
        "EDIARY_BACKUP_DATABASE",
        "EDIARY_BACKUP_DIR",
        "EDIARY_BACKUP_KEEP_DAYS",
        "EDIARY_CERTIFICATE_PASSWORD",  # `ediary archive build`: the director's PKCS#12 password
    }
)
KNOWN_OTHER_PREFIXES = ("EDIARY_KIOSK_", "EDIARY_TEST_")

# PostgreSQL settings that trade durability for speed, and the values that keep it.
DURABLE_POSTGRESQL = {
    "fsync": {"on"},
    "full_page_writes": {"on"},
    # `local` waits for the local WAL flush; `off` acknowledges commits that a crash can lose.
    "synchronous_commit": {"on", "local", "remote_write", "remote_apply"},
}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


DatabaseSettings = Mapping[str, str]
SettingsReader = Callable[[Config], DatabaseSettings]


def check_deploy(
    config: Config,
    environ: Mapping[str, str],
    *,
    read_database_settings: SettingsReader | None = None,
) -> list[Problem]:
    """Every problem of `config` (read from `environ`) for a production deployment."""
    problems = [
        *check_debug(config, environ),
        *check_secret_key(config),
        *check_cookies(config),
        *check_socketio_origins(config),
        *check_processes(config),
        *check_proxies(config),
        *check_push(config),
        *check_unknown_variables(environ),
    ]
    reader = read_database_settings or read_settings_from_database
    try:
        settings = reader(config)
    except Exception as error:  # any failure to connect or query is reported, not raised
        problems.append(
            Problem("database-unreachable", f"cannot read the database's settings: {error}")
        )
    else:
        problems.extend(check_durability(config, settings))
    return problems


def check_debug(config: Config, environ: Mapping[str, str]) -> Iterable[Problem]:
    if config.DEBUG or environ.get("FLASK_DEBUG", "").strip().lower() in {"1", "true", "yes"}:
        yield Problem(
            "debug",
            "debug mode is on (EDIARY_DEBUG or FLASK_DEBUG): it shows tracebacks and code to "
            "anyone; set EDIARY_DEBUG=false",
        )
    if config.TESTING:
        yield Problem("testing", "EDIARY_TESTING is on: it turns off protections; remove it")
    if config.DEMO_MODE:
        yield Problem(
            "demo-mode", "EDIARY_DEMO_MODE is on: the demo's shortcuts are not for real pupils"
        )


def check_push(config: Config) -> Iterable[Problem]:
    """EDIARY_PUSH_ALLOW_HOSTS lets push endpoints reach private addresses (the tests' fake push
    service): in production it would let anyone make the server POST into the school network."""
    if config.PUSH_ALLOW_HOSTS:
        yield Problem(
            "push-allow-hosts",
            "EDIARY_PUSH_ALLOW_HOSTS is set: it is for tests only (it exempts hosts from the "
            "Web Push endpoint checks); remove it",
        )
    if config.VAPID_PRIVATE_KEY:
        from ediary.notifications.push import vapid_of

        try:
            vapid_of(config.VAPID_PRIVATE_KEY)
        except Exception:
            yield Problem(
                "vapid-key",
                "EDIARY_VAPID_PRIVATE_KEY is not a P-256 private key; make one with "
                "`ediary vapid-keys`",
            )


def check_secret_key(config: Config) -> Iterable[Problem]:
    key = config.SECRET_KEY or ""
    advice = (
        "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))' "
        "and set EDIARY_SECRET_KEY"
    )
    if key == DEFAULT_SECRET_KEY:
        yield Problem("secret-key", f"EDIARY_SECRET_KEY is the built-in default; {advice}")
    elif len(key) < MIN_SECRET_LENGTH:
        yield Problem(
            "secret-key",
            f"EDIARY_SECRET_KEY is {len(key)} characters, fewer than {MIN_SECRET_LENGTH}; {advice}",
        )
    elif len(set(key)) < MIN_SECRET_DISTINCT or any(
        word in key.lower() for word in WEAK_SECRET_WORDS
    ):
        yield Problem("secret-key", f"EDIARY_SECRET_KEY looks made by hand, not random; {advice}")


def check_cookies(config: Config) -> Iterable[Problem]:
    if not config.SESSION_COOKIE_SECURE:
        yield Problem(
            "cookie-secure",
            "EDIARY_SESSION_COOKIE_SECURE is off: the login cookie would also travel over plain "
            "HTTP; set it to true (nginx serves HTTPS)",
        )
    if not config.SESSION_COOKIE_HTTPONLY:
        yield Problem(
            "cookie-httponly",
            "EDIARY_SESSION_COOKIE_HTTPONLY is off: scripts could read the login cookie",
        )
    if str(config.SESSION_COOKIE_SAMESITE).lower() not in {"lax", "strict"}:
        yield Problem(
            "cookie-samesite",
            f"EDIARY_SESSION_COOKIE_SAMESITE is {config.SESSION_COOKIE_SAMESITE!r}; use Lax",
        )
    if not config.WTF_CSRF_ENABLED:
        yield Problem("csrf", "EDIARY_WTF_CSRF_ENABLED is off: forms could be forged")


def check_socketio_origins(config: Config) -> Iterable[Problem]:
    origins = config.SOCKETIO_ORIGINS
    if isinstance(origins, str):
        origins = [origins]
    if not origins or any("*" in origin for origin in origins):
        yield Problem(
            "socketio-origins",
            "EDIARY_SOCKETIO_ORIGINS allows any origin: another site could open sockets with a "
            "parent's cookie; list the exact address, e.g. https://dziennik.gmina.pl",
        )
        return
    plain = [origin for origin in origins if not origin.startswith("https://")]
    if plain:
        yield Problem(
            "socketio-origins",
            f"EDIARY_SOCKETIO_ORIGINS lists origins without HTTPS: {', '.join(plain)}",
        )


def check_processes(config: Config) -> Iterable[Problem]:
    processes = config.PROCESSES
    if processes < 1:
        yield Problem("processes", f"EDIARY_PROCESSES is {processes}; it counts processes, >= 1")
        return
    if processes == 1:
        return
    if config.RATELIMIT_STORAGE_URI.startswith("memory://"):
        yield Problem(
            "ratelimit-storage",
            f"rate limits are counted in memory with {processes} processes: each process counts "
            "alone, so a password can be tried N times as often; set EDIARY_RATELIMIT_STORAGE_URI "
            "to redis://...",
        )
    if config.DATABASE_URL.startswith("sqlite"):
        yield Problem(
            "sqlite-processes",
            f"SQLite with {processes} processes: writers block each other and a busy school gets "
            "'database is locked'; use PostgreSQL (EDIARY_DATABASE_URL=postgresql+psycopg://...) "
            "or EDIARY_PROCESSES=1",
        )
    if not config.REDIS_URL:
        yield Problem(
            "redis",
            f"no EDIARY_REDIS_URL with {processes} processes: an entry written in one process "
            "would not reach the parents connected to another",
        )


def check_proxies(config: Config) -> Iterable[Problem]:
    # Production is behind nginx (HTTPS ends there): one proxy whose X-Forwarded-For is trusted.
    if config.PROXIES != 1:
        yield Problem(
            "proxies",
            f"EDIARY_PROXIES is {config.PROXIES}; behind nginx set it to 1: with 0 every client "
            "has nginx's address and shares one rate limit (20 logins an hour for the whole "
            "district), with more a client could forge its address",
        )


def check_unknown_variables(environ: Mapping[str, str]) -> Iterable[Problem]:
    """A misspelt variable is silently ignored, leaving the default it meant to replace."""
    known = {f"EDIARY_{field.name}" for field in fields(Config)} | KNOWN_OTHER_VARIABLES
    for name in sorted(environ):
        if (
            name.startswith("EDIARY_")
            and name not in known
            and not name.startswith(KNOWN_OTHER_PREFIXES)
        ):
            yield Problem(
                "unknown-setting", f"{name} is not a setting of ediary (misspelt?); it is ignored"
            )


def check_durability(config: Config, settings: DatabaseSettings) -> Iterable[Problem]:
    if config.DATABASE_URL.startswith("sqlite"):
        synchronous = int(settings.get("synchronous", "0"))
        if synchronous < 2:
            yield Problem(
                "database-durability",
                f"SQLite runs with synchronous={synchronous}: a power cut can lose acknowledged "
                "entries; it must be FULL (2)",
            )
        journal_mode = settings.get("journal_mode", "").lower()
        if journal_mode in {"off", "memory"}:
            yield Problem(
                "database-durability",
                f"SQLite runs with journal_mode={journal_mode}: a crash can corrupt the database",
            )
        return
    for name, durable in DURABLE_POSTGRESQL.items():
        value = settings.get(name)
        if value not in durable:
            yield Problem(
                "database-durability",
                f"PostgreSQL runs with {name}={value}: a crash can lose acknowledged entries; "
                f"set {name} = on (provisioning/server/postgresql/ediary.conf)",
            )


def read_settings_from_database(config: Config) -> dict[str, str]:
    """The durability settings the database applies to the application's own connections."""
    from sqlalchemy import text

    from ediary.db import make_engine

    engine = make_engine(config.DATABASE_URL, **_engine_options(config))
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return {
                    name: str(connection.execute(text(f"PRAGMA {name}")).scalar())
                    for name in ("synchronous", "journal_mode")
                }
            return {
                name: str(connection.execute(text(f"SHOW {name}")).scalar())
                for name in DURABLE_POSTGRESQL
            }
    finally:
        engine.dispose()


def _engine_options(config: Config) -> dict[str, Any]:
    # The application's own engine options, minus pool sizing that does not matter for one query.
    return {
        key: value
        for key, value in config.ENGINE_OPTIONS.items()
        if not re.match(r"pool|max_overflow", key)
    }
