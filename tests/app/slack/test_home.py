"""App Home, its buttons and the modals: passwords shown once, routes saved per company."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from app.core.clock import ManualClock
from app.slack.home import publish_home
from jobs.enums import AlertKind, EventStatus
from jobs.models import Event, HealthAlert
from tenants import routes, service
from tenants.credentials import verify_password
from tenants.enums import ConnectionStatus
from tenants.models import Connection, Route, Tenant
from tests.fakes.slack_api import Call
from tests.support.jobs import stored_event
from tests.support.slack import SlackHarness, eventually
from tests.support.soap import envelope, params, post, result_of

T0 = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)


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
                stored_event(
                    t.id,
                    conn.id,
                    f"TX-{i}",
                    ref_number=f"INV-{i}",
                    status=status,
                    channel_id="CGONE" if status == EventStatus.FAILED else None,
                    last_error="the channel is archived" if status == EventStatus.FAILED else None,
                )
            )
    admin_view = publish_for(slack, "UADMIN", "E2").params["view"]
    member_view = str(publish_for(slack, "UMEMBER", "E3").params["view"])
    admin = str(admin_view)
    assert admin_view["type"] == "home"
    assert "Firm T1" in admin and "*Waiting for the first poll*" in admin
    assert "Last 24 h: 2 posted · 1 failed · 1 unrouted" in admin
    assert "Waiting to be replayed: 1 failed · 1 unrouted" in admin
    assert "Could not post bill INV-0 of *Firm T1* to <#CGONE>: the channel is archived" in admin
    assert "Unarchive the channel, or pick another channel with *Edit routes*" in admin
    assert "*Unrouted* changes have no channel" in admin  # "unrouted" explained
    buttons = {
        e["action_id"]: e
        for b in admin_view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }
    assert set(buttons) == {
        "download_qwc",
        "reset_password",
        "replay_failed",
        "add_company",
        "edit_routes",
        "add_manager",  # the Managers section's picker
    }
    assert buttons["download_qwc"]["url"].startswith("https://qbslack.example.com/qwc/")
    assert buttons["reset_password"]["value"] == str(conn.id)
    assert buttons["replay_failed"]["value"] == str(conn.id)
    # A member sees the state in words, not the failed deliveries' details.
    assert "Firm T1" in member_view and "*Waiting for the first poll*" in member_view
    assert "Waiting to be replayed" not in member_view and "archived" not in member_view
    assert "INV-0" not in member_view and "CGONE" not in member_view
    assert "add_manager" not in member_view and "*Managers*" not in member_view
    assert "/qwc/" not in member_view and "reset_password" not in member_view
    assert "replay_failed" not in member_view


def test_app_home_status_words_for_errors_and_polls(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        conn.last_poll_at = T0 - dt.timedelta(minutes=4)
        conn.status, conn.last_error = "error", "QuickBooks is not running (0x80040408)"
        conn.qb_company_name = "Firm T1 LLC"
    view = str(publish_for(slack, "UADMIN", "E4").params["view"])
    assert ":x: *Error* · last poll 4 min ago" in view
    assert "QuickBooks is not running" in view and "Firm T1 LLC" in view
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        conn.status, conn.last_error = "ok", None
    view = str(publish_for(slack, "UADMIN", "E5").params["view"])
    assert ":white_check_mark: *OK* · last poll 4 min ago" in view


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
        assert "only qbslack managers" in str(opened.params["view"])
    assert slack.connections()[0].password_hash == conn.password_hash
    assert not slack.fake.calls("chat.postMessage")  # a refusal leaves nothing in history


def test_another_workspace_cannot_reset_this_ones_password(installed):
    slack = installed
    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2")  # T2's installer: a manager there, not here
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
    assert "only qbslack managers" in str(slack.fake.wait_for("views.open")[-1].params["view"])
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
    slack.fake.add_user("UB", team_id="T2")  # T2's installer: a manager there, not here
    slack.click("rebind_company", str(conn.id), user="UB", team="T2")
    assert "not connected" in str(slack.fake.wait_for("views.open")[-1].params["view"])
    assert slack.connections("T1")[0].bound_company == "Client A Books"


def home_text(slack: SlackHarness, user: str, event_id: str) -> str:
    """The text of every section of the user's App Home, as published now."""
    view = publish_for(slack, user, event_id).params["view"]
    return "\n".join(b["text"]["text"] for b in view["blocks"] if b.get("text"))


def _set(slack: SlackHarness, **columns: object) -> None:
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        for name, value in columns.items():
            setattr(conn, name, value)


