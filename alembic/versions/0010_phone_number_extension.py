"""phone numbers keep an extension dialled after the number

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-30 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("phone_numbers", sa.Column("extension", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.drop_column("extension")
