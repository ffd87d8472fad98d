"""Writing derived tables: COPY into a temporary twin, then one upsert that skips identical rows.

The same load path as the measurements (``warehouse.load.copy_frame``), so recomputing a day
whose result did not change leaves the row — and its ``computed_at`` — untouched.
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from warehouse.load import copy_frame


def upsert_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame, key: list[str]) -> int:
    """Insert or update ``frame`` (columns = target columns) by ``key``; returns rows written."""
    if frame.empty:
        return 0
    schema, name = table.split(".")
    stage = f"stage_{name}"
    columns = list(frame.columns)
    values = [c for c in columns if c not in key]
    conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                 .format(sql.Identifier(stage), sql.Identifier(schema, name)))
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(stage)))
    copy_frame(conn, stage, frame, columns)
    ident = sql.Identifier
    statement = sql.SQL("""
        INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage}
        ON CONFLICT ({key}) DO UPDATE SET {updates}, computed_at = now()
        WHERE ({old}) IS DISTINCT FROM ({new})
    """).format(
        target=ident(schema, name), stage=ident(stage),
        cols=sql.SQL(", ").join(map(ident, columns)),
        key=sql.SQL(", ").join(map(ident, key)),
        updates=sql.SQL(", ").join(sql.SQL("{} = excluded.{}").format(ident(c), ident(c)) for c in values),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(ident(c)) for c in values),
        new=sql.SQL(", ").join(sql.SQL("excluded.{}").format(ident(c)) for c in values),
    )
    return conn.execute(statement).rowcount
