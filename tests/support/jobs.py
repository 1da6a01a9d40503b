"""Fixtures for delivery tests: the fake Slack, seeded workspaces, job runners."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import utcnow
from app.core.jobqueue import QUEUE_NAMES, RQJobQueue
from app.core.runtime import Runtime, use_runtime
from jobs import outbox
from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from jobs.outbox import EventRow
from tenants import service
from tenants.installations import save_installation
from tenants.routes import set_route
from tests.conftest import make_settings
from tests.fakes import FakeSlack
from tests.support.processes import service_env


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running fake Slack enforcing one post per second per channel."""
    fake = FakeSlack(post_interval=1.0).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def slack_runtime(
    engine: Engine,
    session_factory: sessionmaker[Session],
    redis_conn: Redis,
    fake_slack: FakeSlack,
) -> Runtime:
    """A rolled-back runtime whose Slack calls go to the fake."""
    return Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url),
        engine=engine,
        session_factory=session_factory,
        redis=redis_conn,
        jobs=RQJobQueue(redis_conn),
    )


@pytest.fixture
def live_runtime(committed_runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Runtime]:
    """A runtime that really commits (threads, worker processes), Slack calls to the fake."""
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url),
        engine=committed_runtime.engine,
        redis=committed_runtime.redis,
    )
    yield rt
    if rt.background is not None:
        rt.background.stop()


def speed_up(runtime: Runtime, fake: FakeSlack, interval: float = 0.2) -> None:
    """Posts to one channel every `interval` s (both our limiter and the fake's rule)."""
    runtime.settings = runtime.settings.with_overrides(slack_post_interval=interval)
    fake.post_interval = interval


def events(runtime: Runtime, ids: list[int]) -> list[Event]:
    """The events, fresh from the database."""
    with runtime.transaction() as db:
        rows = [db.get(Event, i) for i in ids]
        db.expunge_all()
    return [r for r in rows if r is not None]


def audit(runtime: Runtime, event_id: int) -> list[DeliveryAttempt]:
    """An event's delivery attempts, oldest first."""
    with runtime.transaction() as db:
        rows = list(
            db.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.event_id == event_id)
                .order_by(DeliveryAttempt.id)
            )
        )
        db.expunge_all()
    return rows


def results(runtime: Runtime, event_id: int) -> list[str]:
    """The results of an event's delivery attempts, oldest first."""
    return [a.result for a in audit(runtime, event_id)]


def refs(fake: FakeSlack, channel: str | None = None) -> list[str]:
    """The "#ref" of each accepted post (from the fallback text), in arrival order."""
    out = []
    for post in fake.posts(channel):
        parts = [p for p in post.params["text"].split(" · ") if p.startswith("#")]
        out.append(parts[0][1:] if parts else "")
    return out


def seed_workspace(
    runtime: Runtime,
    fake: FakeSlack,
    *,
    team_id: str = "T1",
    routes: dict[str, str] | None = None,
    companies: int = 1,
) -> dict[str, Any]:
    """A tenant with a bot token (known to the fake), connections and routes."""
    token = f"xoxb-{team_id}"
    fake.add_token(token)
    with runtime.transaction() as db:
        tenant = service.upsert_tenant(team_id, f"Team {team_id}", db_session=db)
        save_installation(
            tenant,
            cipher=runtime.cipher,
            bot_token=token,
            bot_user_id="UBOT",
            installer_user_id="UINSTALLER",
            db_session=db,
        )
        for i in range(companies):
            service.add_connection(tenant, f"Company {i + 1}", db_session=db)
        conn_ids = sorted(conn.id for conn in tenant.connections)
        chosen = routes if routes is not None else {"default": "CDEFAULT"}
        for event_type, channel in chosen.items():
            set_route(tenant.id, event_type, channel, db_session=db)
        return {"tenant_id": tenant.id, "connection_ids": conn_ids, "token": token}


def add_events(runtime: Runtime, ws: dict[str, Any], specs: list[dict[str, Any]]) -> list[int]:
    """Insert pending events (bill by default) and return their ids in order."""
    rows: list[EventRow] = []
    for i, spec in enumerate(specs):
        object_type = spec.get("object_type", "Bill")
        now = utcnow()  # what the columns' defaults would give
        row: EventRow = {
            "tenant_id": ws["tenant_id"],
            "connection_id": spec.get("connection_id", ws["connection_ids"][0]),
            "event_type": spec.get("event_type", "bill"),
            "action": spec.get("action", "created"),
            "object_type": object_type,
            "object_id": spec.get("object_id", f"OBJ-{i}-{time.monotonic_ns()}"),
            "edit_sequence": spec.get("edit_sequence", str(1000 + i)),
            "ref_number": spec.get("ref_number"),
            "counterparty": spec.get("name", "Acme Supply"),
            "amount": spec.get("amount", "100.00"),
            "payload": {
                "object_type": object_type,
                "name": spec.get("name", "Acme Supply"),
                "amount": spec.get("amount", "100.00"),
                "ref_number": spec.get("ref_number"),
                "action": spec.get("action", "created"),
                "company": "Company 1",
                **spec.get("payload", {}),
            },
            "status": EventStatus.PENDING,
            "sort_key": now,
            "created_at": now,
            "updated_at": now,
        }
        rows.append(row)
    ids = []
    with runtime.transaction() as db:
        for row in rows:  # one by one: sort order follows insertion
            ids += [c.id for c in outbox.add_events([row], db_session=db)]
    return ids


def run_jobs(runtime: Runtime, *, timeout: float = 30.0) -> None:
    """Run RQ jobs in this thread (promoting delayed ones) until the outbox is drained."""
    assert isinstance(runtime.jobs, RQJobQueue)
    queues = [runtime.jobs.queue(n) for n in QUEUE_NAMES]
    deadline = time.monotonic() + timeout
    with use_runtime(runtime):
        while time.monotonic() < deadline:
            runtime.jobs.promote_due()
            SimpleWorker(queues, connection=runtime.jobs.connection).work(
                burst=True, logging_level="WARNING"
            )
            with runtime.transaction() as db:
                pending = db.scalar(
                    select(func.count())
                    .select_from(Event)
                    .where(Event.status == EventStatus.PENDING)
                )
            # Delayed jobs left when nothing is pending would only find an idle channel.
            if not pending and not any(q.count for q in queues):
                return
            time.sleep(0.02)
    raise TimeoutError("jobs did not drain the outbox in time")


@contextlib.contextmanager
def worker_processes(count: int, slack_url: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`qbslack worker` processes on the test databases (real multi-process delivery)."""
    env = service_env(SLACK_API_URL=slack_url)
    exe = str(Path(sys.executable).with_name("qbslack"))
    procs = [
        subprocess.Popen(
            [exe, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)


def stored_event(tenant_id: int, connection_id: int, object_id: str, **fields: Any) -> Event:
    """An events-table row to add directly (a created bill unless fields say otherwise)."""
    defaults: dict[str, Any] = {
        "event_type": "bill",
        "action": "created",
        "object_type": "Bill",
        "edit_sequence": "1",
        "payload": {},
    }
    return Event(
        tenant_id=tenant_id,
        connection_id=connection_id,
        object_id=object_id,
        **{**defaults, **fields},
    )
