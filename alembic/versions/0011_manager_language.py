"""per-user language of the workspace and notifications

Revision ID: 0011
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("managers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language",
                sa.Enum("ru", "en", name="language", native_enum=False, create_constraint=True, length=32),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("managers", schema=None) as batch_op:
        batch_op.drop_column("language")
