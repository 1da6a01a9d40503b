"""App Home, its buttons and the modals: passwords shown once, routes saved per company."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jobs.enums import EventStatus
from jobs.models import Event
from tenants import service
from tenants.credentials import verify_password
from tenants.enums import ConnectionStatus
from tenants.models import Connection, Route, Tenant
from tests.fakes.slack_api import Call
from tests.support.slack import SlackHarness, eventually


def publishes(slack: SlackHarness, user: str) -> list[Call]:
    return [c for c in slack.fake.calls("views.publish") if c.params["user_id"] == user]


def publish_for(slack: SlackHarness, user: str, event_id: str) -> Call:
    """Open a user's App Home; the view published for it."""
    before = len(publishes(slack, user))
    slack.event({"type": "app_home_opened", "user": user, "tab": "home"}, event_id=event_id)
    slack.fake.wait_for(lambda cs: len(publishes(slack, user)) > before)
    return publishes(slack, user)[-1]


def shown_password(view: object) -> str:
    return str(view).split("Password: `")[1].split("`")[0]


def test_app_home_shows_status_and_admin_buttons(installed):
    slack = installed
    conn = slack.connections()[0]
    with slack.runtime.transaction() as db:
        t = db.scalar(select(Tenant))
        for i, status in enumerate(
            [EventStatus.FAILED, EventStatus.UNROUTED, EventStatus.POSTED, EventStatus.POSTED]
        ):
            db.add(
                Event(
                    tenant_id=t.id,
                    connection_id=conn.id,
                    event_type="bill",
                    action="created",
                    object_type="Bill",
                    object_id=f"TX-{i}",
                    edit_sequence="1",
                    ref_number=f"INV-{i}",
                    payload={},
                    status=status,
                    channel_id="CGONE" if status == EventStatus.FAILED else None,
                    last_error="the channel is archived" if status == EventStatus.FAILED else None,
                )
            )
    admin_view = publish_for(slack, "UADMIN", "E2").params["view"]
    member_view = str(publish_for(slack, "UMEMBER", "E3").params["view"])
    admin = str(admin_view)
    assert admin_view["type"] == "home"
    assert "Firm T1" in admin and "Not yet polled" in admin
    assert "Events today: 4" in admin and "Failed: 1" in admin and "Unrouted: 1" in admin
    assert "INV-0" in admin and "archived" in admin and "/qb-replay failed" in admin
    buttons = {
        e["action_id"]: e
        for b in admin_view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }
    assert set(buttons) == {"download_qwc", "reset_password", "add_company", "edit_routes"}
    assert buttons["download_qwc"]["url"].startswith("https://qbslack.example.com/qwc/")
    assert buttons["reset_password"]["value"] == str(conn.id)
    assert "Firm T1" in member_view and "Failed: 1" in member_view
    assert "/qwc/" not in member_view and "reset_password" not in member_view


def test_app_home_status_words_for_errors_and_polls(installed):
    slack = installed
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        conn.last_poll_at = dt.datetime.now(dt.UTC)
        conn.status, conn.last_error = "error", "QuickBooks is not running (0x80040408)"
        conn.qb_company_name = "Firm T1 LLC"
    view = str(publish_for(slack, "UADMIN", "E4").params["view"])
    assert "Error" in view and "QuickBooks is not running" in view and "Firm T1 LLC" in view
    assert "<!date^" in view  # the last poll, in the reader's time zone
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        conn.status, conn.last_error = "ok", None
    assert "Connected" in str(publish_for(slack, "UADMIN", "E5").params["view"])


def test_reset_password_shows_it_once_in_a_modal(installed):
    slack = installed
    conn = slack.connections()[0]
    slack.click("reset_password", str(conn.id))
    opened = slack.fake.wait_for("views.open")[0]
    assert opened.params["trigger_id"] == "1.2.3"
    password = shown_password(opened.params["view"])
    assert "/qwc/" in str(opened.params["view"])
    eventually(lambda: verify_password(password, slack.connections()[0].password_hash))
    assert not any(
        password in str(c.params) for c in slack.fake.calls() if c.method != "views.open"
    )


def test_member_clicks_get_a_refusal_and_change_nothing(installed):
    slack = installed
    conn = slack.connections()[0]
    for n, action in enumerate(["reset_password", "add_company", "edit_routes"], start=1):
        slack.click(action, str(conn.id), user="UMEMBER")
        opened = slack.fake.wait_for("views.open", count=n)[-1]
        assert "only workspace admins" in str(opened.params["view"])
    assert slack.connections()[0].password_hash == conn.password_hash
    assert not slack.fake.calls("chat.postMessage")  # a refusal leaves nothing in history


