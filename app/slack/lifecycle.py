"""Retried events handled once; app_uninstalled and tokens_revoked."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy import delete

from app.core.db import dialect_insert, utcnow
from app.core.runtime import Runtime
from tenants import installations, service
from tenants.models import SlackEventReceipt

log = logging.getLogger(__name__)

# Slack retries for about an hour; receipts older than a day are of no more use.
RECEIPT_TTL = dt.timedelta(days=1)


def register_lifecycle(app: App, runtime: Runtime) -> None:
    """Attach the retry guard and the uninstall/revocation listeners."""

    @app.middleware
    def once_per_event(
        body: dict[str, Any], next: Callable[[], BoltResponse | None]
    ) -> BoltResponse | None:
        # Slack retries an event it thinks we missed (X-Slack-Retry-Num); its event_id
        # makes the retry a no-op, whichever web process it reaches.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not first_time(runtime, str(event_id), body.get("team_id")):
            log.info("event %s already handled: retry ignored", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any]) -> None:
        revoke(runtime, body["team_id"], "uninstalled from Slack")

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Only the bot token matters: qbslack asks for no user token.
        if (event.get("tokens") or {}).get("bot"):
            revoke(runtime, body["team_id"], "Slack tokens revoked")


def revoke(runtime: Runtime, team_id: str, reason: str) -> None:
    """Forget a workspace's tokens and mark it uninstalled; its other data stays."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is not None:
            installations.revoke(tenant, reason=reason, db_session=db)
    log.info("workspace %s: %s", team_id, reason)


def first_time(runtime: Runtime, event_id: str, team_id: str | None) -> bool:
    """Record an event id; False when it was already handled."""
    with runtime.transaction() as db:
        stmt = dialect_insert(db)(SlackEventReceipt).values(event_id=event_id[:64], team_id=team_id)
        inserted = db.execute(
            stmt.on_conflict_do_nothing().returning(SlackEventReceipt.event_id)
        ).first()
        if secrets.randbelow(200) == 0:  # now and then, not on every event
            db.execute(
                delete(SlackEventReceipt).where(
                    SlackEventReceipt.received_at < utcnow() - RECEIPT_TTL
                )
            )
    return inserted is not None
