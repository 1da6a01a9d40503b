"""Slack's permanent answers: missing/archived channels, joining, revoked tokens."""

from __future__ import annotations

from jobs import outbox
from jobs import service as outbox_service
from jobs.enums import EventStatus
from jobs.models import Event
from tenants.enums import TenantStatus
from tenants.models import Tenant
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


def test_missing_and_archived_channels_fail_with_a_reason(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    fake_slack.strict_channels = True
    fake_slack.add_channel("CARCH", is_archived=True)
    fake_slack.add_channel("COK")
    ws = seed_workspace(
        rt, fake_slack, routes={"bill": "CGONE", "vendor": "CARCH", "invoice": "COK"}
    )
    ids = add_events(
        rt,
        ws,
        [
            {"ref_number": "G1"},
            {"ref_number": "G2"},
            {"event_type": "vendor", "object_type": "Vendor"},
            {"event_type": "invoice", "object_type": "Invoice", "ref_number": "OK1"},
        ],
    )
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    gone1, gone2, archived, ok = events(rt, ids)
    assert (
        gone1.status == gone2.status == EventStatus.FAILED
    )  # one bad channel fails each, no retry loop
    assert "no longer exists" in (gone1.last_error or "") and gone1.attempts == 1
    assert archived.status == EventStatus.FAILED and "archived" in (archived.last_error or "")
    row = audit(rt, archived.id)[-1]
    assert (
        row.result == "failed" and "is_archived" in (row.error or "") and row.channel_id == "CARCH"
    )
    assert ok.status == EventStatus.POSTED and refs(fake_slack) == [
        "OK1"
    ]  # other channels unaffected


def test_not_in_channel_joins_public_channels_once(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CPUB", "vendor": "CPRIV"})
    fake_slack.add_channel("CPUB", is_member=False)
    fake_slack.add_channel("CPRIV", is_private=True, is_member=False)
    ids = add_events(
        rt,
        ws,
        [
            {"ref_number": "J1"},
            {"ref_number": "J2"},
            {"event_type": "vendor", "object_type": "Vendor"},
        ],
    )
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    first, second, private = events(rt, ids)
    assert first.status == second.status == EventStatus.POSTED and refs(fake_slack, "CPUB") == [
        "J1",
        "J2",
    ]
    assert results(rt, first.id) == ["joined", "posted"] and results(rt, second.id) == ["posted"]
    assert len(fake_slack.calls("conversations.join", "CPUB")) == 1
    # A private channel cannot be joined: failed, telling the admin to invite the app.
    assert private.status == EventStatus.FAILED and "/invite" in (private.last_error or "")
    assert results(rt, private.id) == ["join_failed", "failed"]
    assert fake_slack.posts("CPRIV") == []


def test_not_in_channel_again_after_joining_fails(slack_runtime, fake_slack):
    rt = slack_runtime
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CKICK"})
    fake_slack.fail("chat.postMessage", channel="CKICK", error="not_in_channel", times=2)
    ids = add_events(rt, ws, [{"ref_number": "K1"}])
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    (event,) = events(rt, ids)
    assert event.status == EventStatus.FAILED and "/invite" in (event.last_error or "")
    assert results(rt, event.id) == ["joined", "failed"]
    assert len(fake_slack.calls("chat.postMessage", "CKICK")) == 2  # retried exactly once


def test_revoked_token_disconnects_and_pauses_until_resumed(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack, routes={"bill": "CB", "vendor": "CV"})
    other = seed_workspace(rt, fake_slack, team_id="T2", routes={"default": "COTHER"})
    fake_slack.revoke_token(ws["token"])
    ids = add_events(
        rt,
        ws,
        [
            {"ref_number": "P1"},
            {"ref_number": "P2"},
            {"event_type": "vendor", "object_type": "Vendor"},
        ],
    )
    theirs = add_events(rt, other, [{"ref_number": "O1"}])
    outbox.schedule_events(rt, ids + theirs)
    run_jobs(rt)
    assert [e.status for e in events(rt, ids)] == [
        EventStatus.PAUSED
    ] * 3  # nothing dropped or failed
    assert events(rt, theirs)[0].status == EventStatus.POSTED  # another workspace is not affected
    with rt.transaction() as db:
        tenant = db.get(Tenant, ws["tenant_id"])
        assert (
            tenant.status == TenantStatus.DISCONNECTED and "token_revoked" in tenant.status_reason
        )
    assert "failed" not in [r for i in ids for r in results(rt, i)]
    assert "paused" in [r for i in ids for r in results(rt, i)]
    # While disconnected, new events wait too.
    late = add_events(rt, ws, [{"ref_number": "P3"}])
    outbox.schedule_events(rt, late)
    assert events(rt, late)[0].status == EventStatus.PAUSED
    # A reinstall (new token, tenant active) resumes everything, in order.
    fake_slack.revoked.clear()
    with rt.transaction() as db:
        db.get(Tenant, ws["tenant_id"]).status = TenantStatus.ACTIVE
        resumed = outbox_service.resume_tenant(ws["tenant_id"], db_session=db)
    assert sorted(resumed) == sorted(ids + late)
    outbox.schedule_events(rt, resumed)
    run_jobs(rt)
    assert all(e.status == EventStatus.POSTED for e in events(rt, ids + late))
    assert refs(fake_slack, "CB") == ["P1", "P2", "P3"]
    with rt.transaction() as db:
        assert db.get(Event, ids[0]).attempts == 1  # the revoked try was not counted
