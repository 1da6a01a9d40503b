"""The app factory, health check, embedded mode and settings."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.core.jobqueue import RQJobQueue
from app.core.logs import JsonFormatter, redact
from app.core.runtime import Runtime
from app.core.settings import ConfigError, Settings
from tests.conftest import make_settings
from tests.support.processes import free_port


def test_healthz_ok_on_postgres_and_redis(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["db"] == "ok" and resp.get_json()["queue"] == "ok"


def test_healthz_names_redis_when_down(engine, session_factory):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    rt = Runtime.from_settings(
        make_settings(),
        engine=engine,
        session_factory=session_factory,
        redis=dead,
        jobs=RQJobQueue(dead),
    )
    resp = create_app(rt).test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["queue"] == "down" and resp.get_json()["db"] == "ok"


def test_healthz_names_db_when_down(redis_conn):
    settings = make_settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    )
    rt = Runtime.from_settings(settings, redis=redis_conn)
    resp = create_app(rt).test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["db"] == "down" and resp.get_json()["queue"] == "ok"
    rt.engine.dispose()


def test_support_page_answers(client):
    assert client.get("/support").status_code == 200


def test_unknown_route_is_json_404(client):
    resp = client.get("/nope")
    assert resp.status_code == 404 and resp.get_json()["error"] == "Not Found"


def test_settings_repr_hides_secrets():
    s = make_settings()
    text = repr(s)
    for secret in (s.secret_key, s.slack_client_secret, s.slack_signing_secret):
        assert secret not in text
    assert s.token_encryption_keys[0] not in text


def test_production_settings_name_missing_secrets():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"DATABASE_URL": "postgresql+psycopg://x@h/db"})
    for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "SLACK_SIGNING_SECRET", "PUBLIC_URL"):
        assert name in str(err.value)


def test_an_https_public_url_needs_real_secrets_even_on_sqlite(tmp_path):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(
            {"PUBLIC_URL": "https://books.example.com"}, dev_secrets_path=tmp_path / "dev.json"
        )
    assert "SECRET_KEY" in str(err.value) and "https" in str(err.value)
    assert not (tmp_path / "dev.json").exists()  # no development secrets were generated


def test_dev_secrets_file_is_owner_only_from_the_start(tmp_path):
    path = tmp_path / "dev.json"
    old = os.umask(0)  # even a permissive umask makes no world-readable file
    try:
        Settings.from_env({}, dev_secrets_path=path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_dev_defaults_generate_secrets_once(tmp_path):
    path = tmp_path / "dev.json"
    first = Settings.from_env({}, dev_secrets_path=path)
    second = Settings.from_env({}, dev_secrets_path=path)
    assert first.secret_key == second.secret_key and first.token_encryption_keys
    assert first.database_url == "sqlite:///qbslack.db" and first.embedded_jobs
    assert first.public_url == "http://localhost:8000"
    with pytest.raises(ConfigError):
        Settings.from_env({"QBWC_RUN_EVERY_MINUTES": "0"}, dev_secrets_path=path)


def test_logs_never_print_tokens():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "token xoxb-123-abc and password=hunter2", None, None
    )
    line = JsonFormatter().format(record)
    assert "xoxb-123-abc" not in line and "hunter2" not in line
    assert json.loads(line)["level"] == "INFO"
    assert "s3cret" not in redact("<strPassword>s3cret</strPassword>")


def test_embedded_mode_boots_on_sqlite_without_redis(tmp_path):
    """`qbslack serve` with no DATABASE_URL/REDIS_URL: SQLite, in-process jobs, /healthz 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PORT"] = str(port)
    qbslack = Path(sys.executable).with_name("qbslack")
    proc = subprocess.Popen(
        [str(qbslack), "serve", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        body = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert body is not None, proc.stderr.read().decode() if proc.poll() is not None else ""
        assert body["db"] == "ok" and body["queue"] == "ok" and body["mode"] == "embedded"
        assert (tmp_path / "qbslack.db").exists()
        assert (tmp_path / ".qbslack-dev-secrets.json").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stderr.close()


def test_database_errors_never_show_bound_values(engine):
    """A failed statement's message (logged with the error) hides what was bound to it."""
    with pytest.raises(DBAPIError) as err, engine.connect() as conn:
        conn.execute(
            text("SELECT CAST(:bad AS integer), :secret"),
            {"bad": "not a number", "secret": "scrypt$SECRETHASH"},
        )
    assert "SECRETHASH" not in str(err.value) and "hidden" in str(err.value)
