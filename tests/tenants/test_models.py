"""Models, constraints, token encryption and credentials on real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.crypto import TokenCipher, TokenDecryptError
from jobs.models import Event
from tenants import service
from tenants.credentials import hash_password, verify_password
from tenants.installations import bot_token, rotate_tokens, save_installation
from tenants.models import Connection, Tenant
from tenants.routes import RouteChoice, choose_route, clear_route, route_map, set_route
from tenants.service import NewCredentials
from tests.conftest import KEY_A, KEY_B


def make_tenant(
    db_session: Session, team_id: str = "T001", company: str = "Acme Books"
) -> tuple[Tenant, NewCredentials]:
    tenant = service.upsert_tenant(team_id, "Acme", db_session=db_session)
    creds = service.add_connection(tenant, company, db_session=db_session)
    return tenant, creds


def test_token_is_encrypted_at_rest_and_rotates(db_session):
    tenant, _ = make_tenant(db_session)
    cipher = TokenCipher([KEY_A])
    save_installation(
        tenant,
        cipher=cipher,
        bot_token="xoxb-plaintext-secret",
        bot_user_id="U1",
        db_session=db_session,
    )
    raw = db_session.execute(text("SELECT bot_token_encrypted FROM installations")).scalar_one()
    assert "xoxb-plaintext-secret" not in raw
    assert bot_token(tenant.id, cipher=cipher, db_session=db_session) == "xoxb-plaintext-secret"

    rotated = TokenCipher([KEY_B, KEY_A])
    assert rotate_tokens(rotated, db_session=db_session) == 1
    db_session.expire_all()
    new_raw = db_session.execute(text("SELECT bot_token_encrypted FROM installations")).scalar_one()
    assert new_raw != raw
    only_new = TokenCipher([KEY_B])
    assert bot_token(tenant.id, cipher=only_new, db_session=db_session) == "xoxb-plaintext-secret"
    with pytest.raises(TokenDecryptError):
        bot_token(tenant.id, cipher=TokenCipher([KEY_A]), db_session=db_session)


def test_cipher_repr_hides_keys():
    key = Fernet.generate_key().decode()
    assert key not in repr(TokenCipher([key]))


def test_password_hash_is_scrypt_and_verifies():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$")
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "garbage")


def test_connection_credentials_and_reset(db_session):
    tenant, creds = make_tenant(db_session)
    assert creds.password and creds.username.startswith("qbs-")
    conn = service.require_connection("T001", None, db_session=db_session)
    assert verify_password(creds.password, conn.password_hash)
    again = service.credentials(conn, reset=False, db_session=db_session)
    assert again.password is None and again.username == creds.username
    reset = service.credentials(conn, reset=True, db_session=db_session)
    assert reset.password and reset.password != creds.password
    assert verify_password(reset.password, conn.password_hash)
    assert not verify_password(creds.password, conn.password_hash)


def test_many_company_files_per_workspace(db_session):
    tenant, first = make_tenant(db_session)
    second = service.add_connection(tenant, "Client B LLC", db_session=db_session)
    assert first.username != second.username
    found = service.require_connection("T001", "client b llc", db_session=db_session)
    assert found.company_name == "Client B LLC"
    with pytest.raises(ValueError):
        service.add_connection(tenant, "client b llc", db_session=db_session)
    with pytest.raises(service.NotFound):
        service.require_connection("T001", "nobody", db_session=db_session)


def _event(tenant: Tenant, conn: Connection, **kw: Any) -> Event:
    base = dict(
        tenant_id=tenant.id,
        connection_id=conn.id,
        event_type="bill",
        action="created",
        object_type="Bill",
        object_id="1A-1700000000",
        edit_sequence="1700000000",
        payload={},
    )
    base.update(kw)
    return Event(**base)


def test_duplicate_event_is_impossible(db_session):
    tenant, _ = make_tenant(db_session)
    conn = tenant.connections[0]
    db_session.add(_event(tenant, conn))
    db_session.flush()
    db_session.add(_event(tenant, conn, action="updated"))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_new_edit_sequence_is_a_new_event(db_session):
    tenant, _ = make_tenant(db_session)
    conn = tenant.connections[0]
    db_session.add_all([_event(tenant, conn), _event(tenant, conn, edit_sequence="1700000099")])
    db_session.flush()
    assert len(db_session.scalars(select(Event)).all()) == 2


def test_routes_connection_wins_then_workspace_then_default(db_session):
    tenant, _ = make_tenant(db_session)
    conn = tenant.connections[0]
    assert _resolve(tenant.id, conn.id, "bill", db_session=db_session) is None
    set_route(tenant.id, "default", "CDEF", db_session=db_session)
    assert _channel(tenant.id, conn.id, "bill", db_session=db_session) == "CDEF"
    set_route(tenant.id, "bill", "CWS", db_session=db_session)
    assert _channel(tenant.id, conn.id, "bill", db_session=db_session) == "CWS"
    set_route(tenant.id, "bill", "CCONN", connection_id=conn.id, db_session=db_session)
    choice = _resolve(tenant.id, conn.id, "bill", db_session=db_session)
    assert choice is not None and choice.channel_id == "CCONN" and choice.connection_scoped
    # Replacing a route keeps one row per scope and type.
    set_route(tenant.id, "bill", "CWS2", db_session=db_session)
    assert clear_route(tenant.id, "bill", connection_id=conn.id, db_session=db_session)
    assert _channel(tenant.id, conn.id, "bill", db_session=db_session) == "CWS2"
    # Opt-in types never fall back to the default channel.
    assert _resolve(tenant.id, conn.id, "account", db_session=db_session) is None
    with pytest.raises(ValueError):
        set_route(tenant.id, "nonsense", "C1", db_session=db_session)


def test_route_uniqueness_holds_in_the_database(db_session):
    tenant, _ = make_tenant(db_session)
    db_session.execute(
        text(
            "INSERT INTO routes (tenant_id, event_type, channel_id, updated_at) "
            "VALUES (:t, 'bill', 'C1', now())"
        ),
        {"t": tenant.id},
    )
    with pytest.raises(IntegrityError):
        db_session.execute(
            text(
                "INSERT INTO routes (tenant_id, event_type, channel_id, updated_at) "
                "VALUES (:t, 'bill', 'C2', now())"
            ),
            {"t": tenant.id},
        )


def _resolve(
    tenant_id: int, connection_id: int, event_type: str, *, db_session: Session
) -> RouteChoice | None:
    """The route routing would pick for one event of this type."""
    routes = route_map(tenant_id, connection_id, db_session=db_session)
    return choose_route(routes, connection_id, event_type)


def _channel(
    tenant_id: int, connection_id: int, event_type: str, *, db_session: Session
) -> str | None:
    """The channel routing would pick for one event of this type (None: unrouted)."""
    choice = _resolve(tenant_id, connection_id, event_type, db_session=db_session)
    return choice.channel_id if choice is not None else None
