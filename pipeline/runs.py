"""Units of work shared by the Airflow DAGs and the command line (the DAGs only wire these)."""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import psycopg

from ingest import station_list
from ingest.base import Adapter, file_checksum
from pipeline.load_file import CheckedFile, LoadReport, check_file, load_file, rule_context
from quality.rules import RuleContext
from warehouse import migrate, registry, roles

log = logging.getLogger(__name__)


def prepare_warehouse(url: str | None = None) -> dict[str, object]:
    """Migrate to the newest schema and sync the registries from ``config/``; idempotent."""
    from ingest.section_config import load_sections
    from warehouse.db import connect

    version = migrate.upgrade(url)
    with connect(url) as conn, conn.transaction():
        roles.ensure_roles(conn)  # grants cover the tables the migrations just added
        synced = registry.sync_all(conn)
        synced["sections_changed"] = registry.upsert_sites(conn, load_sections(), config_source="config/sections.yaml")
    return {"schema_version": version, **synced}


def load_station_list(conn: psycopg.Connection, path: Path) -> int:
    """Stations and, derived from them, their cities (the sites of city-level archives)."""
    stations = station_list.parse(path)
    with conn.transaction():
        changed = registry.upsert_sites(conn, stations.drop(columns=["prefecture"], errors="ignore"),
                                        config_source=str(path))
        return changed + registry.upsert_sites(conn, station_list.city_sites(stations), config_source=str(path))


#: Checking a file costs about this much per file (GX's fixed cost per validation) plus this much
#: per MiB of CSV on the development machine (a Leshan city day file 0.16 s, a national station
#: day file of 0.77 MiB 0.75 s). A run whose files are expected to need at least
#: :data:`CHECK_AHEAD_MIN_SECONDS` of checking checks them in a worker process, one file ahead of
#: the file being stored; below it, starting the worker (its forkserver imports pandas and GX,
#: about 4 s once per process) costs more than the overlap saves, and files are checked inline.
CHECK_SECONDS_PER_FILE, CHECK_SECONDS_PER_MIB = 0.15, 0.8
CHECK_AHEAD_MIN_SECONDS = 4.0


def worth_checking_ahead(sizes: list[int]) -> bool:
    """Whether files of these sizes (bytes) are checked in the worker (see above)."""
    expected = CHECK_SECONDS_PER_FILE * len(sizes) + CHECK_SECONDS_PER_MIB * sum(sizes) / 2**20
    return len(sizes) >= 2 and expected >= CHECK_AHEAD_MIN_SECONDS


def check_pool() -> ProcessPoolExecutor:
    """One worker process, forked from a forkserver that imported the checking code once (fork
    from the loading process itself is unsafe: its other threads may hold locks), so the check
    really runs beside the store instead of sharing one interpreter lock with it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.load_file"])
    return ProcessPoolExecutor(max_workers=1, mp_context=context)


def _outcome(future: Future, path: Path, adapter: Adapter, ctx: RuleContext) -> Callable[[], CheckedFile]:
    """The worker's result; if the worker itself died (killed, out of memory), the file is checked
    here instead: a lost worker costs time, never a file."""
    def result() -> CheckedFile:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("check worker lost while checking %s: checking it in the loading process", path)
            return check_file(path, adapter, ctx)
    return result


def checked_ahead(conn: psycopg.Connection, adapter: Adapter, paths: Iterable[Path],
                  force: bool = False) -> Iterator[tuple[Path, Callable[[], CheckedFile] | None]]:
    """The files in order, each with the callable that gives its :class:`CheckedFile` (parse + row
    rules + GX gate + rows to store), or ``None`` for a file already loaded (same checksum: not
    parsed). When checking is expected to take long (:data:`CHECK_AHEAD_MIN_SECONDS`), the next file
    is checked in a worker process while the caller stores the one before: the client's CPU work
    overlaps the server's, at most two files are in memory."""
    from warehouse.load import find_loaded

    ctx = rule_context(conn, adapter.domain)
    todo = []
    for path in sorted(Path(p) for p in paths):
        checksum, size = file_checksum(path)
        loaded = not force and find_loaded(conn, adapter.dataset, checksum) is not None
        todo.append((path, None if loaded else size))
    if not worth_checking_ahead([size for _, size in todo if size is not None]):
        for path, size in todo:
            yield path, None if size is None else functools.partial(check_file, path, adapter, ctx)
        return
    with check_pool() as pool:
        futures: dict[int, Future] = {}

        def submit(i: int) -> None:
            if i < len(todo) and todo[i][1] is not None and i not in futures:
                with contextlib.suppress(BrokenProcessPool):  # the worker died: the file is checked inline
                    futures[i] = pool.submit(check_file, todo[i][0], adapter, ctx)

        for i, (path, size) in enumerate(todo):
            if size is None:
                yield path, None
                continue
            submit(i)
            submit(next((j for j in range(i + 1, len(todo)) if todo[j][1] is not None), len(todo)))
            future = futures.pop(i, None)
            yield path, (_outcome(future, path, adapter, ctx) if future is not None
                         else functools.partial(check_file, path, adapter, ctx))


