"""Who may change a workspace's set-up: admins, owners and the installer."""

from __future__ import annotations

import logging
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.core.runtime import Runtime
from app.core.settings import Settings
from tenants import service

log = logging.getLogger(__name__)

REFUSAL = (
    "Sorry, only workspace admins and owners (and whoever installed qbslack) "
    "can change qbslack's set-up. Ask one of them for help."
)
# A modal may stay open a while before it is submitted; after this it must be reopened.
MODAL_GRANT_TTL = 6 * 3600


def is_admin(runtime: Runtime, client: WebClient, team_id: str, user_id: str) -> bool:
    """True for the installer and for admins/owners according to users.info."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return False
        installer = tenant.installation.installer_user_id if tenant.installation else None
    if installer and installer == user_id:
        return True
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.info("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return False
    if user.get("team_id") and user["team_id"] != team_id:
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def _grants(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="qbslack-modal-grant")


def grant(settings: Settings, team_id: str, user_id: str, **data: Any) -> str:
    """A modal's private_metadata: proof that this admin was checked when it was opened.

    A submission then needs no users.info call before its ack (Slack's 3-second deadline).
    """
    return _grants(settings).dumps({"team": team_id, "user": user_id, **data})


def check_grant(
    settings: Settings, metadata: str | None, team_id: str, user_id: str
) -> dict[str, Any] | None:
    """The grant's data when it was issued to this user of this workspace, else None."""
    try:
        data = _grants(settings).loads(metadata or "", max_age=MODAL_GRANT_TTL)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("team") != team_id or data.get("user") != user_id:
        return None
    return data
