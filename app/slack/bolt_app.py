"""Building the Bolt app for one runtime (multi-workspace, OAuth, our stores)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation

from app.core.runtime import Runtime
from app.slack.installation_store import (
    FIRST_INSTALL,
    TENANT_STATUS,
    DbAuthorize,
    DbInstallationStore,
)
from app.slack.listeners import register_listeners
from app.slack.permissions import is_manager
from app.slack.state_store import DbOAuthStateStore
from tenants import service
from tenants.enums import TenantStatus

log = logging.getLogger(__name__)

# What qbslack needs and no more: post (chat:write), join public channels it was routed
# to (channels:join), check channels named in /qb-routes (channels:read, groups:read),
# and read users' admin flags (users:read); slash commands need `commands`.
BOT_SCOPES = [
    "chat:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "users:read",
    "commands",
]

LISTENER_THREADS = 8  # per web process: listeners mostly wait on Slack and the database

WELCOME = (
    "Thanks for installing *qbslack*! Next steps:\n"
    "1. Click *Get the .qwc file and password* below (or *Reset QBWC password* in qbslack's "
    "*Home* tab): it shows your QuickBooks Web Connector password once, in a pop-up, with "
    "the link to download your .qwc file.\n"
    "2. Open the .qwc file with QuickBooks Web Connector on the computer that runs "
    "QuickBooks, and enter the password.\n"
    "3. Choose channels with `/qb-routes` (or *Edit routes* in the Home tab).\n"
    "Keeping books for several clients? Use *Add a company file* in the Home tab for each one."
)

UPDATED = (
    "*qbslack* was updated in this workspace: it keeps posting QuickBooks changes to the "
    "channels its managers chose. qbslack's set-up (routes, company files, Web Connector "
    "passwords) is for qbslack managers: this workspace's admins and owners, whoever "
    "installed qbslack first, and the people they add in qbslack's *Home* tab."
)
SWITCHED_OFF = (
    "*qbslack* was updated, but this workspace is switched off by qbslack's operator: "
    "nothing is posted until they switch it back on. Contact qbslack's support for help."
)


def welcome_blocks(connection_id: int | None, company: str) -> list[dict[str, Any]]:
    """The installer's DM: the next steps and a button that reveals the password in a modal."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": WELCOME}}
    ]
    if connection_id is not None:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "reset_password",
                        "value": str(connection_id),
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Get the .qwc file and password"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Set a QBWC password?"},
                            "text": {
                                "type": "plain_text",
                                "text": (
                                    f"A new password for {company[:100]} is set and shown once."
                                ),
                            },
                            "confirm": {"type": "plain_text", "text": "Show it"},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                        },
                    }
                ],
            }
        )
    return blocks


def installed_message(
    runtime: Runtime, bot: WebClient, inst: Installation
) -> tuple[str, list[dict[str, Any]]]:
    """The DM to whoever completed an install: next steps for a manager, else a notice.

    Only a manager (the first installer on the first install, or a manager per Slack)
    gets the button that sets and shows a QBWC password; anyone else who re-runs the
    install updates the app's tokens and scopes, and is told only that.
    """
    team_id = inst.team_id or inst.enterprise_id or ""
    if inst.get_custom_value(TENANT_STATUS) == TenantStatus.DISABLED:
        return SWITCHED_OFF, [_section(SWITCHED_OFF)]
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        first = tenant.connections[0] if tenant and tenant.connections else None
        conn_id, company = (first.id, first.company_name) if first else (None, "")
    if inst.get_custom_value(FIRST_INSTALL) or is_manager(runtime, bot, team_id, inst.user_id):
        return WELCOME, welcome_blocks(conn_id, company)
    return UPDATED, [_section(UPDATED)]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_bolt_app(runtime: Runtime) -> App:
    """A Bolt App whose every Web API call (OAuth included) goes through SLACK_API_URL."""
    settings = runtime.settings
    # Bolt's OAuthFlow uses the App's client for oauth.v2.access, and every listener gets a
    # copy of it (same base_url) with the workspace's token.
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    installation_store = DbInstallationStore(runtime)

    def success(args: SuccessArgs) -> BoltResponse:
        inst = args.installation
        bot = WebClient(token=inst.bot_token, base_url=settings.slack_api_url)
        text, blocks = installed_message(runtime, bot, inst)
        try:
            bot.chat_postMessage(channel=inst.user_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("could not DM the installer: %s", exc.response.get("error"))
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", args.reason)
        return args.default.failure(args)

    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=BOT_SCOPES,
        installation_store=installation_store,
        state_store=DbOAuthStateStore(runtime),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        redirect_uri=settings.public_url + "/slack/oauth_redirect",
        install_page_rendering_enabled=False,
        callback_options=CallbackOptions(success=success, failure=failure),
    )
    # Listeners run here after their ack; the runtime drains them when it closes.
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack")
    runtime.listener_executor = executor
    app = App(
        listener_executor=executor,
        signing_secret=settings.slack_signing_secret,
        client=client,
        oauth_settings=oauth,
        installation_store=installation_store,
        # Bolt types this as returning AuthorizeResult, but None (not installed) is handled.
        authorize=DbAuthorize(installation_store),  # type: ignore[arg-type]
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        user_facing_authorize_error_message=(
            "qbslack is not installed in this workspace any more. An admin can reinstall it "
            f"from {settings.public_url}/slack/install (routes and history are kept)."
        ),
        logger=log,
    )
    register_listeners(app, runtime)
    return app
