"""Airflow wiring: DAG files import cleanly and really run (dag.test) against the real warehouse."""

from __future__ import annotations

from airflow.dag_processing.dagbag import DagBag

from envmon.settings import REPO_ROOT
from tests.conftest import shared
from warehouse.db import connect


def _bag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_dag_files_import_without_errors():
    bag = _bag()
    assert bag.import_errors == {}
    assert {"smoke_load", "air_quality"} <= set(bag.dag_ids)


def test_smoke_dag_loads_one_real_file_into_the_warehouse(airflow_db, empty_db, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    path = shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv")
    run = _bag().get_dag("smoke_load").test(run_conf={"file": str(path)})
    assert str(run.state) == "success"
    with connect(empty_db) as conn:
        load = conn.execute("SELECT file_path, status, rows_read, rows_stored, rows_quarantined, run_id "
                            "FROM ops.load_log").fetchall()
        stations = conn.execute("""SELECT DISTINCT s.code FROM obs.air_measurement m
                                   JOIN registry.site s USING (site_id) ORDER BY 1""").fetchall()
    assert load == [(str(path), "loaded", 1440, 1440, 0, run.run_id)]
    assert [s[0] for s in stations] == ["2535A", "2536A", "2537A", "2538A"]
