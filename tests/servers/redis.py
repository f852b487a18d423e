"""A private redis-server on a free loopback port (never the machine's own 6379), so that a test
or a benchmark may stop and restart it."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.servers.process import Process, free_port, tool


class RedisServer(Process):
    """redis-server in `directory`. Without `config_file` it keeps nothing on disk; with one (the
    provisioned provisioning/server/redis/ediary.conf) that file's settings hold, and only the
    port, the directory and the log are the harness's. Restarts on the same port."""

    port: int

    def __init__(self, directory: Path, *, config_file: Path | None = None) -> None:
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        if config_file is None:
            options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        else:
            options = [str(config_file), "--daemonize", "no"]
            options += ["--logfile", str(directory / f"redis-{port}.log")]
        # The program is looked up when the server starts: a missing one is then MissingTool.
        super().__init__(
            ["redis-server", *options, "--port", str(port), "--dir", str(directory)],
            port=port,
            start_timeout=10.0,
        )

    def spawn(self) -> None:
        self.command[0] = tool("redis-server")
        super().spawn()

    def ready(self) -> None:
        """Until it answers PING: it accepts connections a moment before it serves them."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with redis.Redis.from_url(self.url) as client:
                    if client.ping():
                        return
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not answer")
