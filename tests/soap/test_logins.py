"""Remembered QBWC logins (shared through Redis) and the pool's ping after idle."""

from __future__ import annotations

from sqlalchemy import text

from app.core.db import make_engine
from soap.logins import KEY_PREFIX, VerifiedLogins
from tenants.credentials import hash_password
from tests.conftest import TEST_DATABASE_URL

PASSWORD = "tiger-lily-42"


def test_a_login_verified_by_one_process_is_known_to_another(redis_conn):
    stored = hash_password(PASSWORD)
    web1 = VerifiedLogins(secret="s3cret", redis=redis_conn)
    web2 = VerifiedLogins(secret="s3cret", redis=redis_conn)
    assert not web2.known("qbs-a", PASSWORD, stored)
    web1.remember("qbs-a", PASSWORD, stored)
    assert web2.known("qbs-a", PASSWORD, stored)
    # Another password, user, stored hash (a reset) or key: not known.
    assert not web2.known("qbs-a", PASSWORD + "x", stored)
    assert not web2.known("qbs-b", PASSWORD, stored)
    assert not web2.known("qbs-a", PASSWORD, hash_password(PASSWORD))
    assert not VerifiedLogins(secret="other", redis=redis_conn).known("qbs-a", PASSWORD, stored)


def test_redis_holds_neither_password_nor_username(redis_conn):
    stored = hash_password(PASSWORD)
    VerifiedLogins(secret="s3cret", redis=redis_conn).remember("qbs-a", PASSWORD, stored)
    keys = redis_conn.keys(KEY_PREFIX + "*")
    assert len(keys) == 1 and 0 < redis_conn.ttl(keys[0]) <= 12 * 3600
    blob = keys[0] + redis_conn.get(keys[0])
    for secret in (PASSWORD, "qbs-a", stored.split("$")[-1]):
        assert secret.encode() not in blob


def test_without_a_secret_logins_stay_in_the_process(redis_conn):
    stored = hash_password(PASSWORD)
    local = VerifiedLogins(secret="", redis=redis_conn)
    local.remember("qbs-a", PASSWORD, stored)
    assert local.known("qbs-a", PASSWORD, stored)
    assert redis_conn.keys(KEY_PREFIX + "*") == []
    assert not VerifiedLogins(secret="", redis=redis_conn).known("qbs-a", PASSWORD, stored)


def test_a_pooled_connection_cut_while_idle_is_replaced():
    engine = make_engine(TEST_DATABASE_URL, idle_ping_seconds=0, pool_size=1, max_overflow=0)
    other = make_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with other.begin() as conn:  # what a server restart does to pooled connections
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
        other.dispose()
