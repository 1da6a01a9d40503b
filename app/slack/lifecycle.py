"""Retried events handled once; app_uninstalled and tokens_revoked; channels fixed.

When a channel that refused our messages is fixed (unarchived, or our bot invited), the
events parked because of it are posted, in order (jobs.parked).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from sqlalchemy import delete

from app.core.db import dialect_insert, utcnow
from app.core.runtime import Runtime
from jobs.outbox import schedule_events
from jobs.parked import retry_parked
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

    @app.event("channel_unarchive")
    @app.event("group_unarchive")  # the same, for a private channel
    def unarchived(event: dict[str, Any], body: dict[str, Any]) -> None:
        retry_channel(runtime, body["team_id"], event.get("channel"), "channel unarchived")

    @app.event("member_joined_channel")
    def member_joined(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        # Anyone's join arrives here; only our bot's (invited) fixes a channel.
        if event.get("user") and event.get("user") == context.bot_user_id:
            retry_channel(runtime, body["team_id"], event.get("channel"), "app joined the channel")


def revoke(runtime: Runtime, team_id: str, reason: str) -> None:
    """Forget a workspace's tokens and mark it uninstalled; its other data stays."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is not None:
            installations.revoke(tenant, reason=reason, db_session=db)
    log.info("workspace %s: %s", team_id, reason)


def retry_channel(runtime: Runtime, team_id: str, channel: str | None, reason: str) -> list[int]:
    """Post the events parked because of this channel again; returns their ids."""
    if not channel:
        return []
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return []
        ids = retry_parked(tenant.id, channel_id=channel, reason=reason, db_session=db)
    schedule_events(runtime, ids)
    if ids:
        log.info(
            "workspace %s: %s %s, %d parked event(s) retried", team_id, channel, reason, len(ids)
        )
    return ids


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
