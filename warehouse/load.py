"""The one bulk-load path: COPY into a staging table, then one upsert statement, per batch.

Every day whose values changed is queued in ``ops.dirty_day`` in the same statement, so the
indicators are recomputed for exactly the days a load touched (and a crash between load and
computation loses nothing: the queue survives); each site's latest value time (``ops.site_latest``)
is kept there too.

Idempotent by construction: a row whose (value, flag) equals what is stored is not touched, so
loading the same input twice changes nothing. A different value for an existing key replaces it,
and the value it replaced is written to ``ops.measurement_revision`` in the same statement.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import psycopg

from quality.gate import GateResult

#: Where each store's measurements live (``Adapter.store``; by default the adapter's domain).
MEASUREMENT_TABLES = {"air": "obs.air_measurement", "water": "obs.water_measurement",
                      "water_manual": "obs.water_manual_measurement"}
#: How far a time label lies after the period it closes (CNEMC air hours are hour-ending).
LABEL_SHIFT = {"air": "1 hour"}
STAGE_COLUMNS = ["site_id", "parameter_id", "observed_at", "value", "source_flag", "status"]
#: The staging columns' types, for the binary COPY.
STAGE_TYPES = {"site_id": "int4", "parameter_id": "int2", "observed_at": "timestamptz", "value": "float8",
               "source_flag": "text", "status": "text"}
QUARANTINE_COLUMNS = ["line_no", "field", "reason_code", "message", "raw"]
COPY_CHUNK_ROWS = 200_000


class UnknownReference(ValueError):
    """A batch names a site, parameter or load the warehouse does not have (the row rules should
    have quarantined such rows: reaching the store with one is a defect, and nothing is written)."""


def check_references(conn: psycopg.Connection, rows: pd.DataFrame, load_id: int) -> None:
    """What the foreign keys of the measurement hypertables did per row, once per batch (migration
    0010, ``ops.lock_references``): the batch's distinct sites and parameters and its load exist,
    and are locked FOR KEY SHARE until the batch commits."""
    sites = np.unique(rows["site_id"].to_numpy(dtype="int64")).tolist()
    parameters = np.unique(rows["parameter_id"].to_numpy(dtype="int64")).tolist()
    missing_sites, missing_parameters, missing_load = conn.execute(
        "SELECT * FROM ops.lock_references(%s::integer[], %s::integer[], %s)", (sites, parameters, load_id)).fetchone()
    problems = [f"site_id {missing_sites[:10]}" if missing_sites else "",
                f"parameter_id {missing_parameters[:10]}" if missing_parameters else "",
                f"load_id {load_id}" if missing_load else ""]
    if any(problems):
        raise UnknownReference("batch refers to rows the warehouse does not have: " +
                               "; ".join(p for p in problems if p))


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    revised: int
    unchanged: int

    @property
    def stored(self) -> int:
        return self.inserted + self.revised + self.unchanged


@dataclass(frozen=True)
class LoadReport:
    """What one file load did; the same for measurement files and table files (carbon, statistics)."""

    file: str
    dataset: str
    status: str  # loaded | rejected | failed | already_loaded
    load_id: int | None
    rows_read: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_revised: int = 0
    rows_removed: int = 0  # table files: rows an earlier version of the same file held and this one lacks
    error: str | None = None
    first_time: pd.Timestamp | None = None
    last_time: pd.Timestamp | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly (for XCom and summaries): the counts, without the time span."""
        return {k: v for k, v in asdict(self).items() if k not in ("first_time", "last_time")}

    def line(self) -> str:
        if self.status == "already_loaded":
            return f"{self.file}: unchanged since load #{self.load_id}, skipped"
        if self.status == "failed":
            return f"{self.file}: FAILED — {self.error}"
        return (f"{self.file}: {self.status} (load #{self.load_id}) read {self.rows_read}, stored {self.rows_stored} "
                f"({self.rows_inserted} new, {self.rows_revised} revised), quarantined {self.rows_quarantined}")


