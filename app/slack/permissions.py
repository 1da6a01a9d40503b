"""Who may change a workspace's set-up: admins, owners and the installer."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.runtime import Runtime
from tenants import service

log = logging.getLogger(__name__)

REFUSAL = ("Sorry, only workspace admins and owners (and whoever installed qbslack) "
           "can change qbslack's set-up.")


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
