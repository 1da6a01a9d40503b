"""`qbslack preview`: a workspace's last events as Slack would show them, in the terminal.

The same messages as /dev/preview (app.web.preview_feed), rendered as text: header, fields,
lines, context; a thread's replies indented under its first message. Events not posted yet
are shown too, with their status.
"""

from __future__ import annotations

import argparse
import datetime as dt

from app.cli.common import CliError, runtime
from app.web.blockkit import indented, message_lines, printable
from app.web.preview import STATUS_NOTES
from app.web.preview_feed import MAX_LAST, PreviewMessage, clamp_last, recent_messages
from tenants.service import NotFound


def last_count(raw: str) -> int:
    """--last: a whole number from 1 to MAX_LAST."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if not 1 <= value <= MAX_LAST:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_LAST}, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments."""
    parser.add_argument("team_id")
    parser.add_argument("--company", help="one company file (default: all of them)")
    parser.add_argument(
        "--last", type=last_count, default=None, help="how many events (default 20, at most 200)"
    )


def _meta(m: PreviewMessage, *, several_companies: bool) -> str:
    parts = [m.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")]
    if m.channel_id:
        parts.append(f"#{m.channel_id}")
    if several_companies:
        parts.append(m.company)
    parts.append(STATUS_NOTES.get(m.status, m.status))
    if m.last_error and m.status != "posted":
        parts.append(m.last_error[:200])
    return printable(" · ".join(parts)).replace("\n", " ")


def message_text(m: PreviewMessage, *, several_companies: bool) -> list[str]:
    """One message (and its thread) as lines."""
    lines = ["\u25cf " + _meta(m, several_companies=several_companies)]
    if m.reply_to_earlier:
        lines.append("  \u21b3 a reply in the thread of an earlier message")
    lines += indented(message_lines(m.body), "  ")
    if m.replies:
        count = len(m.replies)
        lines.append(f"  \u2514 {count} {'reply' if count == 1 else 'replies'}")
        for reply in m.replies:
            lines += indented(message_text(reply, several_companies=several_companies), "      ")
    return lines


def preview_text(
    team_id: str, company: str | None, messages: list[PreviewMessage], last: int
) -> str:
    """The whole preview: a title line, then each message with a blank line between."""
    several = company is None and len({m.company for m in _all(messages)}) > 1
    title = f"{team_id} \u00b7 {company or 'all company files'} \u00b7 the last {last} events, "
    title += "newest last (posted or not)"
    if not messages:
        return printable(title) + "\n\nNo events yet: play a session with `qbslack simulate`.\n"
    blocks = ["\n".join(message_text(m, several_companies=several)) for m in messages]
    return printable(title) + "\n\n" + "\n\n".join(blocks) + "\n"


def _all(messages: list[PreviewMessage]) -> list[PreviewMessage]:
    return [x for m in messages for x in (m, *m.replies)]


def cmd_preview(args: argparse.Namespace) -> int:
    """Print a workspace's last events as Slack would show them."""
    rt = runtime()
    try:
        last = clamp_last(args.last)
        with rt.transaction() as db:
            try:
                messages = recent_messages(args.team_id, args.company, last, db_session=db)
            except NotFound as exc:
                raise CliError(str(exc)) from exc
            text = preview_text(args.team_id, args.company, messages, last)
    finally:
        rt.close()
    print(text, end="")
    return 0
