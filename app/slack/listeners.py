"""Bolt listeners: commands, App Home, buttons, modal submissions, lifecycle events."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from sqlalchemy.dialects import postgresql, sqlite

from app.qwc_download import qwc_link
from app.runtime import Runtime
from app.slack import commands, views
from app.slack.permissions import REFUSAL, is_admin
from tenants import installations, routes, service
from tenants.models import ROUTE_KEYS, Connection, SlackEventReceipt

log = logging.getLogger(__name__)


def register_listeners(app: App, runtime: Runtime) -> None:
    """Attach every listener to a Bolt app built for this runtime."""

    @app.middleware
    def once_per_event(body: dict[str, Any], next: Any) -> BoltResponse | None:  # noqa: A002
        # Slack retries an event it thinks we missed; its event_id makes the retry a no-op.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not _first_time(runtime, str(event_id), body.get("team_id")):
            return BoltResponse(status=200, body="")
        return next()

    # Commands ack at once (Slack's 3-second deadline); the work and the answer follow,
    # the answer through the command's response_url (ephemeral).
    @app.command("/qb-routes")
    def qb_routes(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        words = (body.get("text") or "").split()
        team_id, user_id = body["team_id"], body["user_id"]
        if words and words[0].lower() == "list":
            respond(commands.routes_command(runtime, client, team_id, user_id, words))
        elif not is_admin(runtime, client, team_id, user_id):
            respond(REFUSAL)
        elif not words:
            _open_routes_modal(runtime, client, team_id, body["trigger_id"])
        else:
            respond(commands.routes_command(runtime, client, team_id, user_id, words))

    @app.command("/qb-replay")
    def qb_replay(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if not is_admin(runtime, client, body["team_id"], body["user_id"]):
            respond(REFUSAL)
            return
        respond(commands.replay_command(runtime, body["team_id"],
                                        (body.get("text") or "").split()))

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(runtime, client, body["team_id"], event["user"])

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any]) -> None:
        _revoke(runtime, body["team_id"], "uninstalled from Slack")

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            _revoke(runtime, body["team_id"], "Slack tokens revoked")

    @app.action("download_qwc")
    def download_qwc(ack: Ack) -> None:
        ack()  # a link button: the browser does the download

    @app.action("edit_routes")
    def edit_routes(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        if _admin_or_say(runtime, client, team_id, user_id):
            _open_routes_modal(runtime, client, team_id, body["trigger_id"])

    @app.action("reset_password")
    def reset_password(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        if not _admin_or_say(runtime, client, team_id, user_id):
            return
        conn_id = int(body["actions"][0]["value"])
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            conn = db.get(Connection, conn_id)
            if conn is None or conn.tenant_id != tenant.id:  # only this workspace's data
                return
            creds = service.credentials(conn, reset=True, db_session=db)
            link = qwc_link(runtime.settings, conn)
        assert creds.password is not None
        client.views_open(trigger_id=body["trigger_id"], view=views.credentials_modal(
            creds.company, creds.username, creds.password, link))

    @app.action("add_company")
    def add_company(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if _admin_or_say(runtime, client, body["team"]["id"], body["user"]["id"]):
            client.views_open(trigger_id=body["trigger_id"], view=views.add_company_modal())

    @app.view("add_company_modal")
    def add_company_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        if not is_admin(runtime, client, team_id, user_id):
            ack(response_action="errors", errors={"company": REFUSAL[:150]})
            return
        name = body["view"]["state"]["values"]["company"]["value"]["value"] or ""
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            try:
                creds = service.add_connection(tenant, name, db_session=db)
            except ValueError as exc:
                ack(response_action="errors", errors={"company": str(exc)[:150]})
                return
            conn = service.require_connection(team_id, creds.company, db_session=db)
            link = qwc_link(runtime.settings, conn)
        assert creds.password is not None
        ack(response_action="update", view=views.credentials_modal(
            creds.company, creds.username, creds.password, link))
        publish_home(runtime, client, team_id, user_id)

    @app.view("routes_modal")
    def routes_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        if not is_admin(runtime, client, team_id, user_id):
            ack(response_action="errors", errors={"route_default": REFUSAL[:150]})
            return
        values = body["view"]["state"]["values"]
        scope = ((values.get("scope") or {}).get("value") or {}).get("selected_option")
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            conn_id = None
            if scope and scope["value"] != "workspace":
                conn = db.get(Connection, int(scope["value"]))
                if conn is None or conn.tenant_id != tenant.id:
                    ack(response_action="errors", errors={"scope": "Unknown company"})
                    return
                conn_id = conn.id
            for key in ROUTE_KEYS:
                chosen = (values.get(f"route_{key}", {}).get("value") or {}).get(
                    "selected_conversation")
                if chosen:
                    routes.set_route(tenant.id, key, chosen, connection_id=conn_id,
                                     user_id=user_id, db_session=db)
                else:
                    routes.clear_route(tenant.id, key, connection_id=conn_id, db_session=db)
            summary = views.routes_text(tenant, db_session=db)
            chosen_all: set[str] = {
                str(c) for k in ROUTE_KEYS
                if (c := (values.get(f"route_{k}", {}).get("value") or {}).get(
                    "selected_conversation"))
            }
        warnings = [w for w in (commands.parse_channel(client, c).warning
                                for c in sorted(chosen_all)) if w]
        if warnings:
            summary += "\n\n" + "\n".join(f":warning: {w}" for w in warnings)
        ack(response_action="update", view={
            "type": "modal", "title": {"type": "plain_text", "text": "Routes saved"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": summary}}]})


def publish_home(runtime: Runtime, client: WebClient, team_id: str, user_id: str) -> None:
    """Build and publish a user's App Home (admins see the set-up buttons)."""
    admin = is_admin(runtime, client, team_id, user_id)
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return
        links = {c.id: qwc_link(runtime.settings, c) for c in tenant.connections}
        view = views.home_view(tenant, admin=admin, links=links, db_session=db)
    client.views_publish(user_id=user_id, view=view)


def _open_routes_modal(runtime: Runtime, client: WebClient, team_id: str, trigger: str) -> None:
    with runtime.transaction() as db:
        tenant = service.require_tenant(team_id, db_session=db)
        view = views.routes_modal(tenant, db_session=db)
    client.views_open(trigger_id=trigger, view=view)


def _admin_or_say(runtime: Runtime, client: WebClient, team_id: str, user_id: str) -> bool:
    if is_admin(runtime, client, team_id, user_id):
        return True
    client.chat_postMessage(channel=user_id, text=REFUSAL)
    return False


def _revoke(runtime: Runtime, team_id: str, reason: str) -> None:
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is not None:
            installations.revoke(tenant, reason=reason, db_session=db)
    log.info("workspace %s: %s", team_id, reason)


def _first_time(runtime: Runtime, event_id: str, team_id: str | None) -> bool:
    """Record an event id; False when it was already handled."""
    with runtime.transaction() as db:
        insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(SlackEventReceipt).values(event_id=event_id[:64], team_id=team_id)
        inserted = db.execute(stmt.on_conflict_do_nothing().returning(
            SlackEventReceipt.event_id)).first()
    return inserted is not None


def dumps(value: Any) -> str:
    """Compact JSON (used by tests building payloads)."""
    return json.dumps(value, separators=(",", ":"))
