"""Configuration: one dataclass, read from the environment once (EDIARY_* variables)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Config:
    DATABASE_URL: str = "sqlite:///instance/ediary.db"
    SECRET_KEY: str = "dev-only-not-secret"  # noqa: S105 - `ediary check --deploy` refuses it
    DEMO_MODE: bool = False
    DEBUG: bool = False
    TESTING: bool = False
    REDIS_URL: str | None = None  # the Socket.IO message queue when there is more than one process
    SOCKETIO_ORIGINS: list[str] = field(default_factory=lambda: ["http://127.0.0.1:5000"])
    RATELIMIT_STORAGE_URI: str = "memory://"
    BABEL_DEFAULT_LOCALE: str = "pl"
    BABEL_DEFAULT_TIMEZONE: str = "Europe/Warsaw"
    LANGUAGES: list[str] = field(default_factory=lambda: ["pl", "en"])
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False
    PERMANENT_SESSION_LIFETIME: int = 12 * 3600
    MAX_CONTENT_LENGTH: int = 2 * 1024 * 1024
    WTF_CSRF_ENABLED: bool = True
    # argon2id parameters, pinned (not the library's moving defaults): RFC 9106 low-memory profile.
    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_KIB: int = 65536
    ARGON2_PARALLELISM: int = 4
    JOURNAL_RETENTION_DAYS: int = 14
    ENROLLMENT_CODE_MINUTES: int = 30
    # Failed logins an hour from one address, across accounts, before it must wait (successful
    # logins never count: a school behind one NAT address logs in at once). people/throttle.py.
    LOGIN_FAILURES_PER_ADDRESS: int = 300
    ENGINE_OPTIONS: dict[str, Any] = field(default_factory=dict)
    # How many server processes run behind nginx; `ediary check --deploy` checks what N > 1 needs.
    PROCESSES: int = 1
    # How many reverse proxies (nginx) stand between the clients and this process, each adding
    # the client's address to X-Forwarded-For and the scheme to X-Forwarded-Proto. Behind nginx
    # it must be 1: else every client has nginx's address, and a limit meant for one address
    # (failed logins, activations) is shared by the whole district. 0 when clients reach the
    # process directly (the demo), since then those headers are whatever a client sends.
    PROXIES: int = 0
    # Which Socket.IO clients this process serves: `all` (one process serves everyone: the demo,
    # a small site), `people` (/live: parents and staff) or `kiosks` (/kiosk). In production the
    # kinds run in processes of their own (ediary-server@ and ediary-kiosk-server@, nginx routes
    # KIOSK_SOCKETIO_PATH to the kiosks'), so a parents' reconnect storm never queues a kiosk.
    SOCKETS: str = "all"
    # --- parents' portal (issue 5) ---
    # The site's address as parents reach it: links in e-mails (password reset) start with it.
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    # Photos of parents' excuse notes: outside static/, served only through a scoped route.
    EXCUSE_NOTES_DIR: str = "instance/excuse-notes"
    # Files sent with messages (ediary/messages): likewise outside static/, served as downloads.
    MESSAGE_FILES_DIR: str = "instance/message-files"
    # Outgoing e-mail (notifications, password reset); no host means e-mail is not sent.
    SMTP_HOST: str = ""
    SMTP_PORT: int = 25
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = False
    MAIL_FROM: str = "ediary@localhost"
    # SMS through SMSAPI (smsapi.pl); no token means SMS is not sent.
    SMSAPI_URL: str = "https://api.smsapi.pl/"
    SMSAPI_TOKEN: str = ""
    SMS_SENDER: str = ""
    # Web Push (notifications/push.py): the server's VAPID key, base64url of the raw 32-byte P-256
    # private key (`ediary vapid-keys` makes one); empty means no Web Push. The subject is the
    # contact push services see (mailto: or https:), default mailto:MAIL_FROM.
    VAPID_PRIVATE_KEY: str = ""
    VAPID_SUBJECT: str = ""
    # Tests only: push endpoints allowed on a private address or over http (the local fake push
    # service, "127.0.0.1:PORT"). `ediary check --deploy` refuses it.
    PUSH_ALLOW_HOSTS: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        env = os.environ if environ is None else environ
        config = cls()
        for name, default in asdict(config).items():
            raw = env.get(f"EDIARY_{name}")
            if raw is None:
                continue
            setattr(config, name, _parse(raw, default))
        for name, value in overrides.items():
            setattr(config, name, value)
        return config

    def as_flask(self) -> dict[str, Any]:
        return asdict(self)


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw
