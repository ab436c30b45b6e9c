"""refined cards and contact persons (who and when), the imported last contact day of a counterparty

Revision ID: 0014
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm_core.models.base import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns only, added in place: a batch rebuild of these tables would drop the change-feed triggers of
    # migration 0007 on SQLite, and SQLite cannot add a foreign key to an existing table otherwise. So
    # ``refined_by_id`` is a plain manager id (managers are deactivated, not deleted), like a log entry.
    op.add_column("counterparties", sa.Column("refined_by_id", sa.Integer(), nullable=True))
    op.add_column("counterparties", sa.Column("last_contact_on", sa.Date(), nullable=True))
    op.add_column("contact_persons", sa.Column("refined_at", UTCDateTime(), nullable=True))
    op.add_column("contact_persons", sa.Column("refined_by_id", sa.Integer(), nullable=True))
    for table in ("counterparties", "contact_persons"):
        op.create_index(op.f(f"ix_{table}_refined_at"), table, ["refined_at"], unique=False)


def downgrade() -> None:
    for table in ("counterparties", "contact_persons"):
        op.drop_index(op.f(f"ix_{table}_refined_at"), table_name=table)
    op.drop_column("contact_persons", "refined_by_id")
    op.drop_column("contact_persons", "refined_at")
    op.drop_column("counterparties", "last_contact_on")
    op.drop_column("counterparties", "refined_by_id")
