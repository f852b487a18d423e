"""The kiosk server side's in-process fixtures (tests/kiosk_server/conftest.py), reused."""

from tests.kiosk_server.conftest import connect, kworld

__all__ = ["connect", "kworld"]
