"""Which channel an event goes to, or why it stays in the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.models import PAUSED, PENDING, SKIPPED, UNROUTED, Event
from tenants.models import OPT_IN_EVENT_TYPES, Route, Tenant
from tenants.routes import resolve_route


def channel_for(event: Event, *, db_session: Session) -> str | None:
    """The channel for an event by the route rules (None: no route applies)."""
    if event.event_type == "notice":
        choice = resolve_route(event.tenant_id, event.connection_id, "default",
                               db_session=db_session)
        if choice is not None:
            return choice.channel_id
        # No default channel: the first route of the workspace, preferring routes that
        # apply to this company file (its own or workspace-wide) over other companies'.
        routes = db_session.execute(
            select(Route.channel_id, Route.connection_id)
            .where(Route.tenant_id == event.tenant_id).order_by(Route.id)
        ).all()
        mine = [c for c, conn in routes if conn in (None, event.connection_id)]
        candidates: list[str] = mine or [c for c, _ in routes]
        return candidates[0] if candidates else None
    choice = resolve_route(event.tenant_id, event.connection_id, event.event_type,
                           db_session=db_session)
    return choice.channel_id if choice else None


def route(event: Event, tenant: Tenant, *, db_session: Session) -> str | None:
    """Give a pending event its channel, or park it; returns the channel when routed."""
    if event.status != PENDING:
        return None
    if not tenant.is_active:
        event.status = PAUSED
        return None
    if event.channel_id:
        return event.channel_id
    channel = channel_for(event, db_session=db_session)
    if channel is None:
        # Opt-in types are only posted where a route names them; the rest wait for a route.
        event.status = SKIPPED if event.event_type in OPT_IN_EVENT_TYPES else UNROUTED
        event.last_error = "no route for this event type and no default channel"
        return None
    event.channel_id = channel
    return channel
