"""routing change feed: the routing_changes table and the triggers that fill it

Revision ID: 0007
Revises: 0006

Every write to a table routing reads leaves a row in ``routing_changes`` (a number, NULL for the
configuration, ``*`` for everything), whoever the writer is. PostgreSQL rows carry the writing transaction's
id so readers can wait for transactions still in progress; SQLite has one writer at a time.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.base

revision: str = '0007'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMBER_COLUMNS = 'e164, counterparty_id, contact_person_id, manager_id, number_list_id'
MANAGER_COLUMNS = 'name, dial_target, active, on_leave_until, controller_id, working_hours, ring_timeout_s'
CONFIG_TABLES = ('number_lists', 'routing_settings', 'routing_targets', 'routing_holidays')
OF_COUNTERPARTY = (
    'SELECT p.e164{txid} FROM phone_numbers p WHERE p.counterparty_id = OLD.id'
    ' OR p.contact_person_id IN (SELECT c.id FROM contact_persons c WHERE c.counterparty_id = OLD.id)'
)
OF_CONTACT = 'SELECT p.e164{txid} FROM phone_numbers p WHERE p.contact_person_id = OLD.id'

PG_TXID = 'pg_current_xact_id()::text::bigint'
PG_FUNCTIONS = {
    'routing_changed_number': f"""
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO routing_changes (e164, txid) VALUES (OLD.e164, {PG_TXID});
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.e164 IS DISTINCT FROM OLD.e164) THEN
            INSERT INTO routing_changes (e164, txid) VALUES (NEW.e164, {PG_TXID});
        END IF;
        RETURN NULL;""",
    'routing_changed_counterparty': f"""
        INSERT INTO routing_changes (e164, txid) {OF_COUNTERPARTY.format(txid=', ' + PG_TXID)};
        RETURN OLD;""",
    'routing_changed_contact': f"""
        INSERT INTO routing_changes (e164, txid) {OF_CONTACT.format(txid=', ' + PG_TXID)};
        RETURN OLD;""",
    'routing_changed_config': f"""
        INSERT INTO routing_changes (e164, txid) VALUES (NULL, {PG_TXID});
        RETURN NULL;""",
    'routing_changed_everything': f"""
        INSERT INTO routing_changes (e164, txid) VALUES ('*', {PG_TXID});
        RETURN NULL;""",
}
PG_TRIGGERS = [
    ('phone_numbers', f'AFTER INSERT OR DELETE OR UPDATE OF {NUMBER_COLUMNS}', 'ROW', '',
     'routing_changed_number'),
    ('counterparties', 'AFTER UPDATE OF manager_id, archived_at', 'ROW',
     'WHEN (OLD.manager_id IS DISTINCT FROM NEW.manager_id OR OLD.archived_at IS DISTINCT FROM NEW.archived_at)',
     'routing_changed_counterparty'),
    ('counterparties', 'BEFORE DELETE', 'ROW', '', 'routing_changed_counterparty'),
    ('contact_persons', 'AFTER UPDATE OF counterparty_id', 'ROW',
     'WHEN (OLD.counterparty_id IS DISTINCT FROM NEW.counterparty_id)', 'routing_changed_contact'),
    ('contact_persons', 'BEFORE DELETE', 'ROW', '', 'routing_changed_contact'),
    ('managers', f'AFTER INSERT OR UPDATE OF {MANAGER_COLUMNS}', 'STATEMENT', '', 'routing_changed_config'),
    ('managers', 'AFTER DELETE', 'STATEMENT', '', 'routing_changed_everything'),
    *((t, 'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE', 'STATEMENT', '', 'routing_changed_config')
      for t in CONFIG_TABLES),
    *((t, 'AFTER TRUNCATE', 'STATEMENT', '', 'routing_changed_everything')
      for t in ('phone_numbers', 'counterparties', 'contact_persons', 'managers')),
]

SQLITE_TRIGGERS = [
    ('AFTER INSERT ON phone_numbers', 'INSERT INTO routing_changes (e164) VALUES (NEW.e164)'),
    ('AFTER DELETE ON phone_numbers', 'INSERT INTO routing_changes (e164) VALUES (OLD.e164)'),
    (f'AFTER UPDATE OF {NUMBER_COLUMNS} ON phone_numbers',
     'INSERT INTO routing_changes (e164) VALUES (OLD.e164);'
     ' INSERT INTO routing_changes (e164) SELECT NEW.e164 WHERE NEW.e164 IS NOT OLD.e164'),
    ('AFTER UPDATE OF manager_id, archived_at ON counterparties'
     ' WHEN OLD.manager_id IS NOT NEW.manager_id OR OLD.archived_at IS NOT NEW.archived_at',
     'INSERT INTO routing_changes (e164) ' + OF_COUNTERPARTY.format(txid='')),
    ('BEFORE DELETE ON counterparties', 'INSERT INTO routing_changes (e164) ' + OF_COUNTERPARTY.format(txid='')),
    ('AFTER UPDATE OF counterparty_id ON contact_persons WHEN OLD.counterparty_id IS NOT NEW.counterparty_id',
     'INSERT INTO routing_changes (e164) ' + OF_CONTACT.format(txid='')),
    ('BEFORE DELETE ON contact_persons', 'INSERT INTO routing_changes (e164) ' + OF_CONTACT.format(txid='')),
    ('AFTER INSERT ON managers', 'INSERT INTO routing_changes (e164) VALUES (NULL)'),
    (f'AFTER UPDATE OF {MANAGER_COLUMNS} ON managers', 'INSERT INTO routing_changes (e164) VALUES (NULL)'),
    ('AFTER DELETE ON managers', "INSERT INTO routing_changes (e164) VALUES ('*')"),
    *((f'AFTER {event} ON {table}', 'INSERT INTO routing_changes (e164) VALUES (NULL)')
      for table in CONFIG_TABLES for event in ('INSERT', 'UPDATE', 'DELETE')),
]


def _sqlite_trigger_name(index: int) -> str:
    return f'routing_changed_{index}'


def upgrade() -> None:
    op.create_table('routing_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('e164', sa.String(length=20), nullable=True),
    sa.Column('txid', sa.BigInteger(), nullable=True),
    sa.Column('changed_at', crm_core.models.base.UTCDateTime(timezone=True), server_default=sa.text(
        'CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_changes'))
    )
    op.create_index(op.f('ix_routing_changes_txid'), 'routing_changes', ['txid'], unique=False)
    op.create_index(op.f('ix_routing_changes_changed_at'), 'routing_changes', ['changed_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for name, body in PG_FUNCTIONS.items():
            op.execute(f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$')
        for i, (table, events, level, when, function) in enumerate(PG_TRIGGERS):
            op.execute(
                f'CREATE TRIGGER routing_changed_{i} {events} ON {table} FOR EACH {level} {when}'
                f' EXECUTE FUNCTION {function}()'
            )
    else:
        for i, (event, body) in enumerate(SQLITE_TRIGGERS):
            op.execute(f'CREATE TRIGGER {_sqlite_trigger_name(i)} {event} BEGIN {body}; END')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for i, (table, *_rest) in enumerate(PG_TRIGGERS):
            op.execute(f'DROP TRIGGER IF EXISTS routing_changed_{i} ON {table}')
        for name in PG_FUNCTIONS:
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    else:
        for i in range(len(SQLITE_TRIGGERS)):
            op.execute(f'DROP TRIGGER IF EXISTS {_sqlite_trigger_name(i)}')
    op.drop_index(op.f('ix_routing_changes_changed_at'), table_name='routing_changes')
    op.drop_index(op.f('ix_routing_changes_txid'), table_name='routing_changes')
    op.drop_table('routing_changes')
