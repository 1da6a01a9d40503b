"""The people a manager made managers of a workspace; callers own the transaction.

Admins, owners and the first installer are managers without a row here (the Slack side
asks Slack who they are); these rows are the others. A row alone makes no one a manager:
the Slack side also checks, each time, that the person is still a member of the workspace.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.db import dialect_insert, utcnow
from tenants.models import Manager

MAX_ADDED = 50  # added managers per workspace
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class ManagerError(ValueError):
    """A manager cannot be added (not a user id, too many); the text says why."""


def list_managers(tenant_id: int, *, db_session: Session) -> list[Manager]:
    """A workspace's added managers, in the order they were added."""
    return list(
        db_session.scalars(
            select(Manager)
            .where(Manager.tenant_id == tenant_id)
            .order_by(Manager.added_at, Manager.user_id)
        )
    )


def is_added(tenant_id: int, user_id: str, *, db_session: Session) -> bool:
    """True when a manager added this person to this workspace's managers."""
    stmt = select(Manager.user_id).where(Manager.tenant_id == tenant_id, Manager.user_id == user_id)
    return db_session.scalar(stmt) is not None


def add_manager(tenant_id: int, user_id: str, *, added_by: str, db_session: Session) -> bool:
    """Make someone a manager of a workspace: True when added, False when already one.

    ManagerError when they cannot be: not a user id, or the workspace has MAX_ADDED.
    """
    if not _USER_ID.match(user_id or ""):
        raise ManagerError("that is not a Slack user")
    if is_added(tenant_id, user_id, db_session=db_session):
        return False
    count = db_session.scalar(
        select(func.count()).select_from(Manager).where(Manager.tenant_id == tenant_id)
    )
    if (count or 0) >= MAX_ADDED:
        raise ManagerError(
            f"a workspace can add at most {MAX_ADDED} managers: remove one first "
            "(admins and owners need not be added)"
        )
    # Two managers adding the same person at once: one row, no error.
    stmt = (
        dialect_insert(db_session)(Manager)
        .values(tenant_id=tenant_id, user_id=user_id, added_by=added_by, added_at=utcnow())
        .on_conflict_do_nothing()
        .returning(Manager.user_id)
    )
    return db_session.execute(stmt).first() is not None


def remove_manager(tenant_id: int, user_id: str, *, db_session: Session) -> bool:
    """Take someone off a workspace's added managers; False when they were not on it."""
    result = db_session.execute(
        delete(Manager).where(Manager.tenant_id == tenant_id, Manager.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))
