"""The one COPY-upsert for whole-row tables: COPY into a temporary twin, then one upsert that skips
identical rows.

Used for the derived tables and for the ``obs`` tables of non-measurement inputs (carbon,
statistics). Recomputing a row whose result did not change leaves it — and its ``computed_at``
or ``load_id`` — untouched, so re-running anything changes nothing.
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from warehouse.load import UpsertCounts, copy_frame


def stage_table(table: str) -> str:
    """Name of the temporary twin of ``table`` (holds the last upserted frame until commit)."""
    schema, name = table.split(".")
    return f"stage_{schema}_{name}"


def upsert_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame, key: list[str],
                 not_compared: tuple[str, ...] = (), touch: str | None = "computed_at",
                 period_end: sql.Composable | None = None) -> UpsertCounts:
    """Insert or update ``frame`` (columns = target columns) by ``key``.

    Columns in ``not_compared`` are written but do not make a row "changed" (e.g. ``load_id``:
    an unchanged value keeps the load that first stored it). ``touch`` is set to now() on rows
    that changed (None for tables without such a column). The staging twin is filled even for an
    empty frame, so callers can compare the table against it afterwards.

    ``period_end`` (an SQL expression over the stored row ``t``: the exclusive end of its period as a
    Beijing local date/timestamp) marks period tables: a row that changes after it was last computed
    with its period already over (late or corrected data for a closed month) gets ``revision`` + 1,
    so reports and exports can flag the figure as revised.
    """
    schema, name = table.split(".")
    stage = stage_table(table)
    ident = sql.Identifier
    conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                 .format(ident(stage), ident(schema, name)))
    conn.execute(sql.SQL("TRUNCATE {}").format(ident(stage)))
    if frame.empty:
        return UpsertCounts(0, 0, 0)
    columns = list(frame.columns)
    copy_frame(conn, stage, frame, columns)
    written = [c for c in columns if c not in key]
    compared = [c for c in written if c not in not_compared]
    updates = [sql.SQL("{} = excluded.{}").format(ident(c), ident(c)) for c in written]
    if touch:
        updates.append(sql.SQL("{} = now()").format(ident(touch)))
    if period_end is not None:
        updates.append(sql.SQL(
            "revision = t.revision + (t.computed_at >= (({})::timestamp AT TIME ZONE 'Asia/Shanghai'))::int"
        ).format(period_end))
    statement = sql.SQL("""
        INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage}
        ON CONFLICT ({key}) DO UPDATE SET {updates}
        WHERE ({old}) IS DISTINCT FROM ({new})
        RETURNING (xmax = 0)
    """).format(
        target=ident(schema, name), stage=ident(stage),
        cols=sql.SQL(", ").join(map(ident, columns)),
        key=sql.SQL(", ").join(map(ident, key)),
        updates=sql.SQL(", ").join(updates),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(ident(c)) for c in compared),
        new=sql.SQL(", ").join(sql.SQL("excluded.{}").format(ident(c)) for c in compared),
    )
    rows = conn.execute(statement).fetchall()
    inserted = sum(1 for (fresh,) in rows if fresh)
    return UpsertCounts(inserted=inserted, revised=len(rows) - inserted, unchanged=len(frame) - len(rows))
