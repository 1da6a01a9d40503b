"""A fake Slack Web API: a real HTTP server in a thread, stateful, recording every call."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Accepted posts to one channel may be this much closer than post_interval: the client
# and server clocks tick separately, and Slack's own limit is "about" one per second.
TOLERANCE = 0.02


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None
    time: float
    http_status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when Slack would have said ok."""
        return self.http_status == 200 and bool(self.response.get("ok"))


@dataclass
class Failure:
    """An injected failure for matching calls."""

    method: str | None
    channel: str | None
    error: str
    http_status: int
    times: int | None
    retry_after: int | None


class FakeSlack:
    """A Slack Web API stand-in for tests and benchmarks (start(), url, stop())."""

    def __init__(self, *, post_interval: float = 1.0, strict_channels: bool = False) -> None:
        self.post_interval = post_interval
        self.strict_channels = strict_channels
        self.valid_tokens: set[str] = set()
        self.revoked: set[str] = set()
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.client_id, self.client_secret = "111.222", "client-secret-for-tests"
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.latency = 0.0
        self._calls: list[Call] = []
        self._failures: list[Failure] = []
        self._random: tuple[str, float, random.Random, list[tuple[int, str]]] | None = None
        self._last_post: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> FakeSlack:
        """Serve on a free localhost port in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The Web API base URL (usable as WebClient base_url / SLACK_API_URL)."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    # -- configuration -------------------------------------------------------
    def add_token(self, token: str) -> None:
        """Accept this bearer token."""
        self.valid_tokens.add(token)

    def revoke_token(self, token: str) -> None:
        """Answer token_revoked for this token from now on."""
        self.revoked.add(token)

    def add_oauth_code(self, code: str, *, team_id: str, team_name: str, bot_token: str,
                       bot_user_id: str = "UBOT", authed_user_id: str = "UINSTALLER",
                       scope: str = "commands,chat:write") -> None:
        """Make oauth.v2.access answer this code with an installation."""
        self.oauth_codes[code] = {
            "ok": True, "app_id": "A0QBSLACK", "authed_user": {"id": authed_user_id},
            "scope": scope, "token_type": "bot", "access_token": bot_token,
            "bot_user_id": bot_user_id, "team": {"id": team_id, "name": team_name},
            "enterprise": None, "is_enterprise_install": False,
        }

    def add_user(self, user_id: str, *, team_id: str = "T1", is_admin: bool = False,
                 is_owner: bool = False, name: str = "someone") -> None:
        """A user users.info knows."""
        self.users[user_id] = {"id": user_id, "team_id": team_id, "name": name,
                               "is_admin": is_admin, "is_owner": is_owner,
                               "is_primary_owner": False, "deleted": False}

    def add_channel(self, channel_id: str, *, name: str = "general", is_private: bool = False,
                    is_member: bool = True, is_archived: bool = False) -> None:
        """A channel conversations.info and chat.postMessage know."""
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_private": is_private,
                                     "is_member": is_member, "is_archived": is_archived,
                                     "is_channel": not is_private}

    def fail(self, method: str | None = None, *, channel: str | None = None,
             error: str = "not_in_channel", http_status: int = 200, times: int | None = None,
             retry_after: int | None = None) -> None:
        """Answer matching calls with an error (or HTTP status) the next `times` times."""
        with self._lock:
            self._failures.append(Failure(method, channel, error, http_status, times,
                                          retry_after))

    def fail_randomly(self, method: str, rate: float, *, seed: int = 1,
                      choices: list[tuple[int, str]] | None = None) -> None:
        """Answer a share of calls with 429 or 500 at random (benchmarks)."""
        self._random = (method, rate, random.Random(seed),
                        choices or [(429, "ratelimited"), (500, "internal_error")])

    def clear_failures(self) -> None:
        """Remove every injected failure."""
        with self._lock:
            self._failures.clear()
            self._random = None

    def reset(self) -> None:
        """Forget recorded calls and rate-limit state."""
        with self._lock:
            self._calls.clear()
            self._last_post.clear()

    # -- inspection ----------------------------------------------------------
    def calls(self, method: str | None = None, channel: str | None = None) -> list[Call]:
        """Recorded calls, optionally of one method and channel."""
        with self._lock:
            return [c for c in self._calls if _matches(c, method, channel)]

    def posts(self, channel: str | None = None) -> list[Call]:
        """Accepted chat.postMessage calls, in order."""
        return [c for c in self.calls("chat.postMessage", channel) if c.ok]

    def wait_for(self, predicate: str | Callable[[list[Call]], bool], count: int = 1,
                 timeout: float = 10.0) -> list[Call]:
        """Wait until `count` accepted calls of a method exist (or a predicate holds)."""
        def ready() -> bool:
            if callable(predicate):
                return predicate(list(self._calls))
            return sum(1 for c in self._calls if c.method == predicate and c.ok) >= count
        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"fake Slack: {predicate!r} x{count} not seen in {timeout}s")
            if callable(predicate):
                return list(self._calls)
            return [c for c in self._calls if c.method == predicate and c.ok]

    def min_gap(self, channel: str) -> float:
        """The smallest interval between accepted posts to a channel (inf if < 2)."""
        times = [c.time for c in self.posts(channel)]
        return min((b - a for a, b in itertools.pairwise(times)), default=math.inf)

    # -- HTTP ----------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        if parts.path.startswith("/upload/"):
            file_id = parts.path.rsplit("/", 1)[-1]
            with self._lock:
                if file_id in self.files:
                    self.files[file_id]["content"] = body
            self._send(req, 200, {"ok": True}, text="OK - 1")
            return
        method = parts.path.rsplit("/", 1)[-1]
        params = dict(parse_qsl(parts.query))
        params.update(_body_params(req.headers.get("Content-Type", ""), body))
        token = None
        auth = req.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        elif auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            params.setdefault("client_id", cid)
            params.setdefault("client_secret", secret)
        token = token or params.get("token")
        status, payload, headers = self._dispatch(method, params, token)
        with self._cond:
            self._calls.append(Call(method, params, token, time.monotonic(), status, payload))
            self._cond.notify_all()
        self._send(req, status, payload, headers=headers)

    def _send(self, req: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], *,
              headers: dict[str, str] | None = None, text: str | None = None) -> None:
        data = (text or json.dumps(payload)).encode()
        req.send_response(status)
        req.send_header("Content-Type", "text/plain" if text else "application/json")
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    def _dispatch(self, method: str, p: dict[str, Any], token: str | None
                  ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            injected = self._injected(method, p.get("channel"))
            if injected is not None:
                return injected
            if method == "oauth.v2.access":
                return (200, *self._oauth(p))
            if method == "response.hook":  # a slash command's response_url: no token
                return 200, {"ok": True}, {}
            if token in self.revoked:
                return 200, {"ok": False, "error": "token_revoked"}, {}
            if token not in self.valid_tokens:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}
            return handler(p, token)

    def _injected(self, method: str, channel: str | None
                  ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        for f in self._failures:
            if (f.method in (None, method)) and (f.channel in (None, channel)):
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self._failures.remove(f)
                headers = {"Retry-After": str(f.retry_after or 1)} if f.http_status == 429 else {}
                return f.http_status, {"ok": False, "error": f.error}, headers
        rnd = self._random
        if rnd and rnd[0] == method and rnd[2].random() < rnd[1]:
            status, error = rnd[2].choice(rnd[3])
            return status, {"ok": False, "error": error}, (
                {"Retry-After": "1"} if status == 429 else {})
        return None

    def _oauth(self, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if p.get("client_id") != self.client_id or p.get("client_secret") != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}, {}
        grant = self.oauth_codes.pop(p.get("code", ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}, {}
        self.valid_tokens.add(grant["access_token"])
        return grant, {}

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id in self.channels:
            return self.channels[channel_id]
        if self.strict_channels or not channel_id:
            return None
        return {"id": channel_id, "name": channel_id.lower(), "is_private": False,
                "is_member": True, "is_archived": False, "is_channel": True}

    # -- methods -------------------------------------------------------------
    def _m_auth_test(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        return 200, {"ok": True, "url": "https://fake.slack.com/", "team": "Fake",
                     "user": "qbslack", "team_id": "T1", "user_id": "UBOT",
                     "bot_id": "B1"}, {}

    def _m_chat_postMessage(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        channel = p.get("channel", "")
        info = self._channel(channel)
        if info is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if info["is_archived"]:
            return 200, {"ok": False, "error": "is_archived"}, {}
        if not info["is_member"]:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        now = time.monotonic()
        last = self._last_post.get(channel)
        if self.post_interval and last is not None and now - last < self.post_interval - TOLERANCE:
            wait = math.ceil(self.post_interval - (now - last))
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, wait))}
        self._last_post[channel] = now
        ts = f"{1700000000 + next(self._ts)}.000100"
        message = {"text": p.get("text"), "blocks": p.get("blocks"), "ts": ts,
                   "thread_ts": p.get("thread_ts")}
        self.messages[(channel, ts)] = message
        return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, {}

    def _m_chat_update(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        key = (p.get("channel", ""), p.get("ts", ""))
        if key not in self.messages:
            return 200, {"ok": False, "error": "message_not_found"}, {}
        self.messages[key].update(text=p.get("text"), blocks=p.get("blocks"))
        return 200, {"ok": True, "channel": key[0], "ts": key[1]}, {}

    def _m_chat_postEphemeral(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        return 200, {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}, {}

    def _m_users_info(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        user = self.users.get(p.get("user", ""))
        if user is None:
            return 200, {"ok": False, "error": "user_not_found"}, {}
        return 200, {"ok": True, "user": user}, {}

    def _m_conversations_info(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        info = self._channel(p.get("channel", ""))
        if info is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        return 200, {"ok": True, "channel": info}, {}

    def _m_conversations_list(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        return 200, {"ok": True, "channels": list(self.channels.values()),
                     "response_metadata": {"next_cursor": ""}}, {}

    def _m_conversations_join(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        info = self._channel(p.get("channel", ""))
        if info is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if info["is_private"]:
            return 200, {"ok": False, "error": "method_not_supported_for_channel_type"}, {}
        info["is_member"] = True
        self.channels[info["id"]] = info
        return 200, {"ok": True, "channel": info}, {}

    def _m_conversations_open(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        users = p.get("users", "")
        return 200, {"ok": True, "channel": {"id": "D" + users.replace(",", "")[:10]}}, {}

    def _view(self, p: dict) -> dict[str, Any]:
        view = p.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        view_id = p.get("view_id") or f"V{next(self._ts):08d}"
        view["id"] = view_id
        self.views[view_id] = view
        return view

    def _m_views_open(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        if not p.get("trigger_id"):
            return 200, {"ok": False, "error": "invalid_trigger_id"}, {}
        return 200, {"ok": True, "view": self._view(p)}, {}

    def _m_views_publish(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        if not p.get("user_id"):
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        return 200, {"ok": True, "view": self._view(p)}, {}

    def _m_views_update(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        if not (p.get("view_id") or p.get("external_id")):
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        return 200, {"ok": True, "view": self._view(p)}, {}

    def _m_views_push(self, p: dict, token: str | None) -> tuple[int, dict, dict]:
        return self._m_views_open(p, token)

    def _m_files_getUploadURLExternal(self, p: dict, token: str | None
                                      ) -> tuple[int, dict, dict]:
        file_id = f"F{next(self._ts):08d}"
        self.files[file_id] = {"filename": p.get("filename"), "content": b""}
        base = self.url.replace("/api/", "")
        return 200, {"ok": True, "upload_url": f"{base}/upload/{file_id}", "file_id": file_id}, {}

    def _m_files_completeUploadExternal(self, p: dict, token: str | None
                                        ) -> tuple[int, dict, dict]:
        files = p.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        unknown = [f for f in files if f.get("id") not in self.files]
        if unknown:
            return 200, {"ok": False, "error": "file_not_found"}, {}
        return 200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                           for f in files]}, {}


def _body_params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[str(name)] = part.get_content()
        return out
    return dict(parse_qsl(body.decode()))


def _matches(call: Call, method: str | None, channel: str | None) -> bool:
    return (method is None or call.method == method) and (
        channel is None or call.params.get("channel") == channel
    )


@contextlib.contextmanager
def fake_slack_server(**kwargs: Any) -> Iterator[FakeSlack]:
    """A started FakeSlack, stopped afterwards."""
    fake = FakeSlack(**kwargs).start()
    try:
        yield fake
    finally:
        fake.stop()
