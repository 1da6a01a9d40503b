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
import re
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


@dataclass(frozen=True)
class SlackReason:
    """A Slack error in a manager's words: what happened and what to do (naming the button
    that does it: *Edit routes*, *Replay failed*)."""

    happened: str  # an event's last_error when Slack refused it for good
    todo: str


_SUPPORT = (
    "This is qbslack's own mistake, not yours: contact qbslack's support and name the "
    "company file; *Replay failed* tries once more."
)
_READ = SlackReason("Slack could not read qbslack's request", _SUPPORT)
_SLACK_TROUBLE = SlackReason(
    "Slack was having trouble",
    "Nothing to do now: qbslack tries again by itself for a day; after that "
    "*Replay failed* posts them again.",
)
_TOKEN = SlackReason(
    "Slack no longer accepts qbslack in this workspace (the app was removed or its access revoked)",
    "Reinstall qbslack from its install link: routes and history are kept, and what "
    "waited is posted then.",
)
_REINSTALL = (
    "Reinstall qbslack from its install link (routes and history are kept), then *Replay failed*."
)
_OTHER_CHANNEL = "or pick another channel with *Edit routes*: what waited is posted then."

# Every error chat.postMessage documents, in words a bookkeeper acts on.
REASONS: dict[str, SlackReason] = {
    # The channel refuses every message until someone fixes it (CHANNEL_REASONS).
    "channel_not_found": SlackReason(
        "the channel no longer exists or the app cannot see it",
        "Pick another channel with *Edit routes* (a private channel must invite the app "
        "first: `/invite @qbslack` in it); what waited is posted then.",
    ),
    "is_archived": SlackReason(
        "the channel is archived", f"Unarchive the channel, {_OTHER_CHANNEL}"
    ),
    "not_in_channel": SlackReason(
        "the app is not in this channel; invite it with /invite @qbslack",
        f"Type `/invite @qbslack` in that channel, {_OTHER_CHANNEL}",
    ),
    "restricted_action": SlackReason(
        "a workspace setting prevents posting in this channel",
        f"Ask a Slack admin to let apps post in that channel, {_OTHER_CHANNEL}",
    ),
    "restricted_action_read_only_channel": SlackReason(
        "the channel is read-only: only some people may post in it",
        f"Let qbslack post there (the channel's posting permissions), {_OTHER_CHANNEL}",
    ),
    "restricted_action_thread_only_channel": SlackReason(
        "the channel takes replies in threads only, and each QuickBooks change starts one",
        f"Allow new messages in that channel, {_OTHER_CHANNEL}",
    ),
    # This message is refused; the channel takes others (MESSAGE_REASONS).
    "restricted_action_non_threadable_channel": SlackReason(
        "the channel does not allow threads, and this update replies to its first message",
        "Allow threads in that channel or pick another one with *Edit routes*, then "
        "*Replay failed*.",
    ),
    "restricted_action_thread_locked": SlackReason(
        "the thread this update replies to is locked",
        "Unlock the thread in Slack, then *Replay failed*.",
    ),
    "cannot_reply_to_message": SlackReason(
        "Slack does not take replies to the message this update answers",
        "*Replay failed* tries once more; if it fails again, contact qbslack's support.",
    ),
    "msg_too_long": SlackReason("the message was too long for Slack", _SUPPORT),
    "invalid_blocks": SlackReason("Slack refused the message layout", _SUPPORT),
    "invalid_blocks_format": SlackReason("Slack could not read the message layout", _SUPPORT),
    "no_text": SlackReason("the message was empty", _SUPPORT),
    "too_many_attachments": SlackReason(
        "the message had more attachments than Slack allows (100)", _SUPPORT
    ),
    "invalid_arguments": SlackReason("Slack refused the message as malformed", _SUPPORT),
    "invalid_arg_name": _READ,
    "invalid_charset": _READ,
    "invalid_form_data": _READ,
    "invalid_post_type": _READ,
    "missing_post_type": _READ,
    "as_user_not_supported": _READ,
    "invalid_metadata_format": _READ,
    "invalid_metadata_schema": _READ,
    "metadata_too_large": _READ,
    "metadata_must_be_sent_from_app": _READ,
    "deprecated_endpoint": _READ,
    "method_deprecated": _READ,
    "ekm_access_denied": SlackReason(
        "the workspace's administrators have suspended posting (Enterprise Key Management)",
        "Ask your Slack admins to restore posting, then *Replay failed*.",
    ),
    "no_permission": SlackReason(
        "the app may not post in this conversation",
        f"Type `/invite @qbslack` in that channel, {_OTHER_CHANNEL}",
    ),
    "access_denied": SlackReason(
        "Slack denied the app access to this conversation",
        f"Invite the app to the channel (`/invite @qbslack`), {_OTHER_CHANNEL}",
    ),
    "missing_scope": SlackReason("the app lacks a Slack permission it needs to post", _REINSTALL),
    "not_allowed_token_type": SlackReason(
        "Slack refused the kind of token qbslack used", _REINSTALL
    ),
    "two_factor_setup_required": SlackReason(
        "the workspace requires two-factor authentication set-up first",
        "Ask your Slack admins about the workspace's two-factor rule, then *Replay failed*.",
    ),
    "enterprise_is_restricted": SlackReason(
        "the Enterprise organization restricts the app",
        "Ask your Slack org admins to allow qbslack, then *Replay failed*.",
    ),
    "accesslimited": SlackReason(
        "Slack limits access from qbslack's network",
        "Ask your Slack admins to allow qbslack (IP restrictions), then *Replay failed*.",
    ),
    "message_limit_exceeded": SlackReason(
        "the conversation reached Slack's message limit",
        f"Post them later with *Replay failed*, {_OTHER_CHANNEL}",
    ),
    "messages_tab_disabled": SlackReason(
        "the app's Messages tab is off, so it cannot send direct messages",
        "Set an `alerts` channel with *Edit routes* (or turn on the app's Messages tab), "
        "then *Replay failed*.",
    ),
    "org_login_required": SlackReason(
        "the workspace is moving into an Enterprise organization",
        "Wait until the move is done, then *Replay failed*.",
    ),
    "team_added_to_org": SlackReason(
        "the workspace is moving into an Enterprise organization",
        "Wait until the move is done, then *Replay failed*.",
    ),
    # Slack's trouble: retried by delivery for DELIVERY_GIVE_UP_HOURS (TRANSIENT_ERRORS).
    "internal_error": _SLACK_TROUBLE,
    "fatal_error": _SLACK_TROUBLE,
    "service_unavailable": _SLACK_TROUBLE,
    "request_timeout": _SLACK_TROUBLE,
    "ratelimited": SlackReason(
        "Slack asked qbslack to slow down",
        "Nothing to do: qbslack waits as Slack asks and posts them by itself.",
    ),
    "rate_limited": SlackReason(
        "Slack asked qbslack to slow down",
        "Nothing to do: qbslack waits as Slack asks and posts them by itself.",
    ),
    # The token no longer works: the workspace waits for a reinstall (AUTH_ERRORS).
    "invalid_auth": _TOKEN,
    "token_revoked": _TOKEN,
    "token_expired": _TOKEN,
    "account_inactive": _TOKEN,
    "not_authed": _TOKEN,
    "missing_scope_revoked": _TOKEN,
    "team_access_not_granted": SlackReason(
        "the app has not been granted access to this workspace of the Enterprise organization",
        "Ask your Slack org admins to add qbslack to this workspace, then reinstall it "
        "from its install link.",
    ),
}
CHANNEL_CODES = (
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
)
# The channel refuses every message until someone fixes it (unarchive, invite, re-route):
# its events are parked together (jobs.parked matches these texts in last_error).
CHANNEL_REASONS = {code: REASONS[code].happened for code in CHANNEL_CODES}
# This message is refused (the channel takes others).
MESSAGE_REASONS = {
    code: r.happened
    for code, r in REASONS.items()
    if code not in CHANNEL_REASONS
    and code not in TRANSIENT_ERRORS
    and code not in AUTH_ERRORS
    and code not in ("ratelimited", "rate_limited")
}
PERMANENT_REASONS = {**CHANNEL_REASONS, **MESSAGE_REASONS}
_BY_TEXT = {r.happened: r for r in REASONS.values()}
_ANSWERED = re.compile(r"Slack answered ([a-z0-9_]+)")


def advice(last_error: str | None) -> SlackReason:
    """What a delivery's last_error means and what to do, for a manager.

    Reads what delivery stored: a REASONS sentence, "Slack answered <code>" (Slack's
    trouble, or a code stored before it had a sentence), "gave up after … last: …".
    """
    text = (last_error or "").strip()
    if text in _BY_TEXT:
        return _BY_TEXT[text]
    gave_up = text.startswith("gave up after ")
    last = text.split("last: ", 1)[-1] if gave_up else text
    code = _ANSWERED.match(last)
    known = REASONS.get(code.group(1)) if code else _BY_TEXT.get(last)
    if gave_up:
        span = text.removeprefix("gave up after ").split(" of Slack errors", 1)[0]
        cause = known.happened if known else "Slack kept failing"
        return SlackReason(
            f"{cause}, for {span}: qbslack stopped retrying",
            "*Replay failed* posts them again now.",
        )
    if known is not None:
        return known
    if last.startswith("connection error"):
        return SlackReason("qbslack could not reach Slack", _SLACK_TROUBLE.todo)
    said = f" (“{code.group(1)}”)" if code else (f" ({last[:200]})" if last else "")
    return SlackReason(f"Slack refused it{said}", _SUPPORT)


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
