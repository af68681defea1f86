"""run progress: a collection in progress records its progress in its run row (SPEC §8; issue 11)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:00:00

`collection_runs` gains the current phase's progress (units done, expected total when known, the unit) and the
time of the last committed page, written by collectors/driver.py with each page and read by the Sources page.
Nullable: runs logged before this revision have none.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both SQLite and PostgreSQL (no batch copy of the table: nullable columns, no constraint).
    op.add_column('collection_runs', sa.Column('progress_done', sa.Integer(), nullable=True))
    op.add_column('collection_runs', sa.Column('progress_total', sa.Integer(), nullable=True))
    op.add_column('collection_runs', sa.Column('progress_unit', sa.String(length=20), nullable=True))
    op.add_column('collection_runs', sa.Column('progress_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite >= 3.35 drops a plain column in place (as 0006 does): no batch copy of the table.
        for column in ('progress_at', 'progress_unit', 'progress_total', 'progress_done'):
            op.execute(f'ALTER TABLE collection_runs DROP COLUMN {column}')
    else:
        for column in ('progress_at', 'progress_unit', 'progress_total', 'progress_done'):
            op.drop_column('collection_runs', column)