def load_files(conn: psycopg.Connection, adapter: Adapter, paths: Iterable[Path], run_id: str,
               force: bool = False) -> list[LoadReport]:
    """Each file on its own: a failed file is reported and the next one still loads."""
    reports = []
    for path, checked in checked_ahead(conn, adapter, paths, force):
        report = load_file(conn, path, adapter, run_id=run_id, force=force, checked=checked)
        log.info("%s", report.line())
        reports.append(report)
    return reports


#: Air publications the ``air_quality`` DAG looks for under its data directory:
#: name → (dataset, file pattern, whether the file name carries its date).
AIR_SOURCES: dict[str, tuple[str, str, bool]] = {
    "station_hourly": ("air_station_hourly", "air/**/cnemc_station_hourly_*.csv", False),
    "station_snapshot": ("air_station_snapshot", "air/**/*station_snapshot*.json", False),
    "city_archive": ("air_city_archive", "air/**/china_cities_*.csv", True),
    "station_archive": ("air_station_archive", "air/**/china_sites_*.csv", True),
}


#: Water publications the ``water_quality`` DAG looks for: name → (dataset, pattern, dated).
WATER_SOURCES: dict[str, tuple[str, str, bool]] = {
    "auto_archive": ("water_auto_archive", "water/**/cnemc_water_auto_*.csv", False),
    "auto_snapshot": ("water_auto_snapshot", "water/**/*国家地表水水质自动监测系统检测数据*.csv", False),
    "auto_json": ("water_auto_json", "water/**/*realdatas*.json", False),
    "manual_monthly": ("water_manual_monthly", "water/**/water_monthly_*_sections.csv", False),
}


def register_sections_from_data(data_dir: Path | str, url: str | None = None) -> int:
    """Sections named only in a data file (e.g. every Sichuan section of the monthly file) are
    registered so their rows are stored, without overriding the bureau's configured sections."""
    from ingest import sichuan_water_monthly
    from warehouse.db import connect

    _, pattern, _ = WATER_SOURCES["manual_monthly"]
    added = 0
    with connect(url) as conn, conn.transaction():
        for path in files_of(data_dir, pattern):
            added += registry.insert_missing_sites(conn, sichuan_water_monthly.sections(path), str(path))
    return added


def load_source(sources: dict[str, tuple[str, str, bool]], source: str, data_dir: Path | str, run_id: str,
                url: str | None = None, date_from: str | None = None,
                date_to: str | None = None) -> list[dict[str, object]]:
    """Load the files of one publication found under ``data_dir`` (dated ones within the range)."""
    from ingest.registry import adapter

    dataset, pattern, dated = sources[source]
    files = dated_files(data_dir, pattern, date_from, date_to) if dated else files_of(data_dir, pattern)
    return run_loads(adapter(dataset), files, run_id=run_id, url=url)


