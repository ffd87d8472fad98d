"""Hourly air quality: new CNEMC station files → validated narrow measurements in the warehouse."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from envmon.settings import data_dir
from ingest import cnemc_air
from pipeline import runs


@dag(
    dag_id="air_quality",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2)},
    tags=["envmon", "air"],
    params={"data_dir": Param(str(data_dir()), type="string")},
)
def air_quality():
    @task
    def prepare() -> dict:
        ctx = get_current_context()
        return runs.prepare_with_stations(ctx["params"]["data_dir"], runs.warehouse_url())

    @task
    def load_station_hourly(_prepared: dict) -> list[dict]:
        ctx = get_current_context()
        files = runs.files_of(ctx["params"]["data_dir"], "air/cnemc_station_hourly_*.csv")
        return runs.run_loads(cnemc_air.ADAPTER, files, run_id=ctx["run_id"], url=runs.warehouse_url())

    load_station_hourly(prepare())


air_quality()
