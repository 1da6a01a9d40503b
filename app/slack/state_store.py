"""Bolt's OAuthStateStore over our database: server-side, expiring, single use."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import delete

from app.core.db import utcnow
from app.core.runtime import Runtime
from tenants.models import OAuthState

log = logging.getLogger(__name__)

STATE_TTL = dt.timedelta(minutes=10)


class DbOAuthStateStore(OAuthStateStore):
    """OAuth states kept server-side, single use, expiring after ten minutes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        with self.runtime.transaction() as db:
            db.execute(delete(OAuthState).where(OAuthState.expires_at < utcnow()))
            db.add(OAuthState(state=state, expires_at=utcnow() + STATE_TTL))
        return state

    def consume(self, state: str) -> bool:
        with self.runtime.transaction() as db:
            row = db.get(OAuthState, state or "")
            if row is None:
                return False
            db.delete(row)
            return row.expires_at > utcnow()
