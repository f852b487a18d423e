"""Flask-Login's `login_required`, typed: the library has no annotations, so a view it wraps
would lose its own to mypy (house rule 10: strict types for ediary/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from flask_login import login_required as _login_required

P = ParamSpec("P")
R = TypeVar("R")


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Anonymous requests go to the login page; the view runs for a logged-in person."""
    return cast(Callable[P, R], _login_required(view))
