"""Tenant isolation: workspace B's ticket, team id and admin reach none of workspace A's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.core.runtime import Runtime
from jobs.enums import EventStatus
from jobs.models import Event
from soap.simulator import FakeCompany
from soap.simulator.qbxml_answer import Answerer
from tenants.models import Connection, Route, Tenant
from tenants.routes import set_route
from tests.app.slack.test_home import picker_values
from tests.support.slack import SlackHarness
from tests.support.soap import connect, connection, count_events, watermarks


def _seed_a(slack: SlackHarness) -> None:
    """Workspace A's failed and posted bill events, and its default route."""
    with slack.runtime.transaction() as db:
        tenant = db.scalar(select(Tenant).where(Tenant.team_id == "T1"))
        assert tenant is not None
        set_route(tenant.id, "default", "C0AAAAAAAA", db_session=db)
        conn_id = slack.connections("T1")[0].id
        for object_id, ref, status in (
            ("TX-A1", "INV-A1", EventStatus.FAILED),
            ("TX-A2", "INV-A2", EventStatus.POSTED),
        ):
            db.add(
                Event(
                    tenant_id=tenant.id,
                    connection_id=conn_id,
                    event_type="bill",
                    action="created",
                    object_type="Bill",
                    object_id=object_id,
                    edit_sequence="1",
                    ref_number=ref,
                    payload={},
                    status=status,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )


def _snapshot(slack: SlackHarness) -> tuple[set[Any], set[Any], set[Any]]:
    """Everything of workspace A that B might try to change."""
    with slack.runtime.transaction() as db:
        tenant = db.scalar(select(Tenant).where(Tenant.team_id == "T1"))
        assert tenant is not None
        events = {
            (e.object_id, e.status, e.replay_count, e.channel_id)
            for e in db.scalars(select(Event).where(Event.tenant_id == tenant.id))
        }
        routes = {
            (r.event_type, r.connection_id, r.channel_id)
            for r in db.scalars(select(Route).where(Route.tenant_id == tenant.id))
        }
        conns = {
            (c.id, c.company_name, c.password_hash, c.status)
            for c in db.scalars(select(Connection).where(Connection.tenant_id == tenant.id))
        }
    return events, routes, conns


def test_workspace_b_reaches_nothing_of_workspace_a_through_slack(installed):
    slack = installed
    _seed_a(slack)
    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2", is_admin=True)
    slack.fake.reset()
    before = _snapshot(slack)
    a_conn = slack.connections("T1")[0]
    # Slash commands naming A's objects, A's company, or "everything".
    asks = [
        ("/qb-replay", "INV-A1", "No event found"),
        ("/qb-replay", "TX-A2", "No event found"),
        ("/qb-replay", "failed", "no delivery has failed"),
        ("/qb-replay", "since 2026-01-01", "Nothing to post again"),
        ("/qb-routes", "set bill C0BBBBBBBB Firm T1", "No company named `Firm T1`"),
        ("/qb-routes", "clear default Firm T1", "No company named `Firm T1`"),
        ("/qb-routes", "list", ""),
    ]
    for i, (command, text, expected) in enumerate(asks, start=1):
        slack.command(command, text, user="UB", team="T2")
        answer = slack.responses(i)[-1]
        assert expected in answer, (command, text, answer)
        told = answer.replace(f"`{text}`", "")  # the words B typed may be quoted back
        assert "C0AAAAAAAA" not in told and "INV-A" not in told and "TX-A" not in told
    # App Home of B: none of A's company, events or connection ids.
    slack.event(
        {"type": "app_home_opened", "user": "UB", "tab": "home"}, team="T2", event_id="EvB1"
    )
    home = str(slack.fake.wait_for("views.publish")[-1].params["view"])
    assert "Firm T2" in home
    assert "INV-A" not in home and "Firm T1" not in home
    assert f"'value': '{a_conn.id}'" not in home
    # Buttons and modals of B carrying A's connection id.
    slack.click("reset_password", str(a_conn.id), user="UB", team="T2")
    assert "not connected to this workspace" in str(slack.fake.wait_for("views.open")[0].params)
    slack.command("/qb-routes", "", user="UB", team="T2")
    view = slack.fake.wait_for("views.open", 2)[-1].params["view"]
    values = picker_values(view, {"bill": "C0BBBBBBBB"})
    values["scope"] = {
        "routes_scope": {"type": "static_select", "selected_option": {"value": str(a_conn.id)}}
    }
    answer = slack.submit(view, values, user="UB", team="T2").get_json()
    assert answer["response_action"] == "errors"
    # B's modal submitted in A's name (A's team id, B's signed grant): refused.
    answer = slack.submit(
        view, picker_values(view, {"bill": "C0BBBBBBBB"}), user="UB", team="T1"
    ).get_json()
    assert answer["response_action"] == "update" and "Routes saved" not in str(answer)
    assert not slack.fake.calls("chat.postMessage")
    assert _snapshot(slack) == before


def test_workspace_b_ticket_reaches_nothing_of_workspace_a_through_soap(live_server, qbwc):
    rt = live_server.runtime
    a = connect(rt, "TA", "A Books")
    b = connect(rt, "TB", "B Books")
    ticket_a = qbwc.authenticate(a.username, a.password)[0]
    request_a = qbwc.send(ticket_a)
    ticket_b = qbwc.authenticate(b.username, b.password)[0]
    company = FakeCompany("A LLC")
    company.add_vendor("A Vendor")
    company.add_bill("A Vendor", "10.00", ref_number="A-1")
    # B's ticket with an answer to A's request, errors, and the end of the session.
    qbwc.send(ticket_b)
    assert qbwc.receive(ticket_b, Answerer(company).answer(request_a)) == 100
    qbwc.text("connectionError", ticket_b, hresult="0x80040408", message="closed")
    assert "A LLC" not in qbwc.text("getLastError", ticket_b)
    qbwc.text("closeConnection", ticket_b)
    # A's session goes on, untouched: its answer is still awaited and taken once.
    assert count_events(rt, connection_id=a.connection_id) == 0
    assert watermarks(rt, a.connection_id) == {}
    assert connection(rt, a.connection_id).last_error is None
    assert qbwc.receive(ticket_a, Answerer(company).answer(request_a)) == 100
    assert count_events(rt, connection_id=a.connection_id) >= 2
    # What B's Web Connector sent stayed B's: every row is in its own tenant.
    got = {(e.connection_id, e.tenant_id) for e in _all_events(rt)}
    assert got == {(a.connection_id, a.tenant_id), (b.connection_id, b.tenant_id)}


def _all_events(rt: Runtime) -> list[Event]:
    with rt.transaction() as db:
        return list(db.scalars(select(Event)))
