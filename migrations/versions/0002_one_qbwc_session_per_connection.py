"""one QBWC session row per connection (authenticate upserts it)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # authenticate already kept one row per connection; drop any older leftovers first.
    op.execute(
        sa.text(
            "DELETE FROM qbwc_sessions WHERE ticket_hash NOT IN ("
            " SELECT ticket_hash FROM (SELECT ticket_hash, ROW_NUMBER() OVER ("
            "  PARTITION BY connection_id ORDER BY created_at DESC, ticket_hash) AS n"
            "  FROM qbwc_sessions) AS ranked WHERE n = 1)"
        )
    )
    with op.batch_alter_table("qbwc_sessions") as batch:
        batch.drop_index("ix_qbwc_sessions_connection_id")
        batch.create_index("ix_qbwc_sessions_connection_id", ["connection_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("qbwc_sessions") as batch:
        batch.drop_index("ix_qbwc_sessions_connection_id")
        batch.create_index("ix_qbwc_sessions_connection_id", ["connection_id"], unique=False)
