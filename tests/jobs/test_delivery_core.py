"""Delivery to the fake Slack: order, rate, 429s, retries, exactly once."""

from __future__ import annotations

import datetime as dt
import threading

from app.core.db import utcnow
from app.core.jobqueue import DELIVERY_QUEUE
from app.core.runtime import use_runtime
from jobs import delivery, outbox, outcomes, routing
from jobs.enums import EventStatus
from jobs.models import Event
from tests.support.jobs import (
    add_events,
    audit,
    events,
    refs,
    results,
    run_jobs,
    seed_workspace,
    speed_up,
)


def test_posts_in_order_one_per_second_per_channel(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CBILLS", "vendor": "CVEND"})
    bills = add_events(rt, ws, [{"ref_number": f"B{i}", "amount": "1250"} for i in range(3)])
    vendors = add_events(
        rt,
        ws,
        [{"event_type": "vendor", "object_type": "Vendor", "name": f"V{i}"} for i in range(2)],
    )
    outbox.schedule_events(rt, bills + vendors)
    run_jobs(rt)
    assert refs(fake_slack, "CBILLS") == ["B0", "B1", "B2"]
    assert "1,250.00" in fake_slack.posts("CBILLS")[0].params["text"]
    assert fake_slack.min_gap("CBILLS") >= 0.98 and fake_slack.min_gap("CVEND") >= 0.98
    assert len(fake_slack.posts("CVEND")) == 2
    assert not [c for c in fake_slack.calls("chat.postMessage") if c.http_status == 429]
    for event in events(rt, bills + vendors):
        assert event.status == EventStatus.POSTED and event.slack_ts and event.posted_at
        assert event.attempts == 1 and event.last_error is None
    (row,) = audit(rt, bills[0])
    assert (row.result, row.channel_id, row.replay) == ("posted", "CBILLS", False)
    assert row.slack_ts == events(rt, bills[:1])[0].slack_ts and row.http_status == 200


def test_429_waits_retry_after_and_is_not_a_failure(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    fake_slack.fail(
        "chat.postMessage", http_status=429, error="ratelimited", retry_after=1, times=1
    )
    ids = add_events(rt, ws, [{"ref_number": "R1"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    (event,) = events(rt, ids)
    assert event.status == EventStatus.POSTED and event.attempts == 1 and event.last_error is None
    assert results(rt, ids[0]) == ["ratelimited", "posted"]
    assert audit(rt, ids[0])[0].http_status == 429
    rejected, accepted = fake_slack.calls("chat.postMessage")
    assert rejected.http_status == 429 and accepted.ok
    assert accepted.time - rejected.time >= 0.98  # Retry-After: 1 was honoured


def test_500_is_retried_with_backoff_and_order_is_kept(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB"})
    fake_slack.fail(
        "chat.postMessage", channel="CB", http_status=500, error="internal_error", times=2
    )
    ids = add_events(rt, ws, [{"ref_number": "X1"}, {"ref_number": "X2"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    first, second = events(rt, ids)
    assert first.status == EventStatus.POSTED and results(rt, first.id) == [
        "retry",
        "retry",
        "posted",
    ]
    assert second.status == EventStatus.POSTED and results(rt, second.id) == ["posted"]
    assert refs(fake_slack, "CB") == ["X1", "X2"]  # the second waited behind the first
    calls = fake_slack.calls("chat.postMessage", "CB")
    assert [c.http_status for c in calls] == [500, 500, 200, 200]
    # Exponential backoff with jitter: ~0.5-1 s, then ~1-2 s.
    assert calls[1].time - calls[0].time >= 0.45 and calls[2].time - calls[1].time >= 0.95


def test_5xx_and_network_errors_fail_after_the_give_up_time(runtime, slack_runtime, fake_slack):
    ws = seed_workspace(slack_runtime, fake_slack, routes={"bill": "CB"})
    fake_slack.fail("chat.postMessage", channel="CB", http_status=503, error="service_unavailable")
    ids = add_events(slack_runtime, ws, [{"ref_number": "S1"}])
    give_up = dt.timedelta(hours=slack_runtime.settings.delivery_give_up_hours)
    with slack_runtime.transaction() as db:  # failing for that long already
        db.get(Event, ids[0]).failing_since = utcnow() - give_up
    outbox.schedule_events(slack_runtime, ids)
    run_jobs(slack_runtime)
    (event,) = events(slack_runtime, ids)
    assert event.status == EventStatus.FAILED and event.attempts == 1
    (row,) = audit(slack_runtime, ids[0])
    assert row.result == "failed" and row.http_status == 503 and "gave up" in (row.error or "")
    # A connection error (the runtime's Slack URL is a closed port) counts the same way.
    ids = add_events(runtime, ws, [{"ref_number": "N1"}])
    with runtime.transaction() as db:
        db.get(Event, ids[0]).failing_since = utcnow() - give_up
    outbox.schedule_events(runtime, ids)
    run_jobs(runtime)
    (event,) = events(runtime, ids)
    assert event.status == EventStatus.FAILED and "connection error" in (event.last_error or "")


def test_backoff_grows_exponentially_with_jitter_to_five_minutes():
    ceilings = []
    for attempts in [*range(1, 13), 50, 10_000]:
        ceiling = min(300.0, 2.0 ** min(attempts - 1, 20))
        delays = {outcomes.backoff(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1
        ceilings.append(ceiling)
    assert ceilings[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300] and max(ceilings) == 300


def test_a_rerun_or_duplicate_job_does_not_post_twice(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": "D1"}, {"ref_number": "D2"}])
    outbox.schedule_events(rt, ids)
    outbox.schedule_events(rt, ids)  # scheduled twice: one queued drain
    assert rt.jobs.queue(DELIVERY_QUEUE).count == 1
    for _ in range(3):  # stale hints that bypass the dedupe (e.g. a retried RQ job)
        rt.jobs.enqueue(delivery.drain_channel, ws["tenant_id"], "CDEFAULT", queue=DELIVERY_QUEUE)
    run_jobs(rt)
    with use_runtime(rt):  # the same job again, after everything was posted
        assert delivery.drain_channel(ws["tenant_id"], "CDEFAULT") == "idle"
    assert refs(fake_slack) == ["D1", "D2"]
    assert [results(rt, i) for i in ids] == [["posted"], ["posted"]]


def test_concurrent_drains_of_one_channel_post_each_event_once(live_runtime, fake_slack):
    rt = live_runtime
    speed_up(rt, fake_slack, 0.1)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": f"C{i}"} for i in range(4)])
    with rt.transaction() as db:
        assert routing.route_events(ids, db_session=db) == {(ws["tenant_id"], "CDEFAULT")}
    outcomes: list[str] = []

    def drain() -> None:
        with use_runtime(rt):
            outcomes.append(delivery.drain_channel(ws["tenant_id"], "CDEFAULT"))

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "busy" in outcomes  # the channel lock let one drain through at a time
    run_jobs(rt)  # whatever the drains handed over
    assert refs(fake_slack) == ["C0", "C1", "C2", "C3"]
    assert all(e.status == EventStatus.POSTED for e in events(rt, ids))
    assert not [e for e in events(rt, ids) if e.status == EventStatus.PENDING]
