"""Capability-aware DDL: one call makes a table a hypertable, compressed where the licence allows.

Migrations call these so that the same schema runs on the Timescale-licensed image, the local
Apache build and plain PostgreSQL (where the tables simply stay regular tables).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from warehouse.capabilities import Capabilities, detect


def _split(table: str) -> sql.Composable:
    schema, _, name = table.partition(".")
    return sql.Identifier(schema, name)


def make_hypertable(
    conn: psycopg.Connection,
    table: str,
    time_column: str,
    chunk_interval: str,
    segment_by: tuple[str, ...] = (),
    compress_after: str | None = None,
    caps: Capabilities | None = None,
) -> Capabilities:
    caps = caps or detect(conn)
    if not caps.hypertables:
        return caps
    conn.execute(
        "SELECT create_hypertable(%s::regclass, by_range(%s, %s::interval), if_not_exists => true)",
        (table, time_column, chunk_interval),
    )
    if caps.compression and compress_after:
        conn.execute(sql.SQL(
            "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby = {}, "
            "timescaledb.compress_orderby = {})"
        ).format(_split(table), sql.Literal(",".join(segment_by)), sql.Literal(f"{time_column} DESC")))
        conn.execute(
            "SELECT add_compression_policy(%s::regclass, %s::interval, if_not_exists => true)",
            (table, compress_after),
        )
    return caps


def add_retention_policy(conn: psycopg.Connection, table: str, drop_after: str,
                         caps: Capabilities | None = None) -> bool:
    """Only for tables whose old rows are disposable (never the measurements themselves)."""
    caps = caps or detect(conn)
    if not (caps.hypertables and caps.retention_policies):
        return False
    conn.execute("SELECT add_retention_policy(%s::regclass, %s::interval, if_not_exists => true)",
                 (table, drop_after))
    return True
