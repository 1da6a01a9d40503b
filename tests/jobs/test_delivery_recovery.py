"""Nothing lost: the sweeper re-sends lost hints (Redis flushed) in both modes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from app import create_app
from app.core.jobqueue import DELIVERY_QUEUE, InProcessJobQueue
from app.core.runtime import Runtime, use_runtime
from jobs import delivery, outbox
from jobs.background import Background
from jobs.enums import EventStatus
from jobs.sweeper import sweep
from tests.conftest import make_settings
from tests.support.jobs import add_events, events, refs, run_jobs, seed_workspace, speed_up


def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def test_redis_flushed_mid_way_loses_nothing(slack_runtime, fake_slack, redis_conn):
    rt = slack_runtime
    speed_up(rt, fake_slack, 0.4)  # longer than a wait a drain would sleep through
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB", "vendor": "CV"})
    ids = add_events(rt, ws, [{"ref_number": f"M{i}"} for i in range(4)])
    vendors = add_events(rt, ws, [{"event_type": "vendor", "object_type": "Vendor"}])
    outbox.schedule_events(rt, ids + vendors)
    with use_runtime(rt):  # one drain runs, posts what it may, and hands over
        delivery.drain_channel(ws["tenant_id"], "CB")
    posted_before = len(fake_slack.posts("CB"))
    assert 1 <= posted_before < 4
    redis_conn.flushdb()  # queued jobs, delayed jobs, marks and slots are all gone
    assert rt.jobs.queue(DELIVERY_QUEUE).count == 0 and rt.jobs.delayed_count() == 0
    assert sweep(rt, stale_after=dt.timedelta(0)) == 2  # both channels kicked again
    assert sweep(rt, stale_after=dt.timedelta(0)) == 2  # ...but queued only once
    assert rt.jobs.queue(DELIVERY_QUEUE).count == 2
    run_jobs(rt)
    assert refs(fake_slack, "CB") == ["M0", "M1", "M2", "M3"]  # each once, in order
    assert len(fake_slack.posts("CV")) == 1
    assert all(e.status == EventStatus.POSTED for e in events(rt, ids + vendors))


def test_sweeper_routes_events_whose_scheduling_was_lost(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": "LOST"}])  # committed, never scheduled
    assert sweep(rt) == 0  # too fresh: its scheduler may still be on the way
    assert events(rt, ids)[0].channel_id is None
    assert sweep(rt, stale_after=dt.timedelta(0)) == 1
    run_jobs(rt)
    assert refs(fake_slack) == ["LOST"]


def test_embedded_mode_delivers_and_sweeps_in_process(live_runtime, fake_slack):
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url, redis_url=None), engine=live_runtime.engine
    )
    assert isinstance(rt.jobs, InProcessJobQueue) and rt.redis is None
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB", "vendor": "CV"})
    ids = add_events(rt, ws, [{"ref_number": f"E{i}"} for i in range(3)])
    lost = add_events(
        rt, ws, [{"event_type": "vendor", "object_type": "Vendor", "ref_number": "SWEPT"}]
    )
    background = Background(rt, sweep_every=0.3, stale_after=dt.timedelta(0)).start()
    try:
        outbox.schedule_events(rt, ids)  # `lost` is left to the in-process sweeper
        wait_until(lambda: all(e.status == EventStatus.POSTED for e in events(rt, ids + lost)))
    finally:
        background.stop()
        rt.jobs.shutdown()
    assert refs(fake_slack, "CB") == ["E0", "E1", "E2"] and refs(fake_slack, "CV") == ["SWEPT"]
    assert fake_slack.min_gap("CB") >= 0.18
    assert not [e for e in events(rt, ids) if e.status == EventStatus.PENDING]


def test_embedded_app_starts_the_sweeper_and_close_stops_it(live_runtime):
    rt = Runtime.from_settings(make_settings(redis_url=None), engine=live_runtime.engine)
    create_app(rt)
    background = rt.background
    assert isinstance(background, Background) and background.running
    create_app(rt)  # a second app on the same runtime: still the one loop
    assert rt.background is background
    rt.close()
    assert not background.running and rt.background is None
    # With Redis, the web process leaves sweeping to the workers.
    create_app(live_runtime)
    assert live_runtime.background is None
