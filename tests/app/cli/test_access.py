"""Taking access away: a reset, a disable and a purge end live QBWC sessions; purge tells Slack."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from soap.logins import KEY_PREFIX as LOGIN_PREFIX
from soap.tickets import KEY_PREFIX as TICKET_PREFIX
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Tenant
from tests.conftest import TEST_REDIS_URL
from tests.fakes import FakeSlack
from tests.support.soap import Connected, LiveServer, Qbwc, connect, connection

# An answer a live session takes (100): after the access is taken away it is refused.
FINE = (
    '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CompanyQueryRs requestID="company.1" '
    'statusCode="1" statusSeverity="Info" statusMessage="none"/></QBXMLMsgsRs></QBXML>'
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    return dict(json.loads(capsys.readouterr().out))


@pytest.fixture
def shared_env(cli_env: pytest.MonkeyPatch, fake_slack: FakeSlack) -> pytest.MonkeyPatch:
    """The CLI on the same Redis as the live server (a production stack) and the fake Slack."""
    cli_env.setenv("REDIS_URL", TEST_REDIS_URL)
    cli_env.setenv("SLACK_API_URL", fake_slack.url)
    cli_env.setenv("SECRET_KEY", "secret-key-for-tests-only")  # the server's: same login cache
    return cli_env


def _live_session(server: LiveServer, qbwc: Qbwc, team: str = "T100") -> tuple[Connected, str]:
    c = connect(server.runtime, team)
    ticket, status = qbwc.authenticate(c.username, c.password)
    assert status == "" and "VendorQueryRq" in qbwc.send(ticket)
    return c, ticket


def test_a_password_reset_ends_the_live_session_at_its_next_call(
    live_server: LiveServer, qbwc: Qbwc, shared_env: pytest.MonkeyPatch, capsys
) -> None:
    c, ticket = _live_session(live_server, qbwc)
    _run(capsys, "credentials", "T100", "--company", "Acme Books", "--reset")
    assert qbwc.receive(ticket, FINE) < 0  # the old session's next call: over
    assert "expired or is unknown" in qbwc.text("getLastError", ticket)
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]  # the old password


def test_disabling_ends_the_live_session_and_refuses_the_next_poll(
    live_server: LiveServer, qbwc: Qbwc, shared_env: pytest.MonkeyPatch, capsys
) -> None:
    c, ticket = _live_session(live_server, qbwc)
    out = _run(capsys, "disable", "T100", "--company", "Acme Books")
    assert out["ended"] == 1
    assert qbwc.receive(ticket, FINE) < 0
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    assert connection(live_server.runtime, c.connection_id).status == ConnectionStatus.DISABLED
    _run(capsys, "enable", "T100", "--company", "Acme Books")
    assert qbwc.authenticate(c.username, c.password)[1] == ""

    _run(capsys, "disable", "T100")  # the whole workspace
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    with live_server.runtime.transaction() as db:
        disabled = db.get(Tenant, c.tenant_id)
        assert disabled is not None and disabled.status == TenantStatus.DISABLED


def test_purge_revokes_the_token_at_slack_and_leaves_nothing_in_redis(
    live_server: LiveServer,
    qbwc: Qbwc,
    shared_env: pytest.MonkeyPatch,
    fake_slack: FakeSlack,
    capsys,
) -> None:
    c, ticket = _live_session(live_server, qbwc)
    fake_slack.add_token("xoxb-T100")
    redis = live_server.runtime.redis
    assert redis is not None
    assert redis.keys(TICKET_PREFIX + "*") and redis.keys(LOGIN_PREFIX + "*")
    out = _run(capsys, "purge", "T100", "--yes")
    assert out == {"purged": "T100", "slack_tokens_revoked": 1, "sessions_ended": 1}
    assert "xoxb-T100" in fake_slack.revoked
    assert not redis.keys(TICKET_PREFIX + "*") and not redis.keys(LOGIN_PREFIX + "*")
    assert qbwc.receive(ticket, FINE) < 0
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]


def test_remove_deletes_one_company_file_and_ends_its_session(
    live_server: LiveServer, qbwc: Qbwc, shared_env: pytest.MonkeyPatch, capsys
) -> None:
    c, ticket = _live_session(live_server, qbwc)
    other = connect(live_server.runtime, "T100", "Other Books")
    assert main(["remove", "T100", "--company", "Acme Books"]) == 1  # no --yes
    capsys.readouterr()
    out = _run(capsys, "remove", "T100", "--company", "Acme Books", "--yes")
    assert out == {"team_id": "T100", "removed": "Acme Books", "sessions_ended": 1}
    assert qbwc.receive(ticket, FINE) < 0
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    assert qbwc.authenticate(other.username, other.password)[1] == ""  # the rest stays
