"""`qbslack preview`: the last events as Slack would show them, threads indented."""

from __future__ import annotations

import datetime as dt

import pytest

from app.cli import main
from jobs.enums import EventStatus
from jobs.outbox import EventRow, add_events
from soap.simulator import QBWCSimulator, fixtures
from tests.support.soap import LiveServer, connect

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_preview_after_a_simulated_session(live_server: LiveServer, cli_env, capsys):
    c = connect(live_server.runtime, "T100", "Acme Books")
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, fixtures.load()).run()
    assert report.ok
    code, out, _ = run(capsys, "preview", "T100", "--last", "50")
    assert code == 0
    assert out.startswith("T100 · all company files · the last 50 events")
    assert "Vendor: Acme Supply Co" in out and "Amount: $1,250.00" in out
    assert "New bill" in out and "pending: not posted yet" in out
    messages = [line for line in out.splitlines() if line.startswith("● ")]
    code, out, _ = run(capsys, "preview", "T100", "--company", "acme books", "--last", "2")
    assert code == 0 and len([x for x in out.splitlines() if x.startswith("● ")]) == 2
    assert len(messages) > 2


def test_threads_are_indented_and_text_is_safe(committed_runtime, cli_env, capsys):
    c = connect(committed_runtime, "T100", "Acme Books")

    def row(minute: int, **more: object) -> EventRow:
        when = T0 + dt.timedelta(minutes=minute)
        base = {
            "tenant_id": c.tenant_id,
            "connection_id": c.connection_id,
            "event_type": "bill",
            "action": "created",
            "object_type": "Bill",
            "object_id": "TXN-1",
            "edit_sequence": str(minute),
            "counterparty": None,
            "payload": {},
            "status": EventStatus.PENDING,
            "sort_key": when,
            "created_at": when,
            "updated_at": when,
            "channel_id": "CDEFAULT",
        }
        return EventRow(**{**base, **more})  # type: ignore[typeddict-item]

    with committed_runtime.transaction() as db:
        add_events(
            [
                row(1, payload={"name": "Acme\x1b[2J Supply Co", "amount": "1250.00"}),
                row(2, action="updated", payload={"name": "Acme Supply Co", "amount": "1300"}),
                row(3, object_id="TXN-2", payload={"name": "Other & <Co>", "amount": "5"}),
            ],
            db_session=db,
        )
    code, out, _ = run(capsys, "preview", "T100")
    assert code == 0
    lines = out.splitlines()
    assert "\x1b" not in out  # a terminal escape in QuickBooks data is not replayed
    first = lines.index("  New bill")
    assert lines[first + 2] == "  Vendor: Acme\ufffd[2J Supply Co"
    assert "  └ 1 reply" in lines
    reply = next(i for i, line in enumerate(lines) if line.startswith("      ● "))
    assert lines[reply + 1] == "        Bill updated"
    assert "        Amount: 1,300.00" in lines
    assert "  Vendor: Other & <Co>" in lines  # Slack's entities shown as characters


def test_unknown_workspace_company_and_bad_last(cli_env, committed_runtime, capsys):
    code, _, err = run(capsys, "preview", "T404")
    assert code == 1 and "T404" in err
    connect(committed_runtime, "T100", "Acme Books")
    code, _, err = run(capsys, "preview", "T100", "--company", "Nope")
    assert code == 1 and "Nope" in err
    code, out, _ = run(capsys, "preview", "T100")
    assert code == 0 and "No events yet" in out
    with pytest.raises(SystemExit):
        main(["preview", "T100", "--last", "0"])
    assert "--last" in capsys.readouterr().err
