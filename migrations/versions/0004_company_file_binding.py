"""Each connection is bound to its company file (bound_*), and remembers a wrong one (open_*)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("bound_company", sa.String(length=255)),
    ("bound_file_id", sa.String(length=64)),
    ("bound_at", sa.DateTime(timezone=True)),
    ("open_company", sa.String(length=255)),
    ("open_file_id", sa.String(length=64)),
    ("open_file_path", sa.Text()),
)


def upgrade() -> None:
    # Existing connections stay unbound until their next complete sync binds them.
    with op.batch_alter_table("connections") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        # "wrong_company_file" is longer than the 16 characters statuses had.
        batch.alter_column("status", type_=sa.String(length=32), existing_type=sa.String(length=16))


def downgrade() -> None:
    op.execute("UPDATE connections SET status = 'error' WHERE status = 'wrong_company_file'")
    with op.batch_alter_table("connections") as batch:
        for name, _ in COLUMNS:
            batch.drop_column(name)
        batch.alter_column("status", type_=sa.String(length=16), existing_type=sa.String(length=32))
