"""The qbslack command line against the real test database."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from app.cli import main
from app.core.runtime import Runtime
from app.core.settings import Settings
from jobs.enums import EventStatus
from tenants import service
from tenants.installations import save_installation
from tests.conftest import KEY_A, KEY_B
from tests.support.jobs import stored_event
from tests.support.soap import connect


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_connect_credentials_qwc_tenants(cli_env, capsys):
    code, out, err = run(capsys, "connect", "T9", "Acme Books")
    assert code == 1 and "install the Slack app" in err
    code, out, _ = run(capsys, "connect", "T9", "Acme Books", "--create-tenant")
    assert code == 0
    created = json.loads(out)
    assert created["team_id"] == "T9" and created["password"] and created["username"]
    code, out, _ = run(capsys, "connect", "T9", "Client Two")
    assert code == 0

    code, out, _ = run(capsys, "credentials", "T9")
    shown = json.loads(out)
    assert shown == {"team_id": "T9", "company": "Acme Books", "username": created["username"]}
    code, out, _ = run(capsys, "credentials", "T9", "--company", "Client Two", "--reset")
    assert json.loads(out)["password"]

    code, out, _ = run(capsys, "qwc", "T9", "--company", "Acme Books")
    root = etree.fromstring(out.encode())
    assert root.tag == "QBWCXML"
    assert root.findtext("AppURL") == "https://qbslack.example.com/qbwc"
    assert root.findtext("UserName") == created["username"]
    assert root.findtext("Scheduler/RunEveryNMinutes") == "7"
    assert root.findtext("IsReadOnly") == "true" and root.findtext("QBType") == "QBFS"
    # QuickBooks then offers access with QuickBooks closed (the bound file opens unattended).
    assert root.findtext("UnattendedModePref") == "umpOptional"
    assert root.findtext("PersonalDataPref") == "pdpNotNeeded"
    assert root.findtext("FileID").startswith("{") and root.findtext("OwnerID").startswith("{")

    code, out, _ = run(capsys, "tenants")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["company"] for line in lines] == ["Acme Books", "Client Two"]
    assert all(line["team_id"] == "T9" and line["last_poll"] is None for line in lines)
    assert all(line["company_file"] is None for line in lines)  # bound at the first sync

    code, _, err = run(capsys, "credentials", "T404")
    assert code == 1 and "T404" in err


def test_keys_rotate(cli_env, capsys, engine):
    from sqlalchemy import text

    rt = Runtime.from_settings(Settings.from_env(), engine=engine)
    with rt.transaction() as db:
        tenant = service.upsert_tenant("T7", "Seven", db_session=db)
        save_installation(tenant, cipher=rt.cipher, bot_token="xoxb-rotate-me", db_session=db)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT bot_token_encrypted FROM installations")).scalar()
    cli_env.setenv("TOKEN_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    code, out, _ = run(capsys, "keys", "rotate")
    assert code == 0 and json.loads(out) == {"rotated_installations": 1}
    with engine.connect() as conn:
        after = conn.execute(text("SELECT bot_token_encrypted FROM installations")).scalar()
    assert after != before and "xoxb" not in after
    from cryptography.fernet import Fernet

    assert Fernet(KEY_B).decrypt(after.encode()) == b"xoxb-rotate-me"
    rt.close()


def test_worker_without_redis_says_so(cli_env, capsys):
    code, _, err = run(capsys, "worker", "--burst")
    assert code == 1 and "REDIS_URL" in err


def test_purge_needs_yes(cli_env, capsys):
    run(capsys, "connect", "T5", "Five", "--create-tenant")
    code, _, err = run(capsys, "purge", "T5")
    assert code == 1 and "--yes" in err
    code, out, _ = run(capsys, "purge", "T5", "--yes")
    assert code == 0
    code, out, _ = run(capsys, "tenants")
    assert out == ""


def test_simulate_plays_a_session_against_a_live_endpoint(live_server, capsys, monkeypatch):

    c = connect(live_server.runtime)
    code, out, _ = run(
        capsys,
        "simulate",
        "--url",
        live_server.qbwc,
        "--username",
        c.username,
        "--password",
        c.password,
    )
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["progress"][-1] == 100
    assert report["calls"][-1] == "closeConnection"
    code, out, _ = run(
        capsys,
        "simulate",
        "--url",
        live_server.qbwc,
        "--username",
        c.username,
        "--password",
        "wrong",
    )
    assert code == 1 and json.loads(out)["auth_result"] == "nvu"


def test_replay_command(cli_env, capsys):
    run(capsys, "connect", "T6", "Six", "--create-tenant")
    code, out, _ = run(capsys, "replay", "T6", "failed")
    assert code == 0 and json.loads(out) == {"team_id": "T6", "queued": 0}
    code, _, err = run(capsys, "replay", "T6", "since", "yesterday")
    assert code == 1 and "not a date" in err


def test_backfill_before_and_after_the_first_sync(cli_env, capsys, engine):

    run(capsys, "connect", "T8", "Eight", "--create-tenant")
    code, out, _ = run(capsys, "backfill", "T8", "30")
    assert code == 0 and json.loads(out)["at_first_sync"] is True
    rt = Runtime.from_settings(Settings.from_env(), engine=engine)
    with rt.transaction() as db:
        conn = service.require_connection("T8", None, db_session=db)
        assert conn.backfill_days == 30
        conn.baseline_done = True
        db.add(stored_event(conn.tenant_id, conn.id, "B1", status=EventStatus.BASELINE))
    code, out, _ = run(capsys, "backfill", "T8", "7")
    assert json.loads(out)["queued"] == 1 and json.loads(out)["at_first_sync"] is False
    code, _, err = run(capsys, "backfill", "T8", "0")
    assert code == 1 and "1 to 365" in err
    rt.close()
