"""The routes and add-company modals: opening them, switching company, submitting."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.slack import commands, views
from app.slack.permissions import check_grant, grant
from app.slack.text import clip
from jobs.outbox import schedule_events
from jobs.parked import retry_routable
from tenants import routes, service
from tenants.models import Tenant
from tenants.qwc import qwc_link

log = logging.getLogger(__name__)

STALE_FORM = "This form is too old or not yours: close it and open it again."
# Channel checks before a submission's ack get this long in all (Slack's deadline is 3 s).
CHECK_BUDGET = 1.5


def open_routes_modal(
    runtime: Runtime,
    client: WebClient,
    team_id: str,
    user_id: str,
    trigger_id: str,
    *,
    company: object = None,
    push: bool = False,
) -> None:
    """Open the routes modal for an admin (already checked) of this workspace.

    `company`, a connection id from a button, opens that company's own routes when it is
    this workspace's; `push` stacks the modal on the one clicked in.
    """
    with runtime.transaction() as db:
        tenant = service.require_tenant(team_id, db_session=db)
        conn = service.tenant_connection(tenant, company, db_session=db) if company else None
        view = views.routes_modal(
            tenant,
            routes.list_routes(tenant.id, db_session=db),
            scope=conn.id if conn else None,
            metadata=grant(runtime.settings, team_id, user_id),
        )
    if push:
        client.views_push(trigger_id=trigger_id, view=view)
    else:
        client.views_open(trigger_id=trigger_id, view=view)


def open_add_company_modal(
    runtime: Runtime, client: WebClient, team_id: str, user_id: str, trigger_id: str
) -> None:
    """Open the add-company modal for an admin (already checked)."""
    client.views_open(
        trigger_id=trigger_id,
        view=views.add_company_modal(grant(runtime.settings, team_id, user_id)),
    )


def register_modals(app: App, runtime: Runtime, on_change: Any) -> None:
    """Attach the modal listeners; on_change(client, team_id, user_id) refreshes App Home."""
    settings = runtime.settings

    @app.action("routes_scope")
    def scope_changed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id, view = body["team"]["id"], body["user"]["id"], body["view"]
        if check_grant(settings, view.get("private_metadata"), team_id, user_id) is None:
            return
        value = body["actions"][0]["selected_option"]["value"]
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            known, scope = _scope(tenant, value, db)
            if not known:
                return
            current = routes.list_routes(tenant.id, db_session=db)
            new = views.routes_modal(
                tenant, current, scope=scope, metadata=view["private_metadata"]
            )
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    @app.view("routes_modal")
    def routes_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        team_id, user_id, view = body["team"]["id"], body["user"]["id"], body["view"]
        if check_grant(settings, view.get("private_metadata"), team_id, user_id) is None:
            ack(response_action="update", view=views.message_modal("qbslack routes", STALE_FORM))
            return
        values = view["state"]["values"]
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            known, scope = _scope(tenant, views.submitted_scope(values) or "workspace", db)
            chosen = views.submitted_routes(values, scope)
            if not known or chosen is None:
                ack(
                    response_action="errors",
                    errors={
                        "scope": "Unknown company"
                        if not known
                        else "Wait for the channels to reload."
                    },
                )
                return
            for key, channel in chosen.items():
                if channel:
                    routes.set_route(
                        tenant.id, key, channel, connection_id=scope, user_id=user_id, db_session=db
                    )
                else:
                    routes.clear_route(tenant.id, key, connection_id=scope, db_session=db)
            summary = views.routes_text(tenant, routes.list_routes(tenant.id, db_session=db))
            # Events parked for a channel, or for want of a route, that the routes now cover.
            retried = retry_routable(tenant.id, db_session=db)
        warnings = channel_warnings(client, {c for c in chosen.values() if c})
        if warnings:
            summary += "\n\n" + "\n".join(f":warning: {w}" for w in warnings)
        ack(response_action="update", view=views.message_modal("Routes saved", summary))
        schedule_events(runtime, retried)
        on_change(client, team_id, user_id)

    @app.view("add_company_modal")
    def add_company_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        team_id, user_id, view = body["team"]["id"], body["user"]["id"], body["view"]
        if check_grant(settings, view.get("private_metadata"), team_id, user_id) is None:
            ack(response_action="errors", errors={"company": STALE_FORM})
            return
        name = (view["state"]["values"].get("company", {}).get("value") or {}).get("value")
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            try:
                creds = service.add_connection(tenant, name or "", db_session=db)
            except ValueError as exc:  # a sentence for the manager (tenants.service)
                ack(response_action="errors", errors={"company": clip(str(exc), 150)})
                return
            conn = service.require_connection(team_id, creds.company, db_session=db)
            link = qwc_link(settings, conn)
        assert creds.password is not None
        # The password is shown this once, in the modal (never in a message).
        ack(
            response_action="update",
            view=views.credentials_modal(creds.company, creds.username, creds.password, link),
        )
        on_change(client, team_id, user_id)


def channel_warnings(client: WebClient, channel_ids: set[str]) -> list[str]:
    """Warnings for chosen channels the bot cannot post to, checked within a time budget."""
    if not channel_ids:
        return []
    quick = WebClient(token=client.token, base_url=client.base_url, timeout=1)
    pool = ThreadPoolExecutor(max_workers=min(len(channel_ids), 9))
    futures = [pool.submit(commands.parse_channel, quick, c) for c in sorted(channel_ids)]
    done, _ = wait(futures, timeout=CHECK_BUDGET)
    pool.shutdown(wait=False, cancel_futures=True)
    return [w for f in futures if f in done and f.exception() is None and (w := f.result().warning)]


def _scope(tenant: Tenant, value: str, db: Session) -> tuple[bool, int | None]:
    """A scope value -> (known, this workspace's connection id or None for workspace-wide)."""
    if value == "workspace":
        return True, None
    conn = service.tenant_connection(tenant, value, db_session=db)
    if conn is None:  # only this workspace's data
        return False, None
    return True, conn.id
