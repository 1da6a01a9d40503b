"""App Home for 1 to 500 company files: within Slack's limits, paged, searchable, each
company file's details in a modal; and the 501st company file refused.

Everything over HTTP: signed payloads through the real app, the fake Slack Web API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import ManualClock
from app.slack.home_view import FULL_CARDS
from jobs.enums import AlertKind, EventStatus
from jobs.models import HealthAlert
from tenants import routes, service
from tenants.enums import ConnectionStatus
from tenants.models import Connection, Tenant
from tests.fakes.slack_api import Call
from tests.support.jobs import stored_event
from tests.support.slack import SlackHarness

T0 = dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC)
MANAGER_ACTIONS = {"add_company", "edit_routes", "add_manager"}


def add_companies(slack: SlackHarness, count: int, *, prefix: str = "Client") -> None:
    """More company files in T1 (rows as add_connection makes them, without the hashing)."""
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant).where(Tenant.team_id == "T1")).one()
        for i in range(count):
            db.add(
                Connection(
                    tenant=tenant,
                    company_name=f"{prefix} {i:03}",
                    qbwc_username=f"qbw-{prefix.lower().replace(' ', '-')}-{i:03}",
                    password_hash="x",
                )
            )


def publishes(slack: SlackHarness, user: str) -> list[Call]:
    return [c for c in slack.fake.calls("views.publish") if c.params["user_id"] == user]


def home(slack: SlackHarness, user: str = "UADMIN", event_id: str = "Ev") -> dict[str, Any]:
    """Open a user's App Home; the view published for it."""
    before = len(publishes(slack, user))
    slack.event({"type": "app_home_opened", "user": user, "tab": "home"}, event_id=event_id)
    slack.fake.wait_for(lambda cs: len(publishes(slack, user)) > before)
    view: dict[str, Any] = publishes(slack, user)[-1].params["view"]
    return view


def action_ids(view: dict[str, Any]) -> list[str]:
    """Every interactive element's action_id, in order (actions blocks and accessories)."""
    ids = []
    for block in view["blocks"]:
        if block["type"] == "actions":
            ids += [e["action_id"] for e in block["elements"]]
        if "accessory" in block:
            ids.append(block["accessory"]["action_id"])
    return ids


