"""Alembic environment: the engine is passed in by db.engine (no ini file)."""

from alembic import context

from db.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    context.run_migrations()
