"""Finding a company file by name among hundreds: the options of external selects
(Slack's block_suggestion) and "did you mean" for a name a command did not know."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.slack.permissions import check_grant
from app.slack.text import option
from app.slack.views import WORKSPACE_OPTION
from jobs.mrkdwn import escape
from tenants import service
from tenants.health import health_now, vitals_of
from tenants.models import Tenant

MAX_OPTIONS = 100  # Slack shows at most this many options of an external select
MAX_SUGGESTED = 10  # names a "did you mean" lists


def company_options(
    runtime: Runtime, tenant: Tenant, typed: str, *, db_session: Session, workspace: bool
) -> list[dict[str, Any]]:
    """The options for what was typed: matching company files with their state
    ("Client A · Stale"), and first the workspace-wide choice when `workspace`."""
    options: list[dict[str, Any]] = []
    if workspace and (not typed.strip() or typed.strip().casefold() in WORKSPACE_OPTION.casefold()):
        options.append(option(WORKSPACE_OPTION, "workspace"))
    now = runtime.clock.now()
    found = service.search_connections(
        tenant.id, typed, limit=MAX_OPTIONS - len(options), db_session=db_session
    )
    for conn in found:
        health = health_now(vitals_of(conn), now=now, settings=runtime.settings)
        label = f" · {health.label}"
        name = conn.company_name
        if len(name) + len(label) > 75:
            name = name[: 75 - len(label) - 1] + "…"
        options.append(option(name + label, str(conn.id)))
    return options


def unknown_company(tenant: Tenant, name: str, *, db_session: Session) -> str:
    """Why a company name was not understood, and the names it may have meant."""
    head = f"No company named `{escape(name)}`."
    count = service.count_connections(tenant.id, db_session=db_session)
    found = service.search_connections(tenant.id, name, limit=MAX_SUGGESTED, db_session=db_session)
    for word in sorted(name.split(), key=len, reverse=True):
        if found or len(word) < 3:
            break
        found = service.search_connections(
            tenant.id, word, limit=MAX_SUGGESTED, db_session=db_session
        )
    if found:
        names = ", ".join(f"`{escape(c.company_name)}`" for c in found)
        return f"{head} Did you mean {names}?"
    if count <= MAX_SUGGESTED:
        names = ", ".join(f"`{escape(c.company_name)}`" for c in tenant.connections)
        return f"{head} Company files: {names}."
    return f"{head} Find the exact name with the search in qbslack's *Home* tab."


def register_suggestions(app: App, runtime: Runtime) -> None:
    """Answer the external selects' block_suggestion requests (within Slack's 3 seconds)."""

    @app.options("company_search")
    def company_search(ack: Ack, body: dict[str, Any]) -> None:
        # App Home's search: company names and states, which every member sees there.
        with runtime.transaction() as db:
            tenant = service.get_tenant(str((body.get("team") or {}).get("id")), db_session=db)
            if tenant is None:
                ack(options=[])
                return
            typed = str(body.get("value") or "")[:200]
            ack(options=company_options(runtime, tenant, typed, db_session=db, workspace=False))

    @app.options("routes_scope")
    def routes_scope(ack: Ack, body: dict[str, Any]) -> None:
        # The routes modal's company choice: only for the manager it was opened for.
        team_id = str((body.get("team") or {}).get("id"))
        user_id = str((body.get("user") or {}).get("id"))
        metadata = (body.get("view") or {}).get("private_metadata")
        if check_grant(runtime.settings, metadata, team_id, user_id) is None:
            ack(options=[])
            return
        with runtime.transaction() as db:
            tenant = service.get_tenant(team_id, db_session=db)
            if tenant is None:
                ack(options=[])
                return
            typed = str(body.get("value") or "")[:200]
            ack(options=company_options(runtime, tenant, typed, db_session=db, workspace=True))
