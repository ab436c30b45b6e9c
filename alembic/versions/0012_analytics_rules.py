"""analytics rules: shipment kind and document lines, analytics settings, status history and pins

Revision ID: 0012
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.base

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("potential", "one_time_fresh", "regular", "one_time_old", "departed")


def _status(name: str) -> sa.Enum:
    return sa.Enum(*_STATUSES, name=name, native_enum=False, create_constraint=True, length=32)


_KIND = sa.Enum("sale", "return", name="shipment_kind", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", _KIND, server_default="sale", nullable=False))
        batch_op.add_column(sa.Column("document_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("line_number", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_shipments_kind_document_number_line_number"), ["kind", "document_number", "line_number"]
        )
        batch_op.create_check_constraint(batch_op.f("ck_shipments_amount_not_negative"), "amount >= 0")

    op.create_table(
        "analytics_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fresh_days", sa.Integer(), nullable=False),
        sa.Column("departed_days", sa.Integer(), nullable=False),
        sa.Column("abc_a_share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("abc_b_share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("xyz_x_cv", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("xyz_y_cv", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("updated_at", crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_analytics_settings_single_row")),
        sa.CheckConstraint(
            "fresh_days >= 0 AND departed_days >= 0", name=op.f("ck_analytics_settings_days_not_negative")
        ),
        sa.CheckConstraint(
            "0 < abc_a_share AND abc_a_share <= abc_b_share AND abc_b_share <= 1",
            name=op.f("ck_analytics_settings_abc_shares"),
        ),
        sa.CheckConstraint(
            "0 <= xyz_x_cv AND xyz_x_cv <= xyz_y_cv", name=op.f("ck_analytics_settings_xyz_bounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_settings")),
    )

    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_pinned", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("status_pinned_until", sa.Date(), nullable=True))

    op.create_table(
        "client_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("from_status", _status("status_change_from"), nullable=False),
        sa.Column("to_status", _status("status_change_to"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "cause",
            sa.Enum("recompute", "manual", name="status_cause", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pinned_until", sa.Date(), nullable=True),
        sa.Column("at", crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_client_status_changes_counterparty_id_counterparties"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["managers.id"],
            name=op.f("fk_client_status_changes_manager_id_managers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_status_changes")),
    )
    with op.batch_alter_table("client_status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_status_changes_counterparty_id"), ["counterparty_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_status_changes_day"), ["day"], unique=False)


def downgrade() -> None:
    op.drop_table("client_status_changes")
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.drop_column("status_pinned_until")
        batch_op.drop_column("status_pinned")
    op.drop_table("analytics_settings")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_shipments_amount_not_negative"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_shipments_kind_document_number_line_number"), type_="unique")
        batch_op.drop_column("line_number")
        batch_op.drop_column("document_number")
        batch_op.drop_constraint(batch_op.f("ck_shipments_shipment_kind"), type_="check")
        batch_op.drop_column("kind")
