"""Alembic environment: db.engine passes the engine, or the connection that holds the migration lock."""

from alembic import context

from db.models import Base

connection = context.config.attributes.get("connection")
if connection is not None:  # db.engine.upgrade: migrate inside the caller's locked transaction
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    context.run_migrations()
else:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()
