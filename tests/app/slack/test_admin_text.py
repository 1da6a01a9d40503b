"""What a manager reads: Slack's errors as sentences with what to do, texts clipped
without a broken link, add-company errors in plain words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.slack.text import clip, fit_lines
from app.slack.views import routes_text
from jobs.slack_client import (
    CHANNEL_REASONS,
    PERMANENT_REASONS,
    REASONS,
    Outcome,
    advice,
)
from tenants import service
from tenants.models import Route, Tenant
from tenants.routes import list_routes

# The errors Slack documents for chat.postMessage (and the token errors every method has).
DOCUMENTED = [
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "too_many_attachments",
    "rate_limited",
    "ratelimited",
    "as_user_not_supported",
    "ekm_access_denied",
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "org_login_required",
    "missing_scope",
    "invalid_arguments",
    "invalid_arg_name",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "missing_post_type",
    "team_added_to_org",
    "team_access_not_granted",
    "request_timeout",
    "fatal_error",
    "internal_error",
    "service_unavailable",
    "invalid_blocks",
    "invalid_blocks_format",
]


@pytest.mark.parametrize("code", DOCUMENTED)
def test_every_documented_slack_error_has_a_sentence_and_what_to_do(code):
    reason = REASONS[code]
    assert reason.happened and reason.todo.endswith(".")
    assert code not in reason.happened and code not in reason.todo  # words, not codes
    assert advice(f"Slack answered {code}") == reason  # stored by an older release
    if code in PERMANENT_REASONS:  # what delivery stores for it now
        assert Outcome("permanent", error=code).reason == reason.happened
        assert advice(reason.happened) == reason


def test_stored_channel_texts_stay_the_same():
    # jobs.parked finds parked events by these exact texts: rows stored before stay found.
    assert {k: CHANNEL_REASONS[k] for k in list(CHANNEL_REASONS)[:4]} == {
        "channel_not_found": "the channel no longer exists or the app cannot see it",
        "is_archived": "the channel is archived",
        "not_in_channel": "the app is not in this channel; invite it with /invite @qbslack",
        "restricted_action": "a workspace setting prevents posting in this channel",
    }
    # A read-only channel refuses every message: its events wait together, like an archive.
    assert Outcome("permanent", error="restricted_action_read_only_channel").channel_refused
    assert not Outcome("permanent", error="invalid_arguments").channel_refused
    # Slack's trouble is still stored as it was (retried, then given up).
    assert Outcome("transient", error="service_unavailable").reason == (
        "Slack answered service_unavailable"
    )


def test_advice_reads_give_ups_connection_errors_and_unknown_codes():
    gave_up = advice(
        "gave up after 24 h of Slack errors (25 tries); last: Slack answered service_unavailable"
    )
    assert gave_up.happened == "Slack was having trouble, for 24 h: qbslack stopped retrying"
    assert "*Replay failed*" in gave_up.todo
    assert advice("connection error: URLError").happened == "qbslack could not reach Slack"
    odd = advice("Slack answered brand_new_error")
    assert "brand_new_error" in odd.happened and "support" in odd.todo
    assert advice(None).happened == "Slack refused it"


def test_clip_never_cuts_a_link_or_an_entity():
    text = "x" * 2990 + " <#C0123456789|accounts-payable> and more"
    cut = clip(text, 3000)
    assert len(cut) <= 3000 and cut.endswith("…") and "<#" not in cut
    assert clip("a &amp; b" * 400, 3000).count("&") == clip("a &amp; b" * 400, 3000).count(";")
    assert clip("short") == "short"


def test_fit_lines_keeps_whole_lines_and_counts_the_rest():
    lines = [f"• Bills → <#C{i:010}> (Client {i})" for i in range(500)]
    text = fit_lines(lines, limit=3000, more=lambda n: f"…and {n} more")
    assert len(text) <= 3000 and text.count("<") == text.count(">")
    kept = text.count("\n")
    assert text.endswith(f"…and {500 - kept} more")


def test_routes_text_with_thousands_of_routes_stays_in_a_section(installed):
    slack = installed
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        for i in range(300):
            service.add_connection(tenant, f"Client {i}", db_session=db)
        conns = tenant.connections
        for conn in conns:
            for key in ("bill", "invoice"):
                db.add(
                    Route(
                        tenant_id=tenant.id,
                        connection_id=conn.id,
                        event_type=key,
                        channel_id=f"C{conn.id:08}",
                    )
                )
        db.add(
            Route(
                tenant_id=tenant.id,
                connection_id=None,
                event_type="default",
                channel_id="C0DEFAULT1",
            )
        )
        db.flush()
        text = routes_text(tenant, list_routes(tenant.id, db_session=db))
    assert len(text) <= 3000 and text.count("<") == text.count(">")
    assert "<#C0DEFAULT1> (all companies)" in text  # the workspace's first
    assert "more route(s) of single company files" in text


def test_add_company_errors_are_sentences(installed):
    slack = installed
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        for name, said in (
            ("  ", "Type the company's name"),
            ("x" * 121, "A company name is at most 120 characters"),
            ("firm t1", "This workspace already has a company file named “Firm T1”"),
        ):
            with pytest.raises(ValueError) as exc:
                service.add_connection(tenant, name, db_session=db)
            assert str(exc.value).startswith(said) and "'Firm" not in str(exc.value)
