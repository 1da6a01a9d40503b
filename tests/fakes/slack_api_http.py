"""HTTP plumbing for the fake Slack: parse requests the way slack_sdk sends them, write replies."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# The request headers a Call keeps: enough to check how a client talked to "Slack".
KEPT_HEADERS = ("Authorization", "Content-Type", "User-Agent")
# Form fields that Slack accepts as JSON strings; decoded so that tests read them one way
# whether the client sent a JSON body or a form.
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
# Where files.getUploadURLExternal points uploads (files.slack.com/upload/v1/... on Slack).
UPLOAD_PREFIX = "/upload/v1/"
UPLOAD_METHOD = "upload_url"


@dataclass
class Request:
    """One parsed Web API request."""

    method: str
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Reply:
    """What the fake answers: HTTP status, JSON body (or plain text), extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None


def ok(**fields: Any) -> Reply:
    """A 200 {"ok": true, ...} answer."""
    return Reply(200, {"ok": True, **fields})


def err(error: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A {"ok": false, "error": ...} answer (200 unless told, as Slack does)."""
    return Reply(status, {"ok": False, "error": error}, headers or {})


def parse_request(path: str, headers: Any, body: bytes) -> Request:
    """Merge query, form/JSON/multipart body and auth headers into one Request."""
    parts = urlsplit(path)
    kept = {k: headers[k] for k in KEPT_HEADERS if headers.get(k) is not None}
    if parts.path.startswith(UPLOAD_PREFIX):
        file_id = parts.path[len(UPLOAD_PREFIX) :]
        return Request(UPLOAD_METHOD, {"file_id": file_id, "length": len(body)}, None, kept, body)
    params: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(body_params(headers.get("Content-Type") or "", body))
    for name in JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Left as sent when it is not JSON: the method answers invalid_arguments.
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    token = None
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        token = auth[len("Bearer ") :].strip()
    elif auth.startswith("Basic "):
        # oauth.v2.access: slack_sdk sends client_id:client_secret as HTTP Basic auth.
        try:
            decoded = base64.b64decode(auth[len("Basic ") :]).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, _, secret = decoded.partition(":")
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", secret)
    token = token or params.get("token") or None
    method = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return Request(method, params, token, kept, body)


def body_params(content_type: str, body: bytes) -> dict[str, Any]:
    """The parameters in a form, JSON or multipart body."""
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
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so stop() can close them all."""

    daemon_threads = True

    def __init__(self, serve: Callable[[Request], Reply]) -> None:
        self.serve = serve
        self.open_connections: set[socket.socket] = set()
        self.idle = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that hung up (or stop() closing a socket) is not news."""

    def close_connections(self, timeout: float = 5.0) -> None:
        """Hang up every open connection and wait for their handlers to finish."""
        with self.idle:
            for conn in list(self.open_connections):
                with contextlib.suppress(OSError):  # the client may have hung up already
                    conn.shutdown(socket.SHUT_RDWR)
            self.idle.wait_for(lambda: not self.open_connections, timeout)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the fake answer it, writes the reply."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Slack's edge does
    server: QuietServer

    def setup(self) -> None:
        super().setup()
        with self.server.idle:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.idle:
                self.server.open_connections.discard(self.connection)
                self.server.idle.notify_all()

    def do_POST(self) -> None:  # http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._answer(parse_request(self.path, self.headers, body))

    def do_GET(self) -> None:  # http.server's naming
        self._answer(parse_request(self.path, self.headers, b""))

    def _answer(self, request: Request) -> None:
        reply = self.server.serve(request)
        if reply.text is not None:
            data, content_type = reply.text.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # the base's parameter names
        pass  # the Call records are the log
