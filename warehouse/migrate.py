"""Versioned schema migrations (Alembic, plain-SQL revisions) and the schema version they reached.

Alembic rather than hand-rolled scripts: it records the version in the database, orders
revisions, and is what the next engineer already knows. Revisions are SQL because TimescaleDB
DDL (hypertables, policies) has no ORM form, and capability checks happen inside them.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from warehouse.db import engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(url: str | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("envmon.url", url)
    return cfg


def upgrade(url: str | None = None) -> str:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    with engine(url).begin() as conn:
        # Serialise concurrent migrators (two DAG runs starting at once).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('envmon.migrate'))")
        cfg = _config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return current_version(url)


def current_version(url: str | None = None) -> str | None:
    with engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_version() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()
