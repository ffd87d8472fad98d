"""Hourly air quality: new CNEMC files → validated measurements → HJ 633 / HJ 663 indicators.

Backfill any date range by triggering with ``date_from`` / ``date_to`` (archive files are
selected by the date in their name); files already loaded are recognised by checksum.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from envmon.settings import data_dir
from ingest import cnemc_air, cnemc_archive
from pipeline import runs


@dag(
    dag_id="air_quality",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2)},
    tags=["envmon", "air"],
    params={
        "data_dir": Param(str(data_dir()), type="string"),
        "date_from": Param(None, type=["null", "string"], description="backfill: first file date YYYY-MM-DD"),
        "date_to": Param(None, type=["null", "string"], description="backfill: last file date YYYY-MM-DD"),
    },
)
def air_quality():
    @task
    def prepare() -> dict:
        return runs.prepare_with_stations(get_current_context()["params"]["data_dir"], runs.warehouse_url())

    @task
    def load_station_hourly(_prepared: dict) -> list[dict]:
        ctx = get_current_context()
        files = runs.files_of(ctx["params"]["data_dir"], "air/cnemc_station_hourly_*.csv")
        return runs.run_loads(cnemc_air.ADAPTER, files, run_id=ctx["run_id"], url=runs.warehouse_url())

    @task
    def load_city_archive(_prepared: dict) -> list[dict]:
        ctx = get_current_context()
        p = ctx["params"]
        files = runs.dated_files(p["data_dir"], "air/**/china_cities_*.csv", p["date_from"], p["date_to"])
        return runs.run_loads(cnemc_archive.CITY_ADAPTER, files, run_id=ctx["run_id"], url=runs.warehouse_url())

    @task
    def compute_indicators(_station: list[dict], _city: list[dict]) -> dict:
        return runs.refresh_indicators(runs.warehouse_url())

    @task
    def check(station: list[dict], city: list[dict]) -> None:
        runs.raise_on_failed_files(station + city)

    prepared = prepare()
    station, city = load_station_hourly(prepared), load_city_archive(prepared)
    compute_indicators(station, city) >> check(station, city)


air_quality()
