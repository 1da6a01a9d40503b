"""A fake Slack Web API: a real HTTP server in a thread, stateful, recording every call.

Start it, point a WebClient (or SLACK_API_URL) at `fake.url`, configure tokens, users,
channels and failures, then read what arrived with `calls()`, `posts()` and `wait_for()`.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack_api_http import (
    UPLOAD_METHOD,
    QuietServer,
    Reply,
    Request,
    err,
)
from tests.fakes.slack_api_methods import TOLERANCE, Ctx, SlackState

# A slash command's response_url points here (fake.url + "response.hook"): no token needed.
RESPONSE_HOOK = "response.hook"
RANDOM_CHOICES = [(429, "ratelimited"), (500, "internal_error")]


@dataclass
class Call:
    """One request the fake received, and what it answered."""

    method: str
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str] = field(default_factory=dict)
    time: float = 0.0  # time.monotonic() when answered
    http_status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when Slack would have said ok."""
        return self.http_status == 200 and bool(self.response.get("ok"))

    @property
    def channel(self) -> str | None:
        """The channel the call was about, if any."""
        return self.params.get("channel") or self.params.get("channel_id")


@dataclass
class Failure:
    """An injected failure for matching calls."""

    method: str | None
    channel: str | None
    error: str
    http_status: int
    times: int | None  # None: until cleared
    retry_after: int | None


@dataclass
class Outage:
    """Slack down: every call answered with one error until it ends."""

    http_status: int
    error: str
    until: Callable[[], bool] | None  # ends the outage once true (checked on each call)

    def active(self) -> bool:
        """Still down."""
        return self.until is None or not self.until()


@dataclass
class RandomFailure:
    """A share of one method's calls answered with an error picked at random."""

    method: str
    rate: float
    rng: random.Random
    choices: list[tuple[int, str]]


