"""Bolt's InstallationStore over our database: tenants, encrypted tokens, first company."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore

from app.core.runtime import Runtime
from jobs.outbox import schedule_events
from jobs.parked import retry_parked
from jobs.service import resume_tenant
from tenants import installations, service
from tenants.enums import TenantStatus

log = logging.getLogger(__name__)

# Installation.custom_values set by save() for the OAuth success callback (same object).
FIRST_INSTALL = "qbslack_first_install"
TENANT_STATUS = "qbslack_tenant_status"


class DbInstallationStore(InstallationStore):
    """Installations as tenants: the first install also creates the first company file."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        rt = self.runtime
        team_id = installation.team_id or installation.enterprise_id or ""
        with rt.transaction() as db:
            tenant = service.upsert_tenant(team_id, installation.team_name or "", db_session=db)
            # The first install makes its installer a manager; a later one (whoever runs
            # it) brings tokens and scopes only. The success callback reads this.
            first = tenant.installation is None or tenant.installation.installer_user_id is None
            installation.set_custom_value(FIRST_INSTALL, first and bool(installation.user_id))
            installation.set_custom_value(TENANT_STATUS, tenant.status)
            installations.save_installation(
                tenant,
                cipher=rt.cipher,
                bot_token=installation.bot_token,
                bot_user_id=installation.bot_user_id,
                bot_id=installation.bot_id,
                app_id=installation.app_id,
                bot_scopes=",".join(installation.bot_scopes or []),
                installer_user_id=installation.user_id,
                user_token=installation.user_token,
                user_scopes=",".join(installation.user_scopes or []) or None,
                bot_refresh_token=installation.bot_refresh_token,
                is_enterprise_install=bool(installation.is_enterprise_install),
                db_session=db,
            )
            if not tenant.connections:
                # The first company file; its password is revealed once, from App Home.
                service.add_connection(tenant, installation.team_name or team_id, db_session=db)
            resumed: list[int] = []
            if tenant.status == TenantStatus.ACTIVE:  # not one the operator disabled
                # Events paused for the token, and those parked because of a channel: a
                # reinstall is often the admin's fix (scopes, the app re-added to channels).
                resumed = resume_tenant(tenant.id, db_session=db)
                resumed += retry_parked(tenant.id, reason="app reinstalled", db_session=db)
        schedule_events(rt, resumed)

    def save_bot(self, bot: Bot) -> None:
        """Bots are saved with their installation (save())."""

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        inst = self.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return inst.to_bot() if inst is not None else None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        rt = self.runtime
        with rt.transaction() as db:
            tenant = service.get_tenant(team_id or enterprise_id or "", db_session=db)
            if (
                tenant is None
                or tenant.installation is None
                or tenant.status != TenantStatus.ACTIVE
            ):
                return None
            inst = tenant.installation
            token = rt.cipher.decrypt(inst.bot_token_encrypted)
            if not token:
                return None
            return Installation(
                app_id=inst.app_id,
                enterprise_id=tenant.enterprise_id,
                team_id=tenant.team_id,
                team_name=tenant.team_name,
                bot_token=token,
                bot_id=inst.bot_id,
                bot_user_id=inst.bot_user_id,
                bot_scopes=inst.bot_scopes,
                user_id=inst.installer_user_id or "",
                user_token=None,
                is_enterprise_install=inst.is_enterprise_install,
                installed_at=inst.installed_at.timestamp(),
            )

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        with self.runtime.transaction() as db:
            tenant = service.get_tenant(team_id or enterprise_id or "", db_session=db)
            if tenant is not None:
                installations.revoke(tenant, reason="uninstalled from Slack", db_session=db)

    def delete_all(self, **kwargs: Any) -> None:
        self.delete_bot(enterprise_id=kwargs.get("enterprise_id"), team_id=kwargs.get("team_id"))


class DbAuthorize(Authorize):
    """Bolt's per-request authorize from our database alone.

    Bolt's default calls auth.test on every request before the listener can ack; the bot's
    ids were stored at install, so no Slack round trip is needed within the 3 seconds.
    """

    def __init__(self, store: DbInstallationStore) -> None:
        self.store = store

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult | None:
        inst = self.store.find_installation(enterprise_id=enterprise_id, team_id=team_id)
        if inst is None or not inst.bot_token:
            return None
        return AuthorizeResult(
            enterprise_id=inst.enterprise_id,
            team_id=inst.team_id,
            bot_user_id=inst.bot_user_id,
            bot_id=inst.bot_id,
            bot_token=inst.bot_token,
            bot_scopes=inst.bot_scopes,
        )
