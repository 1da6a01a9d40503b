"""Imports every model so that Base.metadata is complete (Alembic, tests)."""

from app.db import Base
from jobs.models import DeliveryAttempt, Event, SlackThread
from tenants.models import (
    Connection,
    Installation,
    OAuthState,
    Route,
    SlackEventReceipt,
    Tenant,
    Watermark,
)

__all__ = [
    "Base",
    "Connection",
    "DeliveryAttempt",
    "Event",
    "Installation",
    "OAuthState",
    "Route",
    "SlackEventReceipt",
    "SlackThread",
    "Tenant",
    "Watermark",
]
