"""Alembic environment: plain-SQL revisions, run on a connection handed over by warehouse.migrate."""

from alembic import context

from warehouse.db import engine

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    with engine(config.get_main_option("envmon.url")).connect() as conn:
        context.configure(connection=conn, version_table_schema="public")
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, version_table_schema="public")
    with context.begin_transaction():
        context.run_migrations()
