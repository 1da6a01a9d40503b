"""Prometheus metrics: counters the code bumps, gauges read at scrape time."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from app.db import utcnow
from app.runtime import Runtime

log = logging.getLogger(__name__)

POLLS = Counter("qbslack_polls_total", "QBWC sessions by outcome", ["result"])
EVENTS_CREATED = Counter("qbslack_events_created_total", "Outbox events created", ["event_type"])
DELIVERIES = Counter("qbslack_deliveries_total", "Slack delivery attempts by result", ["result"])
RATELIMITED = Counter("qbslack_slack_ratelimited_total", "Slack HTTP 429 answers")
QBWC_ERRORS = Counter("qbslack_qbwc_errors_total", "QuickBooks errors by hresult", ["hresult"])
AUTH_FAILURES = Counter("qbslack_auth_failures_total", "Failed QBWC logins", ["reason"])


def record_poll(result: str) -> None:
    """Count a finished QBWC session (ok, error, nvu, none)."""
    POLLS.labels(result).inc()


def record_events(event_type: str, count: int = 1) -> None:
    """Count events added to the outbox."""
    if count:
        EVENTS_CREATED.labels(event_type).inc(count)


def record_delivery(result: str) -> None:
    """Count a delivery attempt (posted, ratelimited, retry, failed, ...)."""
    DELIVERIES.labels(result).inc()
    if result == "ratelimited":
        RATELIMITED.inc()


def record_qbwc_error(hresult: str) -> None:
    """Count a QuickBooks-side error by its hresult or status code."""
    QBWC_ERRORS.labels(hresult or "unknown").inc()


class QueueLagCollector:
    """Queue lag per queue, read from the outbox and RQ when scraped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from jobs.models import PENDING, Event

        lag = GaugeMetricFamily(
            "qbslack_queue_lag_seconds", "Age of the oldest waiting item", labels=["queue"]
        )
        depth = GaugeMetricFamily(
            "qbslack_queue_depth", "Items waiting", labels=["queue"]
        )
        try:
            with self.runtime.transaction() as db:
                oldest, count = db.execute(
                    select(func.min(Event.created_at), func.count()).where(Event.status == PENDING)
                ).one()
            age = (utcnow() - _aware(oldest)).total_seconds() if oldest else 0.0
            lag.add_metric(["outbox"], max(0.0, age))
            depth.add_metric(["outbox"], float(count))
        except Exception as exc:  # a scrape must not fail because one source is down
            log.warning("metrics: outbox unavailable: %s", type(exc).__name__)
        jobs: Any = self.runtime.jobs
        if hasattr(jobs, "queue"):
            from jobs.queue import QUEUE_NAMES

            for name in QUEUE_NAMES:
                try:
                    q = jobs.queue(name)
                    depth.add_metric([name], float(q.count))
                    job_ids = q.get_job_ids(0, 0)
                    age = 0.0
                    if job_ids:
                        job = q.fetch_job(job_ids[0])
                        if job is not None and job.enqueued_at is not None:
                            age = (utcnow() - _aware(job.enqueued_at)).total_seconds()
                    lag.add_metric([name], max(0.0, age))
                except Exception as exc:
                    log.warning("metrics: queue %s unavailable: %s", name, type(exc).__name__)
        yield lag
        yield depth


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def register(app: Flask, runtime: Runtime) -> None:
    """Mount GET /metrics (bearer METRICS_TOKEN when set)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: sum every process's counters from the shared dir.
        MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistryProxy())
    registry.register(QueueLagCollector(runtime))
    bp = Blueprint("metrics", __name__)
    token = runtime.settings.metrics_token

    @bp.get("/metrics")
    def metrics() -> Response:
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response("unauthorized\n", status=401, mimetype="text/plain")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(bp)


class _DefaultRegistryProxy:
    """Exposes the process-wide default registry inside our per-app registry."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()
