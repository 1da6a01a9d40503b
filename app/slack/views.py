"""Block Kit views: the routes modal, credentials and add-company modals (App Home: home_view)."""

from __future__ import annotations

from typing import Any

from app.slack.text import MAX_SECTION, fit_lines, option, plain, section
from jobs.mrkdwn import escape
from tenants.models import ROUTE_KEYS, Route, Tenant

# Up to this many company files the routes modal lists them (Slack: 100 options at most);
# past it, an external_select finds them as the manager types.
MAX_STATIC_COMPANIES = 90
WORKSPACE_OPTION = "All companies (workspace-wide)"

ROUTE_LABELS = {
    "vendor": "Vendors",
    "bill": "Bills",
    "purchase_order": "Purchase orders",
    "bill_payment": "Bill payments",
    "payment_received": "Payments received",
    "invoice": "Invoices",
    "account": "Chart of accounts (opt-in)",
    "employee": "Employees (opt-in)",
    "default": "Default (anything without its own route)",
    "alerts": "Health alerts (without a channel: a DM to the installer)",
}


def routes_text(tenant: Tenant, routes: list[Route], *, limit: int = MAX_SECTION) -> str:
    """The routes (as tenants.routes.list_routes orders them: the workspace's first),
    readable, in whole lines within `limit` characters; what does not fit is counted."""
    names = {c.id: c.company_name for c in tenant.connections}
    if not routes:
        return "*Routes*\nNone yet: run `/qb-routes` or click *Edit routes*."
    lines = ["*Routes*"]
    for r in routes:
        scope = escape(names.get(r.connection_id, "?")) if r.connection_id else "all companies"
        lines.append(
            f"• {ROUTE_LABELS.get(r.event_type, r.event_type)} → <#{r.channel_id}> ({scope})"
        )

    def more(count: int) -> str:
        return (
            f"…and {count} more route(s) of single company files: each company file's "
            "*Details* shows its own, and so does `/qb-routes list <company>`."
        )

    return fit_lines(lines, limit=limit, more=more)


def routes_modal(
    tenant: Tenant, routes: list[Route], *, scope: int | None, metadata: str
) -> dict[str, Any]:
    """The /qb-routes modal: a company selector and one channel picker per event type.

    `scope` is a connection id (that company's own routes) or None (workspace-wide).
    """
    current = {r.event_type: r.channel_id for r in routes if r.connection_id == scope}
    blocks: list[dict[str, Any]] = []
    if len(tenant.connections) > 1:
        workspace = _option(WORKSPACE_OPTION, "workspace")
        chosen = next((c for c in tenant.connections if c.id == scope), None)
        initial = _option(chosen.company_name, str(chosen.id)) if chosen else workspace
        element: dict[str, Any] = {"action_id": "routes_scope", "initial_option": initial}
        if len(tenant.connections) > MAX_STATIC_COMPANIES:
            # Slack's static_select takes 100 options: past this, typed to find
            # (app.slack.suggestions answers the block_suggestion).
            element |= {
                "type": "external_select",
                "min_query_length": 0,
                "placeholder": _plain("Type a company name…"),
            }
        else:
            options = [workspace] + [_option(c.company_name, str(c.id)) for c in tenant.connections]
            element |= {"type": "static_select", "options": options}
        # dispatch_action: choosing a company reloads the pickers with its own routes.
        blocks.append(
            {
                "type": "input",
                "block_id": "scope",
                "dispatch_action": True,
                "label": _plain("Applies to"),
                "element": element,
            }
        )
        hint = (
            "Empty = this company uses the workspace-wide channel."
            if scope is not None
            else "Empty = the Default channel is used. A company's own routes win."
        )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
    # The block ids carry the scope, so Slack does not keep the other scope's choices.
    suffix = str(scope) if scope is not None else "all"
    for key in ROUTE_KEYS:
        picker: dict[str, Any] = {
            "type": "conversations_select",
            "action_id": "value",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if key in current:
            picker["initial_conversation"] = current[key]
        blocks.append(
            {
                "type": "input",
                "block_id": f"route_{key}.{suffix}",
                "optional": True,
                "label": _plain(ROUTE_LABELS[key]),
                "element": picker,
            }
        )
    return {
        "type": "modal",
        "callback_id": "routes_modal",
        "title": _plain("qbslack routes"),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
        "private_metadata": metadata,
    }


def submitted_routes(values: dict[str, Any], scope: int | None) -> dict[str, str | None] | None:
    """The channel chosen per route key (None = cleared) in a submitted routes modal.

    None when the pickers belong to another scope than the one submitted (the modal had
    not reloaded yet after a company was chosen).
    """
    suffix = str(scope) if scope is not None else "all"
    chosen: dict[str, str | None] = {}
    for block_id, actions in values.items():
        if not block_id.startswith("route_"):
            continue
        key, _, block_scope = block_id.removeprefix("route_").partition(".")
        if block_scope != suffix:
            return None
        if key in ROUTE_KEYS:
            chosen[key] = ((actions or {}).get("value") or {}).get("selected_conversation")
    return chosen


def submitted_scope(values: dict[str, Any]) -> str | None:
    """The company chosen in a submitted routes modal ("workspace", a connection id, None)."""
    selected = ((values.get("scope") or {}).get("routes_scope") or {}).get("selected_option")
    return str(selected["value"]) if selected else None


def message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (a refusal, a result)."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": _plain("Close"),
        "blocks": [_text(text)],
    }


def credentials_modal(company: str, username: str, password: str, link: str) -> dict[str, Any]:
    """The one place a QBWC password is ever shown."""
    return {
        "type": "modal",
        "title": _plain("QBWC credentials"),
        "close": _plain("Done"),
        "blocks": [
            _text(
                f"*{escape(company)}*\n1. <{link}|Download the .qwc file> "
                "(link valid 10 minutes) and open it with QuickBooks Web Connector.\n"
                "2. In QBWC, enter this password for the new application:"
            ),
            _text(f"Username: `{escape(username)}`\nPassword: `{escape(password)}`"),
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "This password is shown only now. Lost it? Reset it from App Home.",
                    }
                ],
            },
        ],
    }


def add_company_modal(metadata: str) -> dict[str, Any]:
    """Ask for the name of a new company file."""
    return {
        "type": "modal",
        "callback_id": "add_company_modal",
        "private_metadata": metadata,
        "title": _plain("Add a company file"),
        "submit": _plain("Add"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "company",
                "label": _plain("Company name"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 120},
            },
        ],
    }


def _text(text: str) -> dict[str, Any]:
    return section(text)


def _plain(text: str) -> dict[str, Any]:
    return plain(text)


def _option(text: str, value: str) -> dict[str, Any]:
    return option(text, value)
