"""Airflow wiring: DAG files import cleanly and really run (dag.test) against the real warehouse."""

from __future__ import annotations

from airflow.dag_processing.dagbag import DagBag

from envmon.settings import REPO_ROOT
from tests.conftest import shared
from warehouse.db import connect


def _bag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_dag_files_import_without_errors(airflow_db):
    """DagBag parsing of Asset-scheduled DAGs reads the metadata database: it must exist."""
    bag = _bag()
    assert bag.import_errors == {}
    assert {"smoke_load", "air_quality", "monthly_compliance"} <= set(bag.dag_ids)


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


def _air_state(url: str):
    queries = [
        "SELECT site_id, parameter_id, observed_at, value, source_flag, load_id FROM obs.air_measurement ORDER BY 1,2,3",
        "SELECT load_id, status, rows_read, rows_stored, rows_quarantined FROM ops.load_log ORDER BY 1",
        "SELECT * FROM derived.air_city_day ORDER BY site_id, day",
        "SELECT * FROM derived.air_city_month ORDER BY site_id, period_start",
        "SELECT * FROM derived.air_city_year ORDER BY site_id, period_start",
        "SELECT count(*) FROM derived.air_hour_aqi",
        "SELECT count(*) FROM ops.quarantine",
        "SELECT count(*) FROM ops.dirty_day",
    ]
    with connect(url) as conn:
        return [conn.execute(q).fetchall() for q in queries]


def test_air_quality_dag_loads_the_2022_archive_computes_and_a_second_run_changes_nothing(
        airflow_db, empty_db, monkeypatch, tmp_path):
    import pandas as pd

    from tests.conftest import BUNDLED_DATA

    data = tmp_path / "data"
    (data / "air" / "archive").mkdir(parents=True)
    (data / "air" / "stations_sichuan.csv").symlink_to(BUNDLED_DATA / "air" / "stations_sichuan.csv")
    (data / "air" / "china_cities_leshan_2022").symlink_to(BUNDLED_DATA / "air" / "china_cities_leshan_2022")
    # A file with broken rows: the first hours of 2023-01-01 for Leshan, three lines damaged.
    day = pd.read_csv(shared("air", "china_cities_20230101.csv"), usecols=["date", "hour", "type", "乐山"], dtype=str)
    day = day[day["hour"].astype(int) < 3].reset_index(drop=True)
    day.loc[1, "乐山"] = "-40"         # PM2.5 negative
    day.loc[2, "乐山"] = "n/a?"        # PM2.5_24h unreadable
    day.loc[3, "hour"] = "x"           # a line without a time
    broken = data / "air" / "archive" / "china_cities_20230101.csv"
    day.to_csv(broken, index=False)

    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    dag = _bag().get_dag("air_quality")
    run = dag.test(run_conf={"data_dir": str(data)})
    assert str(run.state) == "success"
    with connect(empty_db) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM ops.load_log GROUP BY 1").fetchall()
        assert statuses == [("loaded", 366)]
        quarantined = conn.execute("""SELECT q.line_no, q.reason_code FROM ops.quarantine q
            JOIN ops.load_log l USING (load_id) WHERE l.file_path = %s ORDER BY 1""", (str(broken),)).fetchall()
        assert quarantined == [(3, "out_of_range"), (4, "not_a_number"), (5, "bad_time")]
        good = conn.execute("""SELECT rows_read, rows_stored FROM ops.load_log WHERE file_path = %s""",
                            (str(broken),)).fetchone()
        assert good == (45, 42)  # 45 lines × 1 city; the other 42 values are stored
        year = conn.execute("""SELECT y.valid_days, y.good_days, y.good_day_ratio, y.heavy_pollution_days, y.pm25_mean,
                                      y.complete, y.period_end
                               FROM derived.air_city_year y JOIN registry.site s USING (site_id)
                               WHERE s.code = '乐山' AND y.period_start = '2022-01-01'""").fetchone()
        assert year[:6] == (362, 300, 82.9, 0, 40.0, True) and str(year[6]) == "2022-12-31"
        months = conn.execute("""SELECT count(*), sum(valid_days) FROM derived.air_city_month m
                                 JOIN registry.site s USING (site_id)
                                 WHERE s.code = '乐山' AND extract(year FROM period_start) = 2022""").fetchone()
        assert months == (12, 362)
        methods = conn.execute("SELECT method, count(*) FROM derived.air_city_day GROUP BY 1").fetchall()
        assert methods == [("city_hourly_series", 367)]  # 2021-12-31 … 2023-01-01, from the city's series
        assert conn.execute("SELECT count(*) FROM ops.dirty_day").fetchone()[0] == 0
    first = _air_state(empty_db)

    run = dag.test(run_conf={"data_dir": str(data)})
    assert str(run.state) == "success"
    assert _air_state(empty_db) == first
