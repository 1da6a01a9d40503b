"""Block Kit messages rendered outside Slack: as HTML close to Slack's look, and as text.

Used by /dev/preview and `qbslack preview`. Whatever Block Kit the message builders produce
is rendered generically: header, section (text, fields, a button accessory), context,
actions (buttons shown disabled), divider, image (its alt text; nothing is fetched).

mrkdwn is Slack's: *bold*, _italic_, ~strike~, `code`, line breaks, and the control
sequences <#C123|name>, <@U123>, <!date^epoch^{format}|fallback> (the fallback is shown),
<!here>, <!subteam^S123|@team> and <url|text>; &amp; &lt; &gt; are its only entities.
The text carries QuickBooks data, so it is untrusted: every character of it is escaped,
and the only markup in the result is the one written here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

_CONTROL = re.compile(r"<([^<>\n]*)>")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_CODE = re.compile(r"`([^`\n]+)`")
# Slack's emphasis: markers at word edges, not across lines, not around spaces.
_EMPHASIS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "s"),
)
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
EMOJI = {
    "warning": "\u26a0\ufe0f",
    "x": "\u274c",
    "lock": "\U0001f512",
    "white_check_mark": "\u2705",
    "heavy_check_mark": "\u2714\ufe0f",
    "mailbox_with_mail": "\U0001f4ec",
    "no_entry": "\u26d4",
    "double_vertical_bar": "\u23f8\ufe0f",
    "information_source": "\u2139\ufe0f",
    "hourglass": "\u231b",
    "arrows_counterclockwise": "\U0001f504",
    "bell": "\U0001f514",
    "wave": "\U0001f44b",
}
SAFE_SCHEMES = ("http", "https", "mailto")
MAX_INPUT = 50_000  # characters of one text object rendered (Slack's own limits are lower)


def unescape(text: str) -> str:
    """Slack's three entities back to characters (&amp; last, so &amp;lt; stays "&lt;")."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def printable(text: str) -> str:
    """Text without control characters (a terminal escape or a bidi override in a vendor
    name, a private-use character): newlines and tabs kept, format characters dropped,
    the others shown as U+FFFD."""
    out = []
    for c in text:
        category = unicodedata.category(c)
        if c in "\n\t" or category[0] != "C":
            out.append(c)
        elif category != "Cf":
            out.append("\ufffd")
    return "".join(out)


def _clean(text: Any) -> str:
    """A text object's text as a safe string: no placeholders or control characters."""
    return printable(text[:MAX_INPUT] if isinstance(text, str) else "")


def _safe_href(url: str) -> str | None:
    """The URL when it is http(s) or mailto; anything else (javascript:, data:) is no link."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in SAFE_SCHEMES and not any(c.isspace() for c in url) else None


def control(inner: str) -> tuple[str, str, str | None]:
    """A control sequence's (kind, shown text, link): kind is mention, link or text."""
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("#"):
        return "mention", "#" + (label or unescape(target[1:])), None
    if target.startswith("@"):
        return "mention", "@" + (label or unescape(target[1:])), None
    if target.startswith("!"):
        command = target[1:].split("^", 1)
        if command[0] == "date":
            return "text", label or "a date", None
        if command[0] == "subteam":
            shown = label or "@" + (command[1] if len(command) > 1 else "team")
            return "mention", shown if shown.startswith("@") else "@" + shown, None
        return "mention", "@" + (label.lstrip("@") or unescape(command[0])), None
    url = unescape(target)
    return "link", label or url, _safe_href(url)


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def mrkdwn_html(text: Any) -> Markup:
    """Slack mrkdwn as HTML: every character of the text escaped, formatting as tags."""
    # Placeholders (\ue000 n \ue001, private-use characters) stand for the HTML of control
    # sequences and code spans while the rest is escaped and formatted; printable() has
    # already turned any private-use character of the input into U+FFFD.
    source = _clean(text)
    pieces: list[str] = []

    def hold(fragment: str) -> str:
        pieces.append(fragment)
        return f"\ue000{len(pieces) - 1}\ue001"

    def control_html(match: re.Match[str]) -> str:
        kind, shown, href = control(match.group(1))
        shown = html.escape(shown)
        if kind == "mention":
            return hold(f'<span class="mention">{shown}</span>')
        if kind == "link" and href:
            return hold(f'<a href="{html.escape(href)}" rel="nofollow noreferrer">{shown}</a>')
        return hold(shown)

    raw = ""
    last = 0
    for match in _CONTROL.finditer(source):
        raw += unescape(source[last : match.start()]) + control_html(match)
        last = match.end()
    raw += unescape(source[last:])
    raw = _CODE.sub(lambda m: hold(f"<code>{html.escape(m.group(1), quote=False)}</code>"), raw)
    out = _emoji(html.escape(raw, quote=False))
    for pattern, tag in _EMPHASIS:
        out = pattern.sub(rf"<{tag}>\1</{tag}>", out)
    out = out.replace("\n", "<br>\n")

    def restore(match: re.Match[str]) -> str:
        return _PLACEHOLDER.sub(restore, pieces[int(match.group(1))])

    return Markup(_PLACEHOLDER.sub(restore, out))  # noqa: S704 - built from escaped parts