def element(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view["blocks"]:
        for e in [*block.get("elements", []), block.get("accessory") or {}]:
            if e.get("action_id") == action_id:
                return dict(e)
    raise AssertionError(f"no {action_id} in the view")


def listed(view: dict[str, Any]) -> list[str]:
    """The company files on the page (their Details buttons' lines), in order."""
    return [
        b["text"]["text"].split("*")[1]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == "company_detail"
    ]


def check_limits(view: dict[str, Any]) -> None:
    """Slack's limits: 100 blocks, 3,000 characters a section, no link cut in half."""
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= 3000
        assert text.count("<") == text.count(">"), text[-200:]


def suggest(slack: SlackHarness, action_id: str, typed: str, **extra: Any) -> list[dict[str, Any]]:
    """A block_suggestion (the user typing into an external select); the options answered."""
    payload = {
        "type": "block_suggestion",
        "action_id": action_id,
        "block_id": extra.pop("block_id", action_id),
        "value": typed,
        "team": {"id": extra.pop("team", "T1"), "domain": "acme"},
        "user": {"id": extra.pop("user", "UADMIN"), "team_id": "T1"},
        "api_app_id": "A0QBSLACK",
        **extra,
    }
    resp = slack.interaction(payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    options: list[dict[str, Any]] = resp.get_json()["options"]
    return options


def click_in_home(
    slack: SlackHarness, action_id: str, value: str, *, user: str = "UADMIN", team: str = "T1"
) -> None:
    slack.click(action_id, value, user=user, team=team)


@pytest.mark.parametrize("count", [1, FULL_CARDS, 40, 250])
def test_app_home_stays_within_slacks_limits_with_every_manager_action(installed, count):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    add_companies(slack, count - 1)  # the install made the first one
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        conns = list(db.scalars(select(Connection).order_by(Connection.id)))
        for i, conn in enumerate(conns[:30]):  # many open alerts, many routes
            db.add(
                HealthAlert(
                    tenant_id=tenant.id,
                    connection_id=conn.id,
                    kind=AlertKind.STALE,
                    opened_at=T0 - dt.timedelta(hours=i + 1),
                    reminded_at=T0,
                    detail={},
                )
            )
        for conn in conns:
            for key in ("bill", "invoice", "vendor"):
                routes.set_route(
                    tenant.id,
                    key,
                    f"C{conn.id:09}",
                    connection_id=conn.id,
                    db_session=db,
                )
    view = home(slack)
    check_limits(view)
    ids = action_ids(view)
    assert set(ids) >= MANAGER_ACTIONS
    text = str(view)
    assert "*Needs attention*" in text and "*Managers*" in text and "*Routes*" in text
    if count <= FULL_CARDS:  # a small firm: each company file's whole card
        assert ids.count("reset_password") == ids.count("download_qwc") == count
        assert "company_search" not in ids
    else:
        assert f"*Company files* ({count:,})" in text
        assert len(listed(view)) == 20 and "home_page_next" in ids
        assert "company_search" in ids
        assert "single company files" in text  # routes that do not fit are counted
    member = home(slack, "UMEMBER", "Ev-m")
    check_limits(member)
    assert not MANAGER_ACTIONS & set(action_ids(member))


def test_paging_walks_every_company_file_once_problems_first(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    add_companies(slack, 44)
    with slack.runtime.transaction() as db:  # one with a problem: listed first
        sick = db.scalars(select(Connection).where(Connection.company_name == "Client 030")).one()
        sick.status, sick.last_error = ConnectionStatus.ERROR, "QuickBooks could not be started"
        sick.last_poll_at = T0 - dt.timedelta(minutes=2)
    first = home(slack)
    names = listed(first)
    assert names[0] == "Client 030" and names[1:3] == ["Client 000", "Client 001"]
    assert "Showing 1–20 of 45" in str(first)
    seen = list(names)
    page = first
    for _ in range(2):
        before = len(publishes(slack, "UADMIN"))
        click_in_home(slack, "home_page_next", element(page, "home_page_next")["value"])
        slack.fake.wait_for(lambda cs, b=before: len(publishes(slack, "UADMIN")) > b)
        page = publishes(slack, "UADMIN")[-1].params["view"]
        check_limits(page)
        seen += listed(page)
    assert "Showing 41–45 of 45" in str(page) and "home_page_next" not in action_ids(page)
    assert sorted(seen) == sorted(["Firm T1"] + [f"Client {i:03}" for i in range(44)])
    assert len(seen) == len(set(seen)) == 45
    # Back, and a forged offset is put on a page of the list.
    before = len(publishes(slack, "UADMIN"))
    click_in_home(slack, "home_page_prev", element(page, "home_page_prev")["value"])
    slack.fake.wait_for(lambda cs: len(publishes(slack, "UADMIN")) > before)
    assert "Showing 21–40 of 45" in str(publishes(slack, "UADMIN")[-1].params["view"])
    for forged, shown in (("999999", "41–45"), ("nonsense", "1–20"), ("7", "1–20")):
        before = len(publishes(slack, "UADMIN"))
        click_in_home(slack, "home_page_next", forged)
        slack.fake.wait_for(lambda cs, b=before: len(publishes(slack, "UADMIN")) > b)
        assert f"Showing {shown} of 45" in str(publishes(slack, "UADMIN")[-1].params["view"])


def test_search_finds_company_files_and_caps_the_options(installed):
    slack = installed
    add_companies(slack, 150)
    add_companies(slack, 3, prefix="Acme Holdings")
    everything = suggest(slack, "company_search", "")
    assert len(everything) == 100  # Slack's most
    found = suggest(slack, "company_search", "acme")
    assert [o["text"]["text"] for o in found] == [
        "Acme Holdings 000 · Waiting for the first poll",
        "Acme Holdings 001 · Waiting for the first poll",
        "Acme Holdings 002 · Waiting for the first poll",
    ]
    assert suggest(slack, "company_search", "client 14")[0]["text"]["text"].startswith("Client 140")
    assert suggest(slack, "company_search", "100%_") == []  # typed text is not a pattern
    # Another workspace's search sees only its own company files.
    slack.install(team="T2", code="c2", installer="UB")
    assert [
        o["text"]["text"].split(" · ")[0] for o in suggest(slack, "company_search", "", team="T2")
    ] == ["Firm T2"]
    # Choosing one opens its details.
    chosen = found[1]
    slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "UADMIN"},
            "trigger_id": "3.3.3",
            "api_app_id": "A0QBSLACK",
            "container": {"type": "view", "view_id": "VHOME"},
            "actions": [
                {
                    "action_id": "company_search",
                    "block_id": "company_search",
                    "type": "external_select",
                    "selected_option": chosen,
                }
            ],
        }
    )
    modal = slack.fake.wait_for("views.open")[-1].params["view"]
    assert modal["callback_id"] == "company_detail" and "Acme Holdings 001" in str(modal)


