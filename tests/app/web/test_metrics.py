"""The Prometheus endpoint."""

from __future__ import annotations

from app import create_app
from app.core import metrics
from app.core.jobqueue import RQJobQueue
from app.core.runtime import Runtime
from tests.conftest import make_settings


def test_metrics_exposes_counters_and_queue_lag(client):
    metrics.record_delivery("ratelimited")
    body = client.get("/metrics").get_data(as_text=True)
    assert "qbslack_slack_ratelimited_total" in body
    assert 'qbslack_queue_lag_seconds{queue="outbox"}' in body
    assert 'qbslack_queue_depth{queue="deliveries"}' in body


def test_metrics_token_required_when_set(engine, session_factory, redis_conn):
    rt = Runtime.from_settings(
        make_settings(metrics_token="m-token"),
        engine=engine,
        session_factory=session_factory,
        redis=redis_conn,
        jobs=RQJobQueue(redis_conn),
    )
    c = create_app(rt).test_client()
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = c.get("/metrics", headers={"Authorization": "Bearer m-token"})
    assert ok.status_code == 200 and "qbslack_polls_total" in ok.get_data(as_text=True)