def mrkdwn_text(text: Any) -> str:
    """Slack mrkdwn as plain text: control sequences resolved, formatting markers dropped."""
    source = _clean(text)

    def control_text(match: re.Match[str]) -> str:
        kind, shown, href = control(match.group(1))
        if kind == "link" and href and href != shown:
            return f"{shown} ({href})"
        return shown

    out = ""
    last = 0
    for match in _CONTROL.finditer(source):
        out += unescape(source[last : match.start()]) + control_text(match)
        last = match.end()
    out += unescape(source[last:])
    out = _CODE.sub(r"\1", out)
    for pattern, _tag in _EMPHASIS:
        out = pattern.sub(r"\1", out)
    return printable(_emoji(out))


def text_html(obj: Any) -> Markup:
    """A text object (mrkdwn or plain_text) as HTML."""
    if not isinstance(obj, Mapping):
        return Markup("")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(obj.get("text"))
    shown = unescape(_clean(obj.get("text")))
    if obj.get("emoji", True):
        shown = _emoji(shown)
    return Markup("<br>\n").join(shown.split("\n"))  # join() escapes each line


def text_plain(obj: Any) -> str:
    """A text object (mrkdwn or plain_text) as plain text."""
    if not isinstance(obj, Mapping):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_text(obj.get("text"))
    shown = unescape(_clean(obj.get("text")))
    return _emoji(shown) if obj.get("emoji", True) else shown


def _element_html(element: Any) -> Markup:
    """An interactive element or context element, shown as Slack shows it, but inert."""
    if not isinstance(element, Mapping):
        return Markup("")
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return Markup('<span class="ctx-text">{}</span>').format(text_html(element))
    if kind == "button":
        style = element.get("style")
        css = "btn " + (style if style in ("primary", "danger") else "default")
        return Markup('<button type="button" class="{}" disabled>{}</button>').format(
            css, text_html(element.get("text"))
        )
    if kind == "image":
        return Markup('<span class="img-alt">[{}]</span>').format(
            _clean(element.get("alt_text")) or "image"
        )
    placeholder = element.get("placeholder") or element.get("text")
    label = text_html(placeholder) if placeholder else Markup.escape(str(kind or "element"))
    return Markup('<span class="select" aria-disabled="true">{} \u25be</span>').format(label)


def _fields_html(fields: Iterable[Any]) -> Markup:
    cells = [Markup('<div class="field">{}</div>').format(text_html(f)) for f in fields]
    return Markup('<div class="fields">{}</div>').format(Markup("").join(cells))


