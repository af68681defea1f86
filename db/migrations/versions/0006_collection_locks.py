"""collection locks, evaluation tests by commit, no run ids on commits

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

- `source_locks`: one collection per source at a time (db/runs.py).
- `eval_test_counts` is keyed by commit and file (weeks are bucketed at metric time); the old per-week rows
  are derived data and are recomputed by the next collection.
- `commits.seen_run_id` goes: unreachable commits are found from git reachability alone.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_locks',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('process_start', sa.String(length=64), nullable=True),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_locks_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_source_locks'))
    )
    op.drop_table('eval_test_counts')
    op.create_table('eval_test_counts',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=False),
    sa.Column('tests', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_eval_test_counts_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'sha', 'path', name=op.f('pk_eval_test_counts'))
    )
    op.create_index('ix_eval_test_counts_path_seq', 'eval_test_counts', ['source_id', 'path', 'seq'], unique=False)
    # The eval cursor of the old per-week rows must not survive them: the next collection recounts.
    op.execute("DELETE FROM cursors WHERE stream = 'eval_tests'")
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite >= 3.35 drops a plain column in place; a batch copy of `commits` would cascade-delete its files.
        op.execute('ALTER TABLE commits DROP COLUMN seen_run_id')
    else:
        op.drop_column('commits', 'seen_run_id')


def downgrade() -> None:
    op.add_column('commits', sa.Column('seen_run_id', sa.Integer(), nullable=True))
    op.drop_table('eval_test_counts')
    op.create_table('eval_test_counts',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('tests', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_eval_test_counts_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'week', 'path', name=op.f('pk_eval_test_counts'))
    )
    op.drop_table('source_locks')
