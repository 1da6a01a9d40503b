"""Slack installations: tokens encrypted on the way in, decrypted only where used."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.crypto import TokenCipher
from app.core.db import utcnow
from tenants.enums import TenantStatus
from tenants.models import Installation, Tenant

TOKEN_COLUMNS = ("bot_token_encrypted", "bot_refresh_token_encrypted", "user_token_encrypted")


def save_installation(
    tenant: Tenant,
    *,
    cipher: TokenCipher,
    bot_token: str | None,
    bot_user_id: str | None = None,
    bot_id: str | None = None,
    app_id: str | None = None,
    bot_scopes: str = "",
    installer_user_id: str | None = None,
    user_token: str | None = None,
    user_scopes: str | None = None,
    bot_refresh_token: str | None = None,
    is_enterprise_install: bool = False,
    db_session: Session,
) -> Installation:
    """Create or update a tenant's installation, encrypting its tokens.

    The first installer stays the installer: a later OAuth completion (whoever runs it)
    brings new tokens, scopes and bot ids, never a new manager.
    """
    inst = tenant.installation
    if inst is None:
        inst = Installation(tenant=tenant)
        db_session.add(inst)
    if inst.installer_user_id is None:
        inst.installer_user_id = installer_user_id
    inst.bot_token_encrypted = cipher.encrypt(bot_token)
    inst.bot_refresh_token_encrypted = cipher.encrypt(bot_refresh_token)
    inst.user_token_encrypted = cipher.encrypt(user_token)
    inst.bot_user_id = bot_user_id
    inst.bot_id = bot_id
    inst.app_id = app_id
    inst.bot_scopes = bot_scopes
    inst.user_scopes = user_scopes
    inst.is_enterprise_install = is_enterprise_install
    inst.installed_at = utcnow()
    db_session.flush()
    return inst


def bot_token(tenant_id: int, *, cipher: TokenCipher, db_session: Session) -> str | None:
    """The decrypted bot token of a tenant, or None when it has none."""
    encrypted = db_session.scalar(
        select(Installation.bot_token_encrypted).where(Installation.tenant_id == tenant_id)
    )
    return cipher.decrypt(encrypted)


def installer_user_id(tenant_id: int, *, db_session: Session) -> str | None:
    """The Slack user who installed the app in a workspace (alerts DM them by default)."""
    return db_session.scalar(
        select(Installation.installer_user_id).where(Installation.tenant_id == tenant_id)
    )


def revoke(tenant: Tenant, *, reason: str, db_session: Session) -> None:
    """Forget a tenant's tokens and mark it uninstalled; all other data stays."""
    if tenant.installation is not None:
        for column in TOKEN_COLUMNS:
            setattr(tenant.installation, column, None)
    tenant.status = TenantStatus.UNINSTALLED
    tenant.status_reason = reason
    db_session.flush()


def rotate_tokens(cipher: TokenCipher, *, db_session: Session) -> int:
    """Re-encrypt every stored token with the newest key; returns installations touched."""
    count = 0
    for inst in db_session.scalars(select(Installation).with_for_update()):
        for column in TOKEN_COLUMNS:
            setattr(inst, column, cipher.rotate(getattr(inst, column)))
        count += 1
    db_session.flush()
    return count
