"""River sections every 4 hours: automatic and manual results → GB 3838 classes → target compliance.

One mapped load task per publication (automatic archive CSV, saved GBK snapshots, the public
page's JSON, the monthly manual results); classes and compliance are recomputed for exactly the
days and months the loads touched, then the alert conditions are evaluated and notified
(alerts/). Trigger with another ``data_dir`` to backfill.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from envmon.settings import data_dir
from pipeline import runs


@dag(
    dag_id="water_quality",
    schedule="0 */4 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=5)},
    tags=["envmon", "water"],
    params={"data_dir": Param(str(data_dir()), type="string")},
)
def water_quality():
    @task
    def prepare() -> list[str]:
        p = get_current_context()["params"]
        runs.prepare_warehouse(runs.warehouse_url())
        runs.register_sections_from_data(p["data_dir"], runs.warehouse_url())
        return list(runs.WATER_SOURCES)

    @task
    def load(source: str) -> list[dict]:
        ctx = get_current_context()
        return runs.load_source(runs.WATER_SOURCES, source, ctx["params"]["data_dir"], ctx["run_id"],
                                runs.warehouse_url())

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


water_quality()
