"""Replay: failed, named and date-ranged events post again, marked as replays in the audit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from app.core.runtime import Runtime
from jobs import outbox
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.replay import replay_event_ids, replay_failed, replay_object, replay_since
from tenants.routes import set_route
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


def deliver(rt: Runtime, ids: list[int]) -> None:
    outbox.schedule_events(rt, ids)
    run_jobs(rt)


def test_replay_failed_reroutes_to_the_new_channel(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CGONE"})
    fake_slack.fail("chat.postMessage", channel="CGONE", error="channel_not_found")
    ids = add_events(rt, ws, [{"ref_number": "F1"}, {"ref_number": "F2"}])
    deliver(rt, ids)
    assert [e.status for e in events(rt, ids)] == [EventStatus.FAILED, EventStatus.FAILED]
    with rt.transaction() as db:  # the admin picks a new channel, then /qb-replay failed
        set_route(ws["tenant_id"], "bill", "CNEW", db_session=db)
        again = replay_failed(ws["tenant_id"], db_session=db)
    assert again == ids
    assert [e.status for e in events(rt, ids)] == [EventStatus.PENDING, EventStatus.PENDING]
    deliver(rt, again)
    assert refs(fake_slack, "CNEW") == ["F1", "F2"]
    for event in events(rt, ids):
        assert (
            event.status == EventStatus.POSTED
            and event.replay_count == 1
            and event.channel_id == "CNEW"
        )
    trail = audit(rt, ids[0])
    assert [(a.result, a.replay) for a in trail] == [
        ("failed", False),
        ("replay_requested", True),
        ("posted", True),
    ]
    assert trail[0].channel_id == "CGONE" and trail[-1].channel_id == "CNEW"
    assert "re-posted" in str(fake_slack.posts("CNEW")[0].params["blocks"])
    with rt.transaction() as db:
        assert replay_failed(ws["tenant_id"], db_session=db) == []  # nothing failed now


def test_replay_a_named_object_by_ref_number_or_txn_id(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(
        rt,
        ws,
        [
            {"object_id": "TXN-1", "ref_number": "A-1", "amount": "10"},
            {
                "object_id": "TXN-1",
                "ref_number": "A-1",
                "amount": "12",
                "action": "updated",
                "edit_sequence": "2",
            },
            {"object_id": "TXN-2", "ref_number": "B-2"},
        ],
    )
    deliver(rt, ids)
    with rt.transaction() as db:
        by_ref = replay_object(ws["tenant_id"], " A-1 ", db_session=db)
        assert replay_object(ws["tenant_id"], "A-1", db_session=db) == []  # on its way
        assert replay_object(ws["tenant_id"], "NOPE", db_session=db) == []
        assert replay_object(ws["tenant_id"] + 999, "TXN-2", db_session=db) == []
    assert by_ref == [ids[1]]  # the object's latest event
    deliver(rt, by_ref)
    with rt.transaction() as db:
        by_id = replay_object(ws["tenant_id"], "TXN-2", db_session=db)
    assert by_id == [ids[2]]
    deliver(rt, by_id)
    assert refs(fake_slack) == ["A-1", "A-1", "B-2", "A-1", "B-2"]
    assert "12.00" in fake_slack.posts()[3].params["text"]
    assert results(rt, ids[1]) == ["posted", "replay_requested", "posted"]
    assert [a.replay for a in audit(rt, ids[1])] == [False, True, True]


def test_replay_since_a_date(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    ids = add_events(
        rt, ws, [{"ref_number": "OLD"}, {"ref_number": "NEW1"}, {"ref_number": "NEW2"}]
    )
    deliver(rt, ids)
    today = dt.datetime.now(dt.UTC)
    with rt.transaction() as db:
        db.execute(
            update(Event).where(Event.id == ids[0]).values(created_at=today - dt.timedelta(days=10))
        )
        assert (
            replay_since(ws["tenant_id"], today.date() + dt.timedelta(days=1), db_session=db) == []
        )
        since = replay_since(ws["tenant_id"], (today - dt.timedelta(days=2)).date(), db_session=db)
    assert since == ids[1:]
    deliver(rt, since)
    assert refs(fake_slack) == ["OLD", "NEW1", "NEW2", "NEW1", "NEW2"]
    assert all(e.replay_count == 1 for e in events(rt, ids[1:]))
    assert events(rt, ids[:1])[0].replay_count == 0


def test_replay_event_ids_is_scoped_to_the_tenant(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack)
    other = seed_workspace(rt, fake_slack, team_id="T2")
    ids = add_events(rt, ws, [{"ref_number": "MINE"}])
    with rt.transaction() as db:
        db.execute(update(Event).where(Event.id == ids[0]).values(status=EventStatus.FAILED))
        assert replay_event_ids(ids, tenant_id=other["tenant_id"], db_session=db) == []
        assert replay_event_ids(ids, tenant_id=ws["tenant_id"], db_session=db) == ids
        assert replay_event_ids(ids, db_session=db) == []  # pending now: already on its way
