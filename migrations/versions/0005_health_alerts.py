"""Health alerts: one open alert per condition per connection; what the checks need

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("run_every_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("error_code", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("error_streak", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("lock_source", sa.String(length=64), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "health_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "connection_id",
            sa.Integer(),
            sa.ForeignKey("connections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index(
        op.f("ix_health_alerts_tenant_id"), "health_alerts", ["tenant_id"], unique=False
    )
    op.create_index(
        "uq_health_alerts_open",
        "health_alerts",
        ["connection_id", "kind"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
        sqlite_where=sa.text("resolved_at IS NULL"),
    )
    # The checker's candidates, each by its own index; the failed and unrouted events per
    # connection come from ix_events_status_next_attempt, which leads with status.
    for column in ("last_poll_at", "status", "locked_until"):
        op.create_index(f"ix_connections_{column}", "connections", [column], unique=False)
    op.create_index(op.f("ix_tenants_status"), "tenants", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tenants_status"), table_name="tenants")
    for column in ("last_poll_at", "status", "locked_until"):
        op.drop_index(f"ix_connections_{column}", table_name="connections")
    op.drop_index("uq_health_alerts_open", table_name="health_alerts")
    op.drop_index(op.f("ix_health_alerts_tenant_id"), table_name="health_alerts")
    op.drop_table("health_alerts")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("failing_since")
    with op.batch_alter_table("connections") as batch:
        for name in ("lock_source", "error_streak", "error_code", "run_every_minutes"):
            batch.drop_column(name)
