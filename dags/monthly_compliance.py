"""The monthly compliance export the bureau sends up: on the 1st of each month, for the month before.

Data-aware: ``wait_for_data`` (a sensor, rescheduled every ``poke_interval_minutes``) lets the run
go on once the month's data are complete, or once the cut-off (``cutoff_days_after_month_end`` days
after the month's end, config/exports.yaml) has passed; it hands the list of data still missing to
``export`` through XCom, and the export states them in its 数据说明 sheet. Trigger with ``month``
(YYYY-MM) to export another month, and ``out_dir`` for another output root.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, PokeReturnValue, dag, get_current_context, task

from exports import run as export_run
from exports.monthly import load_config
from pipeline import runs

CONFIG = load_config()


def _month() -> str:
    ctx = get_current_context()
    when = ctx.get("logical_date") or ctx["dag_run"].run_after
    return export_run.month_of_run(ctx["params"].get("month") or "", when)


@dag(
    dag_id="monthly_compliance",
    schedule="0 6 1 * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["envmon", "exports"],
    params={
        "month": Param("", type="string", description="YYYY-MM; empty: the month before the run"),
        "out_dir": Param(str(export_run.default_out_dir()), type="string"),
    },
)
def monthly_compliance():
    @task.sensor(poke_interval=timedelta(minutes=int(CONFIG["poke_interval_minutes"])),
                 timeout=timedelta(days=int(CONFIG["cutoff_days_after_month_end"]) + 2),
                 mode="reschedule", soft_fail=False)
    def wait_for_data() -> PokeReturnValue:
        state = export_run.readiness(_month(), runs.warehouse_url())
        return PokeReturnValue(is_done=state["done"], xcom_value=state)

    @task
    def export(state: dict) -> dict:
        out_dir = get_current_context()["params"]["out_dir"]
        result = export_run.export_month(state["month"], out_dir, runs.warehouse_url())
        return {**result, "missing_at_cutoff": state["missing"], "complete_at_start": state["complete"]}

    export(wait_for_data())


monthly_compliance()
