"""per-user language of the workspace and notifications; the reception role

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

ROLES = ("manager", "controller", "director", "admin")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def upgrade() -> None:
    with op.batch_alter_table("managers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(op.f("ck_managers_language"), "language IN ('ru', 'en')")
        batch_op.drop_constraint(op.f("ck_managers_manager_role"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_managers_manager_role"), _roles_check((*ROLES, "reception"))
        )


def downgrade() -> None:
    op.execute("UPDATE managers SET role = 'manager' WHERE role = 'reception'")
    with op.batch_alter_table("managers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_managers_manager_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_managers_manager_role"), _roles_check(ROLES))
        batch_op.drop_constraint(op.f("ck_managers_language"), type_="check")
        batch_op.drop_column("language")
