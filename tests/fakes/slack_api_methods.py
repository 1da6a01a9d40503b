"""The fake Slack's workspace state and its Web API methods (one `_m_<method>` each)."""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack_api_http import UPLOAD_PREFIX, Reply, err, ok

APP_ID = "A0QBSLACK"
DEFAULT_SCOPE = "commands,chat:write,channels:join,channels:read,groups:read,users:read"
# Accepted posts to one channel may come this much sooner than post_interval: client and
# server clocks tick separately and requests jitter on the way, and Slack's own limit is
# "about" one a second. So at the default 1.0 s, posts 0.98 s apart are accepted.
TOLERANCE = 0.02
TS_BASE = 1700000000
MAX_TEXT = 40000
MAX_BLOCKS = 50


@dataclass
class Ctx:
    """Who is calling and when: the token, its workspace, the server's clock."""

    token: str | None
    team: dict[str, str]
    now: float


class SlackState:
    """Tokens, users, channels, messages, views and files, plus the methods that use them."""

    def __init__(
        self,
        *,
        post_interval: float = 1.0,
        strict_channels: bool = False,
        expected_client_id: str = "111.222",
        expected_client_secret: str = "client-secret-for-tests",
    ) -> None:
        self.post_interval = post_interval
        self.tolerance = TOLERANCE
        self.strict_channels = strict_channels
        self.expected_client_id = expected_client_id
        self.expected_client_secret = expected_client_secret
        self.valid_tokens: set[str] = set()
        self.revoked: set[str] = set()
        self.token_info: dict[str, dict[str, str]] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._last_post: dict[tuple[str, str], float] = {}
        self._serial = itertools.count(1)
        self._lock = threading.RLock()

    # -- configuration -------------------------------------------------------
    @property
    def client_id(self) -> str:
        """Alias of expected_client_id."""
        return self.expected_client_id

    @client_id.setter
    def client_id(self, value: str) -> None:
        self.expected_client_id = value

    @property
    def client_secret(self) -> str:
        """Alias of expected_client_secret."""
        return self.expected_client_secret

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.expected_client_secret = value

    def add_token(
        self,
        token: str,
        *,
        team_id: str = "T1",
        team_name: str = "Fake Workspace",
        bot_user_id: str = "UBOT",
        bot_id: str = "B0QBSLACK",
    ) -> None:
        """Accept this token, as a bot token of that workspace (auth.test tells which)."""
        with self._lock:
            self.valid_tokens.add(token)
            self.revoked.discard(token)
            self.token_info[token] = {
                "team_id": team_id,
                "team": team_name,
                "user_id": bot_user_id,
                "bot_id": bot_id,
            }

    def revoke_token(self, token: str) -> None:
        """Answer token_revoked for this token from now on."""
        with self._lock:
            self.revoked.add(token)

    def add_oauth_code(
        self,
        code: str,
        *,
        team_id: str,
        team_name: str,
        bot_token: str,
        bot_user_id: str = "UBOT",
        authed_user_id: str = "UINSTALLER",
        scope: str = DEFAULT_SCOPE,
        user_token: str | None = None,
        user_scope: str = "",
    ) -> None:
        """Make oauth.v2.access exchange this code (once) for an installation."""
        authed_user: dict[str, Any] = {"id": authed_user_id}
        if user_token:
            authed_user.update(scope=user_scope, access_token=user_token, token_type="user")
        with self._lock:
            self.oauth_codes[code] = {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": authed_user,
                "scope": scope,
                "token_type": "bot",
                "access_token": bot_token,
                "bot_user_id": bot_user_id,
                "team": {"id": team_id, "name": team_name},
                "enterprise": None,
                "is_enterprise_install": False,
            }

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str = "T1",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        name: str | None = None,
        deleted: bool = False,
    ) -> None:
        """A user users.info knows."""
        name = name or user_id.lower()
        with self._lock:
            self.users[user_id] = {
                "id": user_id,
                "team_id": team_id,
                "name": name,
                "real_name": name.title(),
                "deleted": deleted,
                "tz": "America/New_York",
                "tz_offset": -18000,
                "is_admin": is_admin or is_owner,
                "is_owner": is_owner or is_primary_owner,
                "is_primary_owner": is_primary_owner,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": False,
                "profile": {"real_name": name.title(), "display_name": name},
            }

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool = False,
        is_member: bool = True,
        is_archived: bool = False,
    ) -> None:
        """A channel conversations.* and chat.* know."""
        with self._lock:
            self.channels[channel_id] = _channel_object(
                channel_id, name or channel_id.lower(), is_private, is_member, is_archived
            )

    def archive_channel(self, channel_id: str) -> None:
        """Archive a channel: posts to it get is_archived (as do joins)."""
        self._set_channel(channel_id, is_archived=True)

    def unarchive_channel(self, channel_id: str) -> None:
        """Unarchive a channel (Slack would then send channel_unarchive)."""
        self._set_channel(channel_id, is_archived=False)

    def invite_bot(self, channel_id: str) -> None:
        """Someone invited the app: it is a member now (Slack: member_joined_channel)."""
        self._set_channel(channel_id, is_member=True)

    def remove_bot(self, channel_id: str) -> None:
        """The app was removed from a channel: posts get not_in_channel."""
        self._set_channel(channel_id, is_member=False)

    def _set_channel(self, channel_id: str, **flags: bool) -> None:
        with self._lock:
            info = self._channel(channel_id)
            if info is None:
                raise KeyError(f"fake Slack: no channel {channel_id}")
            self.channels[channel_id] = dict(info, **flags)

    # -- helpers -------------------------------------------------------------
    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        """The channel, an implied DM, an implied public channel, or None (not found)."""
        if channel_id in self.channels:
            return self.channels[channel_id]
        if not channel_id:
            return None
        if channel_id[0] in "UWD":  # a user id opens the app's DM with that user
            return dict(
                _channel_object(channel_id, channel_id.lower(), True, True, False),
                is_im=True,
                is_group=False,
                is_channel=False,
            )
        if self.strict_channels:
            return None
        return _channel_object(channel_id, channel_id.lower(), False, True, False)

    def _postable(self, channel_id: str) -> Reply | None:
        """Why a message cannot go to this channel, or None."""
        info = self._channel(channel_id)
        if info is None:
            return err("channel_not_found")
        if info["is_archived"]:
            return err("is_archived")
        if not info["is_member"]:
            return err("not_in_channel")
        return None

    def _ts(self) -> str:
        sec, micro = divmod(next(self._serial) * 100, 1_000_000)
        return f"{TS_BASE + sec}.{micro:06d}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._serial):08d}"

    def _rate_limited(self, team_id: str, channel: str, now: float) -> Reply | None:
        """A 429 if this post comes too soon after the last accepted one to the channel."""
        last = self._last_post.get((team_id, channel))
        if not self.post_interval or last is None:
            return None
        remaining = self.post_interval - (now - last)
        if remaining <= self.tolerance:
            return None
        return err("ratelimited", 429, {"Retry-After": str(max(1, math.ceil(remaining)))})

    # -- auth and oauth ------------------------------------------------------
    def _m_auth_test(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        t = ctx.team
        domain = t["team"].lower().replace(" ", "-")
        return ok(
            url=f"https://{domain}.slack.com/",
            team=t["team"],
            user="qbslack",
            team_id=t["team_id"],
            user_id=t["user_id"],
            bot_id=t["bot_id"],
            is_enterprise_install=False,
        )

    def _m_auth_revoke(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        if ctx.token:
            self.revoked.add(ctx.token)
        return ok(revoked=True)

    def _oauth_v2_access(self, p: dict[str, Any]) -> Reply:
        if p.get("client_id") != self.expected_client_id:
            return err("invalid_client_id")
        if p.get("client_secret") != self.expected_client_secret:
            return err("bad_client_secret")
        grant = self.oauth_codes.pop(p.get("code") or "", None)  # a code works once
        if grant is None:
            return err("invalid_code")
        team = grant["team"]
        self.add_token(
            grant["access_token"],
            team_id=team["id"],
            team_name=team["name"],
            bot_user_id=grant["bot_user_id"],
        )
        user_token = grant["authed_user"].get("access_token")
        if user_token:
            self.add_token(
                user_token,
                team_id=team["id"],
                team_name=team["name"],
                bot_user_id=grant["authed_user"]["id"],
                bot_id="",
            )
        return Reply(200, dict(grant))

    # -- chat ----------------------------------------------------------------
    def _m_chat_postMessage(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        channel = p.get("channel") or ""
        refused = self._postable(channel) or _check_content(p)
        if refused is not None:
            return refused
        limited = self._rate_limited(ctx.team["team_id"], channel, ctx.now)
        if limited is not None:
            return limited
        self._last_post[(ctx.team["team_id"], channel)] = ctx.now
        ts = self._ts()
        message: dict[str, Any] = {
            "type": "message",
            "text": p.get("text") or "",
            "ts": ts,
            "user": ctx.team["user_id"],
            "bot_id": ctx.team["bot_id"],
            "team": ctx.team["team_id"],
        }
        if p.get("blocks"):
            message["blocks"] = p["blocks"]
        thread_ts = p.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = thread_ts
            parent = self.messages.get((channel, thread_ts))
            if parent is not None:  # Slack counts replies on the parent
                parent.update(
                    thread_ts=thread_ts,
                    reply_count=parent.get("reply_count", 0) + 1,
                    latest_reply=ts,
                )
        self.messages[(channel, ts)] = message
        return ok(channel=channel, ts=ts, message=message)

    def _m_chat_update(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        channel, ts = p.get("channel") or "", p.get("ts") or ""
        if self._channel(channel) is None:
            return err("channel_not_found")
        message = self.messages.get((channel, ts))
        if message is None:
            return err("message_not_found")
        refused = _check_content(p)
        if refused is not None:
            return refused
        message["text"] = p.get("text") or ""
        if "blocks" in p:
            message["blocks"] = p["blocks"]
        message["edited"] = {"user": ctx.team["user_id"], "ts": self._ts()}
        return ok(channel=channel, ts=ts, text=message["text"], message=message)

    def _m_chat_delete(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        channel, ts = p.get("channel") or "", p.get("ts") or ""
        if self.messages.pop((channel, ts), None) is None:
            return err("message_not_found")
        return ok(channel=channel, ts=ts)

    def _m_chat_postEphemeral(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        if not p.get("user"):
            return err("user_not_in_channel")
        refused = self._postable(p.get("channel") or "") or _check_content(p)
        return refused or ok(message_ts=self._ts())

    # -- users and conversations ---------------------------------------------
    def _m_users_info(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        user = self.users.get(p.get("user") or "")
        return ok(user=user) if user is not None else err("user_not_found")

    def _m_conversations_info(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        info = self._channel(p.get("channel") or "")
        return ok(channel=info) if info is not None else err("channel_not_found")

    def _m_conversations_join(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        info = self._channel(p.get("channel") or "")
        if info is None:
            return err("channel_not_found")
        if info["is_private"]:  # bots cannot join private channels: they are invited
            return err("method_not_supported_for_channel_type")
        if info["is_archived"]:
            return err("is_archived")
        was_member = info["is_member"] and info["id"] in self.channels
        info["is_member"] = True
        self.channels[info["id"]] = info
        extra = {"warning": "already_in_channel"} if was_member else {}
        return ok(channel=info, **extra)

    def _m_conversations_list(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        types = set(str(p.get("types") or "public_channel").split(","))
        found = [
            c
            for c in self.channels.values()
            if ("private_channel" if c["is_private"] else "public_channel") in types
            and not (c["is_archived"] and str(p.get("exclude_archived")).lower() in ("true", "1"))
        ]
        start = int(p.get("cursor") or 0)
        limit = int(p.get("limit") or 100)
        page = found[start : start + limit]
        cursor = str(start + limit) if start + limit < len(found) else ""
        return ok(channels=page, response_metadata={"next_cursor": cursor})

    def _m_conversations_open(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        users = str(p.get("users") or "")
        if not users:
            return err("users_list_not_supplied")
        return ok(channel={"id": "D" + users.replace(",", "")[:10]})

    # -- views ---------------------------------------------------------------
    def _store_view(
        self, p: dict[str, Any], ctx: Ctx, view_id: str | None = None
    ) -> dict[str, Any] | None:
        view = p.get("view")
        if not isinstance(view, dict) or "type" not in view:
            return None
        view = dict(
            view,
            id=view_id or self._id("V"),
            team_id=ctx.team["team_id"],
            app_id=APP_ID,
            hash=f"{TS_BASE}.{next(self._serial):08d}",
        )
        view.setdefault("state", {"values": {}})
        self.views[view["id"]] = view
        return view

    def _m_views_open(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        if not p.get("trigger_id"):
            return err("invalid_trigger_id")
        view = self._store_view(p, ctx)
        return ok(view=view) if view else err("invalid_arguments")

    def _m_views_push(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        return self._m_views_open(p, ctx)

    def _m_views_publish(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        user_id = p.get("user_id")
        if not user_id:
            return err("invalid_arguments")
        view = self._store_view(p, ctx, (self.home_views.get(user_id) or {}).get("id"))
        if view is None:
            return err("invalid_arguments")
        self.home_views[user_id] = view
        return ok(view=view)

    def _m_views_update(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        view_id = p.get("view_id")
        if not view_id and p.get("external_id"):
            view_id = next(
                (v["id"] for v in self.views.values() if v.get("external_id") == p["external_id"]),
                None,
            )
            if view_id is None:
                return err("not_found")
        if not view_id:
            return err("invalid_arguments")
        # An unknown view_id is accepted: tests hand views to the app in interaction payloads.
        view = self._store_view(p, ctx, view_id)
        return ok(view=view) if view else err("invalid_arguments")

    # -- files (the two-step upload of files_upload_v2) ----------------------
    def _m_files_getUploadURLExternal(self, p: dict[str, Any], ctx: Ctx) -> Reply:
        if not p.get("filename") or not str(p.get("length") or "").isdigit():
            return err("invalid_arguments")
        file_id = self._id("F")
        self.files[file_id] = {
            "id": file_id,
            "name": p["filename"],
            "length": int(p["length"]),
            "content": None,
            "channels": [],
            "title": None,
        }
        return ok(
            upload_url=f"{self.base_url}{UPLOAD_PREFIX.lstrip('/')}{file_id}", file_id=file_id
        )

    def _upload(self, file_id: str, content: bytes) -> Reply:
        entry = self.files.get(file_id)
        if entry is None:
            return Reply(404, {"ok": False, "error": "not_found"}, text="Not Found")
        entry["content"] = content
        return Reply(200, {"ok": True}, text=f"OK - {len(content)}")

    def _m_files_completeUploadExternal(
        self,
        p: dict[str, Any],
        ctx: Ctx,
    ) -> Reply:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return err("invalid_arguments")
        entries = [self.files.get(str(f.get("id"))) for f in files]
        if any(e is None or e["content"] is None for e in entries):
            return err("file_not_found")  # unknown, or the bytes never reached the upload URL
        channel = p.get("channel_id")
        if channel:
            refused = self._postable(channel)
            if refused is not None:
                return refused
        out = []
        for f, entry in zip(files, entries, strict=True):
            assert entry is not None
            entry["title"] = f.get("title") or entry["name"]
            if channel:
                entry["channels"].append(channel)
            out.append(
                {
                    "id": entry["id"],
                    "name": entry["name"],
                    "title": entry["title"],
                    "size": len(entry["content"]),
                    "channels": list(entry["channels"]),
                }
            )
        return ok(files=out)

    @property
    def base_url(self) -> str:
        """The server's root URL; FakeSlack fills it in."""
        raise NotImplementedError


def _channel_object(
    channel_id: str, name: str, is_private: bool, is_member: bool, is_archived: bool
) -> dict[str, Any]:
    return {
        "id": channel_id,
        "name": name,
        "name_normalized": name,
        "is_channel": not is_private,
        "is_group": is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": is_private,
        "is_archived": is_archived,
        "is_general": False,
        "is_member": is_member,
        "created": TS_BASE,
        "creator": "UINSTALLER",
    }


def _check_content(p: dict[str, Any]) -> Reply | None:
    """Slack's checks on a message body: something to show, within its limits."""
    text, blocks = p.get("text"), p.get("blocks")
    if not text and not blocks and not p.get("attachments"):
        return err("no_text")
    if text and len(str(text)) > MAX_TEXT:
        return err("msg_too_long")
    if blocks is not None and (
        not isinstance(blocks, list)
        or len(blocks) > MAX_BLOCKS
        or not all(isinstance(b, dict) and "type" in b for b in blocks)
    ):
        return err("invalid_blocks")
    return None
