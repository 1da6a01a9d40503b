"""One company file's details, in a modal opened from App Home's list or its search.

A manager sees everything (status, bound file, last poll, last QuickBooks error, failed
deliveries, where each kind of change goes) with the buttons that fix it; a member sees
the state in words only, as in App Home.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.core.runtime import Runtime
from app.slack import views
from app.slack.company_text import (
    binding_line,
    company_buttons,
    delivery_problems,
    member_company_text,
    quickbooks_error_line,
    stats_lines,
    status_words,
)
from app.slack.permissions import is_manager
from app.slack.surface import NOT_HERE
from app.slack.text import button, fit_lines, plain, section
from app.slack.views import ROUTE_LABELS
from jobs.mrkdwn import escape
from jobs.service import ConnectionOutbox, connection_outbox
from tenants import service
from tenants.health import ConnectionHealth, health_now, vitals_of
from tenants.models import Connection
from tenants.qwc import qwc_link
from tenants.routes import RouteChoice, effective_routes

log = logging.getLogger(__name__)

CALLBACK_ID = "company_detail"
FAILURES_SHOWN = 5
NOWHERE = {
    "account": "not posted: no route names it",
    "employee": "not posted: no route names it",
    "alerts": "a direct message to whoever installed qbslack",
    "default": "none",
}


def detail_view(
    conn: Connection,
    health: ConnectionHealth,
    *,
    admin: bool,
    outbox: ConnectionOutbox | None = None,
    routes: dict[str, RouteChoice | None] | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    """The modal: everything for a manager (with outbox, routes, link), the state for others."""
    blocks: list[dict[str, Any]]
    if not admin or outbox is None or link is None:
        blocks = [section(member_company_text(conn, health))]
    else:
        name = f"*{escape(conn.company_name)}*" + (
            f" ({escape(conn.qb_company_name)})"
            if conn.qb_company_name and conn.qb_company_name != conn.company_name
            else ""
        )
        blocks = [
            section(f"{name}\n{status_words(conn, health)}"),
            section("\n".join(stats_lines(conn, outbox))),
            section(
                f"{binding_line(conn)}\nQBWC username: `{escape(conn.qbwc_username)}`"
                + (f"\n{quickbooks_error_line(conn)}" if conn.last_error else "")
            ),
        ]
        problems = delivery_problems(conn, outbox)
        if problems:
            blocks.append(
                section(
                    fit_lines(
                        ["*Latest failed deliveries*", *(f":x: {p}" for p in problems)],
                        more=lambda n: f"…and {n} more.",
                    )
                )
            )
        blocks.append(section(routes_lines(routes or {})))
        blocks += company_buttons(conn, outbox, link)
        blocks.append(
            {
                "type": "actions",
                "block_id": "detail_routes",
                "elements": [button("edit_routes", "Edit this company's routes", str(conn.id))],
            }
        )
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": str(conn.id),
        "title": plain("Company file", 24),
        "close": plain("Close"),
        "blocks": blocks,
    }


def routes_lines(routes: dict[str, RouteChoice | None]) -> str:
    """Where each kind of change of this company file goes, and by which route."""
    lines = ["*Where its changes go*"]
    for key, choice in routes.items():
        label = ROUTE_LABELS.get(key, key)
        if choice is None:
            why = NOWHERE.get(key, "nowhere yet: set a Default channel")
            lines.append(f"• {label}: {why}")
            continue
        if choice.route_key != key:
            how = "the company's Default" if choice.connection_scoped else "the workspace's Default"
        else:
            how = "its own route" if choice.connection_scoped else "the workspace's route"
        lines.append(f"• {label} → <#{choice.channel_id}> ({how})")
    return fit_lines(lines)


def detail_for(
    runtime: Runtime, team_id: str, value: object, *, admin: bool
) -> dict[str, Any] | None:
    """The detail modal of the connection a payload named, if it is this workspace's."""
    now = runtime.clock.now()
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        conn = service.tenant_connection(tenant, value, db_session=db) if tenant else None
        if conn is None:
            return None
        health = health_now(vitals_of(conn), now=now, settings=runtime.settings)
        if not admin:
            return detail_view(conn, health, admin=False)
        return detail_view(
            conn,
            health,
            admin=True,
            outbox=connection_outbox(conn.id, now=now, db_session=db, failures=FAILURES_SHOWN),
            routes=effective_routes(conn.tenant_id, conn.id, db_session=db),
            link=qwc_link(runtime.settings, conn),
        )


def refresh_detail(runtime: Runtime, client: WebClient, body: dict[str, Any]) -> None:
    """After a fix clicked in a company's detail modal, show that modal as things are now."""
    view = body.get("view") or {}
    if view.get("callback_id") != CALLBACK_ID or not view.get("id"):
        return
    fresh = detail_for(runtime, body["team"]["id"], view.get("private_metadata"), admin=True)
    if fresh is None:
        return
    try:
        client.views_update(view_id=view["id"], view=fresh)
    except SlackApiError as exc:  # closed meanwhile: nothing to refresh
        log.info("detail modal not refreshed: %s", exc.response.get("error"))


def register_company_detail(app: App, runtime: Runtime) -> None:
    """App Home's Details buttons and its search open the detail modal."""

    def open_detail(client: WebClient, body: dict[str, Any], value: object) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        admin = is_manager(runtime, client, team_id, user_id)
        view = detail_for(runtime, team_id, value, admin=admin)
        if view is None:
            view = views.message_modal("qbslack", NOT_HERE)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action("company_detail")
    def company_detail(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_detail(client, body, body["actions"][0].get("value"))

    @app.action("company_search")
    def company_search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = body["actions"][0].get("selected_option") or {}
        if chosen.get("value"):
            open_detail(client, body, chosen["value"])