def _csv_chunks(frame: pd.DataFrame, columns: list[str]) -> Iterator[bytes]:
    for start in range(0, len(frame), COPY_CHUNK_ROWS):
        buf = io.StringIO()
        frame.iloc[start:start + COPY_CHUNK_ROWS][columns].to_csv(
            buf, header=False, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
        yield buf.getvalue().encode()


#: numpy big-endian types of the PostgreSQL binary COPY format, by column type.
_BINARY_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in µs since 1970
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
BINARY_TRAILER = b"\xff\xff"


def _binary_column(series: pd.Series, pg_type: str) -> np.ndarray:
    if pg_type == "timestamptz":
        if series.dt.tz is None:
            raise ValueError(f"column {series.name}: naive timestamps; the loader stores time-zone-aware times only")
        return series.array.as_unit("us").asi8 - _PG_EPOCH_US  # asi8 of an aware array counts from UTC
    if pg_type == "float8":
        return series.to_numpy(dtype="float64", na_value=np.nan)
    return series.to_numpy()


def encode_binary(frame: pd.DataFrame, columns: dict[str, str]) -> bytes:
    """Rows of ``frame`` as PostgreSQL binary COPY tuples (no header), built with numpy.

    ``columns`` maps column → type (int2, int4, int8, float8, timestamptz, text). Only float8 and
    text may hold nulls. Text makes rows variable-length, so rows are grouped by the byte length
    of their text cells (and by which values are null): within a group every tuple has the same
    layout and is one record of a numpy structured array. Row order is not kept (a staging table
    has none). Much faster than formatting CSV text: no number or timestamp is ever printed. Meant
    for text columns with few distinct values (flags, statuses): each distinct value is a group.
    """
    n = len(frame)
    if n == 0:
        return b""
    arrays: dict[str, np.ndarray] = {}
    layout_keys = []
    for name, pg_type in columns.items():
        series = frame[name]
        if pg_type == "text":
            text = series.astype(object).where(series.notna(), None)
            codes, uniques = pd.factorize(text, use_na_sentinel=True)
            encoded = [u.encode() for u in uniques]
            arrays[name] = (codes, encoded)
            layout_keys.append(codes)
        else:
            values = _binary_column(series, pg_type)
            if pg_type == "float8":
                null = np.isnan(values)
                arrays[name] = (values, null)
                layout_keys.append(null.astype(np.int64))
            else:
                arrays[name] = (values, None)
    key = np.zeros(n, dtype=np.int64)
    for k in layout_keys:
        key = key * (int(k.max()) + 2) + (k + 1)
    groups = pd.Series(np.arange(n)).groupby(key, sort=False).indices
    parts = []
    for rows in groups.values():
        first = rows[0]
        fields: list[tuple[str, str]] = [("n", ">i2")]
        fill: list[tuple[str, object]] = []
        for i, (name, pg_type) in enumerate(columns.items()):
            data, extra = arrays[name]
            if pg_type == "text":
                code = data[first]
                if code < 0:
                    fields.append((f"l{i}", ">i4"))
                    fill.append((f"l{i}", -1))
                    continue
                blob = extra[code]
                fields += [(f"l{i}", ">i4"), (f"v{i}", f"S{len(blob)}")] if blob else [(f"l{i}", ">i4")]
                fill.append((f"l{i}", len(blob)))
                if blob:
                    fill.append((f"v{i}", blob))
                continue
            if extra is not None and extra[first]:
                fields.append((f"l{i}", ">i4"))
                fill.append((f"l{i}", -1))
                continue
            dtype = np.dtype(_BINARY_TYPES[pg_type])
            fields += [(f"l{i}", ">i4"), (f"v{i}", dtype.str)]
            fill.append((f"l{i}", dtype.itemsize))
            fill.append((f"v{i}", data[rows]))
        out = np.empty(len(rows), dtype=np.dtype(fields))
        out["n"] = len(columns)
        for field, value in fill:
            out[field] = value
        parts.append(out.tobytes())
    return b"".join(parts)


def copy_binary(conn: psycopg.Connection, table: str, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    """Binary COPY in bounded chunks (see :func:`encode_binary`)."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(BINARY_HEADER)
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            copy.write(encode_binary(frame.iloc[start:start + COPY_CHUNK_ROWS], columns))
        copy.write(BINARY_TRAILER)


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """CSV COPY in bounded chunks (empty CSV fields are NULL)."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        for chunk in _csv_chunks(frame, columns):
            copy.write(chunk)


def _insert_new(conn: psycopg.Connection, domain: str, table: str, rows: pd.DataFrame, load_id: int) -> bool:
    """New data (the usual case: the next hour, day or month) straight into the hypertable by binary
    COPY, at the speed of a raw COPY: no staging table, no join, no ON CONFLICT. Taken only when no
    stored row of the batch's sites lies in its time span; should a concurrent load store one of its
    keys meanwhile, the COPY fails on the primary key, its savepoint rolls back, and the batch takes
    the upsert path, which decides row by row. Returns whether the batch was stored this way."""
    first, last = rows["observed_at"].min(), rows["observed_at"].max()
    sites = np.unique(rows["site_id"].to_numpy(dtype="int64")).tolist()
    if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE site_id = ANY(%s) AND observed_at BETWEEN %s AND %s)",
                    (sites, first, last)).fetchone()[0]:
        return False
    try:
        with conn.transaction():
            copy_binary(conn, table, rows.assign(load_id=load_id), {**STAGE_TYPES, "load_id": "int8"})
    except psycopg.errors.UniqueViolation:
        return False
    # what the upsert statement's CTEs do for the rows it writes: the Beijing days to recompute and
    # each site's latest value
    # Beijing day numbers in integer arithmetic (UTC+8, no DST): a pandas date column costs more
    # than the COPY at 259,200 rows
    shift_ns = pd.Timedelta(LABEL_SHIFT.get(domain, "0 hours")).value - pd.Timedelta(hours=8).value
    instants = (rows["observed_at"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
                .to_numpy().view("int64"))
    day_numbers = (instants - shift_ns) // 86_400_000_000_000
    pairs = np.unique(rows["site_id"].to_numpy(dtype="int64") * 1_000_000 + day_numbers)
    days = (pairs % 1_000_000).astype("datetime64[D]").tolist()
    conn.execute("""INSERT INTO ops.dirty_day (domain, site_id, day, load_id)
                    SELECT %s, s, d, %s FROM unnest(%s::integer[], %s::date[]) AS u(s, d)
                    ON CONFLICT (domain, site_id, day) DO NOTHING""",
                 (domain, load_id, (pairs // 1_000_000).tolist(), days))
    valued = rows.loc[rows["value"].notna(), ["site_id", "observed_at"]]
    latest = valued.groupby("site_id")["observed_at"].max().sort_index()
    conn.execute("""INSERT INTO ops.site_latest AS l (domain, site_id, last_observed_at, load_id)
                    SELECT %s, s, t, %s FROM unnest(%s::integer[], %s::timestamptz[]) AS u(s, t)
                    ON CONFLICT (domain, site_id) DO UPDATE
                       SET last_observed_at = excluded.last_observed_at, load_id = excluded.load_id
                       WHERE excluded.last_observed_at > l.last_observed_at""",
                 (domain, load_id, latest.index.astype("int64").tolist(), [t.to_pydatetime() for t in latest]))
    return True


def upsert_measurements(conn: psycopg.Connection, domain: str, rows: pd.DataFrame, load_id: int) -> UpsertCounts:
    """Must run inside the caller's transaction (the batch's single transaction)."""
    table = MEASUREMENT_TABLES[domain]
    if rows.empty:
        return UpsertCounts(0, 0, 0)
    check_references(conn, rows, load_id)
    if _insert_new(conn, domain, table, rows, load_id):
        return UpsertCounts(inserted=len(rows), revised=0, unchanged=0)
    conn.execute("""CREATE TEMP TABLE IF NOT EXISTS stage_measurement (
        site_id integer, parameter_id smallint, observed_at timestamptz,
        value double precision, source_flag text, status text) ON COMMIT DELETE ROWS""")
    conn.execute("TRUNCATE stage_measurement")
    copy_binary(conn, "stage_measurement", rows, STAGE_TYPES)
    row = conn.execute(f"""
        WITH changed AS (
            SELECT s.site_id, s.parameter_id, s.observed_at, m.value AS old_value, s.value AS new_value,
                   m.source_flag AS old_flag, s.source_flag AS new_flag, m.load_id AS old_load_id
            FROM stage_measurement s
            JOIN {table} m USING (site_id, parameter_id, observed_at)
            WHERE (m.value, m.source_flag) IS DISTINCT FROM (s.value, s.source_flag)
              -- the batch's time span as constants: the hypertable's other chunks are excluded when
              -- planning (without it the join reads every chunk, and a load slows as the table grows)
              AND m.observed_at BETWEEN %(first)s AND %(last)s
        ), revisions AS (
            INSERT INTO ops.measurement_revision
                (domain, site_id, parameter_id, observed_at, old_value, new_value, old_flag, new_flag,
                 old_load_id, new_load_id)
            SELECT %(domain)s, site_id, parameter_id, observed_at, old_value, new_value, old_flag, new_flag,
                   old_load_id, %(load_id)s
            FROM changed
            RETURNING 1
        ), written AS (
            INSERT INTO {table} AS m (site_id, parameter_id, observed_at, value, source_flag, status, load_id)
            SELECT site_id, parameter_id, observed_at, value, source_flag, status, %(load_id)s
            FROM stage_measurement
            ON CONFLICT (site_id, parameter_id, observed_at) DO UPDATE
               SET value = excluded.value, source_flag = excluded.source_flag,
                   status = excluded.status, load_id = excluded.load_id
               WHERE (m.value, m.source_flag) IS DISTINCT FROM (excluded.value, excluded.source_flag)
            RETURNING m.site_id, m.observed_at
        ), touched AS (
            -- Beijing calendar days whose values changed (air labels are hour-ending: 00:00 belongs to the
            -- day before; water samples are instants and belong to their own date).
            INSERT INTO ops.dirty_day (domain, site_id, day, load_id)
            SELECT DISTINCT %(domain)s, site_id, ((observed_at - %(label_shift)s::interval) AT TIME ZONE 'Asia/Shanghai')::date,
                   %(load_id)s
            FROM written
            ON CONFLICT (domain, site_id, day) DO NOTHING
            RETURNING 1
        ), latest AS (
            -- each site's latest non-empty value (ops.site_latest, migration 0008: the freshness panel)
            INSERT INTO ops.site_latest AS l (domain, site_id, last_observed_at, load_id)
            SELECT %(domain)s, site_id, max(observed_at), %(load_id)s
            FROM stage_measurement WHERE value IS NOT NULL
            GROUP BY site_id ORDER BY site_id
            ON CONFLICT (domain, site_id) DO UPDATE
               SET last_observed_at = excluded.last_observed_at, load_id = excluded.load_id
               WHERE excluded.last_observed_at > l.last_observed_at
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM revisions),
               (SELECT count(*) FROM stage_measurement)
    """, {"domain": domain, "load_id": load_id, "label_shift": LABEL_SHIFT.get(domain, "0 hours"),
          "first": rows["observed_at"].min(), "last": rows["observed_at"].max()}).fetchone()
    written, revised, staged = row
    return UpsertCounts(inserted=written - revised, revised=revised, unchanged=staged - written)


def find_loaded(conn: psycopg.Connection, dataset: str, checksum: str) -> int | None:
    row = conn.execute(
        "SELECT load_id FROM ops.load_log WHERE dataset = %s AND checksum_sha256 = %s AND status = 'loaded' "
        "ORDER BY load_id LIMIT 1", (dataset, checksum)).fetchone()
    return row[0] if row else None


def begin_load(conn: psycopg.Connection, *, dataset: str, source_code: str, file_path: str,
               checksum: str | None, file_bytes: int | None, run_id: str) -> int:
    """Logged in its own committed transaction, so a load that dies still leaves its trace."""
    with conn.transaction():
        conn.execute(
            """UPDATE ops.load_log SET status = 'failed', finished_at = now(),
                   error = 'interrupted: the load did not finish (server restart or killed task); retried as a later load'
               WHERE file_path = %s AND dataset = %s AND status = 'running'""", (file_path, dataset))
        return conn.execute(
            """INSERT INTO ops.load_log (dataset, source_code, file_path, checksum_sha256, file_bytes, run_id)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING load_id""",
            (dataset, source_code, file_path, checksum, file_bytes, run_id)).fetchone()[0]


def finish_load(conn: psycopg.Connection, load_id: int, *, status: str, error: str | None = None,
                gate_passed: bool | None = None, lines_read: int = 0, rows_read: int = 0, rows_stored: int = 0,
                rows_quarantined: int = 0, counts: UpsertCounts | None = None,
                first_time=None, last_time=None) -> None:
    counts = counts or UpsertCounts(0, 0, 0)
    conn.execute(
        """UPDATE ops.load_log SET status = %s, error = %s, gate_passed = %s, lines_read = %s, rows_read = %s,
               rows_stored = %s, rows_quarantined = %s, rows_inserted = %s, rows_revised = %s,
               rows_unchanged = %s, first_time = %s, last_time = %s, finished_at = now()
           WHERE load_id = %s""",
        (status, error, gate_passed, lines_read, rows_read, rows_stored, rows_quarantined, counts.inserted,
         counts.revised, counts.unchanged, first_time, last_time, load_id))


def write_quarantine(conn: psycopg.Connection, load_id: int, rows: pd.DataFrame) -> int:
    """``rows``: line_no, field, reason_code, message, raw (a JSON text of the original line)."""
    if rows.empty:
        return 0
    frame = rows[QUARANTINE_COLUMNS].assign(load_id=load_id)
    copy_frame(conn, "ops.quarantine", frame, ["load_id", *QUARANTINE_COLUMNS])
    return len(frame)


def write_validation(conn: psycopg.Connection, load_id: int, gate: GateResult) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO ops.validation_result (load_id, suite, expectation, column_name, severity, success, observed)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [(load_id, gate.suite, o.expectation, o.column, o.severity, o.success,
              json.dumps(o.observed, ensure_ascii=False)) for o in gate.outcomes])
