"""The realtime tests' servers and seeded world, for the office's end-to-end test."""

from tests.realtime.conftest import redis_server, seeded

__all__ = ["redis_server", "seeded"]
