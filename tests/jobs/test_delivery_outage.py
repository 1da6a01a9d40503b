"""Deliveries that outlast a Slack outage, and parked events that go out once fixed.

Time is an input: the runtime's clock is a ManualClock, and the drains are run here (as a
worker would) with the clock moved to the moment a waiting head is due; nothing sleeps for
a deadline. The fake's one-post-per-second rule is sped up (speed_up).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import ManualClock
from app.core.runtime import Runtime, use_runtime
from jobs import delivery, outbox
from jobs.alerts import check_health
from jobs.enums import EventStatus
from jobs.models import Event
from tenants.routes import set_route
from tests.fakes import Call, FakeSlack
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
from tests.support.slack import SlackHarness, eventually

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(slack_runtime: Runtime) -> ManualClock:
    """The test's clock, the one delivery reads."""
    clock = ManualClock(START)
    slack_runtime.clock = clock
    return clock


def heads(rt: Runtime, tenant_id: int) -> dict[str, Event]:
    """The oldest pending event of each channel."""
    with rt.transaction() as db:
        pending = db.scalars(
            select(Event)
            .where(Event.tenant_id == tenant_id, Event.status == EventStatus.PENDING)
            .order_by(Event.sort_key, Event.id)
        ).all()
        db.expunge_all()
    out: dict[str, Event] = {}
    for event in pending:
        out.setdefault(event.channel_id or "", event)
    return out


def drive(
    rt: Runtime, clock: ManualClock, tenant_id: int, channels: list[str], *, rounds: int = 500
) -> int:
    """Run each channel's drain until all are idle; returns the rounds it took.

    When every channel's head waits for a retry, the clock jumps to the earliest one.
    """
    with use_runtime(rt):
        for n in range(1, rounds + 1):
            states = [delivery.drain_channel(tenant_id, ch) for ch in channels]
            if all(s == "idle" for s in states):
                return n
            waiting = heads(rt, tenant_id).values()
            due = [e.next_attempt_at for e in waiting]
            if waiting and all(d is not None and d > clock.now() for d in due):
                clock.set(min(d for d in due if d is not None))
    raise AssertionError("the outbox was not drained")


def ref_of(call: Call) -> str:
    """The "#ref" in a post's fallback text."""
    text = str(call.params["text"])
    return next(p[1:] for p in text.split(" · ") if p.startswith("#"))


