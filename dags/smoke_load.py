"""Smoke test of the whole path: one real CNEMC hourly file → gate → quarantine/upsert."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from envmon.settings import data_dir
from ingest import cnemc_air
from pipeline import runs


@dag(
    dag_id="smoke_load",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    tags=["envmon", "smoke"],
    params={"file": Param(str(data_dir() / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"), type="string")},
)
def smoke_load():
    @task
    def prepare() -> dict:
        return runs.prepare_with_stations(data_dir(), runs.warehouse_url())

    @task
    def load(_prepared: dict) -> list[dict]:
        ctx = get_current_context()
        return runs.run_loads(cnemc_air.ADAPTER, [ctx["params"]["file"]], run_id=ctx["run_id"], url=runs.warehouse_url())

    load(prepare())


smoke_load()
