"""Health check: GET /healthz (the support page lives in app.web.pages)."""

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
