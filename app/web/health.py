"""Health check and the QBWC support page."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.core.runtime import Runtime

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def runtime() -> Runtime:
    """The runtime of the current app."""
    rt: Runtime = current_app.extensions["qbslack"]
    return rt


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 with the status of the database and the queue; 503 naming what is down."""
    rt = runtime()
    status: dict[str, str] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        status["db"] = "ok"
    except Exception as exc:  # any driver error means "down" here
        log.warning("health: database down: %s", type(exc).__name__)
        status["db"] = "down"
    try:
        rt.jobs.ping()
        status["queue"] = "ok"
    except Exception as exc:
        log.warning("health: queue down: %s", type(exc).__name__)
        status["queue"] = "down"
    status["mode"] = "embedded" if rt.settings.embedded_jobs else "redis"
    healthy = status["db"] == "ok" and status["queue"] == "ok"
    status["status"] = "ok" if healthy else "down"
    return jsonify(status), 200 if healthy else 503


@bp.get("/support")
def support() -> Response:
    """The AppSupport page named in every .qwc (QBWC checks that it answers 200)."""
    html = (
        "<!doctype html><title>qbslack support</title>"
        "<h1>qbslack</h1><p>qbslack posts QuickBooks Desktop changes to Slack. "
        "Open the qbslack App Home in Slack for the status of your company files, "
        "your .qwc file and a new QBWC password.</p>"
    )
    return Response(html, mimetype="text/html")
