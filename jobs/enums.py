"""The outbox's vocabularies: an event's delivery status and what happened to its object."""

from enum import StrEnum


class EventStatus(StrEnum):
    """Where an event is on its way to Slack."""

    PENDING = "pending"  # committed, waiting for a delivery job
    POSTED = "posted"
    FAILED = "failed"  # permanent Slack error or retries exhausted; replayable
    UNROUTED = "unrouted"  # no route and no default; replayable once one exists
    PAUSED = "paused"  # tenant disconnected (token revoked); resumes on reinstall
    SKIPPED = "skipped"  # opt-in type with no route naming it: kept, never posted
    BASELINE = "baseline"  # seen during the first sync: recorded, not posted


class EventAction(StrEnum):
    """What the event says happened to its QuickBooks object."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    CONNECTED = "connected"  # the "connected to <company>" notice of a first sync
    ALERT = "alert"  # a health alert about the connection (its payload says which)


class AlertKind(StrEnum):
    """Which health condition an alert event is about (its object_id)."""

    STALE = "stale"  # no completed QBWC session for too long
    QUICKBOOKS_ERROR = "quickbooks_error"  # the same QuickBooks error, sessions in a row
    LOGIN_LOCKED = "login_locked"  # the QBWC login locked after wrong passwords
    DELIVERY_FAILED = "delivery_failed"  # Slack refused events for good (parked as failed)
    UNROUTED = "unrouted"  # events with no channel to go to
    WRONG_FILE = "wrong_company_file"  # QBWC had another company file open
    CLOCK_AHEAD = "clock_ahead"  # QuickBooks stamped changes days ahead: the PC's clock
    # The Slack token was revoked or the app uninstalled: told by the logs (and App Home).
    SLACK_DISCONNECTED = "slack_disconnected"


class AlertPhase(StrEnum):
    """Which message of an alert's life an alert event is."""

    OPENED = "opened"
    REMINDER = "reminder"  # at most one a day while the condition lasts
    RESOLVED = "resolved"  # a reply in the alert's thread
