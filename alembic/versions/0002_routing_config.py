"""routing configuration: targets, settings, holidays

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _target_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ['routing_targets.id'],
        name=op.f(f'fk_routing_settings_{column}_routing_targets'), ondelete='SET NULL',
    )


def upgrade() -> None:
    op.create_table('routing_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('dial_string', sa.String(length=128), nullable=False),
    sa.Column('ring_timeout_s', sa.Integer(), nullable=False),
    sa.CheckConstraint('ring_timeout_s > 0', name=op.f('ck_routing_targets_positive_timeout')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_targets')),
    sa.UniqueConstraint('name', name=op.f('uq_routing_targets_name'))
    )
    op.create_table('routing_holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_holidays')),
    sa.UniqueConstraint('day', name=op.f('uq_routing_holidays_day'))
    )
    op.create_table('routing_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_hours', sa.JSON(), nullable=True),
    sa.Column('default_target_id', sa.Integer(), nullable=True),
    sa.Column('after_hours_target_id', sa.Integer(), nullable=True),
    sa.Column('group_target_id', sa.Integer(), nullable=True),
    sa.Column('manager_number_target_id', sa.Integer(), nullable=True),
    sa.Column('reject_treatment', sa.Enum('busy', 'congestion', 'hangup', name='reject_treatment', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('fallback_to_controller', sa.Boolean(), nullable=False),
    sa.Column('fallback_to_reception', sa.Boolean(), nullable=False),
    sa.Column('cache_ttl_s', sa.Integer(), nullable=False),
    sa.Column('negative_ttl_s', sa.Integer(), nullable=False),
    sa.Column('updated_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_routing_settings_single_row')),
    sa.CheckConstraint('cache_ttl_s > 0 AND negative_ttl_s > 0', name=op.f('ck_routing_settings_positive_ttls')),
    _target_fk('default_target_id'),
    _target_fk('after_hours_target_id'),
    _target_fk('group_target_id'),
    _target_fk('manager_number_target_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_settings'))
    )


def downgrade() -> None:
    op.drop_table('routing_settings')
    op.drop_table('routing_holidays')
    op.drop_table('routing_targets')
