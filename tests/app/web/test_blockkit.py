"""Block Kit rendered as HTML and text: Slack's mrkdwn, generic blocks, untrusted text escaped."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.web.blockkit import (
    block_html,
    message_html,
    message_lines,
    mrkdwn_html,
    mrkdwn_text,
    printable,
    text_html,
)
from jobs.messages import build_message
from jobs.mrkdwn import escape


def test_mrkdwn_formatting_becomes_tags():
    html = str(mrkdwn_html("*Vendor*\nAcme _Supply_ ~old~ `INV-77`"))
    assert html == ("<b>Vendor</b><br>\nAcme <i>Supply</i> <s>old</s> <code>INV-77</code>")
    assert mrkdwn_text("*Vendor*\nAcme _Supply_ `INV-77`") == "Vendor\nAcme Supply INV-77"


def test_markers_inside_words_and_around_spaces_stay_text():
    assert str(mrkdwn_html("snake_case_name 2*3*4 a * b *")) == "snake_case_name 2*3*4 a * b *"


def test_control_sequences():
    html = str(
        mrkdwn_html(
            "<#C123|general> <#C9> <@U42> <!here> <!subteam^S1|@ap-team> "
            "<!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC> "
            "<https://example.com/a?b=1&amp;c=2|the docs> <https://example.com/x>"
        )
    )
    assert '<span class="mention">#general</span>' in html
    assert '<span class="mention">#C9</span>' in html
    assert '<span class="mention">@U42</span>' in html
    assert '<span class="mention">@here</span>' in html
    assert '<span class="mention">@ap-team</span>' in html
    assert "2023-11-14 22:13 UTC" in html and "date_short_pretty" not in html
    link = '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noreferrer">the docs</a>'
    assert link in html
    assert ">https://example.com/x</a>" in html
    text = mrkdwn_text("<#C123|general> <https://example.com|docs> <!date^1^{time}|noon>")
    assert text == "#general docs (https://example.com) noon"


def test_only_web_links_are_links():
    html = str(mrkdwn_html("<javascript:alert(1)|click> <data:text/html,x|data>"))
    assert "<a " not in html and "href" not in html
    assert "click" in html and "data" in html


def test_slack_entities_show_as_characters_once():
    # The builder escapes QuickBooks text for Slack; the page shows what Slack shows.
    assert str(mrkdwn_html(escape("Ben & Jerry's <Supplies>"))) == (
        "Ben &amp; Jerry's &lt;Supplies&gt;"
    )
    assert str(mrkdwn_html(escape("A &amp; B"))) == "A &amp;amp; B"
    assert mrkdwn_text(escape("A &amp; B <x>")) == "A &amp; B <x>"


def test_hostile_text_never_becomes_markup():
    hostile = '<img src=x onerror=alert(1)> "><script>alert(1)</script> *<b>bold</b>*'
    html = str(mrkdwn_html(escape(hostile)))
    assert "<script" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html
    # Even unescaped text (not what our builder writes) cannot inject: it is a control
    # sequence at worst, and its text is escaped.
    raw = str(mrkdwn_html(hostile))
    assert "<script" not in raw and "<img" not in raw and "onerror=alert(1)>" not in raw
    plain = str(text_html({"type": "plain_text", "text": hostile}))
    assert "<script" not in plain and "&lt;script&gt;" in plain


def test_placeholder_characters_in_the_input_are_inert():
    html = str(mrkdwn_html("\ue0000\ue001 <#C1|x> \ue001"))
    assert html.count('<span class="mention">') == 1 and "\ue000" not in html


def test_terminal_control_characters_are_removed():
    assert printable("Acme\x1b[31m Red\u202e\x07\nnext") == "Acme\ufffd[31m Red\ufffd\nnext"
    assert "\x1b" not in mrkdwn_text("Acme\x1b]0;title\x07")


@given(st.text(max_size=200))
def test_any_text_renders_without_markup_of_its_own(text):
    html = str(mrkdwn_html(escape(text)))
    # The only tags are ours: every "<" starts one of them.
    for piece in html.split("<")[1:]:
        assert piece.startswith(("b>", "/b>", "i>", "/i>", "s>", "/s>", "code>", "/code>", "br>"))
    assert "\x1b" not in mrkdwn_text(escape(text))


def test_generic_blocks():
    body = {
        "text": "fallback",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Stale &amp; late"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Hi*"},
                "fields": [
                    {"type": "mrkdwn", "text": "*Vendor*\nAcme"},
                    {"type": "plain_text", "text": "Plain"},
                ],
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "action_id": "x",
                },
            },
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Fix it"},
                        "style": "primary",
                    },
                    {"type": "button", "text": {"type": "plain_text", "text": "Reset"}},
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "Pick"},
                    },
                ],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "QuickBooks bill"},
                    {"type": "image", "image_url": "https://x/y.png", "alt_text": "logo"},
                ],
            },
            {"type": "image", "image_url": "https://x/big.png", "alt_text": "chart"},
            {"type": "video", "title": "?"},
            "not a block",
        ],
    }
    html = str(message_html(body))
    assert '<div class="blk header">Stale &amp; late</div>' in html
    assert '<div class="field"><b>Vendor</b><br>\nAcme</div>' in html
    assert '<button type="button" class="btn primary" disabled>Fix it</button>' in html
    assert '<button type="button" class="btn default" disabled>Reset</button>' in html
    assert "Pick" in html and '<hr class="blk divider">' in html
    assert "https://x/" not in html  # no image is fetched: its alt text is shown
    assert "[logo]" in html and "[chart]" in html and "[video block]" in html
    lines = message_lines(body)
    assert lines[:2] == ["Stale & late", "─" * 12]
    assert "Vendor: Acme" in lines and "[Fix it] [Reset] [Pick ▾]" in lines
    assert "· QuickBooks bill [logo]" in lines


def test_a_message_without_blocks_shows_its_text():
    assert "<b>Hi</b>" in str(message_html({"text": "*Hi*"}))
    assert message_lines({"text": "*Hi*\nthere"}) == ["Hi", "there"]
    assert str(block_html(None)) == ""


def test_a_real_bill_message():
    body = build_message(
        {
            "name": "Acme Supply Co",
            "amount": Decimal("1250.00"),
            "ref_number": "INV-77",
            "memo": "paper & <toner>",
            "line_items": [{"description": "Paper", "amount": "1100.00"}],
        },
        multi_company=False,
        action="created",
        object_type="Bill",
    )
    html = str(message_html(body))
    assert "Acme Supply Co" in html and "1,250.00" in html and "INV-77" in html
    assert "paper &amp; &lt;toner&gt;" in html
    text = "\n".join(message_lines(body))
    assert "Vendor: Acme Supply Co" in text and "Amount: 1,250.00" in text
    assert "paper & <toner>" in text
