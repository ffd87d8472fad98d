"""The ingest role: what a loading process needs, and nothing that could damage the schema.

``envmon_ingest`` (NOLOGIN group role, like ``envmon_reader`` of migration 0001; a deployment grants
it to the login its loaders use) may read the registries, write measurements and the load's own
records, and create its temporary staging tables. It owns nothing and holds no DDL privilege, so it
cannot DROP, ALTER or TRUNCATE a table or create one in a schema; it cannot DELETE from ``ops``
either, so the audit trail of loads, quarantine and revisions survives a compromised loader.
(``obs`` rows may be deleted: a corrected carbon or statistics file replaces the rows of its earlier
version, evaluation/carbon.py.)

Kept outside the Alembic chain on purpose: the grants are re-applied after every migration
(:func:`pipeline.runs.prepare_warehouse`), so tables added by later revisions are covered too.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

INGEST_ROLE = "envmon_ingest"


def ensure_roles(conn: psycopg.Connection) -> None:
    """Create the ingest role when missing and (re)grant its privileges; idempotent."""
    role = sql.Identifier(INGEST_ROLE)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (INGEST_ROLE,)).fetchone()
    if not exists:
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):  # created meanwhile (another database)
            pass
        except psycopg.errors.InsufficientPrivilege:
            # A deployment's migrating login has no CREATEROLE: the cluster's administrator creates the
            # role (as deploy/postgres/init creates envmon_reader); until then there is nothing to grant.
            log.warning("role %s does not exist and this login may not create it; no grants made", INGEST_ROLE)
            return
    database = conn.execute("SELECT current_database()").fetchone()[0]
    statements = [
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), role),
        sql.SQL("GRANT USAGE ON SCHEMA registry, obs, ops TO {}").format(role),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA registry TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA obs TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA ops TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA obs, ops TO {}").format(role),
        # the load's per-batch reference check and lock (migration 0010), the only function it needs
        sql.SQL("GRANT EXECUTE ON FUNCTION ops.lock_references(integer[], integer[], bigint) TO {}").format(role),
    ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
