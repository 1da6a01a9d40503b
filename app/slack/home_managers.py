"""App Home's Managers section: who may change qbslack's set-up, and adding or removing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.slack.company_text import when_text
from app.slack.text import context, section
from tenants.managers import MAX_ADDED
from tenants.models import Manager


@dataclass(frozen=True)
class Managers:
    """Who manages a workspace besides its admins and owners."""

    installer: str | None
    added: list[Manager]


def managers_blocks(managers: Managers, *, room: int) -> list[dict[str, Any]]:
    """The "Managers" section: who manages qbslack here, Remove buttons, "Add a manager".

    Each added manager gets a line with a Remove button when `room` blocks allow it;
    otherwise one list and a picker to remove from it.
    """
    intro = (
        "*Managers*\nqbslack managers edit routes, add company files, reset Web Connector "
        "passwords and replay. This workspace's admins and owners always are."
    )
    if managers.installer:
        intro += (
            f"\nInstalled by <@{managers.installer}>: a manager while they are a member "
            "of this workspace."
        )
    blocks: list[dict[str, Any]] = [{"type": "divider"}, section(intro)]
    added = managers.added
    can_add = len(added) < MAX_ADDED
    if not added:
        blocks.append(context("No one added yet: add a bookkeeper or a colleague below."))
    elif len(added) + len(blocks) + int(can_add) <= room:
        blocks += [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _added_line(m)},
                "accessory": _remove_button(m.user_id),
            }
            for m in added
        ]
    else:
        listed = ", ".join(f"<@{m.user_id}>" for m in added)
        blocks.append(section(f"Added: {listed}"))
        picker = _user_picker("remove_manager", "Remove a manager…")
        picker["confirm"] = _confirm(
            "Remove this manager?", "They can no longer change qbslack's set-up.", "Remove"
        )
        blocks.append({"type": "actions", "elements": [picker]})
    if can_add:
        blocks.append(
            {"type": "actions", "elements": [_user_picker("add_manager", "Add a manager…")]}
        )
    else:
        blocks.append(context(f"{MAX_ADDED} added managers is the most: remove one to add."))
    return blocks


def _added_line(m: Manager) -> str:
    by = f" by <@{m.added_by}>" if m.added_by else ""
    return f"<@{m.user_id}> · added{by} {when_text(m.added_at)}"


def _remove_button(user_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": "remove_manager",
        "value": user_id,
        "text": {"type": "plain_text", "text": "Remove"},
        "confirm": _confirm(
            "Remove this manager?", "They can no longer change qbslack's set-up.", "Remove"
        ),
    }


def _user_picker(action_id: str, placeholder: str) -> dict[str, Any]:
    return {
        "type": "users_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
