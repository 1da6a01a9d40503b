"""The framework boundary: one Flask blueprint handing Slack's requests to Bolt."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, request
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from app.core.bodies import read_at_most
from app.core.runtime import Runtime
from app.slack.bolt_app import build_bolt_app

log = logging.getLogger(__name__)


def register(app: Flask, runtime: Runtime) -> None:
    """Mount /slack/install, /slack/oauth_redirect and /slack/events."""
    settings = runtime.settings
    if not (
        settings.slack_client_id and settings.slack_client_secret and settings.slack_signing_secret
    ):
        _register_unconfigured(app)
        return
    bolt = build_bolt_app(runtime)
    handler = SlackRequestHandler(bolt)
    verifier = SignatureVerifier(settings.slack_signing_secret)
    limit = runtime.settings.max_slack_body_bytes
    bp = Blueprint("slack", __name__)

    @bp.get("/slack/install")
    def install() -> Response:
        return handler.handle(request)

    @bp.get("/slack/oauth_redirect")
    def oauth_redirect() -> Response:
        return handler.handle(request)

    @bp.post("/slack/events")
    def events() -> Response:
        if (request.content_length or 0) > limit:
            return Response("payload too large", status=413)
        # A chunked body has no Content-Length: read at most one byte past the limit.
        body = read_at_most(request.stream, limit + 1)
        if len(body) > limit:
            return Response("payload too large", status=413)
        # Signature and 5-minute window first (Bolt checks them again), then the shape:
        # a signed but unreadable body must be a 400, not a crash inside Bolt's parser.
        if not verifier.is_valid_request(body, dict(request.headers)):
            return Response("invalid request signature", status=401)
        if not _readable(body, request.content_type or ""):
            return Response("malformed payload", status=400)
        # Bolt gets the bytes read above (the stream is spent), through the adapter's own
        # response conversion.
        bolt_request = BoltRequest(
            body=body.decode("utf-8"),
            query=request.query_string.decode("utf-8"),
            headers=dict(request.headers),
        )
        return to_flask_response(bolt.dispatch(bolt_request))

    app.register_blueprint(bp)


def _readable(body: bytes, content_type: str) -> bool:
    """True when the body parses the way Bolt will parse it."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            payload = json.loads(form["payload"][0])
            return isinstance(payload, dict) and isinstance(payload.get("type"), str)
        return True
    except (UnicodeDecodeError, ValueError):
        return False


def _register_unconfigured(app: Flask) -> None:
    """Without the Slack app's credentials (a bare `make run`), say so instead of failing."""
    log.warning("SLACK_CLIENT_ID/SLACK_CLIENT_SECRET not set: the Slack routes answer 503")
    bp = Blueprint("slack", __name__)

    @bp.route("/slack/<path:_rest>", methods=["GET", "POST"])
    def unconfigured(_rest: str) -> Response:
        return Response(
            "The Slack app is not configured: set SLACK_CLIENT_ID, "
            "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET.\n",
            status=503,
            mimetype="text/plain",
        )

    app.register_blueprint(bp)
