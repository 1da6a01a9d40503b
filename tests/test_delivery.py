"""Delivery to the fake Slack: order, rate, retries, errors, threading, exactly once."""

from __future__ import annotations

from sqlalchemy import select

from jobs import delivery
from jobs.context import use_runtime
from jobs.models import FAILED, PAUSED, POSTED, SKIPPED, UNROUTED, DeliveryAttempt, Event
from jobs.replay import replay_failed, replay_object
from tenants.models import TENANT_DISCONNECTED, Tenant
from tests.fixtures_jobs import add_events, run_jobs, seed_workspace


def get(runtime, ids):
    with runtime.transaction() as db:
        return [db.get(Event, i) for i in ids]


def attempts(runtime, event_id):
    with runtime.transaction() as db:
        return [a.result for a in db.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.event_id == event_id)
            .order_by(DeliveryAttempt.id))]


def test_posts_in_order_one_per_second_per_channel(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CBILLS", "vendor": "CVEND"})
    bills = add_events(rt, ws, [{"ref_number": f"B{i}", "amount": "1250"} for i in range(3)])
    vendors = add_events(rt, ws, [{"event_type": "vendor", "object_type": "Vendor",
                                   "name": f"V{i}"} for i in range(2)])
    delivery.schedule_events(rt, bills + vendors)
    run_jobs(rt)
    posted = fake_slack.posts("CBILLS")
    assert [p.params["text"].split(" · ")[1] for p in posted] == ["#B0", "#B1", "#B2"]
    assert "1,250.00" in posted[0].params["text"]
    assert fake_slack.min_gap("CBILLS") >= 0.98
    assert len(fake_slack.posts("CVEND")) == 2
    for event in get(rt, bills + vendors):
        assert event.status == POSTED and event.slack_ts and event.posted_at
    assert attempts(rt, bills[0]) == ["posted"]


def test_429_waits_and_is_not_a_failure(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    fake_slack.fail("chat.postMessage", http_status=429, error="ratelimited", retry_after=1,
                    times=1)
    ids = add_events(rt, ws, [{"ref_number": "R1"}])
    delivery.schedule_events(rt, ids)
    run_jobs(rt)
    (event,) = get(rt, ids)
    assert event.status == POSTED and event.attempts == 1
    assert attempts(rt, ids[0]) == ["ratelimited", "posted"]


def test_500_then_success_and_permanent_errors(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB", "vendor": "CGONE"})
    fake_slack.fail("chat.postMessage", channel="CB", http_status=500, error="internal_error",
                    times=1)
    fake_slack.fail("chat.postMessage", channel="CGONE", error="channel_not_found")
    ids = add_events(rt, ws, [{"ref_number": "X1"},
                              {"event_type": "vendor", "object_type": "Vendor"}])
    delivery.schedule_events(rt, ids)
    run_jobs(rt)
    bill, vendor = get(rt, ids)
    assert bill.status == POSTED and attempts(rt, bill.id) == ["retry", "posted"]
    assert vendor.status == FAILED and "no longer exists" in vendor.last_error
    assert len(fake_slack.posts("CB")) == 1


def test_not_in_channel_joins_then_posts(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CPUB", "vendor": "CPRIV"})
    fake_slack.add_channel("CPUB", is_member=False)
    fake_slack.add_channel("CPRIV", is_private=True, is_member=False)
    ids = add_events(rt, ws, [{}, {"event_type": "vendor", "object_type": "Vendor"}])
    delivery.schedule_events(rt, ids)
    run_jobs(rt)
    bill, vendor = get(rt, ids)
    assert bill.status == POSTED and "joined" in attempts(rt, bill.id)
    assert vendor.status == FAILED and "/invite" in vendor.last_error


def test_token_revoked_pauses_until_resumed(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    fake_slack.revoke_token(ws["token"])
    ids = add_events(rt, ws, [{}, {}])
    delivery.schedule_events(rt, ids)
    run_jobs(rt)
    assert [e.status for e in get(rt, ids)] == [PAUSED, PAUSED]
    with rt.transaction() as db:
        tenant = db.get(Tenant, ws["tenant_id"])
        assert tenant.status == TENANT_DISCONNECTED
        tenant.status = "active"  # what a reinstall does, with a fresh token
        fake_slack.revoked.clear()
        resumed = delivery.resume_tenant(ws["tenant_id"], db_session=db)
    assert sorted(resumed) == sorted(ids)
    delivery.schedule_events(rt, resumed)
    run_jobs(rt)
    assert [e.status for e in get(rt, ids)] == [POSTED, POSTED]


def test_redis_flush_loses_nothing(slack_runtime, fake_slack, redis_conn):
    import datetime as dt

    from jobs.sweeper import sweep

    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{}, {}, {}])
    delivery.schedule_events(rt, ids)
    redis_conn.flushdb()  # every queued hint is gone
    assert sweep(rt, stale_after=dt.timedelta(0)) == 1
    run_jobs(rt)
    assert all(e.status == POSTED for e in get(rt, ids))


def test_a_rerun_job_does_not_post_twice(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{}])
    delivery.schedule_events(rt, ids)
    run_jobs(rt)
    (event,) = get(rt, ids)
    with use_runtime(rt):
        assert delivery.drain_channel(ws["tenant_id"], event.channel_id) == "idle"
        assert delivery.drain_channel(ws["tenant_id"], event.channel_id) == "idle"
    assert len(fake_slack.posts()) == 1


def test_updates_deletions_and_payments_thread_under_the_object(slack_runtime, fake_slack):
    rt = slack_runtime
    fake_slack.post_interval = 0.2
    ws = seed_workspace(rt, fake_slack)
    first = add_events(rt, ws, [{"object_id": "BILL-1", "ref_number": "77",
                                 "payload": {"open_amount": "100.00"}}])
    delivery.schedule_events(rt, first)
    run_jobs(rt)
    later = add_events(rt, ws, [
        {"object_id": "BILL-1", "ref_number": "77", "action": "updated", "edit_sequence": "2",
         "payload": {"memo": "new memo"}},
        {"object_id": "PAY-1", "object_type": "BillPaymentCheck", "event_type": "bill_payment",
         "payload": {"applied_to": [{"txn_id": "BILL-1", "txn_type": "Bill",
                                     "ref_number": "77", "amount": "100.00",
                                     "balance_remaining": "0.00"}]}},
        {"object_id": "BILL-1", "action": "deleted", "edit_sequence": "deleted:x"},
    ])
    delivery.schedule_events(rt, later)
    run_jobs(rt)
    parent_ts = get(rt, first)[0].slack_ts
    replies = fake_slack.posts()[1:]
    assert [p.params.get("thread_ts") for p in replies] == [parent_ts] * 3
    updates = fake_slack.calls("chat.update")
    assert updates and all(u.params["ts"] == parent_ts for u in updates)
    assert "Paid" in updates[1].params["text"] or "Paid" in str(updates[1].params["blocks"])
    assert "Deleted" in str(updates[-1].params["blocks"])


def test_routing_unrouted_skipped_and_replay(slack_runtime, fake_slack):
    rt = slack_runtime
    fake_slack.post_interval = 0.2
    ws = seed_workspace(rt, fake_slack, routes={"vendor": "CV"})
    ids = add_events(rt, ws, [{"ref_number": "NOROUTE"},
                              {"event_type": "account", "object_type": "Account"}])
    delivery.schedule_events(rt, ids)
    bill, account = get(rt, ids)
    assert bill.status == UNROUTED and account.status == SKIPPED
    with rt.transaction() as db:
        from tenants.routes import set_route

        set_route(ws["tenant_id"], "bill", "CB", db_session=db)
        again = replay_failed(ws["tenant_id"], db_session=db)
    assert again == [bill.id]
    delivery.schedule_events(rt, again)
    run_jobs(rt)
    (bill,) = get(rt, [bill.id])
    assert bill.status == POSTED and bill.channel_id == "CB"
    with rt.transaction() as db:
        named = replay_object(ws["tenant_id"], "NOROUTE", db_session=db)
    delivery.schedule_events(rt, named)
    run_jobs(rt)
    assert len(fake_slack.posts("CB")) == 2
    assert "re-posted" in str(fake_slack.posts("CB")[-1].params["blocks"])
    assert attempts(rt, bill.id)[-2:] == ["replay_requested", "posted"]
