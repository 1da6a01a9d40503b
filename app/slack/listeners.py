"""Bolt listeners: the slash commands here; App Home, modals and lifecycle in their modules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.core.runtime import Runtime
from app.slack import commands
from app.slack.company_detail import register_company_detail
from app.slack.home import publish_home, register_home
from app.slack.lifecycle import register_lifecycle
from app.slack.modals import open_routes_modal, register_modals
from app.slack.permissions import REFUSAL, is_manager
from app.slack.replay_preview import register_replay_preview
from app.slack.suggestions import register_suggestions
from app.slack.text import Reply

log = logging.getLogger(__name__)


def register_listeners(app: App, runtime: Runtime) -> None:
    """Attach every listener to a Bolt app built for this runtime."""
    register_lifecycle(app, runtime)
    register_home(app, runtime)
    register_company_detail(app, runtime)
    register_suggestions(app, runtime)
    register_replay_preview(app, runtime)

    def refresh_home(client: WebClient, team_id: str, user_id: str) -> None:
        publish_home(runtime, client, team_id, user_id)

    register_modals(app, runtime, on_change=refresh_home)

    # Commands ack at once (Slack's 3-second deadline): users.info, the database and the
    # answer follow the ack, the answer through the command's response_url (ephemeral).
    @app.command("/qb-routes")
    def qb_routes(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        say = _ephemeral(respond)
        words = (body.get("text") or "").split()
        team_id, user_id = body["team_id"], body["user_id"]
        if words and words[0].lower() in ("list", *commands.HELP_WORDS):  # for everyone
            say(commands.routes_command(runtime, client, team_id, user_id, words))
        elif not is_manager(runtime, client, team_id, user_id):
            say(REFUSAL)
        elif not words:
            open_routes_modal(runtime, client, team_id, user_id, body["trigger_id"])
        else:
            say(commands.routes_command(runtime, client, team_id, user_id, words))

    @app.command("/qb-replay")
    def qb_replay(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        say = _ephemeral(respond)
        words = (body.get("text") or "").split()
        team_id, user_id = body["team_id"], body["user_id"]
        if not words or words[0].lower() in commands.HELP_WORDS:  # the grammar, for everyone
            say(commands.REPLAY_USAGE)
        elif not is_manager(runtime, client, team_id, user_id):
            say(REFUSAL)
        else:
            say(commands.replay_command(runtime, team_id, user_id, words))


def _ephemeral(respond: Respond) -> Callable[[str | Reply], None]:
    """Answers only the person who typed the command sees (a text, or a Reply's blocks)."""

    def answer(reply: str | Reply) -> None:
        if isinstance(reply, str):
            reply = Reply(reply)
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    return answer
