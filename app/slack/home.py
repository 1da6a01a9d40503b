"""App Home: the status page per company file, and its buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.slack import views
from app.slack.company_detail import refresh_detail
from app.slack.home_managers import Managers
from app.slack.home_view import FULL_CARDS, home_view
from app.slack.modals import open_add_company_modal, open_routes_modal
from app.slack.permissions import REFUSAL, can_be_added, is_manager, slack_user
from app.slack.surface import NOT_HERE, in_modal, show_modal
from jobs import replay
from jobs.models import HealthAlert
from jobs.mrkdwn import escape
from jobs.outbox import schedule_events
from jobs.service import connection_outbox, waiting_by_connection
from soap.revocation import end_sessions
from tenants import managers, service
from tenants.health import health_now, vitals_of
from tenants.qwc import qwc_link
from tenants.routes import list_routes

log = logging.getLogger(__name__)

INSTALLER_STAYS = (
    "<@{user}> installed qbslack: they stay a manager while they are a member of this workspace."
)
NOT_ADDED = (
    "<@{user}> is not one of the added managers (admins and owners are managers through "
    "their Slack role)."
)


def added_text(by: str) -> str:
    """The DM to someone just made a qbslack manager."""
    return (
        f"<@{by}> made you a *qbslack* manager in this workspace: you can now edit routes "
        "(`/qb-routes`), replay (`/qb-replay`), add company files and reset Web Connector "
        "passwords from qbslack's *Home* tab."
    )


def publish_home(
    runtime: Runtime, client: WebClient, team_id: str, user_id: str, *, offset: int = 0
) -> None:
    """Build and publish a user's App Home (managers also see the set-up and fix buttons).

    Each company file's status is tenants.health's verdict at the runtime's clock, with the
    deployment's thresholds: the same function and words as the alerts and `qbslack tenants`.
    With more than FULL_CARDS company files, App Home lists them a page at a time from
    `offset` (a "Next 20" click), and the outbox is read in one query for all of them.
    """
    admin = is_manager(runtime, client, team_id, user_id)
    now = runtime.clock.now()
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return
        conns = tenant.connections
        cards = len(conns) <= FULL_CARDS
        view = home_view(
            tenant,
            admin=admin,
            links={c.id: qwc_link(runtime.settings, c) for c in conns} if admin and cards else {},
            outbox={c.id: connection_outbox(c.id, now=now, db_session=db) for c in conns}
            if cards
            else None,
            waiting=None if cards else waiting_by_connection(tenant.id, db_session=db),
            offset=offset,
            health={
                c.id: health_now(vitals_of(c), now=now, settings=runtime.settings) for c in conns
            },
            alerts=open_alerts(tenant.id, db_session=db),
            routes=list_routes(tenant.id, db_session=db),
            managers=Managers(
                installer=tenant.installation.installer_user_id if tenant.installation else None,
                added=managers.list_managers(tenant.id, db_session=db),
            )
            if admin
            else None,
        )
    client.views_publish(user_id=user_id, view=view)


def open_alerts(tenant_id: int, *, db_session: Session) -> list[HealthAlert]:
    """A workspace's open health alerts, oldest first ("Needs attention")."""
    return list(
        db_session.scalars(
            select(HealthAlert)
            .where(HealthAlert.tenant_id == tenant_id, HealthAlert.resolved_at.is_(None))
            .order_by(HealthAlert.opened_at, HealthAlert.id)
        )
    )


