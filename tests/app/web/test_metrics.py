"""The Prometheus endpoint."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.core import metrics
from app.core.clock import ManualClock
from app.core.jobqueue import RQJobQueue
from app.core.runtime import Runtime
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.health import Health
from tenants.models import Connection, Tenant
from tests.conftest import METRICS_AUTH, make_settings


def test_metrics_exposes_counters_and_queue_lag(client):
    metrics.record_delivery("ratelimited")
    body = client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
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


T0 = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def test_connections_by_health_state_and_seconds_since_last_poll(runtime, client):
    runtime.clock = ManualClock(T0)
    minutes = dt.timedelta(minutes=1)
    with runtime.transaction() as db:
        active = Tenant(team_id="TA", team_name="A")
        gone = Tenant(team_id="TB", team_name="B", status=TenantStatus.DISCONNECTED)
        db.add_all([active, gone])
        rows = [
            # (tenant, status column, minutes since the last poll)
            (active, ConnectionStatus.OK, 1),
            (active, ConnectionStatus.OK, 4),
            (active, ConnectionStatus.OK, 120),  # stale
            (active, ConnectionStatus.ERROR, 2),
            (active, ConnectionStatus.ERROR, 600),  # stale: the error is old news
            (active, ConnectionStatus.WRONG_FILE, 3),
            (active, ConnectionStatus.NEW, None),
            (active, ConnectionStatus.DISABLED, 60 * 24 * 30),  # not counted in the ages
            (gone, ConnectionStatus.OK, 60 * 24 * 10),  # paused: not counted either
        ]
        for n, (tenant, status, ago) in enumerate(rows):
            db.add(
                Connection(
                    tenant=tenant,
                    company_name=f"Company {n}",
                    qbwc_username=f"qbs-metrics-{n}",
                    password_hash="x",
                    status=status,
                    last_poll_at=T0 - ago * minutes if ago is not None else None,
                )
            )
    got = _samples(client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True))
    by_state = {
        dict(labels)["status"]: value
        for (name, labels), value in got.items()
        if name == "qbslack_connections"
    }
    assert by_state == {
        "ok": 2,
        "stale": 2,
        "error": 1,
        "wrong_company_file": 1,
        "new": 1,
        "paused": 1,
        "disabled": 1,
    }
    assert got[("qbslack_seconds_since_last_poll_max", ())] == 600 * 60
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in got.items()
        if name == "qbslack_seconds_since_last_poll_bucket"
    }
    assert buckets["60.0"] == 1 and buckets["300.0"] == 4 and buckets["3600.0"] == 4
    assert buckets["10800.0"] == 5 and buckets["86400.0"] == 6 and buckets["+Inf"] == 6
    assert got[("qbslack_seconds_since_last_poll_gcount", ())] == 6

    # STALE_AFTER_MINUTES moves the verdict the same way App Home's moves.
    runtime.settings = runtime.settings.with_overrides(stale_after_minutes=2.5)
    got = _samples(
        create_app(runtime)
        .test_client()
        .get("/metrics", headers=METRICS_AUTH)
        .get_data(as_text=True)
    )
    assert got[("qbslack_connections", (("status", "ok"),))] == 1
    assert got[("qbslack_connections", (("status", "stale"),))] == 4
    assert got[("qbslack_connections", (("status", "wrong_company_file"),))] == 0


def test_connection_gauges_are_zero_without_connections(client):
    got = _samples(client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True))
    for state in Health:
        assert got[("qbslack_connections", (("status", state.value),))] == 0
    assert got[("qbslack_seconds_since_last_poll_max", ())] == 0


def test_an_https_deployment_without_a_token_serves_no_metrics(engine, session_factory, redis_conn):
    rt = Runtime.from_settings(
        make_settings(metrics_token=None),
        engine=engine,
        session_factory=session_factory,
        redis=redis_conn,
        jobs=RQJobQueue(redis_conn),
    )
    resp = create_app(rt).test_client().get("/metrics")
    assert resp.status_code == 403 and b"METRICS_TOKEN" in resp.data
    rt.settings = rt.settings.with_overrides(public_url="http://localhost:8000")
    assert create_app(rt).test_client().get("/metrics").status_code == 200
