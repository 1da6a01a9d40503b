"""A thin Slack Web API client for delivery: one call, one classified outcome.

What delivery does with each answer (`Outcome.kind`):

| kind           | answers                                                    | delivery         |
|----------------|------------------------------------------------------------|------------------|
| ok             | ok: true                                                   | posted           |
| ratelimited    | HTTP 429, `ratelimited`                                    | wait Retry-After |
| transient      | HTTP 408 and 5xx, TRANSIENT_ERRORS, timeout, no connection | back off, retry  |
| auth           | AUTH_ERRORS (the token is gone)                            | pause workspace  |
| not_in_channel | `not_in_channel`                                           | join, post again |
| permanent      | CHANNEL_REASONS (the channel), anything else (the message) | park as failed   |

Transient answers and 429s fail an event only after DELIVERY_GIVE_UP_HOURS of them; a
channel error parks the channel's events until the channel is fixed (jobs.parked).
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# Slack is having a bad moment: try again later.
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
TRANSIENT_STATUSES = {408}  # and every status from 500 up
# The token no longer works: the workspace waits (paused) for a reinstall.
AUTH_ERRORS = {
    "invalid_auth",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "not_authed",
    "team_access_not_granted",
    "missing_scope_revoked",
}
# The channel refuses every message until someone fixes it (unarchive, invite, re-route).
CHANNEL_REASONS = {
    "channel_not_found": "the channel no longer exists or the app cannot see it",
    "is_archived": "the channel is archived",
    "not_in_channel": "the app is not in this channel; invite it with /invite @qbslack",
    "restricted_action": "a workspace setting prevents posting in this channel",
}
# This message is refused (the channel takes others).
MESSAGE_REASONS = {
    "msg_too_long": "the message was too long for Slack",
    "invalid_blocks": "Slack refused the message layout",
}
PERMANENT_REASONS = {**CHANNEL_REASONS, **MESSAGE_REASONS}
# conversations.join keeps these errors of its own; any other refusal (a private channel:
# method_not_supported_for_channel_type, is_private, ...) means "invite the app".
JOIN_ERRORS_KEPT = {"channel_not_found", "is_archived"}


@dataclass(frozen=True)
class Outcome:
    """What Slack answered, as delivery needs to see it."""

    kind: str  # ok, ratelimited, transient, not_in_channel, auth, permanent
    ts: str | None = None
    error: str | None = None
    retry_after: float = 0.0
    http_status: int | None = None

    @property
    def reason(self) -> str:
        """A sentence an admin can act on."""
        if self.error in PERMANENT_REASONS:
            return PERMANENT_REASONS[self.error]
        return f"Slack answered {self.error or self.http_status}"

    @property
    def channel_refused(self) -> bool:
        """A permanent answer about the channel: its other events would get it too."""
        return self.kind == "permanent" and self.error in CHANNEL_REASONS


def make_client(base_url: str, token: str, *, timeout: int = 10) -> WebClient:
    """A WebClient without retry handlers: delivery decides about every retry itself."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


def call(client: WebClient, method: str, **kwargs: Any) -> Outcome:
    """Call a Web API method and classify the answer; never raises for Slack's errors."""
    try:
        resp = client.api_call(method, json=kwargs)
        return Outcome("ok", ts=resp.get("ts"), http_status=resp.status_code)
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429 or error == "ratelimited":
            headers = exc.response.headers
            retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
            return Outcome(
                "ratelimited", error="ratelimited", retry_after=_float(retry), http_status=status
            )
        return Outcome(classify(status, error), error=error or f"http_{status}", http_status=status)
    except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
        return Outcome("transient", error=f"connection error: {type(exc).__name__}")


def classify(status: int, error: str | None) -> str:
    """The kind of a refused call (not a 429) from its HTTP status and Slack's error."""
    if status >= 500 or status in TRANSIENT_STATUSES or error in TRANSIENT_ERRORS:
        return "transient"
    if error in AUTH_ERRORS:
        return "auth"
    if error == "not_in_channel":
        return "not_in_channel"
    return "permanent"


def join_refused(joined: Outcome) -> Outcome:
    """What a failed conversations.join (after not_in_channel) means for the event.

    Slack's trouble stays transient (or rate-limited, or an auth problem); a refusal to
    join (a private channel) is the permanent not_in_channel: the app must be invited.
    """
    if joined.kind in ("transient", "ratelimited", "auth"):
        return joined
    error = joined.error if joined.error in JOIN_ERRORS_KEPT else "not_in_channel"
    return Outcome("permanent", error=error, http_status=joined.http_status)


def _float(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