class FakeSlack(SlackState):
    """A Slack Web API stand-in for tests and benchmarks: start(), url, stop().

    Rate limit: a chat.postMessage to a channel (per workspace) less than `post_interval`
    seconds after the last accepted one gets HTTP 429, `Retry-After: <ceil of the wait>` and
    {"ok": false, "error": "ratelimited"}. `tolerance` (0.02 s) forgives clock granularity and
    request jitter, so at the default 1.0 s, posts 0.98 s apart pass. post_interval=0: no limit.
    """

    def __init__(
        self,
        *,
        post_interval: float = 1.0,
        strict_channels: bool = False,
        latency: float = 0.0,
        tolerance: float = TOLERANCE,
        expected_client_id: str = "111.222",
        expected_client_secret: str = "client-secret-for-tests",
    ) -> None:
        super().__init__(
            post_interval=post_interval,
            strict_channels=strict_channels,
            expected_client_id=expected_client_id,
            expected_client_secret=expected_client_secret,
        )
        self.tolerance = tolerance
        self.latency = latency  # seconds to wait before answering (benchmarks)
        self._calls: list[Call] = []
        self._failures: list[Failure] = []
        self._random: RandomFailure | None = None
        self._outage: Outage | None = None
        self._cond = threading.Condition(self._lock)
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> FakeSlack:
        """Serve on a free 127.0.0.1 port in a daemon thread."""
        if self._server is None:
            self._server = QuietServer(self._serve)
            # A short poll interval: stop() waits for serve_forever to notice, at most this.
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.02,), name="fake-slack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, hang up open connections and close the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:PORT/."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}/"

    @property
    def url(self) -> str:
        """The Web API base URL, for WebClient(base_url=...) and SLACK_API_URL."""
        return self.base_url + "api/"

    # -- failure injection ---------------------------------------------------
    def fail(
        self,
        method: str | None = None,
        *,
        channel: str | None = None,
        error: str = "not_in_channel",
        http_status: int = 200,
        times: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` matching calls (None: until cleared) with an error.

        With http_status 200 the answer is {"ok": false, "error": error}; with another
        status (500, 503, 429) the same body comes with that status. A 429 always carries
        Retry-After (retry_after, default 1); other statuses carry it when retry_after is set.
        Injected failures come before token checks and the rate limit; the first match wins.
        """
        with self._lock:
            self._failures.append(Failure(method, channel, error, http_status, times, retry_after))

    def fail_randomly(
        self,
        method: str,
        rate: float,
        *,
        seed: int = 1,
        choices: list[tuple[int, str]] | None = None,
    ) -> None:
        """Answer a share `rate` of `method` calls with a random (status, error) from choices."""
        with self._lock:
            self._random = RandomFailure(
                method, rate, random.Random(seed), list(choices or RANDOM_CHOICES)
            )

    def outage(
        self,
        *,
        http_status: int = 503,
        error: str = "service_unavailable",
        until: Callable[[], bool] | None = None,
    ) -> None:
        """Answer every call (any method, token or channel) with that error: Slack is down.

        It lasts until recover(), or until `until()` returns true (asked on each call, e.g.
        `lambda: clock.now() >= end` with a test's clock). Calls are recorded as usual.
        """
        with self._lock:
            self._outage = Outage(http_status, error, until)

    def recover(self) -> None:
        """End an outage."""
        with self._lock:
            self._outage = None

    @property
    def down(self) -> bool:
        """True during an outage."""
        with self._lock:
            return self._outage is not None and self._outage.active()

    def clear_failures(self) -> None:
        """Remove every injected failure (and end an outage)."""
        with self._lock:
            self._failures.clear()
            self._random = None
            self._outage = None

    # -- recording -----------------------------------------------------------
    def reset(self) -> None:
        """Forget recorded calls and the rate-limit clock (configuration stays)."""
        with self._lock:
            self._calls.clear()
            self._last_post.clear()

    def calls(self, method: str | None = None, channel: str | None = None) -> list[Call]:
        """Recorded calls in arrival order, optionally of one method and/or channel."""
        with self._lock:
            return [c for c in self._calls if _matches(c, method, channel)]

    def posts(self, channel: str | None = None) -> list[Call]:
        """Accepted chat.postMessage calls, in order."""
        return [c for c in self.calls("chat.postMessage", channel) if c.ok]

    def replies(self, channel: str, thread_ts: str) -> list[Call]:
        """Accepted posts in the thread under that message, in order."""
        return [c for c in self.posts(channel) if c.params.get("thread_ts") == thread_ts]

    def min_gap(self, channel: str) -> float:
        """The smallest interval between accepted posts to a channel (inf if fewer than 2)."""
        times = [c.time for c in self.posts(channel)]
        return min((b - a for a, b in itertools.pairwise(times)), default=math.inf)

    def wait_for(
        self,
        predicate: str | Callable[[list[Call]], bool],
        count: int = 1,
        timeout: float = 10.0,
        *,
        channel: str | None = None,
    ) -> list[Call]:
        """Block until enough calls arrived, and return them.

        With a method name: until `count` accepted (ok) calls of it (to `channel` if given)
        exist; returns those. With a callable: until predicate(all calls) is true; returns
        all calls. Raises TimeoutError after `timeout` seconds.
        """

        def matching() -> list[Call]:
            return [c for c in self._calls if c.ok and _matches(c, str(predicate), channel)]

        def ready() -> bool:
            if callable(predicate):
                return bool(predicate(list(self._calls)))
            return len(matching()) >= count

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"fake Slack: {predicate!r} x{count} not seen in {timeout}s")
            return list(self._calls) if callable(predicate) else matching()

    # -- serving -------------------------------------------------------------
    def _serve(self, req: Request) -> Reply:
        """Answer one request (from a server thread) and record it."""
        if self.latency:
            time.sleep(self.latency)
        with self._cond:
            # One clock reading, under the lock, for both the rate limit and the record:
            # min_gap() then measures exactly what the rate limit judged.
            now = time.monotonic()
            reply = self._dispatch(req, now)
            self._calls.append(
                Call(req.method, req.params, req.token, req.headers, now, reply.status, reply.body)
            )
            self._cond.notify_all()
        return reply

    def _dispatch(self, req: Request, now: float) -> Reply:
        p, token = req.params, req.token
        outage = self._outage
        if outage is not None:
            if outage.active():
                headers = {"Retry-After": "1"} if outage.http_status == 429 else None
                return err(outage.error, outage.http_status, headers)
            self._outage = None
        injected = self._injected(req.method, p.get("channel") or p.get("channel_id"))
        if injected is not None:
            return injected
        if req.method == UPLOAD_METHOD:
            return self._upload(str(p["file_id"]), req.body)
        if req.method == "oauth.v2.access":
            return self._oauth_v2_access(p)
        if req.method == RESPONSE_HOOK:
            return Reply(200, {"ok": True})
        if not token:
            return err("not_authed")
        if token in self.revoked:
            return err("token_revoked")
        if token not in self.valid_tokens:
            return err("invalid_auth")
        handler = getattr(self, "_m_" + req.method.replace(".", "_"), None)
        if handler is None:
            return err("unknown_method")
        team = self.token_info.get(token) or {
            "team_id": "T1",
            "team": "Fake Workspace",
            "user_id": "UBOT",
            "bot_id": "B0QBSLACK",
        }
        reply: Reply = handler(p, Ctx(token, team, now))
        return reply

    def _injected(self, method: str, channel: str | None) -> Reply | None:
        for f in self._failures:
            if f.method in (None, method) and f.channel in (None, channel):
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self._failures.remove(f)
                headers = {}
                if f.http_status == 429 or f.retry_after is not None:
                    headers["Retry-After"] = str(f.retry_after or 1)
                return err(f.error, f.http_status, headers)
        rnd = self._random
        if rnd is not None and rnd.method == method and rnd.rng.random() < rnd.rate:
            status, error = rnd.rng.choice(rnd.choices)
            return err(error, status, {"Retry-After": "1"} if status == 429 else None)
        return None


def _matches(call: Call, method: str | None, channel: str | None) -> bool:
    return (method is None or call.method == method) and (
        channel is None or call.channel == channel
    )


@contextlib.contextmanager
def fake_slack_server(**kwargs: Any) -> Iterator[FakeSlack]:
    """A started FakeSlack (FakeSlack's keyword arguments), stopped afterwards."""
    fake = FakeSlack(**kwargs).start()
    try:
        yield fake
    finally:
        fake.stop()
