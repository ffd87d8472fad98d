"""Carbon and energy: CEADs inventories + the bureau's statistics → carbon indicators and reductions.

``carbon_energy`` is data-aware: it is scheduled on the input files as Airflow Assets (the CEADs
city and provincial inventories, the bureau's filled statistics template) and runs when any of
them is updated, or on demand (trigger with ``data_dir``). Files already loaded are recognised by
checksum, so a run loads only what changed.

Nothing inside Airflow notices that a file on disk changed, so ``carbon_inputs_watch`` does:
hourly, one task per asset, succeeding (and so emitting the asset event) only when the file's
current content has not been loaded yet, skipped otherwise. A process that writes the files may
instead post the asset event itself (REST API ``POST /api/v2/assets/events``).
"""

from __future__ import annotations

import functools
import operator
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from envmon.settings import data_dir
from evaluation import carbon
from pipeline import runs

#: One Asset per input file (URIs under the data directory the DAGs are parsed with).
ASSETS = {name: Asset(name=f"carbon_input_{name}", uri=uri) for name, uri in carbon.asset_uris(data_dir()).items()}


@dag(
    dag_id="carbon_energy",
    schedule=functools.reduce(operator.or_, ASSETS.values()),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["envmon", "carbon"],
    params={"data_dir": Param(str(data_dir()), type="string")},
)
def carbon_energy():
    @task
    def prepare() -> dict:
        return runs.prepare_warehouse(runs.warehouse_url())

    @task
    def load_inventories(_prepared: dict) -> list[dict]:
        ctx = get_current_context()
        return [report for kind in ("city_inventory", "province_inventory")
                for report in carbon.load_inputs(kind, ctx["params"]["data_dir"], ctx["run_id"], runs.warehouse_url())]

    @task
    def load_statistics(_inventories: list[dict]) -> list[dict]:
        # After the inventories: a statistics line is checked against the regions they define.
        ctx = get_current_context()
        return carbon.load_inputs("statistics", ctx["params"]["data_dir"], ctx["run_id"], runs.warehouse_url())

    @task
    def refresh(_statistics: list[dict]) -> dict:
        counts = carbon.refresh(runs.warehouse_url())
        return {**counts, "targets": runs.refresh_target_status(runs.warehouse_url())}

    @task(retries=0)  # a file that failed to parse fails the same way on a retry
    def check(inventories: list[dict], statistics: list[dict]) -> None:
        runs.raise_on_failed_files(inventories + statistics)

    inventories = load_inventories(prepare())
    statistics = load_statistics(inventories)
    refresh(statistics) >> check(inventories, statistics)


@dag(
    dag_id="carbon_inputs_watch",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["envmon", "carbon"],
)
def carbon_inputs_watch():
    @task
    def changed() -> list[str]:
        return carbon.changed_inputs(data_dir(), runs.warehouse_url())

    found = changed()
    for name, asset in ASSETS.items():
        @task(task_id=f"announce_{name}", outlets=[asset])
        def announce(changed_names: list[str], name: str = name) -> None:
            if name not in changed_names:
                raise AirflowSkipException(f"{name}: loaded already (or absent)")

        announce(found)


carbon_energy()
carbon_inputs_watch()