def _failed_event(slack: SlackHarness, conn: Connection, error: str) -> None:
    with slack.runtime.transaction() as db:
        db.add(
            stored_event(
                conn.tenant_id,
                conn.id,
                "TX-1234",
                event_type="bill_payment",
                object_type="BillPaymentCheck",
                ref_number="1234",
                status=EventStatus.FAILED,
                channel_id="CAP",
                last_error=error,
            )
        )


def test_detail_modal_for_a_manager_has_everything_and_for_a_member_the_state(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    add_companies(slack, 5)
    conn = next(c for c in slack.connections() if c.company_name == "Client 003")
    with slack.runtime.transaction() as db:
        row = db.get(Connection, conn.id)
        assert row is not None
        row.last_poll_at = T0 - dt.timedelta(minutes=3)
        row.status = ConnectionStatus.ERROR
        row.last_error = (
            "QuickBooks could not be started or the company file is not open (0x80040408)"
        )
        row.bound_company, row.qb_file_path, row.bound_at = "Client Three", r"C:\QB\c3.QBW", T0
        tenant = db.scalars(select(Tenant)).one()
        routes.set_route(tenant.id, "default", "C0DEFAULT1", db_session=db)
        routes.set_route(tenant.id, "bill", "C0BILLS03", connection_id=conn.id, db_session=db)
    # Stored by an older release: the raw code is explained all the same.
    _failed_event(slack, conn, "Slack answered invalid_arguments")

    click_in_home(slack, "company_detail", str(conn.id))
    modal = slack.fake.wait_for("views.open")[-1].params["view"]
    text = str(modal)
    assert modal["callback_id"] == "company_detail" and len(modal["blocks"]) <= 100
    assert "Client 003" in text and ":x: *Error* · last poll 3 min ago" in text
    assert "Client Three" in text and "c3.QBW" in text and conn.qbwc_username in text
    assert "QuickBooks could not be started" in text and "View Log" in text  # what to do
    # The failed delivery: a human type, the company, plain words, what to do.
    assert "Could not post bill payment 1234 of *Client 003* to <#CAP>" in text
    assert "Slack refused the message as malformed" in text and "qbslack's support" in text
    assert "BillPaymentCheck" not in text and "invalid_arguments" not in text
    assert "Bills → <#C0BILLS03> (its own route)" in text
    assert "Invoices → <#C0DEFAULT1> (the workspace's Default)" in text
    ids = action_ids(modal)
    assert {"download_qwc", "reset_password", "replay_failed", "edit_routes"} <= set(ids)
    assert element(modal, "edit_routes")["value"] == str(conn.id)

    click_in_home(slack, "company_detail", str(conn.id), user="UMEMBER")
    member = str(slack.fake.wait_for("views.open", count=2)[-1].params["view"])
    assert "Client 003" in member and ":x: *Error*" in member and "ask a qbslack manager" in member
    for secret in (conn.qbwc_username, "could not be started", "CAP", "Client Three", "/qwc/"):
        assert secret not in member

    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2")
    click_in_home(slack, "company_detail", str(conn.id), user="UB", team="T2")
    other = str(slack.fake.wait_for("views.open", count=3)[-1].params["view"])
    assert "not connected to this workspace" in other and "Client 003" not in other


def test_fixes_clicked_in_the_detail_modal_stack_on_it_and_refresh_it(installed):
    slack = installed
    add_companies(slack, 5)
    conn = next(c for c in slack.connections() if c.company_name == "Client 001")
    _failed_event(slack, conn, "the channel is archived")
    with slack.runtime.transaction() as db:
        routes.set_route(conn.tenant_id, "default", "C0DEFAULT1", db_session=db)
    click_in_home(slack, "company_detail", str(conn.id))
    modal = slack.fake.wait_for("views.open")[-1].params["view"]
    inside = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "UADMIN"},
        "trigger_id": "6.6.6",
        "api_app_id": "A0QBSLACK",
        "container": {"type": "view", "view_id": "VDETAIL"},
        "view": dict(modal, id="VDETAIL", hash="h1"),
    }
    button = element(modal, "replay_failed")
    slack.interaction(dict(inside, actions=[dict(button, block_id="b")]))
    pushed = slack.fake.wait_for("views.push")[-1].params["view"]
    assert "Queued 1 event(s) of Client 001" in str(pushed)
    update = slack.fake.wait_for("views.update")[-1].params
    assert update["view_id"] == "VDETAIL" and "replay_failed" not in str(update["view"])
    # Its routes, from the modal: the routes modal opens on this company's own routes.
    slack.interaction(dict(inside, actions=[dict(element(modal, "edit_routes"), block_id="b")]))
    routes_view = slack.fake.wait_for("views.push", count=2)[-1].params["view"]
    scope = next(b for b in routes_view["blocks"] if b.get("block_id") == "scope")
    assert scope["element"]["initial_option"]["value"] == str(conn.id)


