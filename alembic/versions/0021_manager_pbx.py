"""the PBX a manager's phone belongs to (click-to-call originates there)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 22:20:00

``managers.pbx`` is a PBX name as in the settings (``CALLROUTER_PBX_NAME`` or one of
``CALLROUTER_AMI_EXTRA_PBXS``); NULL, as for every manager before this revision, means the main PBX.
Plain ``add_column``/``drop_column``: a batch rebuild of ``managers`` on SQLite would drop the change-feed
triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("managers", sa.Column("pbx", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("managers", "pbx")