def warehouse_url() -> str:
    """Inside Airflow: the ``envmon_warehouse`` connection; elsewhere: ``ENVMON_DATABASE_URL``."""
    from envmon.settings import WAREHOUSE_CONN_ID, database_url

    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(WAREHOUSE_CONN_ID).get_uri()
    except Exception:  # not under Airflow, or the connection is not defined
        return database_url()


def files_of(data_dir: Path | str, pattern: str) -> list[Path]:
    """Files matching ``pattern`` under ``data_dir`` (``**`` recurses, following symlinked folders)."""
    import glob

    return sorted(Path(p) for p in glob.glob(str(Path(data_dir) / pattern), recursive=True))


def dated_files(data_dir: Path | str, pattern: str, date_from: str | None = None,
                date_to: str | None = None) -> list[Path]:
    """Archive files whose name ends in _YYYYMMDD, within [date_from, date_to] when given."""
    import re

    low = (date_from or "0000-00-00").replace("-", "")
    high = (date_to or "9999-99-99").replace("-", "")
    out = []
    for path in files_of(data_dir, pattern):
        match = re.search(r"_(\d{8})\.", path.name)
        if match and low <= match.group(1) <= high:
            out.append(path)
    return out


def raise_on_failed_files(reports: list[dict[str, object]]) -> None:
    """After the good files are in: make the run red if any file failed, naming each."""
    failed = [r for r in reports if r["status"] == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} file(s) failed to load:\n" + "\n".join(str(r["error"]) for r in failed))


def station_lists(data_dir: Path | str) -> list[Path]:
    return files_of(data_dir, "air/stations_*.csv")


#: Tries per file when the server goes away in the middle of a load (restart, failover, network) or
#: aborts its transaction (deadlock): a file is one transaction, so a lost try leaves nothing but
#: its ``interrupted`` line in ops.load_log, and the next try converges to the complete batch.
LOAD_ATTEMPTS = 4
#: How long a retry waits for the server to accept connections again (seconds).
RECONNECT_WAIT = 60.0


def _reconnect(url: str | None) -> psycopg.Connection:
    import time

    from warehouse.db import connect

    deadline, delay = time.monotonic() + RECONNECT_WAIT, 0.5
    while True:
        try:
            return connect(url)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 5.0)


def run_loads(adapter: Adapter, paths: Iterable[Path], run_id: str, url: str | None = None,
              force: bool = False) -> list[dict[str, object]]:
    """Open a connection, load the files, return JSON-friendly reports (for XCom and summaries).
    A file whose load loses the server is retried on a new connection (:data:`LOAD_ATTEMPTS`)."""
    from warehouse.db import connect

    reports: list[LoadReport] = []
    conn = connect(url)
    try:
        for path, checked in checked_ahead(conn, adapter, paths, force):
            for attempt in range(1, LOAD_ATTEMPTS + 1):
                try:
                    report = load_file(conn, path, adapter, run_id=run_id, force=force, checked=checked)
                    log.info("%s", report.line())
                    reports.append(report)
                    break
                except psycopg.OperationalError as exc:
                    if attempt == LOAD_ATTEMPTS:
                        raise
                    log.warning("%s: %s — the batch rolled back; try %d of %d", path, exc, attempt + 1,
                                LOAD_ATTEMPTS)
                    conn.close()
                    conn = _reconnect(url)
    finally:
        conn.close()
    return [r.as_dict() for r in reports]


def prepare_with_stations(data_dir: Path, url: str | None = None) -> dict[str, object]:
    """Schema, config registries and the station lists found in ``data_dir``."""
    from warehouse.db import connect

    summary = prepare_warehouse(url)
    with connect(url) as conn:
        summary["stations_changed"] = sum(load_station_list(conn, p) for p in station_lists(data_dir))
    return summary


