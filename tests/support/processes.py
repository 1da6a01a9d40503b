"""Helpers for tests that run qbslack as its own process: ports, environment, readiness."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

from tests.conftest import KEY_A, TEST_DATABASE_URL, TEST_REDIS_URL


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(**extra: str) -> dict[str, str]:
    """The environment of a production-stack qbslack process on the test databases."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        PUBLIC_URL="https://qbslack.example.com",
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="x",
        SLACK_SIGNING_SECRET="y",
        SECRET_KEY="z",
        TOKEN_ENCRYPTION_KEYS=KEY_A,
        LOG_FORMAT="text",
    )
    env.update(extra)
    return env


def wait_http(url: str, proc: subprocess.Popen[bytes], *, attempts: int = 300) -> None:
    """Wait until url answers (any HTTP status) while the process lives."""
    for _ in range(attempts):
        assert proc.poll() is None, "the server exited"
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)
