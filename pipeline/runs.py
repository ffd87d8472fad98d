"""Units of work shared by the Airflow DAGs and the command line (the DAGs only wire these)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import psycopg

from ingest import station_list
from ingest.base import Adapter
from pipeline.load_file import LoadReport, load_file
from warehouse import migrate, registry

log = logging.getLogger(__name__)


def prepare_warehouse(url: str | None = None) -> dict[str, object]:
    """Migrate to the newest schema and sync the registries from ``config/``; idempotent."""
    from warehouse.db import connect

    version = migrate.upgrade(url)
    with connect(url) as conn, conn.transaction():
        synced = registry.sync_all(conn)
    return {"schema_version": version, **synced}


def load_station_list(conn: psycopg.Connection, path: Path) -> int:
    with conn.transaction():
        return registry.upsert_sites(conn, station_list.parse(path), config_source=str(path))


def load_files(conn: psycopg.Connection, adapter: Adapter, paths: Iterable[Path], run_id: str,
               force: bool = False) -> list[LoadReport]:
    """Each file on its own: a failed file is reported and the next one still loads."""
    reports = []
    for path in sorted(Path(p) for p in paths):
        report = load_file(conn, path, adapter, run_id=run_id, force=force)
        log.info("%s", report.line())
        reports.append(report)
    return reports
