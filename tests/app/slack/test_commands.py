"""/qb-routes and /qb-replay, every form, for admins, the installer and members."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from tenants import service
from tenants.models import Route, Tenant
from tenants.routes import set_route
from tests.app.slack.clicks import buttons, ephemeral_click, response
from tests.support.slack import SlackHarness


def routes_by_scope(slack: SlackHarness) -> dict[tuple[str, int | None], str]:
    with slack.runtime.transaction() as db:
        return {(r.event_type, r.connection_id): r.channel_id for r in db.scalars(select(Route))}


def add_company(slack: SlackHarness, name: str) -> int:
    with slack.runtime.transaction() as db:
        tenant = db.scalar(select(Tenant).where(Tenant.team_id == "T1"))
        assert tenant is not None
        service.add_connection(tenant, name, db_session=db)
    return slack.connections()[-1].id


def test_routes_set_list_clear_and_refusal(installed):
    slack = installed
    slack.fake.add_channel("CBILLS", name="bills")
    slack.fake.add_channel("CSECRET", name="secret", is_private=True, is_member=False)
    resp = slack.command("/qb-routes", "set bill <#CBILLS|bills>", user="UMEMBER")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == ""  # acked, then answered
    assert "only qbslack managers" in slack.responses(1)[-1]
    assert slack.fake.calls("response.hook")[0].params["response_type"] == "ephemeral"
    slack.command("/qb-routes", "set bill <#CBILLS|bills>")
    assert "Bills now go to <#CBILLS>" in slack.responses(2)[-1]
    slack.fake.add_user("UINSTALLER", team_id="T1")  # a member: the installer manages
    slack.command("/qb-routes", "set vendors #secret", user="UINSTALLER")  # installer, #name
    answer = slack.responses(3)[-1]
    assert "<#CSECRET>" in answer and "/invite @qbslack" in answer
    slack.command("/qb-routes", "set default C0DEFAULT1")
    assert "<#C0DEFAULT1>" in slack.responses(4)[-1]
    slack.command("/qb-routes", "list", user="UMEMBER")  # reading is for everyone
    listing = slack.responses(5)[-1]
    assert "<#CBILLS>" in listing and "<#C0DEFAULT1>" in listing and "<#CSECRET>" in listing
    slack.command("/qb-routes", "clear vendor")
    assert "Removed" in slack.responses(6)[-1]
    slack.command("/qb-routes", "clear vendor")
    assert "There was no route" in slack.responses(7)[-1]
    slack.command("/qb-routes", "clear bill", user="UMEMBER")
    assert "only qbslack managers" in slack.responses(8)[-1]
    assert routes_by_scope(slack) == {("bill", None): "CBILLS", ("default", None): "C0DEFAULT1"}


def test_routes_bad_arguments_get_the_usage(installed):
    slack = installed
    cases = [
        ("set nonsense C0123456", "Unknown event type"),
        ("set bill", "Usage:"),
        ("frobnicate", "Usage:"),
        ("set bill #nowhere", "couldn't find the channel"),
        ("set bill C0123456 Nobody Inc", "No company named `Nobody Inc`"),
    ]
    for i, (args, expected) in enumerate(cases, start=1):
        slack.command("/qb-routes", args)
        answer = slack.responses(i)[-1]
        assert expected in answer, (args, answer)
    assert routes_by_scope(slack) == {}


def test_routes_per_company(installed):
    slack = installed
    first = slack.connections()[0].id
    second = add_company(slack, "Client B")
    slack.command("/qb-routes", "set bill <#C0BILLSB|b-bills> client b")
    assert "Bills for Client B now go to <#C0BILLSB>" in slack.responses(1)[-1]
    slack.command("/qb-routes", "set bill <#C0BILLSALL|bills>")
    slack.responses(2)
    slack.command("/qb-routes", "clear bill Firm T1")
    assert "There was no route for Bills for Firm T1" in slack.responses(3)[-1]
    assert routes_by_scope(slack) == {("bill", second): "C0BILLSB", ("bill", None): "C0BILLSALL"}
    slack.command("/qb-routes", "clear bill Client B")
    assert "Removed the route for Bills for Client B" in slack.responses(4)[-1]
    assert first != second and routes_by_scope(slack) == {("bill", None): "C0BILLSALL"}


def test_routes_without_arguments_opens_the_modal_for_admins_only(installed):
    slack = installed
    slack.command("/qb-routes", "", user="UMEMBER")
    assert "only qbslack managers" in slack.responses(1)[-1]
    slack.command("/qb-routes", "")
    opened = slack.fake.wait_for("views.open")
    assert len(opened) == 1 and opened[0].params["trigger_id"] == "123.456.abc"
    view = opened[0].params["view"]
    assert view["callback_id"] == "routes_modal"
    pickers = [
        b for b in view["blocks"] if b.get("element", {}).get("type") == "conversations_select"
    ]
    assert [b["block_id"] for b in pickers] == [
        f"route_{k}.all"
        for k in (
            "vendor",
            "bill",
            "purchase_order",
            "bill_payment",
            "payment_received",
            "invoice",
            "account",
            "employee",
            "default",
            "alerts",
        )
    ]
    assert not any(b.get("block_id") == "scope" for b in view["blocks"])  # one company


def seed_events(slack: SlackHarness) -> None:
    """Three bill events and a default route (replayed events route to it)."""
    with slack.runtime.transaction() as db:
        t = db.scalar(select(Tenant))
        assert t is not None
        set_route(t.id, "default", "C0DEFAULT1", db_session=db)
        conn_id = slack.connections()[0].id
        old = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        rows = [
            ("TX-1", "INV-9", EventStatus.FAILED, None),
            ("TX-2", "INV-10", EventStatus.POSTED, None),
            ("TX-3", "INV-11", EventStatus.POSTED, old),
        ]
        for object_id, ref, status, created in rows:
            db.add(
                Event(
                    tenant_id=t.id,
                    connection_id=conn_id,
                    event_type="bill",
                    action="created",
                    object_type="Bill",
                    object_id=object_id,
                    edit_sequence="1",
                    ref_number=ref,
                    payload={},
                    status=status,
                    **({"created_at": created} if created else {}),
                )
            )


def statuses(slack: SlackHarness) -> dict[str, tuple[str, int]]:
    with slack.runtime.transaction() as db:
        return {e.object_id: (e.status, e.replay_count) for e in db.scalars(select(Event))}


def test_replay_forms(installed):
    slack = installed
    seed_events(slack)
    slack.command("/qb-replay", "failed", user="UMEMBER")
    assert "only qbslack managers" in slack.responses(1)[-1]
    assert statuses(slack)["TX-1"] == (EventStatus.FAILED, 0)
    slack.command("/qb-replay", "failed")
    preview = response(slack, 2)
    assert "1 event that failed or wait for a channel: 1 bill" in preview["text"]
    assert statuses(slack)["TX-1"] == (EventStatus.FAILED, 0)  # nothing before the click
    ephemeral_click(slack, "replay_confirm", buttons(preview)["replay_confirm"][0]["value"])
    done = response(slack, 3)
    assert "Queued 1 event that failed" in done["text"] and done["replace_original"]
    assert statuses(slack)["TX-1"] == (EventStatus.PENDING, 1)
    slack.fake.add_user("UINSTALLER", team_id="T1")  # a member: the installer manages
    slack.command("/qb-replay", "INV-10", user="UINSTALLER")  # by RefNumber
    assert "Queued 1 event" in slack.responses(4)[-1]
    slack.command("/qb-replay", "TX-3")  # by TxnID
    assert "Queued 1 event" in slack.responses(5)[-1]
    assert statuses(slack) == {
        "TX-1": (EventStatus.PENDING, 1),
        "TX-2": (EventStatus.PENDING, 1),
        "TX-3": (EventStatus.PENDING, 1),
    }
    with slack.runtime.transaction() as db:
        assert len(db.scalars(select(DeliveryAttempt).where(DeliveryAttempt.replay)).all()) == 3


def test_replay_since_and_bad_input(installed):
    slack = installed
    seed_events(slack)
    slack.command("/qb-replay", "since 2026-02-01")
    preview = response(slack, 1)
    text = str(preview["blocks"])
    assert "1 event since 2026-02-01" in text and "1 bill" in text
    # The posted one is left out unless asked for, and the preview says how to ask.
    assert "1 event already posted since 2026-02-01 is left out" in text
    assert "/qb-replay since 2026-02-01 all" in text
    ephemeral_click(slack, "replay_confirm", buttons(preview)["replay_confirm"][0]["value"])
    assert "Queued 1 event since 2026-02-01" in response(slack, 2)["text"]
    assert statuses(slack)["TX-2"] == (EventStatus.POSTED, 0)  # posted: not without `all`
    assert statuses(slack)["TX-3"] == (EventStatus.POSTED, 0)  # older than the date: untouched
    cases = [
        ("NOPE-404", "No event found for `NOPE-404`"),
        ("since 2026-13-45", "not a date"),
        ("since 20260201", "not a date"),
        ("since", "needs a date"),
        ("", "Usage:"),
        ("help", "Usage:"),
    ]
    for i, (args, expected) in enumerate(cases, start=3):
        slack.command("/qb-replay", args)
        answer = slack.responses(i)[-1]
        assert expected in answer and "/qb-replay failed" in answer, (args, answer)
    n = len(cases) + 3
    slack.command("/qb-replay", "failed now")
    assert "No company named `now`" in slack.responses(n)[-1]
    slack.command("/qb-replay", "since 2999-01-01")
    assert "in the future" in slack.responses(n + 1)[-1]
    slack.command("/qb-replay", "failed")
    assert "Nothing to post again: no delivery has failed" in slack.responses(n + 2)[-1]


def test_another_workspace_cannot_touch_this_ones_routes(installed):
    slack = installed
    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2", is_admin=True)
    slack.command("/qb-routes", "set bill C0B2222222 Firm T1", user="UB", team="T2")
    assert "No company named `Firm T1`" in slack.responses(1)[-1]
    slack.command("/qb-routes", "set bill C0B2222222", user="UB", team="T2")
    slack.responses(2)
    slack.command("/qb-routes", "list", user="UADMIN")
    assert "C0B2222222" not in slack.responses(3)[-1]
    with slack.runtime.transaction() as db:
        rows = db.execute(
            select(Tenant.team_id, Route.channel_id).join(Route, Route.tenant_id == Tenant.id)
        ).all()
    assert rows == [("T2", "C0B2222222")]


def test_acks_come_before_any_slack_call(installed):
    """Slow Slack answers never hold the ack: it is sent before users.info even returns."""
    slack = installed
    slack.fake.latency = 0.5
    for command, text in (
        ("/qb-replay", "failed"),
        ("/qb-routes", "set bill C0BILLS12"),
        ("/qb-routes", ""),
    ):
        resp = slack.command(command, text, user="UMEMBER")
        assert resp.status_code == 200
        assert slack.fake.calls() == [], command  # nothing has reached Slack yet
        slack.fake.wait_for("response.hook")
        slack.fake.reset()
    slack.fake.latency = 0.0
    assert routes_by_scope(slack) == {}
    # A modal submission answers in its ack with no users.info: the modal carries the grant.
    slack.click("add_company")
    modal = slack.fake.wait_for("views.open")[0].params["view"]
    slack.fake.reset()
    slack.fake.latency = 0.5
    answer = slack.submit(modal, {"company": {"value": {"value": "Client Q"}}}).get_json()
    assert answer["response_action"] == "update" and slack.fake.calls() == []
    slack.fake.wait_for("views.publish")  # App Home refreshed after the ack
    slack.fake.latency = 0.0
