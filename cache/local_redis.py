"""A throwaway `redis-server` on a free loopback port in a temporary directory (no persistence),
for the tests and benchmarks that need a real Redis."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from types import TracebackType

START_ATTEMPTS = 5
START_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    """Whether a Redis server answers PING on the port (raw protocol: no client needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedisServer:
    """`with LocalRedisServer() as server: ... server.url ...`; `stop()` may be called early
    (to test a server that goes away) and `start()` again (same port)."""

    def __init__(self, executable: str = "redis-server", config: Sequence[str] = ()) -> None:
        found = shutil.which(executable)
        if found is None:
            raise FileNotFoundError(f"'{executable}' not found (apt-get install redis-server)")
        self.executable = found
        self.config = list(config)
        self.directory = tempfile.mkdtemp(prefix="red-redis-")
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> LocalRedisServer:
        ports = [self.port] if self.port else [_free_port() for _ in range(START_ATTEMPTS)]
        for port in ports:
            if self._launch(port):
                self.port = port
                return self
        log = os.path.join(self.directory, "redis.log")
        raise RuntimeError(f"redis-server did not start (see {log})")

    def _launch(self, port: int) -> bool:
        args = [
            self.executable,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", self.directory,
            "--save", "",
            "--appendonly", "no",
            "--logfile", os.path.join(self.directory, "redis.log"),
            *self.config,
        ]  # fmt: skip
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:  # the port was taken meanwhile, or a bad config
                return False
            if _answers(port):
                self.process = process
                return True
            time.sleep(0.02)
        process.kill()
        process.wait()
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.directory)

    def __enter__(self) -> LocalRedisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
