"""Password hashing with argon2id (argon2-cffi), off the event loop under gevent.

A hash costs ~200 ms of CPU in C; under gevent that would stall every socket of the process, so
it runs in gevent's native thread pool when the server is monkey-patched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

T = TypeVar("T")

# Verifying against this keeps a login for an unknown account as slow as for a known one.
_DUMMY_PASSWORD = "no such account"  # noqa: S105


def hasher() -> PasswordHasher:
    config = current_app.config
    key = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])
    cache: dict[tuple[int, int, int], PasswordHasher] = current_app.extensions.setdefault(
        "ediary.hashers", {}
    )
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
    return cache[key]


def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    try:
        from gevent import get_hub
        from gevent.monkey import is_module_patched
    except ImportError:  # pragma: no cover - gevent is a dependency
        return fn(*args)
    if is_module_patched("socket"):
        result: T = get_hub().threadpool.apply(fn, args)
        return result
    return fn(*args)


def hash_password(password: str) -> str:
    return _off_loop(hasher().hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    ph = hasher()
    target = password_hash or _dummy_hash(ph)

    def _verify() -> bool:
        try:
            return ph.verify(target, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return _off_loop(_verify)


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def _dummy_hash(ph: PasswordHasher) -> str:
    cache: dict[str, str] = current_app.extensions.setdefault("ediary.dummy_hash", {})
    if "hash" not in cache:
        cache["hash"] = ph.hash(_DUMMY_PASSWORD)
    return cache["hash"]
