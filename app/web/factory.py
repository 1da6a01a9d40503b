"""The Flask app factory: one WSGI app for SOAP, Slack, downloads, health and pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.jobqueue import InProcessJobQueue
from app.core.logs import configure_logging
from app.core.runtime import Runtime
from app.core.settings import Settings
from app.slack import http as slack_http
from app.web import health, metrics, pages, preview, qwc_download
from jobs.background import Background
from soap import http as soap_http

log = logging.getLogger(__name__)


def create_app(config: Settings | Runtime | Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment, a Settings, a Runtime or an env-like mapping."""
    if isinstance(config, Runtime):
        runtime = config
    else:
        settings = config if isinstance(config, Settings) else Settings.from_env(config)
        configure_logging(json_lines=settings.log_json)
        runtime = Runtime.from_settings(settings)
    settings = runtime.settings

    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    # The largest body we accept anywhere; SOAP and Slack routes check their own lower limits.
    app.config["MAX_CONTENT_LENGTH"] = max(
        settings.max_soap_body_bytes, settings.max_slack_body_bytes
    )
    app.extensions["qbslack"] = runtime

    app.register_blueprint(health.bp)
    metrics.register(app, runtime)
    soap_http.register(app, runtime)
    slack_http.register(app, runtime)
    qwc_download.register(app, runtime)
    pages.register(app, runtime)  # /, /privacy, /support
    preview.register(app, runtime)  # /dev/preview, development settings only
    _register_errors(app)
    if runtime.settings.proxy_hops:
        # Outermost (around the SOAP endpoint too): REMOTE_ADDR becomes the caller our own
        # proxies saw, the rightmost entries of X-Forwarded-For; what a client wrote to the
        # left of them (a spoofed address) is never taken for its source.
        hops = runtime.settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    if isinstance(runtime.jobs, InProcessJobQueue) and runtime.background is None:
        # Embedded mode: no worker process, so this process sweeps the outbox itself.
        runtime.background = Background(runtime).start()
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name, message=exc.description), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # Log the traceback for us; the client only learns that it failed.
        log.exception("unhandled error")
        return jsonify(error="Internal Server Error"), 500
