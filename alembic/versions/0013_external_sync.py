"""1C sync: external object versions, sync runs, archived and pinned counterparties

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-30 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core.models.base import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "external_objects",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("data_version", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "kind", "ref", name=op.f("pk_external_objects")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_source"), "sync_runs", ["source"], unique=False)
    op.add_column("counterparties", sa.Column("archived_at", UTCDateTime(), nullable=True))
    op.add_column(
        "counterparties",
        sa.Column("manager_pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("counterparties") as batch:
        batch.drop_column("manager_pinned")
        batch.drop_column("archived_at")
    op.drop_index(op.f("ix_sync_runs_source"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("external_objects")