def test_routes_modal_with_150_companies_finds_them_by_typing(installed):
    slack = installed
    add_companies(slack, 149)
    slack.click("edit_routes")
    view = slack.fake.wait_for("views.open")[-1].params["view"]
    scope = next(b for b in view["blocks"] if b.get("block_id") == "scope")
    assert scope["element"]["type"] == "external_select"
    assert scope["element"]["initial_option"]["value"] == "workspace"
    assert "options" not in scope["element"]
    opened = dict(view, id="VROUTES")
    options = suggest(slack, "routes_scope", "", block_id="scope", view=opened)
    assert len(options) == 100 and options[0]["value"] == "workspace"
    found = suggest(slack, "routes_scope", "client 12", block_id="scope", view=opened)
    assert [o["text"]["text"].split(" · ")[0] for o in found] == [
        f"Client {i}" for i in range(120, 130)
    ]
    # Not the manager the modal was opened for: nothing.
    assert suggest(slack, "routes_scope", "", user="UMEMBER", block_id="scope", view=opened) == []
    assert (
        suggest(
            slack, "routes_scope", "", block_id="scope", view=dict(opened, private_metadata="x")
        )
        == []
    )
    # Choosing one reloads the pickers with that company's routes, as the static list does.
    client = found[3]["value"]
    company_view = dict(view, id="VROUTES")
    slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "UADMIN"},
            "api_app_id": "A0QBSLACK",
            "container": {"type": "view"},
            "view": company_view,
            "actions": [
                {
                    "action_id": "routes_scope",
                    "block_id": "scope",
                    "type": "external_select",
                    "selected_option": found[3],
                }
            ],
        }
    )
    update = slack.fake.wait_for("views.update")[-1].params["view"]
    assert f"route_bill.{client}" in str(update)


def test_the_501st_company_file_is_refused_with_a_clear_message(installed):
    slack = installed
    add_companies(slack, service.MAX_CONNECTIONS - 2)
    slack.click("add_company")
    modal = slack.fake.wait_for("views.open")[-1].params["view"]
    values = {"company": {"value": {"type": "plain_text_input", "value": "Number 500"}}}
    assert slack.submit(modal, values).get_json()["response_action"] == "update"
    assert len(slack.connections()) == service.MAX_CONNECTIONS
    # The 501st: the modal says why (it was opened before the cap was reached)...
    again = {"company": {"value": {"type": "plain_text_input", "value": "Number 501"}}}
    answer = slack.submit(modal, again).get_json()
    assert answer["response_action"] == "errors"
    message = answer["errors"]["company"]
    assert "500 company files" in message and "qbslack's support" in message
    assert len(message) <= 150
    # ...and the button says it at once, without a form to fill.
    slack.click("add_company", trigger="8.8.8")
    said = str(slack.fake.wait_for("views.open", count=2)[-1].params["view"])
    assert "500 company files" in said and "add_company_modal" not in said
    assert len(slack.connections()) == service.MAX_CONNECTIONS
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        with pytest.raises(ValueError, match="500 company files"):
            service.add_connection(tenant, "Via the CLI", db_session=db)