def refresh_indicators(url: str | None = None) -> dict[str, int]:
    """Recompute the derived tables for the days the loads touched (drains ``ops.dirty_day``),
    then the targets' status as of the latest day with data (see :func:`refresh_target_status`)."""
    from dataclasses import asdict

    from evaluation.air_refresh import refresh_air
    from evaluation.water_refresh import refresh_water
    from warehouse.db import connect

    with connect(url) as conn:
        air = {f"air_{k}": v for k, v in asdict(refresh_air(conn)).items()}
        water = {f"water_{k}": v for k, v in asdict(refresh_water(conn)).items()}
    return {**air, **water, "targets": refresh_target_status(url)}


def recompute(domains: Iterable[str], day_from=None, day_to=None, url: str | None = None) -> dict[str, object]:
    """Recompute the derived tables from the stored measurements, for days in [day_from, day_to]
    (None = open end): after a method or configuration change (a section's target class, a standard
    reading), which would otherwise reach only the days touched by new loads. The days are queued
    in ``ops.dirty_day`` exactly as a load queues them (each under the load that stored its latest
    value), then :func:`refresh_indicators` runs; unchanged results stay untouched."""
    from psycopg import sql

    from warehouse.db import connect
    from warehouse.load import LABEL_SHIFT, MEASUREMENT_TABLES

    queued: dict[str, int] = {}
    with connect(url) as conn:
        for domain in domains:
            table = MEASUREMENT_TABLES[domain]
            with conn.transaction():
                cur = conn.execute(sql.SQL("""
                    INSERT INTO ops.dirty_day (domain, site_id, day, load_id)
                    SELECT %(domain)s, site_id, day, max(load_id)
                    FROM (SELECT site_id, load_id, ((observed_at - %(shift)s::interval)
                                 AT TIME ZONE 'Asia/Shanghai')::date AS day FROM {}) m
                    WHERE (%(first)s::date IS NULL OR day >= %(first)s) AND (%(last)s::date IS NULL OR day <= %(last)s)
                    GROUP BY site_id, day
                    ON CONFLICT (domain, site_id, day) DO NOTHING""").format(sql.Identifier(*table.split("."))),
                    {"domain": domain, "shift": LABEL_SHIFT.get(domain, "0 hours"), "first": day_from,
                     "last": day_to})
                queued[domain] = cur.rowcount
    return {"queued_days": queued, **refresh_indicators(url)}


def status_dates(conn: psycopg.Connection) -> list:
    """As-of dates worth a target status: the latest day with city air data, and the last day of
    every calendar year the air data complete (a backfilled year is judged on its own 31 Dec)."""
    rows = conn.execute("""
        SELECT max(day) FROM derived.air_city_day
        UNION
        SELECT period_end FROM derived.air_city_year
        WHERE extract(month FROM period_end) = 12 AND extract(day FROM period_end) = 31""").fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def refresh_target_status(url: str | None = None, as_of=None) -> int:
    """Targets' status as of ``as_of``, or as of each of :func:`status_dates` (today when the
    warehouse holds no air data yet). Returns the number of statuses written."""
    import datetime as dt

    from targets.refresh import refresh_targets
    from warehouse.db import connect

    with connect(url) as conn:
        dates = [as_of] if as_of else (status_dates(conn) or [dt.date.today()])
        return sum(len(refresh_targets(conn, day)) for day in dates)


def evaluate_and_notify(url: str | None = None, as_of=None) -> dict[str, object]:
    """Alert conditions after a load (alerts.evaluate: open/resolve incidents in ops.alert_incident),
    then the pending notifications (alerts.notify: webhook / e-mail from the environment)."""
    from alerts.evaluate import evaluate
    from alerts.notify import notify_pending
    from warehouse.db import connect

    with connect(url) as conn:
        report = evaluate(conn, as_of)
        sent = notify_pending(conn)
    return {**report.as_dict(), **sent.as_dict()}
