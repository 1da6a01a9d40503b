"""The shared limiter, locks and run marks (Redis and in-process), and lost-lock safety."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.coordination import LocalCoordinator, RedisCoordinator
from app.core.runtime import use_runtime
from jobs import delivery, routing
from jobs.enums import EventStatus
from tests.support.jobs import add_events, events, refs, run_jobs, seed_workspace, speed_up


@pytest.fixture(params=["redis", "local"])
def co(request, redis_conn):
    return RedisCoordinator(redis_conn) if request.param == "redis" else LocalCoordinator()


def test_one_slot_per_interval_per_channel(co):
    assert co.take_slot("T:C1", 0.3) == 0
    wait = co.take_slot("T:C1", 0.3)
    assert 0.2 < wait <= 0.3  # the caller is told how long, not made to sleep
    assert co.take_slot("T:C2", 0.3) == 0  # channels are independent
    time.sleep(wait + 0.01)
    assert co.take_slot("T:C1", 0.3) == 0
    co.defer("T:C2", 1.0)  # Slack said Retry-After: 1
    assert 0.9 < co.take_slot("T:C2", 0.3) <= 1.0


def test_the_limiter_is_shared_by_every_process(redis_conn):
    a, b = RedisCoordinator(redis_conn), RedisCoordinator(redis_conn)
    assert a.take_slot("T:C", 1.0) == 0
    assert b.take_slot("T:C", 1.0) > 0.9


def test_locks_and_run_marks(co):
    token = co.lock("drain:T:C", 5)
    assert token and co.lock("drain:T:C", 5) is None
    co.unlock("drain:T:C", "not-the-token")  # only the holder releases
    assert co.lock("drain:T:C", 5) is None
    co.unlock("drain:T:C", token)
    assert co.lock("drain:T:C", 5)
    now = time.time()
    assert co.want_run("q:T:C", now + 5, 30)  # a retry in 5 s
    assert not co.want_run("q:T:C", now + 6, 30)  # already due sooner
    assert co.want_run("q:T:C", now, 30)  # needed now: not held up by the later run
    assert not co.want_run("q:T:C", now + 0.5, 30)
    co.started("q:T:C")  # the run due now starts: kicks may enqueue again
    assert co.want_run("q:T:C", now + 10, 30)
    co.started("q:T:C")  # a run due later stays noted
    assert not co.want_run("q:T:C", now + 11, 30)


def test_a_lost_lock_during_a_post_does_not_post_twice(live_runtime, fake_slack, redis_conn):
    rt = live_runtime
    speed_up(rt, fake_slack, 0.05)
    fake_slack.latency = 0.6  # Slack is slow to answer
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": "L1"}, {"ref_number": "L2"}])
    with rt.transaction() as db:
        routing.route_events(ids, db_session=db)
    first: list[str] = []

    def drain() -> None:
        with use_runtime(rt):
            first.append(delivery.drain_channel(ws["tenant_id"], "CDEFAULT"))

    thread = threading.Thread(target=drain)
    thread.start()
    time.sleep(0.3)  # the first post is in flight
    redis_conn.flushdb()  # ...and the channel's lock and slot are gone
    with use_runtime(rt):
        second = delivery.drain_channel(ws["tenant_id"], "CDEFAULT")
    thread.join()
    assert second == "wait"  # the event is claimed in the database
    fake_slack.latency = 0.0
    run_jobs(rt)
    assert refs(fake_slack) == ["L1", "L2"]
    assert all(e.status == EventStatus.POSTED for e in events(rt, ids))