def test_two_minutes_of_503_delay_but_deliver_everything_once_in_order(
    slack_runtime: Runtime, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    rt = slack_runtime
    speed_up(rt, fake_slack, 0.05)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CBILLS", "vendor": "CVEND"})
    end = clock.now() + dt.timedelta(minutes=2)
    fake_slack.outage(until=lambda: clock.now() >= end)  # every call: HTTP 503
    specs: list[dict[str, Any]] = []
    for i in range(5):
        specs.append({"ref_number": f"B{i}"})
        specs.append({"event_type": "vendor", "object_type": "Vendor", "ref_number": f"V{i}"})
    ids = add_events(rt, ws, specs)
    outbox.schedule_events(rt, ids)

    drive(rt, clock, ws["tenant_id"], ["CBILLS", "CVEND"])

    assert clock.now() >= end  # waited the outage out
    got = events(rt, ids)
    assert [e.status for e in got] == [EventStatus.POSTED] * len(ids)  # none failed
    assert all(e.failing_since is None and e.last_error is None for e in got)
    assert refs(fake_slack, "CBILLS") == [f"B{i}" for i in range(5)]  # order kept
    assert refs(fake_slack, "CVEND") == [f"V{i}" for i in range(5)]
    posts = fake_slack.posts()
    assert len(posts) == len(ids) == len({ref_of(p) for p in posts})  # zero duplicates
    assert all(results(rt, i).count("posted") == 1 for i in ids)
    # While Slack was down only each channel's head was tried; the rest waited behind it.
    refused = [c for c in fake_slack.calls() if not c.ok]
    assert refused and {c.http_status for c in refused} == {503}
    assert {c.method for c in refused} == {"chat.postMessage"}
    assert {ref_of(c) for c in refused} == {"B0", "V0"}
    # The head's tries, by the runtime's clock: backoff doubling from ~1 s, with jitter.
    tries = [a for a in audit(rt, ids[0]) if a.result in ("retry", "posted")]
    assert [a.result for a in tries[:-1]] == ["retry"] * (len(tries) - 1) and len(tries) > 6
    for n, (a, b) in enumerate(itertools.pairwise(tries), start=1):
        ceiling = min(300.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= (b.attempted_at - a.attempted_at).total_seconds() <= ceiling
    assert tries[-2].attempted_at < end <= tries[-1].attempted_at


def test_another_channel_keeps_flowing_while_a_head_waits(
    slack_runtime: Runtime, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    rt = slack_runtime
    speed_up(rt, fake_slack, 0.05)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CBILLS", "vendor": "CVEND"})
    fake_slack.fail("chat.postMessage", channel="CBILLS", http_status=500, error="internal_error")
    bills = add_events(rt, ws, [{"ref_number": f"B{i}"} for i in range(3)])
    vendors = add_events(
        rt,
        ws,
        [
            {"event_type": "vendor", "object_type": "Vendor", "ref_number": f"V{i}"}
            for i in range(3)
        ],
    )
    outbox.schedule_events(rt, bills + vendors)
    with use_runtime(rt):
        for _ in range(3):  # a few rounds, the clock moving a minute each
            assert delivery.drain_channel(ws["tenant_id"], "CBILLS") == "wait"
            delivery.drain_channel(ws["tenant_id"], "CVEND")
            clock.advance(minutes=1)
    assert refs(fake_slack, "CVEND") == ["V0", "V1", "V2"]
    head, *rest = events(rt, bills)
    assert head.status == EventStatus.PENDING and head.next_attempt_at is not None
    assert head.failing_since == START and "internal_error" in (head.last_error or "")
    assert [e.status for e in rest] == [EventStatus.PENDING] * 2
    assert {ref_of(c) for c in fake_slack.calls("chat.postMessage", "CBILLS")} == {"B0"}
    fake_slack.clear_failures()
    drive(rt, clock, ws["tenant_id"], ["CBILLS", "CVEND"])
    assert refs(fake_slack, "CBILLS") == ["B0", "B1", "B2"]
    assert results(rt, bills[0]) == ["retry"] * 3 + ["posted"]


def test_transient_errors_fail_an_event_only_after_the_give_up_time(
    slack_runtime: Runtime, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    rt = slack_runtime
    speed_up(rt, fake_slack, 0.05)
    assert rt.settings.delivery_give_up_hours == 24
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB"})
    fake_slack.outage()  # down, and it stays down
    first, second = add_events(rt, ws, [{"ref_number": "G1"}, {"ref_number": "G2"}])
    outbox.schedule_events(rt, [first, second])
    with use_runtime(rt):
        for hour in range(24):  # a try every hour (each due by then: backoff <= 5 min)
            assert delivery.drain_channel(ws["tenant_id"], "CB") == "wait"
            head, behind = events(rt, [first, second])
            assert head.status == EventStatus.PENDING and head.attempts == hour + 1
            assert head.failing_since == START
            assert head.next_attempt_at is not None
            assert head.next_attempt_at - clock.now() <= dt.timedelta(minutes=5)
            assert behind.status == EventStatus.PENDING and behind.attempts == 0
            clock.advance(hours=1)
        # 24 hours after the first failure: the head fails, and no longer blocks its channel.
        assert delivery.drain_channel(ws["tenant_id"], "CB") == "wait"
    head, behind = events(rt, [first, second])
    assert head.status == EventStatus.FAILED and head.attempts == 25
    assert head.last_error == (
        "gave up after 24 h of Slack errors (25 tries); last: Slack answered service_unavailable"
    )
    assert audit(rt, first)[-1].result == "failed" and audit(rt, first)[-1].http_status == 503
    assert behind.status == EventStatus.PENDING and behind.failing_since == clock.now()
    assert results(rt, second) == ["retry"]


def test_a_join_slack_cannot_do_now_is_retried_not_failed(
    slack_runtime: Runtime, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    rt = slack_runtime
    speed_up(rt, fake_slack, 0.05)
    fake_slack.add_channel("CPUB", is_member=False)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CPUB"})
    fake_slack.fail("conversations.join", http_status=503, error="service_unavailable", times=2)
    ids = add_events(rt, ws, [{"ref_number": "J1"}, {"ref_number": "J2"}])
    outbox.schedule_events(rt, ids)
    drive(rt, clock, ws["tenant_id"], ["CPUB"])
    assert [e.status for e in events(rt, ids)] == [EventStatus.POSTED] * 2
    assert refs(fake_slack, "CPUB") == ["J1", "J2"]
    assert results(rt, ids[0]) == ["join_failed", "retry"] * 2 + ["joined", "posted"]


# -- parked events, retried when Slack says the channel is fixed -------------------------


def workspace(slack: SlackHarness, routes: dict[str, str]) -> dict[str, Any]:
    """The installed workspace T1 with these routes, posting fast."""
    speed_up(slack.runtime, slack.fake)
    tenant = slack.tenant()
    assert tenant is not None
    with slack.runtime.transaction() as db:
        for key, channel in routes.items():
            set_route(tenant.id, key, channel, db_session=db)
    return {"tenant_id": tenant.id, "connection_ids": [c.id for c in slack.connections()]}


def statuses(rt: Runtime, ids: list[int]) -> list[str]:
    return [e.status for e in events(rt, ids)]


@pytest.mark.parametrize(
    ("event_type", "private"), [("channel_unarchive", False), ("group_unarchive", True)]
)
def test_archived_channel_parks_its_events_and_unarchiving_posts_them_in_order(
    installed: SlackHarness, event_type: str, private: bool
) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CARCH", is_private=private)
    ws = workspace(slack, {"bill": "CARCH", "vendor": "CVEND"})
    slack.fake.archive_channel("CARCH")
    bills = add_events(rt, ws, [{"ref_number": f"A{i}"} for i in range(3)])
    vendor = add_events(rt, ws, [{"event_type": "vendor", "object_type": "Vendor"}])
    outbox.schedule_events(rt, bills + vendor)
    run_jobs(rt)
    assert statuses(rt, bills) == [EventStatus.FAILED] * 3
    assert all(e.last_error == "the channel is archived" for e in events(rt, bills))
    assert all(e.failure_code == "is_archived" for e in events(rt, bills))
    assert statuses(rt, vendor) == [EventStatus.POSTED]  # other channels are not held up
    # The head was refused; the rest of the channel was parked with it, without a try.
    assert len(slack.fake.calls("chat.postMessage", "CARCH")) == 1
    assert "parked with event" in (audit(rt, bills[1])[-1].error or "")
    check_health(rt)  # the workers' health check tells the managers (a DM: no alerts route)
    run_jobs(rt)
    [alert] = slack.fake.posts("UINSTALLER")
    assert "3 message(s)" in alert.params["text"] and "<#CARCH>" in str(alert.params["blocks"])

    slack.fake.unarchive_channel("CARCH")
    unarchived = {"type": event_type, "channel": "CARCH", "user": "UADMIN"}
    assert slack.event(unarchived, event_id="EvUnarchive").status_code == 200
    eventually(lambda: EventStatus.FAILED not in statuses(rt, bills))
    run_jobs(rt)
    assert statuses(rt, bills) == [EventStatus.POSTED] * 3
    assert all(e.failure_code is None for e in events(rt, bills))
    assert refs(slack.fake, "CARCH") == ["A0", "A1", "A2"]
    assert results(rt, bills[0]) == ["failed", "retry_requested", "posted"]
    check_health(rt)
    run_jobs(rt)
    resolved = slack.fake.posts("UINSTALLER")[-1]
    assert resolved.params["text"].startswith("Resolved") and resolved.params.get("thread_ts")


def test_bot_invited_to_a_private_channel_posts_what_waited_for_it(
    installed: SlackHarness,
) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CPRIV", is_private=True, is_member=False)
    ws = workspace(slack, {"bill": "CPRIV"})
    ids = add_events(rt, ws, [{"ref_number": "P1"}, {"ref_number": "P2"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    assert statuses(rt, ids) == [EventStatus.FAILED] * 2
    assert "/invite" in (events(rt, ids)[0].last_error or "")
    assert len(slack.fake.calls("conversations.join", "CPRIV")) == 1  # refused once

    slack.fake.invite_bot("CPRIV")
    joined = {"type": "member_joined_channel", "user": "UBOT", "channel": "CPRIV"}
    joined |= {"channel_type": "G", "team": "T1", "inviter": "UADMIN"}
    assert slack.event(joined, event_id="EvJoined").status_code == 200
    eventually(lambda: EventStatus.FAILED not in statuses(rt, ids))
    run_jobs(rt)
    assert refs(slack.fake, "CPRIV") == ["P1", "P2"]
    assert statuses(rt, ids) == [EventStatus.POSTED] * 2


def test_a_person_joining_the_channel_retries_nothing(installed: SlackHarness) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CPRIV", is_private=True, is_member=False)
    ws = workspace(slack, {"bill": "CPRIV"})
    ids = add_events(rt, ws, [{"ref_number": "H1"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    joined = {"type": "member_joined_channel", "user": "UADMIN", "channel": "CPRIV"}
    joined |= {"channel_type": "G", "team": "T1"}
    assert slack.event(joined, event_id="EvHuman").status_code == 200
    assert rt.listener_executor is not None
    rt.listener_executor.shutdown(wait=True)  # the listener has run
    assert statuses(rt, ids) == [EventStatus.FAILED]
    assert results(rt, ids[0]) == ["join_failed", "failed"]


def test_a_route_change_posts_parked_and_unrouted_events(installed: SlackHarness) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CARCH", is_archived=True)
    ws = workspace(slack, {"bill": "CARCH"})  # no default: vendors have nowhere to go
    bills = add_events(rt, ws, [{"ref_number": "R1"}, {"ref_number": "R2"}])
    vendor = add_events(
        rt, ws, [{"event_type": "vendor", "object_type": "Vendor", "ref_number": "RV"}]
    )
    outbox.schedule_events(rt, bills + vendor)
    run_jobs(rt)
    assert statuses(rt, bills + vendor) == [EventStatus.FAILED] * 2 + [EventStatus.UNROUTED]

    assert slack.command("/qb-routes", "set bill <#CNEW|new-bills>").status_code == 200
    assert "2 waiting event(s) will be posted now" in slack.responses(1)[-1]
    run_jobs(rt)
    assert refs(slack.fake, "CNEW") == ["R1", "R2"]
    assert statuses(rt, vendor) == [EventStatus.UNROUTED]  # no route covers it yet

    assert slack.command("/qb-routes", "set default <#CALL|all>").status_code == 200
    assert "1 waiting event(s)" in slack.responses(2)[-1]
    run_jobs(rt)
    assert refs(slack.fake, "CALL") == ["RV"]
    assert statuses(rt, bills + vendor) == [EventStatus.POSTED] * 3


def test_the_routes_editor_retries_parked_events(installed: SlackHarness) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CGONE", is_archived=True)
    ws = workspace(slack, {"bill": "CGONE"})
    ids = add_events(rt, ws, [{"ref_number": "E1"}, {"ref_number": "E2"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    assert statuses(rt, ids) == [EventStatus.FAILED] * 2
    slack.click("edit_routes")
    view = slack.fake.wait_for("views.open")[0].params["view"]
    values = {}
    for block in view["blocks"]:  # every picker, as Slack sends them; bills to CEDIT
        if block.get("element", {}).get("type") == "conversations_select":
            key = block["block_id"].split(".")[0].removeprefix("route_")
            chosen = "CEDIT" if key == "bill" else None
            values[block["block_id"]] = {
                "value": {"type": "conversations_select", "selected_conversation": chosen}
            }
    assert slack.submit(view, values).get_json()["response_action"] == "update"
    run_jobs(rt)
    assert refs(slack.fake, "CEDIT") == ["E1", "E2"]


def test_a_reinstall_retries_events_parked_for_a_channel(installed: SlackHarness) -> None:
    slack, rt = installed, installed.runtime
    slack.fake.add_channel("CPRIV", is_private=True, is_member=False)
    ws = workspace(slack, {"bill": "CPRIV"})
    ids = add_events(rt, ws, [{"ref_number": "I1"}, {"ref_number": "I2"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    assert statuses(rt, ids) == [EventStatus.FAILED] * 2
    slack.fake.invite_bot("CPRIV")  # Slack's event about it was missed
    slack.install(code="code-2")
    assert statuses(rt, ids) == [EventStatus.PENDING] * 2
    run_jobs(rt)
    assert refs(slack.fake, "CPRIV") == ["I1", "I2"]
