"""GET /metrics: our counters plus outbox and queue gauges read at scrape time."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from app.core.db import utcnow
from app.core.jobqueue import QUEUE_NAMES, RQJobQueue
from app.core.runtime import Runtime
from jobs import service as outbox
from tenants.health import Health, health_now, vitals_from_row, vitals_select

log = logging.getLogger(__name__)


class QueueLagCollector:
    """Queue lag per queue, read from the outbox and RQ when scraped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "qbslack_queue_lag_seconds", "Age of the oldest waiting item", labels=["queue"]
        )
        depth = GaugeMetricFamily("qbslack_queue_depth", "Items waiting", labels=["queue"])
        try:
            with self.runtime.transaction() as db:
                oldest, count = outbox.pending_summary(db_session=db)
            age = (utcnow() - _aware(oldest)).total_seconds() if oldest else 0.0
            lag.add_metric(["outbox"], max(0.0, age))
            depth.add_metric(["outbox"], float(count))
        except Exception as exc:  # a scrape must not fail because one source is down
            log.warning("metrics: outbox unavailable: %s", type(exc).__name__)
        jobs = self.runtime.jobs
        if isinstance(jobs, RQJobQueue):
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


# Buckets of qbslack_seconds_since_last_poll: 1 min to a week.
POLL_AGE_BUCKETS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
# Connections nobody expects to poll: they would hold the max up for good.
NOT_POLLING = (Health.PAUSED, Health.DISABLED)


class ConnectionHealthCollector:
    """Company files by health state and the age of their last polls, read when scraped.

    One query of the health columns of every connection (10,000 rows are a few hundred
    kilobytes), judged by tenants.health at the runtime's clock: the verdict App Home, the
    alerts and `qbslack tenants` give.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily | GaugeHistogramMetricFamily]:
        rt = self.runtime
        try:
            now = rt.clock.now()
            with rt.transaction() as db:
                rows = db.execute(vitals_select()).all()
        except Exception as exc:  # a scrape must not fail because one source is down
            log.warning("metrics: connections unavailable: %s", type(exc).__name__)
            return
        counts = dict.fromkeys(Health, 0)
        ages: list[float] = []
        for row in rows:
            health = health_now(vitals_from_row(row), now=now, settings=rt.settings)
            counts[health.state] += 1
            if health.seconds_since_poll is not None and health.state not in NOT_POLLING:
                ages.append(max(0.0, health.seconds_since_poll))
        connections = GaugeMetricFamily(
            "qbslack_connections",
            "Company-file connections by health state (as App Home shows it)",
            labels=["status"],
        )
        for state in Health:  # every state, so a gauge drops back to 0
            connections.add_metric([state.value], float(counts[state]))
        yield connections
        yield GaugeMetricFamily(
            "qbslack_seconds_since_last_poll_max",
            "Largest time since a completed QBWC session, among connections that have polled"
            " and are neither paused nor disabled",
            value=max(ages, default=0.0),
        )
        buckets = [
            (str(float(le)), float(sum(1 for a in ages if a <= le))) for le in POLL_AGE_BUCKETS
        ]
        yield GaugeHistogramMetricFamily(
            "qbslack_seconds_since_last_poll",
            "Connections by time since their last completed QBWC session (same connections"
            " as the max)",
            buckets=[*buckets, ("+Inf", float(len(ages)))],
            gsum_value=sum(ages),
        )


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
    registry.register(ConnectionHealthCollector(runtime))
    bp = Blueprint("metrics", __name__)
    token = runtime.settings.metrics_token
    # On a public https deployment the metrics (company files, error counts) are not for
    # everyone: without a token they are not served at all.
    closed = not token and runtime.settings.public_url.startswith("https:")

    @bp.get("/metrics")
    def metrics() -> Response:
        if closed:
            return Response(
                "metrics are off: set METRICS_TOKEN to read them\n",
                status=403,
                mimetype="text/plain",
            )
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
