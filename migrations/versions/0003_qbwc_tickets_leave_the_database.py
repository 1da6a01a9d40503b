"""QBWC tickets leave the database (soap.tickets keeps them in Redis)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Live tickets last minutes: a QBWC mid-session when this runs just starts over at its
    # next poll, from the watermarks, which stay here.
    op.drop_table("qbwc_sessions")


def downgrade() -> None:
    op.create_table(
        "qbwc_sessions",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("qbxml_version", sa.String(length=8), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("last_request", sa.Text(), nullable=True),
        sa.Column("requests_sent", sa.Integer(), nullable=False),
        sa.Column("events_created", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_call_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_qbwc_sessions_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_qbwc_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_qbwc_sessions")),
    )
    op.create_index(
        op.f("ix_qbwc_sessions_connection_id"), "qbwc_sessions", ["connection_id"], unique=True
    )
    op.create_index(
        op.f("ix_qbwc_sessions_expires_at"), "qbwc_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_qbwc_sessions_tenant_id"), "qbwc_sessions", ["tenant_id"], unique=False
    )
