"""Delivery with several real worker processes, and in the embedded (no Redis) mode."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from app.core.jobqueue import InProcessJobQueue
from app.core.runtime import Runtime
from jobs import outbox
from jobs.enums import EventStatus
from jobs.models import Event
from tests.conftest import make_settings
from tests.support.jobs import add_events, seed_workspace, worker_processes


def wait_posted(runtime: Runtime, total: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.transaction() as db:
            done = (
                db.scalar(
                    select(func.count())
                    .select_from(Event)
                    .where(Event.status == EventStatus.POSTED)
                )
                or 0
            )
        if done >= total:
            return done
        time.sleep(0.1)
    raise TimeoutError(f"only {done} of {total} posted")


def test_three_workers_keep_order_and_rate_per_channel(committed_runtime, fake_slack):
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url),
        engine=committed_runtime.engine,
        redis=committed_runtime.redis,
    )
    channels = {"bill": "C1", "vendor": "C2", "invoice": "C3"}
    ws = seed_workspace(rt, fake_slack, routes=channels)
    ids = []
    for event_type, object_type in (("bill", "Bill"), ("vendor", "Vendor"), ("invoice", "Invoice")):
        ids += add_events(
            rt,
            ws,
            [
                {
                    "event_type": event_type,
                    "object_type": object_type,
                    "ref_number": f"{event_type}-{i}",
                }
                for i in range(4)
            ],
        )
    with worker_processes(3, fake_slack.url):
        outbox.schedule_events(rt, ids)
        wait_posted(rt, len(ids))
    for event_type, channel in channels.items():
        posts = fake_slack.posts(channel)
        assert [p.params["text"].split("#")[1].split(" ")[0] for p in posts] == [
            f"{event_type}-{i}" for i in range(4)
        ]
        assert fake_slack.min_gap(channel) >= 0.98
    assert len(fake_slack.posts()) == len(ids)  # nothing posted twice


def test_embedded_mode_delivers_in_process(committed_runtime, fake_slack):
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url, redis_url=None), engine=committed_runtime.engine
    )
    assert isinstance(rt.jobs, InProcessJobQueue)
    fake_slack.post_interval = 0.5
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": f"E{i}"} for i in range(3)])
    outbox.schedule_events(rt, ids)
    wait_posted(rt, 3, timeout=30)
    assert [p.params["text"].split("#")[1].split(" ")[0] for p in fake_slack.posts()] == [
        "E0",
        "E1",
        "E2",
    ]
    rt.close()
