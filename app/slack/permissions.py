"""Who may change a workspace's set-up: the qbslack managers.

Managers are the workspace's admins and owners, the first installer and the people a
manager added in App Home; the installer and the added ones only while Slack says they
are full members of the workspace. Slack is asked (users.info) every time; its answer is
cached a few minutes per (team, user) — in Redis when the runtime has one — and never a
verdict: who was added is read from the database at each check.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis.exceptions import RedisError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.core.runtime import Runtime
from app.core.settings import Settings
from tenants import managers, service

log = logging.getLogger(__name__)

REFUSAL = (
    "Sorry, only qbslack managers can change qbslack's set-up: this workspace's admins and "
    "owners, whoever installed qbslack, and the people they add in qbslack's Home tab. "
    "Ask one of them for help."
)
# A modal may stay open a while before it is submitted; after this it must be reopened.
MODAL_GRANT_TTL = 6 * 3600
# How long Slack's answer about a user (admin? member? deleted?) is reused, by runtime.clock.
USER_CACHE_SECONDS = 300.0
# The flags of users.info's user object a decision reads: all that is cached.
USER_FLAGS = (
    "is_admin",
    "is_owner",
    "is_primary_owner",
    "is_restricted",
    "is_ultra_restricted",
    "is_bot",
    "deleted",
)
MEMORY_CACHE_MAX = 10_000  # entries per runtime without Redis

ADMIN, INSTALLER, ADDED = "admin", "installer", "added"


def manager_role(runtime: Runtime, client: WebClient, team_id: str, user_id: str) -> str | None:
    """Why someone is a manager of this workspace ("admin", "installer", "added"), or None.

    Admins, owners and primary owners are managers; the first installer and the added
    managers only while they are full members of this workspace (not deleted, not guests).
    When Slack cannot say, no one is.
    """
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return None
        installer = tenant.installation.installer_user_id if tenant.installation else None
        added = managers.is_added(tenant.id, user_id, db_session=db)
    user = slack_user(runtime, client, team_id, user_id)
    if user is None or not member_of(user, team_id) or user.get("deleted"):
        return None
    if user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"):
        return ADMIN
    if user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("is_bot"):
        return None
    if installer and installer == user_id:
        return INSTALLER
    return ADDED if added else None


def is_manager(runtime: Runtime, client: WebClient, team_id: str, user_id: str) -> bool:
    """True for a qbslack manager of this workspace (see manager_role)."""
    return manager_role(runtime, client, team_id, user_id) is not None


is_admin = is_manager  # the name callers used before managers could be added


def can_be_added(user: dict[str, Any] | None, team_id: str) -> str | None:
    """Why this users.info answer cannot be made a manager, or None when it can."""
    if user is None:
        return "Slack does not know that person."
    if not member_of(user, team_id):
        return "Only members of this workspace can be managers."
    if user.get("deleted"):
        return "That account is deactivated."
    if user.get("is_bot"):
        return "Apps and bots cannot be managers."
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return "Guests cannot be managers."
    return None


def member_of(user: dict[str, Any], team_id: str) -> bool:
    """True when users.info's user belongs to this workspace (not an external or other team)."""
    teams = (user.get("enterprise_user") or {}).get("teams") or []
    return user.get("team_id") == team_id or team_id in teams


def slack_user(
    runtime: Runtime, client: WebClient, team_id: str, user_id: str
) -> dict[str, Any] | None:
    """users.info's answer about a user (the flags decisions read), cached a few minutes.

    None when Slack cannot answer (unknown user, an error); failures are not cached.
    """
    key = f"qbslack:users-info:{team_id}:{user_id}"
    now = runtime.clock.now().timestamp()
    cached = _cache_get(runtime, key)
    if cached is not None and 0 <= now - float(cached.get("at", -1)) < USER_CACHE_SECONDS:
        user: dict[str, Any] = cached["user"]
        return user
    try:
        found = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.info("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return None
    user = {"id": found.get("id"), "team_id": found.get("team_id")}
    user.update({flag: bool(found.get(flag)) for flag in USER_FLAGS})
    teams = (found.get("enterprise_user") or {}).get("teams")
    if teams:
        user["enterprise_user"] = {"teams": list(teams)}
    _cache_set(runtime, key, {"at": now, "user": user})
    return user


# -- the cache: Redis shared by every process, or this process's memory ---------------

_memory: dict[int, dict[str, dict[str, Any]]] = {}
_memory_lock = threading.Lock()


def _cache_get(runtime: Runtime, key: str) -> dict[str, Any] | None:
    if runtime.redis is not None:
        try:
            raw = runtime.redis.get(key)
        except RedisError as exc:
            log.warning("users.info cache unavailable: %s", exc)
            return None
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    with _memory_lock:
        return _memory.get(id(runtime), {}).get(key)


def _cache_set(runtime: Runtime, key: str, value: dict[str, Any]) -> None:
    if runtime.redis is not None:
        try:
            # Redis forgets it a little after the clock says it is stale (real seconds).
            runtime.redis.set(key, json.dumps(value), ex=int(USER_CACHE_SECONDS) + 60)
        except RedisError as exc:
            log.warning("users.info cache unavailable: %s", exc)
        return
    with _memory_lock:
        entries = _memory.get(id(runtime))
        if entries is None:
            entries = _memory[id(runtime)] = {}
            # The runtime's entries go with it (an id is reused only after that).
            weakref.finalize(runtime, _forget, id(runtime))
        if len(entries) >= MEMORY_CACHE_MAX:
            entries.clear()
        entries[key] = value


def _forget(runtime_id: int) -> None:
    with _memory_lock:
        _memory.pop(runtime_id, None)


# -- modal grants ---------------------------------------------------------------------


def _grants(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="qbslack-modal-grant")


def grant(settings: Settings, team_id: str, user_id: str, **data: Any) -> str:
    """A modal's private_metadata: proof that this manager was checked when it was opened.

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
