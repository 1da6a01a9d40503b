"""Routing: route precedence, notices, opt-in types, unrouted and baseline events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from app.core.jobqueue import DELIVERY_QUEUE
from app.core.runtime import Runtime
from jobs import outbox
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.replay import replay_failed
from jobs.sweeper import sweep
from tenants.routes import set_route
from tests.support.jobs import add_events, events, refs, run_jobs, seed_workspace, speed_up


def route_all(
    rt: Runtime, ws: dict[str, Any], specs: list[dict[str, Any]]
) -> tuple[dict[int, tuple[str, str | None]], list[int]]:
    ids = add_events(rt, ws, specs)
    outbox.schedule_events(rt, ids)
    return {e.id: (e.status, e.channel_id) for e in events(rt, ids)}, ids


def test_connection_route_then_workspace_route_then_defaults(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(
        rt, fake_slack, companies=2, routes={"bill": "CWS_BILL", "default": "CWS_DEFAULT"}
    )
    a, b = ws["connection_ids"]
    with rt.transaction() as db:
        set_route(ws["tenant_id"], "bill", "CA_BILL", connection_id=a, db_session=db)
        set_route(ws["tenant_id"], "default", "CB_DEFAULT", connection_id=b, db_session=db)
        set_route(ws["tenant_id"], "employee", "CA_PEOPLE", connection_id=a, db_session=db)
    vendor = {"event_type": "vendor", "object_type": "Vendor"}
    employee = {"event_type": "employee", "object_type": "Employee"}
    routed, ids = route_all(
        rt,
        ws,
        [
            {"connection_id": a},
            {"connection_id": b},  # bills
            {**vendor, "connection_id": a},
            {**vendor, "connection_id": b},
            {**employee, "connection_id": a},
            {**employee, "connection_id": b},
            {"event_type": "account", "object_type": "Account", "connection_id": a},
        ],
    )
    assert list(routed.values()) == [
        (EventStatus.PENDING, "CA_BILL"),  # the company's own route first
        (EventStatus.PENDING, "CWS_BILL"),  # then the workspace's route for the type
        (
            EventStatus.PENDING,
            "CWS_DEFAULT",
        ),  # then the company's default (none for A), the workspace's
        (EventStatus.PENDING, "CB_DEFAULT"),
        (EventStatus.PENDING, "CA_PEOPLE"),  # opt-in types only where a route names them
        (EventStatus.SKIPPED, None),
        (EventStatus.SKIPPED, None),
    ]
    # Each routed channel got one drain job, however many events it has.
    assert rt.jobs.queue(DELIVERY_QUEUE).count == 5


def test_unrouted_events_are_kept_and_post_once_a_route_exists(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"vendor": "CV"})
    routed, ids = route_all(rt, ws, [{"ref_number": "NR1"}])
    assert list(routed.values()) == [(EventStatus.UNROUTED, None)]
    assert "no route" in (events(rt, ids)[0].last_error or "")
    run_jobs(rt)
    assert fake_slack.posts() == []
    with rt.transaction() as db:
        set_route(ws["tenant_id"], "default", "CNEW", db_session=db)
        again = replay_failed(ws["tenant_id"], db_session=db)
    assert again == ids
    outbox.schedule_events(rt, again)
    run_jobs(rt)
    assert refs(fake_slack, "CNEW") == ["NR1"]


def test_connected_notice_goes_to_default_else_first_route(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    notice = {
        "event_type": "notice",
        "object_type": "Company",
        "action": "connected",
        "name": "Acme Books LLC",
        "payload": {"company": "Acme Books LLC", "company_file": "C:\\Books\\acme.qbw"},
    }
    ws = seed_workspace(rt, fake_slack, routes={"vendor": "CFIRST", "bill": "CSECOND"})
    routed, ids = route_all(rt, ws, [{**notice, "object_id": "F1"}])
    assert list(routed.values()) == [(EventStatus.PENDING, "CFIRST")]
    with rt.transaction() as db:
        set_route(ws["tenant_id"], "default", "CDEF", db_session=db)
    routed, more = route_all(rt, ws, [{**notice, "object_id": "F2"}])
    assert list(routed.values()) == [(EventStatus.PENDING, "CDEF")]
    run_jobs(rt)
    (post,) = fake_slack.posts("CDEF")
    assert post.params["text"].startswith("Connected to Acme Books LLC")
    assert post.params["blocks"][0]["text"]["text"] == "Connected to Acme Books LLC"
    lone = seed_workspace(rt, fake_slack, team_id="T9", routes={})
    routed, _ = route_all(rt, lone, [{**notice, "object_id": "F3"}])
    assert list(routed.values()) == [(EventStatus.UNROUTED, None)]


def test_baseline_events_are_never_posted(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(rt, ws, [{"ref_number": "BASE"}, {"ref_number": "NEW"}])
    with rt.transaction() as db:
        db.execute(update(Event).where(Event.id == ids[0]).values(status=EventStatus.BASELINE))
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    assert sweep(rt, stale_after=dt.timedelta(0)) == 0  # nothing left to kick
    assert [e.status for e in events(rt, ids)] == [EventStatus.BASELINE, EventStatus.POSTED]
    assert refs(fake_slack) == ["NEW"]