def block_html(block: Any) -> Markup:
    """One Block Kit block as HTML."""
    if not isinstance(block, Mapping):
        return Markup("")
    kind = block.get("type")
    if kind == "header":
        return Markup('<div class="blk header">{}</div>').format(text_html(block.get("text")))
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(Markup('<div class="text">{}</div>').format(text_html(block["text"])))
        fields = block.get("fields")
        if isinstance(fields, list) and fields:
            parts.append(_fields_html(fields))
        body = Markup('<div class="section-body">{}</div>').format(Markup("").join(parts))
        accessory = block.get("accessory")
        if accessory:
            body += Markup('<div class="accessory">{}</div>').format(_element_html(accessory))
        return Markup('<div class="blk section">{}</div>').format(body)
    if kind == "context":
        elements = block.get("elements")
        shown = [_element_html(e) for e in elements] if isinstance(elements, list) else []
        return Markup('<div class="blk context">{}</div>').format(Markup(" ").join(shown))
    if kind == "actions":
        elements = block.get("elements")
        shown = [_element_html(e) for e in elements] if isinstance(elements, list) else []
        return Markup('<div class="blk actions">{}</div>').format(Markup("").join(shown))
    if kind == "divider":
        return Markup('<hr class="blk divider">')
    if kind == "image":
        return Markup('<div class="blk image"><span class="img-alt">[{}]</span></div>').format(
            _clean(block.get("alt_text")) or "image"
        )
    if kind == "rich_text":
        return Markup('<div class="blk text">{}</div>').format(_rich_text(block))
    return Markup('<div class="blk unknown">[{} block]</div>').format(_clean(str(kind)))


def _rich_text(block: Mapping[str, Any]) -> str:
    """The words of a rich_text block (its styles are not drawn)."""
    words: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("text"), str):
                words.append(node["text"])
            for child in node.get("elements") or []:
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(block.get("elements"))
    return _clean("".join(words))


def message_html(body: Mapping[str, Any]) -> Markup:
    """A chat.postMessage body as HTML: its blocks, or its text when it has none."""
    blocks = body.get("blocks")
    if isinstance(blocks, list) and blocks:
        return Markup("").join(block_html(b) for b in blocks)
    return Markup('<div class="blk section"><div class="text">{}</div></div>').format(
        mrkdwn_html(body.get("text"))
    )


def _field_text(field: Any) -> str:
    """ "*Vendor*\\nAcme" as "Vendor: Acme"; other fields as their lines."""
    lines = text_plain(field).split("\n")
    raw = field.get("text") if isinstance(field, Mapping) else None
    labelled = isinstance(raw, str) and raw.startswith("*") and len(lines) > 1
    return f"{lines[0]}: " + " / ".join(lines[1:]) if labelled else "\n".join(lines)


def _element_text(element: Any) -> str:
    if not isinstance(element, Mapping):
        return ""
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return text_plain(element)
    if kind == "button":
        return f"[{text_plain(element.get('text'))}]"
    if kind == "image":
        return f"[{_clean(element.get('alt_text')) or 'image'}]"
    placeholder = element.get("placeholder") or element.get("text")
    return f"[{text_plain(placeholder) if placeholder else _clean(str(kind))} \u25be]"


def block_lines(block: Any) -> list[str]:
    """One Block Kit block as lines of text."""
    if not isinstance(block, Mapping):
        return []
    kind = block.get("type")
    if kind == "header":
        title = text_plain(block.get("text")).replace("\n", " ")
        return [title, "\u2500" * min(len(title), 60)]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines += text_plain(block["text"]).split("\n")
        fields = block.get("fields")
        if isinstance(fields, list):
            for field in fields:
                lines += _field_text(field).split("\n")
        if block.get("accessory"):
            lines.append(_element_text(block["accessory"]))
        return lines
    if kind == "context":
        elements = block.get("elements")
        shown = [_element_text(e) for e in elements] if isinstance(elements, list) else []
        return ["\u00b7 " + " ".join(s for s in shown if s).replace("\n", " ")]
    if kind == "actions":
        elements = block.get("elements")
        shown = [_element_text(e) for e in elements] if isinstance(elements, list) else []
        return [" ".join(s for s in shown if s)]
    if kind == "divider":
        return ["\u2500" * 20]
    if kind == "image":
        return [f"[{_clean(block.get('alt_text')) or 'image'}]"]
    if kind == "rich_text":
        return _rich_text(block).split("\n")
    return [f"[{_clean(str(kind))} block]"]


def message_lines(body: Mapping[str, Any]) -> list[str]:
    """A chat.postMessage body as lines of text: its blocks, or its text when it has none."""
    blocks = body.get("blocks")
    if isinstance(blocks, list) and blocks:
        return [line for block in blocks for line in block_lines(block)]
    return mrkdwn_text(body.get("text")).split("\n")


def indented(lines: Iterable[str], prefix: str) -> list[str]:
    """Lines with a prefix (empty lines stay empty)."""
    return [prefix + line if line else line for line in lines]