def test_app_home_turns_stale_when_the_clock_passes_the_threshold(installed):
    slack = installed
    clock = slack.runtime.clock = ManualClock(T0)
    _set(slack, last_poll_at=T0, status=ConnectionStatus.OK)
    # The default interval (5 min) makes stale after max(3 × 5 min, 15 min).
    clock.advance(minutes=14, seconds=59)
    text = home_text(slack, "UADMIN", "Ev-ok")
    assert ":white_check_mark: *OK* · last poll 14 min ago" in text and "Stale" not in text
    clock.advance(seconds=1)
    text = home_text(slack, "UADMIN", "Ev-stale")
    assert ":warning: *Stale* · last poll 15 min ago" in text
    assert "No update from QuickBooks Web Connector for over 15 min" in text
    clock.advance(hours=3)
    assert ":warning: *Stale* · last poll 3 h ago" in home_text(slack, "UMEMBER", "Ev-3h")
    # A connection whose .qwc asks for every 15 min is stale after 45 min.
    _set(slack, run_every_minutes=15, last_poll_at=T0 + dt.timedelta(hours=2, minutes=31))
    assert "*OK* · last poll 44 min ago" in home_text(slack, "UADMIN", "Ev-15")


def test_app_home_stale_after_minutes_overrides_the_interval(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    slack.runtime.settings = slack.runtime.settings.with_overrides(stale_after_minutes=2.5)
    _set(slack, last_poll_at=T0 - dt.timedelta(minutes=2), status=ConnectionStatus.OK)
    assert "*OK* · last poll 2 min ago" in home_text(slack, "UADMIN", "Ev-o1")
    _set(slack, last_poll_at=T0 - dt.timedelta(minutes=2, seconds=30))
    text = home_text(slack, "UADMIN", "Ev-o2")
    assert ":warning: *Stale* · last poll 2 min ago" in text and "over 2.5 min" in text


def test_a_stale_connection_is_stale_whatever_its_last_session_said(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    _set(
        slack,
        last_poll_at=T0 - dt.timedelta(days=3),
        status=ConnectionStatus.WRONG_FILE,
        open_company="Client B Books",
    )
    text = home_text(slack, "UADMIN", "Ev-old-wrong")
    assert ":warning: *Stale* · last poll 3 days ago" in text
    assert "QuickBooks had *Client B Books* open" in text  # the last session's outcome, too
    _set(slack, last_poll_at=T0 - dt.timedelta(minutes=1))
    assert ":no_entry: *Wrong file* · last poll 1 min ago" in home_text(slack, "UADMIN", "Ev-w")


def test_app_home_says_paused_on_a_disconnected_workspace(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    _set(slack, last_poll_at=T0 - dt.timedelta(minutes=3), status=ConnectionStatus.OK)
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        tenant.status, tenant.status_reason = "disconnected", "Slack token no longer valid"
    # A disconnected workspace's events are refused before any listener (no token to use);
    # the view is the one publish_home builds with whatever client can still publish it.
    publish_home(slack.runtime, WebClient(token="xoxb-T1", base_url=slack.fake.url), "T1", "UADMIN")
    view = publishes(slack, "UADMIN")[-1].params["view"]
    text = str(view)
    assert ":double_vertical_bar: *Paused* · last poll 3 min ago" in text
    assert "*disconnected*" in text and "Slack token no longer valid" in text
    assert "*OK*" not in text


def _event(slack: SlackHarness, n: int, status: str, created: dt.datetime) -> None:
    conn = slack.connections()[0]
    with slack.runtime.transaction() as db:
        db.add(
            stored_event(
                conn.tenant_id,
                conn.id,
                f"TX-{n}",
                ref_number=f"REF-{n}",
                status=status,
                channel_id="CGONE" if status == EventStatus.FAILED else None,
                last_error="channel_not_found" if status == EventStatus.FAILED else None,
                created_at=created,
                updated_at=created,
            )
        )


def test_app_home_stats_cover_the_last_24_hours_by_the_runtime_clock(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    _event(slack, 1, EventStatus.POSTED, T0 - dt.timedelta(hours=1))
    _event(slack, 2, EventStatus.POSTED, T0 - dt.timedelta(hours=23, minutes=59))
    _event(slack, 3, EventStatus.FAILED, T0 - dt.timedelta(hours=2))
    _event(slack, 4, EventStatus.POSTED, T0 - dt.timedelta(days=2))  # too old to count
    _event(slack, 5, EventStatus.FAILED, T0 - dt.timedelta(days=2))  # still waits, though
    _event(slack, 6, EventStatus.UNROUTED, T0 - dt.timedelta(days=3))
    text = home_text(slack, "UADMIN", "Ev-stats")
    assert "Last 24 h: 2 posted · 1 failed · 0 unrouted" in text
    assert "Waiting to be replayed: 2 failed · 1 unrouted" in text
    assert "today" not in text.lower()
    slack.runtime.clock = ManualClock(T0 + dt.timedelta(hours=1))
    assert "Last 24 h: 1 posted · 1 failed · 0 unrouted" in home_text(slack, "UADMIN", "Ev-s2")


def _alert(slack: SlackHarness, kind: str, opened: dt.datetime, **detail: object) -> None:
    conn = slack.connections()[0]
    with slack.runtime.transaction() as db:
        db.add(
            HealthAlert(
                tenant_id=conn.tenant_id,
                connection_id=conn.id,
                kind=kind,
                opened_at=opened,
                reminded_at=opened,
                detail=detail,
            )
        )


def _attention(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The blocks of the "Needs attention" section."""
    blocks: list[dict[str, Any]] = view["blocks"]
    start = next(
        i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == "*Needs attention*"
    )
    end = next(i for i in range(start + 1, len(blocks)) if blocks[i]["type"] == "divider")
    return blocks[start + 1 : end]


def test_needs_attention_lists_open_alerts_with_fixes_for_managers_only(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    _set(slack, last_poll_at=T0 - dt.timedelta(hours=5), status=ConnectionStatus.OK)
    _event(slack, 1, EventStatus.FAILED, T0 - dt.timedelta(hours=1))
    _alert(slack, AlertKind.STALE, T0 - dt.timedelta(hours=4), seconds_since_poll=3600.0)
    _alert(slack, AlertKind.DELIVERY_FAILED, T0 - dt.timedelta(hours=1), count=1)
    with slack.runtime.transaction() as db:  # a resolved alert is not shown
        conn = slack.connections()[0]
        db.add(
            HealthAlert(
                tenant_id=conn.tenant_id,
                connection_id=conn.id,
                kind=AlertKind.LOGIN_LOCKED,
                opened_at=T0 - dt.timedelta(days=1),
                reminded_at=T0 - dt.timedelta(days=1),
                resolved_at=T0 - dt.timedelta(hours=20),
                detail={},
            )
        )
    admin = _attention(publish_for(slack, "UADMIN", "Ev-att-a").params["view"])
    member = _attention(publish_for(slack, "UMEMBER", "Ev-att-m").params["view"])
    titles = [b["text"]["text"] for b in member if b["type"] == "section"]
    assert len(titles) == 2
    # The alerts' own words; the stale one as of now (5 h), not as of its opening.
    assert "No update from Firm T1's Web Connector for 5 h" in titles[0]
    assert "1 message(s) of Firm T1 could not be posted" in titles[1]
    assert not any(b["type"] == "actions" for b in member)
    buttons = [e["action_id"] for b in admin if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["replay_failed", "edit_routes"]
    assert "locked" not in str(admin).lower()


def message_click(
    slack: SlackHarness,
    action_id: str,
    value: str | None = None,
    *,
    user: str = "UADMIN",
    team: str = "T1",
    trigger: str = "7.8.9",
) -> None:
    """A button clicked in a message (an alert in a channel), not in App Home."""
    action: dict[str, Any] = {"action_id": action_id, "type": "button", "block_id": "fix"}
    if value is not None:
        action["value"] = value
    resp = slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "team_id": team},
            "trigger_id": trigger,
            "api_app_id": "A0QBSLACK",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": "C0ALERTS",
                "is_ephemeral": False,
            },
            "channel": {"id": "C0ALERTS", "name": "qb-alerts"},
            "message": {"type": "message", "ts": "1700000000.000100", "text": "alert"},
            "response_url": slack.fake.url + "response.hook",
            "actions": [action],
        }
    )
    assert resp.status_code == 200


def _statuses(slack: SlackHarness) -> dict[str, str]:
    with slack.runtime.transaction() as db:
        return {e.object_id: e.status for e in db.scalars(select(Event))}


def _route_everything(slack: SlackHarness) -> None:
    """A default channel, so replayed events are routed (and wait for the drain) again."""
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        routes.set_route(tenant.id, "default", "C0BILLS1", user_id="UADMIN", db_session=db)


def test_replay_failed_button_requeues_that_company_files_failed_events(installed):
    slack = installed
    _route_everything(slack)
    _event(slack, 1, EventStatus.FAILED, dt.datetime.now(dt.UTC))
    _event(slack, 2, EventStatus.UNROUTED, dt.datetime.now(dt.UTC))
    _event(slack, 3, EventStatus.POSTED, dt.datetime.now(dt.UTC))
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        service.add_connection(tenant, "Client B", db_session=db)
        other = db.scalars(select(Connection).where(Connection.company_name == "Client B")).one()
        db.add(stored_event(tenant.id, other.id, "TX-B", status=EventStatus.FAILED))
    conn = slack.connections()[0]
    slack.click("replay_failed", str(conn.id))
    opened = slack.fake.wait_for("views.open")[0]
    assert "Queued 2 event(s) of Firm T1 to post again" in str(opened.params["view"])
    assert _statuses(slack) == {
        "TX-1": EventStatus.PENDING,
        "TX-2": EventStatus.PENDING,
        "TX-3": EventStatus.POSTED,
        "TX-B": EventStatus.FAILED,  # another company file's: not asked for
    }
    # Nothing left to replay: said so, nothing changes.
    slack.click("replay_failed", str(conn.id), trigger="2.3.4")
    again = slack.fake.wait_for("views.open", count=2)[-1]
    assert "Nothing to post again" in str(again.params["view"])


def test_replay_failed_is_for_managers_of_this_workspace_only(installed):
    slack = installed
    _event(slack, 1, EventStatus.FAILED, dt.datetime.now(dt.UTC))
    conn = slack.connections()[0]
    slack.click("replay_failed", str(conn.id), user="UMEMBER")
    assert "only qbslack managers" in str(slack.fake.wait_for("views.open")[-1].params["view"])
    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2")  # T2's installer: a manager there, not here
    slack.click("replay_failed", str(conn.id), user="UB", team="T2")
    view = str(slack.fake.wait_for("views.open", count=2)[-1].params["view"])
    assert "not connected to this workspace" in view
    slack.click("replay_failed", "not-a-number", user="UB", team="T2")
    assert "not connected" in str(slack.fake.wait_for("views.open", count=3)[-1].params["view"])
    assert _statuses(slack) == {"TX-1": EventStatus.FAILED}


def test_alert_buttons_work_when_clicked_in_a_message(installed):
    slack = installed
    _route_everything(slack)
    _event(slack, 1, EventStatus.FAILED, dt.datetime.now(dt.UTC))
    conn = slack.connections()[0]
    message_click(slack, "replay_failed", str(conn.id), user="UMEMBER")
    assert "only qbslack managers" in str(slack.fake.wait_for("views.open")[-1].params["view"])
    message_click(slack, "replay_failed", str(conn.id))
    opened = slack.fake.wait_for("views.open", count=2)[-1]
    assert opened.params["trigger_id"] == "7.8.9"
    assert "Queued 1 event(s)" in str(opened.params["view"])
    assert _statuses(slack) == {"TX-1": EventStatus.PENDING}

    message_click(slack, "edit_routes", trigger="7.8.10")
    modal = slack.fake.wait_for("views.open", count=3)[-1]
    assert modal.params["view"]["callback_id"] == "routes_modal"

    message_click(slack, "reset_password", str(conn.id), trigger="7.8.11")
    shown = slack.fake.wait_for("views.open", count=4)[-1].params["view"]
    password = shown_password(shown)
    eventually(lambda: verify_password(password, slack.connections()[0].password_hash))

    wrong = _found_wrong_file(slack)
    message_click(slack, "rebind_company", str(wrong.id), trigger="7.8.12")
    done = slack.fake.wait_for("views.open", count=5)[-1]
    assert "Client B Books" in str(done.params["view"])
    # Nothing was posted to the channel the alert is in: the answers are modals.
    assert not slack.fake.calls("chat.postMessage")


def _soap(slack: SlackHarness, method: str, **values: object) -> list[str]:
    """A QBWC call through the app: its result's strings (or its one text)."""
    result = result_of(post(slack.client, envelope(method, params(**values))).data, method)
    assert result is not None
    return [s.text or "" for s in result] or [result.text or ""]


def test_a_password_reset_in_slack_ends_the_live_qbwc_session(installed):
    """The Web Connector with the old password is out at its next call, not 30 minutes on."""
    slack = installed
    conn = slack.connections()[0]
    with slack.runtime.transaction() as db:
        known = db.get(Connection, conn.id)
        assert known is not None
        password = service.credentials(known, reset=True, db_session=db).password
    ticket, status = _soap(
        slack, "authenticate", strUserName=conn.qbwc_username, strPassword=password
    )
    assert ticket and status == ""
    asked = _soap(
        slack,
        "sendRequestXML",
        ticket=ticket,
        strHCPResponse="",
        strCompanyFileName="C:\\Books\\a.qbw",
        qbXMLCountry="US",
        qbXMLMajorVers=13,
        qbXMLMinorVers=0,
    )
    assert "CompanyQueryRq" in asked[0]
    slack.click("reset_password", str(conn.id))
    slack.fake.wait_for("views.open")
    eventually(lambda: slack.connections()[0].password_hash != known.password_hash)
    # An answer the live session would have taken (as it does without the reset).
    fine = (
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CompanyQueryRs requestID="company.1" '
        'statusCode="1" statusSeverity="Info" statusMessage="none"/></QBXMLMsgsRs></QBXML>'
    )
    answer = _soap(
        slack, "receiveResponseXML", ticket=ticket, response=fine, hresult="", message=""
    )
    assert int(answer[0]) < 0
    assert "expired or is unknown" in _soap(slack, "getLastError", ticket=ticket)[0]
