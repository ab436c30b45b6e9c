"""merge routing, call tracking, escalation and auth

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-11-28 15:40:57.757035
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.base

revision: str = '0006'
down_revision: str | None = ('0002', '0003', '0004', '0005')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
