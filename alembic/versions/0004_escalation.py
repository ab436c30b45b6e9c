"""escalation policy, durable step timers, notification outbox and in-app notifications

Revision ID: 0004
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.base

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalation_policy_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('delay_seconds', sa.Integer(), nullable=False),
    sa.Column('business_hours_only', sa.Boolean(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('updated_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policy_steps')),
    sa.UniqueConstraint('position', name=op.f('uq_escalation_policy_steps_position'))
    )

    op.create_table('notification_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_notification_groups_name'))
    )

    op.create_table('notification_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['notification_groups.id'], name=op.f('fk_notification_group_members_group_id_notification_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['managers.id'], name=op.f('fk_notification_group_members_manager_id_managers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'manager_id', name=op.f('pk_notification_group_members'))
    )

    op.create_table('escalation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('missed_call_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('due_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'fired', 'cancelled', name='escalation_step_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('fired_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fired_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['missed_call_id'], ['missed_calls.id'], name=op.f('fk_escalation_steps_missed_call_id_missed_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_steps')),
    sa.UniqueConstraint('missed_call_id', 'step', name=op.f('uq_escalation_steps_missed_call_id_step'))
    )
    with op.batch_alter_table('escalation_steps', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_steps_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('notification_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('missed_call_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('recipient_manager_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'skipped', 'cancelled', name='delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_retry_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('provider_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['missed_call_id'], ['missed_calls.id'], name=op.f('fk_notification_deliveries_missed_call_id_missed_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_manager_id'], ['managers.id'], name=op.f('fk_notification_deliveries_recipient_manager_id_managers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_deliveries_dedupe_key'))
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_deliveries_missed_call_id'), ['missed_call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_deliveries_recipient_manager_id'), ['recipient_manager_id'], unique=False)
        batch_op.create_index('ix_notification_deliveries_status_next_retry_at', ['status', 'next_retry_at'], unique=False)

    op.create_table('notification_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('attempted_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['notification_deliveries.id'], name=op.f('fk_notification_attempts_delivery_id_notification_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts'))
    )
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_attempts_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('inapp_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('recipient_manager_id', sa.Integer(), nullable=False),
    sa.Column('missed_call_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.Column('created_at', crm_core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['missed_call_id'], ['missed_calls.id'], name=op.f('fk_inapp_notifications_missed_call_id_missed_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_manager_id'], ['managers.id'], name=op.f('fk_inapp_notifications_recipient_manager_id_managers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inapp_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_inapp_notifications_dedupe_key'))
    )
    with op.batch_alter_table('inapp_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_inapp_notifications_recipient_read', ['recipient_manager_id', 'read'], unique=False)


def downgrade() -> None:
    op.drop_table('inapp_notifications')
    op.drop_table('notification_attempts')
    op.drop_table('notification_deliveries')
    op.drop_table('escalation_steps')
    op.drop_table('notification_group_members')
    op.drop_table('notification_groups')
    op.drop_table('escalation_policy_steps')
