"""Call tracking: persisted in-flight call state (active_calls).

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_core.models.base import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "active_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pbx_system", sa.String(length=64), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_active_calls")),
        sa.UniqueConstraint("pbx_system", "linkedid", name=op.f("uq_active_calls_pbx_system_linkedid")),
    )


def downgrade() -> None:
    op.drop_table("active_calls")
