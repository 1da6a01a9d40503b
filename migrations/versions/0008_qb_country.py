"""The QuickBooks edition's country QBWC reports (US, CA, UK, AU): the home currency's symbol

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("qb_country", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("qb_country")