def test_another_workspace_cannot_reset_this_ones_password(installed):
    slack = installed
    slack.install(team="T2", code="c2", installer="UB")
    conn_a = slack.connections("T1")[0]
    slack.click("reset_password", str(conn_a.id), user="UB", team="T2")
    view = str(slack.fake.wait_for("views.open")[0].params["view"])
    assert "not connected to this workspace" in view and "Password" not in view
    assert slack.connections("T1")[0].password_hash == conn_a.password_hash


def test_add_company_modal_gives_credentials_once(installed):
    slack = installed
    slack.click("add_company")
    modal = slack.fake.wait_for("views.open")[0].params["view"]
    assert modal["callback_id"] == "add_company_modal"
    values = {"company": {"value": {"type": "plain_text_input", "value": "Client B"}}}
    resp = slack.submit(modal, values)
    answer = resp.get_json()
    assert resp.status_code == 200 and answer["response_action"] == "update"
    password = shown_password(answer["view"])
    assert "Client B" in str(answer["view"]) and "/qwc/" in str(answer["view"])
    conns = slack.connections()
    assert [c.company_name for c in conns] == ["Firm T1", "Client B"]
    assert verify_password(password, conns[1].password_hash)
    # App Home is refreshed with the new company.
    slack.fake.wait_for(
        lambda cs: any(
            c.method == "views.publish" and "Client B" in str(c.params["view"]) for c in cs
        )
    )
    again = slack.submit(modal, values).get_json()
    assert again["response_action"] == "errors" and "already has" in again["errors"]["company"]
    empty = slack.submit(
        modal, {"company": {"value": {"type": "plain_text_input", "value": "  "}}}
    ).get_json()
    assert empty["response_action"] == "errors"
    assert len(slack.connections()) == 2


def test_modal_submitted_by_someone_else_is_refused(installed):
    slack = installed
    slack.click("add_company")
    modal = slack.fake.wait_for("views.open")[0].params["view"]
    values = {"company": {"value": {"type": "plain_text_input", "value": "Sneaky"}}}
    answer = slack.submit(modal, values, user="UMEMBER").get_json()
    assert answer["response_action"] == "errors"
    answer = slack.submit(dict(modal, private_metadata="forged"), values).get_json()
    assert answer["response_action"] == "errors"
    assert len(slack.connections()) == 1


