"""A thin Slack Web API client for delivery: one call, one classified outcome."""

from __future__ import annotations

import http.client
import logging
import urllib.error
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

AUTH_ERRORS = {
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "not_authed",
    "team_access_not_granted",
    "missing_scope_revoked",
}
PERMANENT_REASONS = {
    "channel_not_found": "the channel no longer exists or the app cannot see it",
    "is_archived": "the channel is archived",
    "msg_too_long": "the message was too long for Slack",
    "invalid_blocks": "Slack refused the message layout",
    "restricted_action": "a workspace setting prevents posting in this channel",
    "not_in_channel": "the app is not in this channel; invite it with /invite @qbslack",
}


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
            retry = (
                exc.response.headers.get("Retry-After")
                or exc.response.headers.get("retry-after")
                or "1"
            )
            return Outcome(
                "ratelimited", error="ratelimited", retry_after=_float(retry), http_status=status
            )
        if status >= 500 or error in (
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
        ):
            return Outcome("transient", error=error or f"http_{status}", http_status=status)
        if error in AUTH_ERRORS:
            return Outcome("auth", error=error, http_status=status)
        if error == "not_in_channel":
            return Outcome("not_in_channel", error=error, http_status=status)
        return Outcome("permanent", error=error or f"http_{status}", http_status=status)
    except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
        return Outcome("transient", error=f"connection error: {type(exc).__name__}")


def _float(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
