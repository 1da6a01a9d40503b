"""Shared fixtures: real PostgreSQL and Redis, isolated per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

import jobs.models  # noqa: F401 - registers the outbox's tables on Base.metadata
import tenants.models  # noqa: F401 - and the tenants' tables
from app import create_app
from app.core.db import Base, make_engine, make_session_factory
from app.core.jobqueue import InProcessJobQueue, RQJobQueue
from app.core.migrate import upgrade
from app.core.runtime import Runtime
from app.core.settings import Settings

# Fixture modules shared across test files (root conftest is where plugins belong).
pytest_plugins = ["tests.support.soap", "tests.support.jobs", "tests.support.slack"]

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
METRICS_TOKEN = "metrics-token-for-tests"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def make_settings(**overrides: object) -> Settings:
    """Test settings on the test databases, with fixed secrets."""
    base = Settings(
        database_url=TEST_DATABASE_URL,
        redis_url=TEST_REDIS_URL,
        public_url="https://qbslack.example.com",
        slack_client_id="111.222",
        slack_client_secret="client-secret-for-tests",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url="http://127.0.0.1:9/api/",
        token_encryption_keys=(KEY_A,),
        secret_key="secret-key-for-tests-only",
        metrics_token=METRICS_TOKEN,  # an https PUBLIC_URL serves /metrics only with one
        log_json=False,
    )
    return base.with_overrides(**overrides) if overrides else base


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The test PostgreSQL database, rebuilt once per run through the migrations."""
    eng = make_engine(TEST_DATABASE_URL)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(TEST_DATABASE_URL)
    yield eng
    eng.dispose()


@pytest.fixture
def db_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    """Sessions on the test connection: their commits become savepoints."""
    return make_session_factory(db_connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for one test; everything it does is rolled back."""
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """The test Redis database, flushed before and after."""
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    try:
        yield conn
    finally:
        conn.flushdb()
        conn.close()


@pytest.fixture
def settings() -> Settings:
    """Test settings."""
    return make_settings()


@pytest.fixture
def runtime(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    redis_conn: Redis,
) -> Iterator[Runtime]:
    """A runtime whose transactions roll back after the test and whose jobs go to RQ."""
    rt = Runtime.from_settings(
        settings,
        engine=engine,
        session_factory=session_factory,
        redis=redis_conn,
        jobs=RQJobQueue(redis_conn),
    )
    yield rt


@pytest.fixture
def committed_runtime(settings: Settings, engine: Engine, redis_conn: Redis) -> Iterator[Runtime]:
    """A runtime that really commits (for threaded servers); tables are emptied after."""
    rt = Runtime.from_settings(settings, engine=engine, redis=redis_conn)
    try:
        yield rt
    finally:
        if isinstance(rt.jobs, InProcessJobQueue):
            rt.jobs.shutdown()
        truncate_all(engine)


def truncate_all(engine: Engine) -> None:
    """Empty every table (used after tests that commit for real)."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    """The Flask app on the rolled-back test runtime."""

    flask_app = create_app(runtime)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Iterator[pytest.MonkeyPatch]:
    """The environment `qbslack` commands read: the test database, fixed secrets, no Redis."""
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "PUBLIC_URL": "https://qbslack.example.com",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "cs",
        "SLACK_SIGNING_SECRET": "ss",
        "TOKEN_ENCRYPTION_KEYS": KEY_A,
        "SECRET_KEY": "sk",
        "QBWC_RUN_EVERY_MINUTES": "7",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield monkeypatch
    truncate_all(engine)