def picker_values(view: dict[str, Any], chosen: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """The state Slack sends: every picker of the view, with the chosen channels."""
    values = {}
    for block in view["blocks"]:
        if block.get("element", {}).get("type") == "conversations_select":
            key = block["block_id"].split(".")[0].removeprefix("route_")
            values[block["block_id"]] = {
                "value": {"type": "conversations_select", "selected_conversation": chosen.get(key)}
            }
    return values


def test_routes_modal_submit_saves_and_confirms(installed):
    slack = installed
    slack.fake.add_channel("C0PRIVATE", name="secret", is_private=True, is_member=False)
    slack.click("edit_routes")
    view = slack.fake.wait_for("views.open")[0].params["view"]
    resp = slack.submit(view, picker_values(view, {"bill": "C0BILLS1", "vendor": "C0PRIVATE"}))
    answer = resp.get_json()
    assert answer["response_action"] == "update"
    confirmation = str(answer["view"])
    assert "Routes saved" in confirmation and "<#C0BILLS1>" in confirmation
    assert "/invite @qbslack" in confirmation  # the private channel the bot is not in
    with slack.runtime.transaction() as db:
        got = {(r.event_type, r.connection_id, r.channel_id) for r in db.scalars(select(Route))}
    assert got == {("bill", None, "C0BILLS1"), ("vendor", None, "C0PRIVATE")}
    # Reopened, the modal shows the saved routes; emptying a picker clears its route.
    slack.click("edit_routes", trigger="4.5.6")
    view = slack.fake.wait_for("views.open", count=2)[-1].params["view"]
    assert "C0BILLS1" in str(view)
    slack.submit(view, picker_values(view, {"bill": "C0BILLS1"}))
    with slack.runtime.transaction() as db:
        assert [(r.event_type, r.channel_id) for r in db.scalars(select(Route))] == [
            ("bill", "C0BILLS1")
        ]


def test_routes_modal_company_selector(installed):
    slack = installed
    with slack.runtime.transaction() as db:
        tenant = db.scalar(select(Tenant))
        service.add_connection(tenant, "Client B", db_session=db)
    client_b = slack.connections()[1].id
    slack.command("/qb-routes", "set bill C0ALLBILLS")
    slack.responses(1)
    slack.command("/qb-routes", "")
    view = slack.fake.wait_for("views.open")[0].params["view"]
    scope = next(b for b in view["blocks"] if b.get("block_id") == "scope")
    options = [o["value"] for o in scope["element"]["options"]]
    assert options == ["workspace", str(slack.connections()[0].id), str(client_b)]
    assert "C0ALLBILLS" in str(view)
    # Choosing Client B reloads the pickers with its own (empty) routes.
    slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "UADMIN"},
            "api_app_id": "A0QBSLACK",
            "container": {"type": "view"},
            "view": dict(view, id="VROUTES", hash="h1"),
            "actions": [
                {
                    "action_id": "routes_scope",
                    "block_id": "scope",
                    "type": "static_select",
                    "selected_option": {"value": str(client_b)},
                }
            ],
        }
    )
    update = slack.fake.wait_for("views.update")[0].params
    assert update["view_id"] == "VROUTES" and update["hash"] == "h1"
    company_view = update["view"]
    assert "C0ALLBILLS" not in str(company_view)
    # Submitted before the pickers reloaded: the workspace's pickers are not saved as B's.
    early = picker_values(view, {"bill": "C0WRONG"})
    early["scope"] = {
        "routes_scope": {"type": "static_select", "selected_option": {"value": str(client_b)}}
    }
    assert slack.submit(view, early).get_json()["response_action"] == "errors"
    values = picker_values(company_view, {"bill": "C0BBILLS"})
    values["scope"] = {
        "routes_scope": {"type": "static_select", "selected_option": {"value": str(client_b)}}
    }
    assert slack.submit(company_view, values).get_json()["response_action"] == "update"
    with slack.runtime.transaction() as db:
        got = {(r.event_type, r.connection_id, r.channel_id) for r in db.scalars(select(Route))}
    assert got == {("bill", None, "C0ALLBILLS"), ("bill", client_b, "C0BBILLS")}


def _found_wrong_file(slack: SlackHarness) -> Connection:
    """A session of the workspace's company file found Client B's file open."""
    with slack.runtime.transaction() as db:
        conn = db.get(Connection, slack.connections()[0].id)
        assert conn is not None
        conn.bound_company, conn.qb_file_path = "Client A Books", r"C:\Files\A.QBW"
        conn.bound_at = dt.datetime.now(dt.UTC)
        conn.status = ConnectionStatus.WRONG_FILE
        conn.open_company, conn.open_file_path = "Client B Books", r"C:\Files\B.QBW"
        db.flush()
        db.expunge(conn)
    return conn


def test_wrong_file_shows_in_home_and_a_manager_rebinds_but_a_member_cannot(installed):
    slack = installed
    conn = _found_wrong_file(slack)
    text = str(publish_for(slack, "UADMIN", "Ev-wrong-file").params["view"])
    assert "Wrong company file" in text and "Client B Books" in text
    assert "rebind_company" in text and "Client A Books" in text  # the confirmation names both

    slack.click("rebind_company", str(conn.id), user="UMEMBER")
    assert "only workspace admins" in str(slack.fake.wait_for("views.open")[-1].params["view"])
    assert slack.connections()[0].bound_company == "Client A Books"

    slack.click("rebind_company", str(conn.id), user="UADMIN")
    opened = slack.fake.wait_for("views.open", count=2)[-1]
    assert "Client B Books" in str(opened.params["view"])
    after = slack.connections()[0]
    assert (after.bound_company, after.qb_file_path) == ("Client B Books", r"C:\Files\B.QBW")
    assert after.status == ConnectionStatus.OK and after.open_company is None


def test_another_workspace_cannot_rebind_this_ones_connection(installed):
    slack = installed
    conn = _found_wrong_file(slack)
    slack.install(team="T2", code="c2", installer="UB")
    slack.click("rebind_company", str(conn.id), user="UB", team="T2")
    assert "not connected" in str(slack.fake.wait_for("views.open")[-1].params["view"])
    assert slack.connections("T1")[0].bound_company == "Client A Books"
