"""Which channel an event goes to, or why it stays in the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.models import PAUSED, PENDING, SKIPPED, UNROUTED, Event
from tenants.models import OPT_IN_EVENT_TYPES, Route, Tenant
from tenants.routes import RouteMap, choose_route, route_map

# Routes loaded once per (tenant, connection) while routing a batch of events.
RouteCache = dict[tuple[int, int], RouteMap]


def channel_for(
    event: Event, *, db_session: Session, cache: RouteCache | None = None
) -> str | None:
    """The channel for an event by the route rules (None: no route applies)."""
    key = (event.tenant_id, event.connection_id)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = route_map(event.tenant_id, event.connection_id, db_session=db_session)
    routes = cache[key]
    if event.event_type == "notice":
        choice = choose_route(routes, event.connection_id, "default")
        if choice is not None:
            return choice.channel_id
        # No default channel: the first route of the workspace, preferring routes that
        # apply to this company file (its own or workspace-wide) over other companies'.
        every = db_session.execute(
            select(Route.channel_id, Route.connection_id)
            .where(Route.tenant_id == event.tenant_id).order_by(Route.id)
        ).all()
        mine = [c for c, conn in every if conn in (None, event.connection_id)]
        candidates: list[str] = mine or [c for c, _ in every]
        return candidates[0] if candidates else None
    choice = choose_route(routes, event.connection_id, event.event_type)
    return choice.channel_id if choice else None


def route(
    event: Event, tenant: Tenant, *, db_session: Session, cache: RouteCache | None = None
) -> str | None:
    """Give a pending event its channel, or park it; returns the channel when routed."""
    if event.status != PENDING:
        return None
    if not tenant.is_active:
        event.status = PAUSED
        return None
    if event.channel_id:
        return event.channel_id
    channel = channel_for(event, db_session=db_session, cache=cache)
    if channel is None:
        # Opt-in types are only posted where a route names them; the rest wait for a route.
        event.status = SKIPPED if event.event_type in OPT_IN_EVENT_TYPES else UNROUTED
        event.last_error = "no route for this event type and no default channel"
        return None
    event.channel_id = channel
    return channel
