"""initial schema: sources, runs, cursors, identities, commits, files, tags

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('identities',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_identities_kind'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_sources_kind'))
    )
    op.create_table('collection_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('items_seen', sa.Integer(), nullable=False),
    sa.Column('items_written', sa.Integer(), nullable=False),
    sa.Column('items_removed', sa.Integer(), nullable=False),
    sa.Column('cursor_before', sa.Text(), nullable=True),
    sa.Column('cursor_after', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_collection_runs_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_runs'))
    )
    with op.batch_alter_table('collection_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_runs_source_id'), ['source_id'], unique=False)

    op.create_table('commits',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('parents', sa.Text(), nullable=False),
    sa.Column('is_merge', sa.Boolean(), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('author_email', sa.Text(), nullable=False),
    sa.Column('authored_at', sa.DateTime(), nullable=False),
    sa.Column('author_tz_minutes', sa.Integer(), nullable=False),
    sa.Column('committer_name', sa.Text(), nullable=False),
    sa.Column('committer_email', sa.Text(), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=False),
    sa.Column('committer_tz_minutes', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('co_authors', sa.Text(), nullable=False),
    sa.Column('files_changed', sa.Integer(), nullable=False),
    sa.Column('lines_added', sa.Integer(), nullable=False),
    sa.Column('lines_deleted', sa.Integer(), nullable=False),
    sa.Column('seen_run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_commits_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'sha', name=op.f('pk_commits'))
    )
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commits_authored_at'), ['authored_at'], unique=False)

    op.create_table('cursors',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_cursors_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'stream', name=op.f('pk_cursors'))
    )
    op.create_table('tags',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('tagged_at', sa.DateTime(), nullable=True),
    sa.Column('tz_minutes', sa.Integer(), nullable=True),
    sa.Column('tagger_name', sa.Text(), nullable=True),
    sa.Column('tagger_email', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_tags_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'name', name=op.f('pk_tags'))
    )
    op.create_table('commit_files',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sha', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('old_path', sa.Text(), nullable=True),
    sa.Column('added', sa.Integer(), nullable=True),
    sa.Column('deleted', sa.Integer(), nullable=True),
    sa.Column('binary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['source_id', 'sha'], ['commits.source_id', 'commits.sha'], name='fk_commit_files_commit', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'sha', 'path', name=op.f('pk_commit_files'))
    )



def downgrade() -> None:

    op.drop_table('commit_files')
    op.drop_table('tags')
    op.drop_table('cursors')
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commits_authored_at'))

    op.drop_table('commits')
    with op.batch_alter_table('collection_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_runs_source_id'))

    op.drop_table('collection_runs')
    op.drop_table('sources')
    op.drop_table('identities')

