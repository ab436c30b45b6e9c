"""1C sync: where a phone number came from, and whether a sync run was full or incremental

Revision ID: 0020
Revises: 0007
Create Date: 2026-11-30 18:10:00

``phone_numbers.origin`` is ``1c`` for a number the 1C sync created (so the sync may remove it when 1C no
longer lists it) and NULL for a number a person or a CSV import added (never removed by the sync). Numbers
the sync created before this revision carry the label ``1C`` it always gave them and are marked so.
``sync_runs.kind`` is ``full`` or ``incremental``; older runs stay NULL (neither, so the next run is full).
Plain ``add_column``: a batch rebuild of ``phone_numbers`` on SQLite would drop the change-feed triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("phone_numbers", sa.Column("origin", sa.String(length=16), nullable=True))
    op.execute("UPDATE phone_numbers SET origin = '1c' WHERE label = '1C'")
    op.add_column("sync_runs", sa.Column("kind", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("kind")
    op.drop_column("phone_numbers", "origin")