def register_home(app: App, runtime: Runtime) -> None:
    """Attach App Home's event and button listeners."""

    def admin_or_refuse(client: WebClient, body: dict[str, Any]) -> bool:
        """Managers pass; anyone else sees the refusal in a modal (nothing stays in history)."""
        # Clicked in App Home or in an alert message (channel or DM): both carry team, user
        # and trigger_id.
        if is_manager(runtime, client, body["team"]["id"], body["user"]["id"]):
            return True
        show_modal(client, body, views.message_modal("qbslack", REFUSAL))
        return False

    def say(client: WebClient, body: dict[str, Any], text: str) -> None:
        show_modal(client, body, views.message_modal("qbslack", text))

    @app.action("add_manager")
    def add_manager(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        target = str(body["actions"][0].get("selected_user") or "")
        # Only a full member of this workspace, as Slack says now.
        problem = can_be_added(slack_user(runtime, client, team_id, target), team_id)
        if problem:
            return say(client, body, problem)
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            inst = tenant.installation
            if inst is not None and inst.installer_user_id == target:
                return say(client, body, f"<@{target}> installed qbslack: already a manager.")
            try:
                added = managers.add_manager(tenant.id, target, added_by=user_id, db_session=db)
            except managers.ManagerError as exc:
                return say(client, body, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        if added:
            try:  # the new manager hears it from qbslack (their App Home shows the buttons)
                client.chat_postMessage(channel=target, text=added_text(user_id))
            except SlackApiError as exc:
                log.info("could not tell %s: %s", target, exc.response.get("error"))
        publish_home(runtime, client, team_id, user_id)

    @app.action("remove_manager")
    def remove_manager(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        action = body["actions"][0]
        target = str(action.get("value") or action.get("selected_user") or "")
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)  # this workspace's only
            inst = tenant.installation
            if inst is not None and inst.installer_user_id == target:
                return say(client, body, INSTALLER_STAYS.format(user=escape(target)))
            removed = managers.remove_manager(tenant.id, target, db_session=db)
        if not removed:
            return say(client, body, NOT_ADDED.format(user=escape(target)))
        publish_home(runtime, client, team_id, user_id)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(runtime, client, body["team_id"], event["user"])

    @app.action("download_qwc")
    def download_qwc(ack: Ack) -> None:
        ack()  # a link button: the browser does the download

    @app.action(re.compile(r"^home_page_(prev|next)$"))
    def home_page(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        # The offset comes from the button: only a small number is taken (home_view puts
        # it on a page of this workspace's list).
        value = str(body["actions"][0].get("value") or "")
        offset = int(value) if value.isdigit() and len(value) <= 6 else 0
        publish_home(runtime, client, body["team"]["id"], body["user"]["id"], offset=offset)

    @app.action("edit_routes")
    def edit_routes(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if admin_or_refuse(client, body):
            # From a company's detail modal the button names it: its own routes open.
            open_routes_modal(
                runtime,
                client,
                body["team"]["id"],
                body["user"]["id"],
                body["trigger_id"],
                company=body["actions"][0].get("value"),
                push=in_modal(body),
            )

    @app.action("add_company")
    def add_company(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        with runtime.transaction() as db:
            tenant = service.require_tenant(body["team"]["id"], db_session=db)
            full = service.count_connections(tenant.id, db_session=db) >= service.MAX_CONNECTIONS
        if full:  # said at once, not after the name is typed
            return say(client, body, service.CAP_REACHED)
        open_add_company_modal(
            runtime, client, body["team"]["id"], body["user"]["id"], body["trigger_id"]
        )

    @app.action("reset_password")
    def reset_password(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        value = body["actions"][0].get("value")
        old: tuple[int, str, str] | None = None
        with runtime.transaction() as db:
            tenant = service.require_tenant(body["team"]["id"], db_session=db)
            conn = service.tenant_connection(tenant, value, db_session=db)
            if conn is None:  # only this workspace's data
                view = views.message_modal("qbslack", NOT_HERE)
            else:
                old = (conn.id, conn.qbwc_username, conn.password_hash)
                creds = service.credentials(conn, reset=True, db_session=db)
                assert creds.password is not None
                view = views.credentials_modal(
                    creds.company, creds.username, creds.password, qwc_link(runtime.settings, conn)
                )
            # Shown once, in a modal (never in a message); opened before the commit, so a
            # modal that cannot be shown leaves the old password in place.
            show_modal(client, body, view)
        if old is not None:  # committed: the old password's live session ends now
            end_sessions(runtime, connection_id=old[0], username=old[1], stored_hash=old[2])

    @app.action("rebind_company")
    def rebind_company(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        value = body["actions"][0].get("value")
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            conn = service.tenant_connection(tenant, value, db_session=db)
            if conn is None:  # only this workspace's data
                text = NOT_HERE
            else:
                try:
                    service.rebind(conn, db_session=db)
                    text = (
                        f"{escape(conn.company_name)} now reads "
                        f"{escape(conn.bound_company or 'the open file')}"
                        + (f" ({escape(conn.qb_file_path)})" if conn.qb_file_path else "")
                        + ". Its next update posts what changed meanwhile."
                    )
                except ValueError as exc:
                    text = f"{escape(exc)}."
        show_modal(client, body, views.message_modal("qbslack", text))
        refresh_detail(runtime, client, body)
        publish_home(runtime, client, team_id, user_id)

    @app.action("replay_failed")
    def replay_failed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if not admin_or_refuse(client, body):
            return
        value = body["actions"][0].get("value")
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        ids: list[int] = []
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            conn = service.tenant_connection(tenant, value, db_session=db)
            if conn is None:  # only this workspace's data
                text = NOT_HERE
            else:
                # What `/qb-replay failed` does, for this company file only.
                ids = replay.replay_failed(tenant.id, connection_id=conn.id, db_session=db)
                company = escape(conn.company_name)
                text = (
                    f"Queued {len(ids)} event(s) of {company} to post again "
                    "(failed or unrouted). They go through the current routes."
                    if ids
                    else f"Nothing to post again: no delivery of {company} has failed."
                )
        schedule_events(runtime, ids)
        show_modal(client, body, views.message_modal("qbslack", text))
        refresh_detail(runtime, client, body)
        publish_home(runtime, client, team_id, user_id)
