"""Hourly air quality: new CNEMC files → validated measurements → HJ 633 / HJ 663 indicators.

One mapped load task per publication (station hourly CSV, station snapshot GeoJSON, the
china_cities / china_sites archives). Backfill any date range by triggering with ``date_from``
/ ``date_to`` (archive files are selected by the date in their name); files already loaded are
recognised by checksum. Indicators are recomputed for exactly the days the loads touched, then
the alert conditions are evaluated and notified (alerts/).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from envmon.settings import data_dir
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
    def prepare() -> list[str]:
        runs.prepare_with_stations(get_current_context()["params"]["data_dir"], runs.warehouse_url())
        return list(runs.AIR_SOURCES)

    @task
    def load(source: str) -> list[dict]:
        ctx = get_current_context()
        p = ctx["params"]
        return runs.load_source(runs.AIR_SOURCES, source, p["data_dir"], ctx["run_id"], runs.warehouse_url(),
                                p["date_from"], p["date_to"])

    @task
    def compute_indicators(_loaded) -> dict:
        return runs.refresh_indicators(runs.warehouse_url())

    @task
    def alerts(_indicators) -> dict:
        return runs.evaluate_and_notify(runs.warehouse_url())

    @task
    def check(loaded) -> None:
        runs.raise_on_failed_files([report for reports in loaded for report in reports])

    loaded = load.expand(source=prepare())
    indicators = compute_indicators(loaded)
    alerts(indicators)
    indicators >> check(loaded)


air_quality()
