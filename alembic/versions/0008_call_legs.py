"""call legs (every answered party of a call) and approximate / transferred_to on call records

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from crm_core.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("approximate", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("transferred_to", sa.String(length=128), nullable=True))
    op.create_table(
        "call_legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_record_id"],
            ["call_records.id"],
            name=op.f("fk_call_legs_call_record_id_call_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["managers.id"],
            name=op.f("fk_call_legs_manager_id_managers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_legs")),
        sa.UniqueConstraint("call_record_id", "position", name=op.f("uq_call_legs_call_record_id_position")),
    )
    op.create_index(op.f("ix_call_legs_manager_id"), "call_legs", ["manager_id"], unique=False)
    # calls recorded before legs existed: their one answered leg, as the record itself says
    op.execute(
        "INSERT INTO call_legs (call_record_id, position, target, manager_id, answered_at, ended_at,"
        " talk_seconds, approximate)"
        " SELECT id, 0, answered_by_target, answered_by_manager_id, answered_at, ended_at, talk_seconds,"
        " approximate FROM call_records"
        " WHERE answered_by_target IS NOT NULL AND answered_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_call_legs_manager_id"), table_name="call_legs")
    op.drop_table("call_legs")
    with op.batch_alter_table("call_records") as batch:
        batch.drop_column("transferred_to")
        batch.drop_column("approximate")
