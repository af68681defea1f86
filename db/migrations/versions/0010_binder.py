"""binder: week-end commits and artifact files (SPEC §11)

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 09:00:00

Chained after main's head (0007); the integrator re-chains it at merge.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('week_end_commits',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=True),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('binder_digest', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_week_end_commits_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'week', name=op.f('pk_week_end_commits'))
    )
    op.create_table('artifact_files',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_artifact_files_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'week', 'path', name=op.f('pk_artifact_files'))
    )


def downgrade() -> None:
    op.drop_table('artifact_files')
    op.drop_table('week_end_commits')
