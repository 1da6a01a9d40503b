"""`qbslack tenants`: each company file's health, the verdict App Home shows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select

from app.cli import main
from app.cli.tenants import tenant_lines
from app.core.clock import ManualClock
from app.core.runtime import Runtime
from app.core.settings import Settings
from tenants import service
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.health import LABELS, Health
from tenants.models import Connection, Tenant
from tests.support.slack import SlackHarness

T0 = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)


def tenants(capsys: pytest.CaptureFixture[str]) -> dict[str | None, dict[str, object]]:
    """`qbslack tenants`, by company."""
    assert main(["tenants"]) == 0
    out, _ = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    return {line["company"]: line for line in lines}


def _home_status_lines(slack: SlackHarness) -> dict[str, str]:
    """Each company file's status line in the App Home published for UADMIN."""
    before = len(slack.fake.calls("views.publish"))
    slack.event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"}, event_id="Ev-cli")
    view = slack.fake.wait_for("views.publish", count=before + 1)[-1].params["view"]
    found = {}
    for block in view["blocks"]:
        lines = block.get("text", {}).get("text", "").splitlines()
        if any(line.startswith("Last 24 h:") for line in lines):
            found[lines[0].strip("*")] = lines[1]
    return found


def test_cli_status_agrees_with_app_home_for_the_same_clock(installed):
    slack = installed
    slack.runtime.clock = ManualClock(T0)
    states = {
        # company: (status column, last poll, locked until)
        "Client OK": (ConnectionStatus.OK, T0 - dt.timedelta(minutes=4), None),
        "Client Stale": (ConnectionStatus.OK, T0 - dt.timedelta(hours=3), None),
        "Client Error": (ConnectionStatus.ERROR, T0 - dt.timedelta(minutes=1), None),
        "Client Wrong": (ConnectionStatus.WRONG_FILE, T0 - dt.timedelta(minutes=2), None),
        "Client Old Error": (ConnectionStatus.ERROR, T0 - dt.timedelta(days=2), None),
        "Client Locked": (ConnectionStatus.OK, T0 - dt.timedelta(minutes=5), T0),
    }
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        for company, (status, polled, locked) in states.items():
            service.add_connection(tenant, company, db_session=db)
            conn = db.scalars(select(Connection).where(Connection.company_name == company)).one()
            conn.status, conn.last_poll_at, conn.locked_until = status, polled, locked
    lines = {line["company"]: line for line in tenant_lines(slack.runtime)}
    assert {c: line["status"] for c, line in lines.items()} == {
        "Firm T1": "new",
        "Client OK": "ok",
        "Client Stale": "stale",
        "Client Error": "error",
        "Client Wrong": "wrong_company_file",
        "Client Old Error": "stale",
        "Client Locked": "ok",
    }
    assert lines["Client Stale"]["health"] == "Stale · last poll 3 h ago"
    assert lines["Client Locked"]["locked"] is False  # locked until exactly now: over
    home = _home_status_lines(slack)
    assert set(home) == set(lines)
    for company, line in lines.items():
        label = LABELS[Health(str(line["status"]))]
        assert f"*{label}*" in home[company], company
        if line["last_poll"] is not None:
            assert home[company].endswith(str(line["health"]).removeprefix(label)), company


def test_tenants_prints_health_states_and_honours_stale_after_minutes(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine
) -> None:
    rt = Runtime.from_settings(Settings.from_env(), engine=engine)
    now = rt.clock.now()
    with rt.transaction() as db:
        firm = service.upsert_tenant("T9", "Nine", db_session=db)
        for company in ("Polled", "Never", "Off"):
            service.add_connection(firm, company, db_session=db)
        gone = service.upsert_tenant("T8", "Eight", db_session=db)
        service.add_connection(gone, "Gone", db_session=db)
        gone.status = TenantStatus.DISCONNECTED
        service.upsert_tenant("T7", "Seven", db_session=db)  # no company file yet
        conns = {c.company_name: c for c in db.scalars(select(Connection))}
        conns["Polled"].last_poll_at = now - dt.timedelta(minutes=10)
        conns["Polled"].qb_file_path, conns["Polled"].bound_at = r"C:\Books\Nine.QBW", now
        conns["Off"].status = ConnectionStatus.DISABLED
        conns["Gone"].last_poll_at = now - dt.timedelta(minutes=1)
    rt.close()

    got = tenants(capsys)
    assert {c: line["status"] for c, line in got.items()} == {
        "Polled": "ok",
        "Never": "new",
        "Off": "disabled",
        "Gone": "paused",
        None: "new",
    }
    polled = got["Polled"]
    # QBWC_RUN_EVERY_MINUTES is 7 here: stale after 3 × 7 min.
    assert polled["stale_after_minutes"] == 21 and polled["last_session"] == "new"
    assert str(polled["health"]).startswith("OK · last poll ")
    assert polled["company_file"] == r"C:\Books\Nine.QBW" and polled["last_error"] is None
    assert str(polled["last_poll"]).startswith(str((now - dt.timedelta(minutes=10)).date()))
    assert got[None]["team_id"] == "T7" and got["Gone"]["tenant_status"] == "disconnected"

    cli_env.setenv("STALE_AFTER_MINUTES", "5")
    got = tenants(capsys)
    assert got["Polled"]["status"] == "stale" and got["Polled"]["stale_after_minutes"] == 5
    assert str(got["Polled"]["health"]).startswith("Stale · last poll ")
    assert got["Gone"]["status"] == "paused"  # a disconnected workspace is paused first
