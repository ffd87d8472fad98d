"""Faults (issue #8, resilience): the server restarted in the middle of a load, a DAG task killed and
retried, the same file delivered twice and a corrected version later, late data for a closed month.

Every fault ends in the state a clean run gives: a file is one transaction, so a load that dies
leaves only its ``interrupted`` line in ``ops.load_log``, and the retry stores the complete batch.
The restart test restarts a throwaway cluster of its own (another port and directory), never the
cluster the other tests share.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from envmon import localcluster
from envmon.settings import REPO_ROOT, LocalCluster
from evaluation.water_refresh import refresh_water
from ingest import cnemc_air, cnemc_archive, cnemc_water
from pipeline import runs
from pipeline.load_file import load_file
from standards.gbt8170 import round_gbt8170
from tests.conftest import BUNDLED_DATA
from warehouse.db import connect

DAY = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"
CITY_ARCHIVE = BUNDLED_DATA / "air" / "china_cities_leshan_2022"

MEASUREMENTS = """SELECT s.code, p.code, m.observed_at, m.value, m.source_flag, m.status
                  FROM obs.air_measurement m JOIN registry.site s USING (site_id)
                  JOIN registry.parameter p USING (parameter_id) ORDER BY 1, 2, 3"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    """A second PostgreSQL + TimescaleDB cluster, only for the restart test."""
    cluster = localcluster.start(LocalCluster(port=_free_port(), base_dir=tmp_path_factory.mktemp("own_pg")))
    yield cluster
    localcluster.stop(cluster)
    shutil.rmtree(cluster.base_dir, ignore_errors=True)


def _wait_for_lock_wait(url: str, database: str, timeout: float = 90.0) -> None:
    """Until a session of ``database`` waits for a lock (the load reached its upsert)."""
    deadline = time.monotonic() + timeout
    with connect(url) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                                      "AND wait_event_type = 'Lock'", (database,)).fetchone()[0]
            if waiting:
                return
            time.sleep(0.1)
    raise AssertionError(f"no load of {database} reached the upsert within {timeout} s")


def _hold_lock(url: str) -> psycopg.Connection:
    """A transaction holding the measurement table: a load that reaches its upsert waits there,
    with everything before it (validation results, quarantine, staging) written but uncommitted."""
    blocker = psycopg.connect(url)
    blocker.execute("LOCK TABLE obs.air_measurement IN ACCESS EXCLUSIVE MODE")
    return blocker


def _load_log(conn) -> list[tuple]:
    return conn.execute("SELECT load_id, status, rows_read, rows_stored, rows_quarantined, error "
                        "FROM ops.load_log ORDER BY load_id").fetchall()


def test_server_restart_in_the_middle_of_a_load_retries_and_stores_the_whole_batch_once(own_cluster):
    url = own_cluster.url("envmon")
    runs.prepare_with_stations(BUNDLED_DATA, url)
    blocker = _hold_lock(url)
    outcome: dict[str, object] = {}

    def load() -> None:
        try:
            outcome["reports"] = runs.run_loads(cnemc_air.ADAPTER, [DAY], run_id="restart", url=url)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=load)
    thread.start()
    try:
        _wait_for_lock_wait(own_cluster.url("postgres"), "envmon")
        localcluster.restart(own_cluster)  # -m fast: every session is cut, the open batch rolls back
    finally:
        blocker.close()
        thread.join(timeout=180)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    [report] = outcome["reports"]
    assert (report["status"], report["rows_read"], report["rows_stored"], report["rows_quarantined"]) == \
        ("loaded", 1440, 1440, 0)

    with connect(url) as conn:
        log = _load_log(conn)
        assert [row[1] for row in log] == ["failed", "loaded"]
        lost, done = log[0][0], log[1][0]
        assert log[0][5].startswith("interrupted") and log[0][2:5] == (0, 0, 0)
        assert done == report["load_id"] and log[1][2:5] == (1440, 1440, 0)
        # Nothing of the lost try: no value, no validation result, no quarantine row, no dirty day.
        for table in ("obs.air_measurement", "ops.validation_result", "ops.quarantine", "ops.dirty_day"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE load_id = %s", (lost,)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*), min(load_id), max(load_id) FROM obs.air_measurement").fetchone() == \
            (1440, done, done)


KILLED_RUN = """
import sys
from envmon import airflow_env
airflow_env.apply()
from airflow.dag_processing.dagbag import DagBag
DagBag(dag_folder=sys.argv[1]).get_dag("smoke_load").test(run_conf={"file": sys.argv[2]})
"""


def test_dag_task_killed_in_the_middle_of_its_load_and_run_again_ends_like_one_clean_run(
        airflow_db, warehouse, monkeypatch):
    """The smoke_load DAG runs in its own process, which is killed (SIGKILL, like an OOM kill or a lost
    worker) while its load task is inside the batch's transaction; the DAG is then run again."""
    blocker = _hold_lock(warehouse)
    env = {**os.environ, "AIRFLOW_CONN_ENVMON_WAREHOUSE": warehouse, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(REPO_ROOT / "dags"), str(DAY)], env=env,
                            cwd=REPO_ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for_lock_wait(warehouse, warehouse.rsplit("/", 1)[1])
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        blocker.close()

    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", warehouse)
    run = DagBag(dag_folder=str(REPO_ROOT / "dags")).get_dag("smoke_load").test(run_conf={"file": str(DAY)})
    assert str(run.state) == "success"

    with connect(warehouse) as conn:
        log = _load_log(conn)
        assert [row[1] for row in log] == ["failed", "loaded"] and log[0][5].startswith("interrupted")
        killed, retried = log[0][0], log[1][0]
        for table in ("obs.air_measurement", "ops.validation_result", "ops.quarantine", "ops.dirty_day"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE load_id = %s", (killed,)).fetchone()[0] == 0
        assert log[1][2:5] == (1440, 1440, 0)
        assert conn.execute("SELECT count(DISTINCT day), min(load_id), max(load_id) FROM ops.dirty_day").fetchone() == \
            (1, retried, retried)  # hour-ending labels 01:00 … 24:00: all of them the Beijing day 2023-01-01
        state = conn.execute(MEASUREMENTS).fetchall()
        # A clean load of the same file over this state finds every value already there, unchanged.
        clean = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="clean", force=True)
        assert (clean.rows_stored, clean.rows_inserted, clean.rows_revised) == (1440, 0, 0)
        assert conn.execute(MEASUREMENTS).fetchall() == state and len(state) == 1440


def test_water_file_twice_is_skipped_and_a_corrected_version_keeps_the_old_value_as_a_revision(conn, tmp_path):
    """The air case is tests/test_load.py; here the water archive (other store, other day rule)."""
    source = BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv"
    header, *lines = source.read_text(encoding="utf-8-sig").splitlines()
    delivered = tmp_path / "first" / "cnemc_water_auto_leshan_2021-06.csv"
    delivered.parent.mkdir()
    delivered.write_text("\n".join([header, *lines[:6]]) + "\n", encoding="utf-8")

    first = load_file(conn, delivered, cnemc_water.ARCHIVE_ADAPTER, run_id="w1")
    assert first.status == "loaded" and first.rows_stored == 6 * 12 and first.rows_quarantined == 0
    refresh_water(conn)  # the month's indicators are computed: the queue of touched days is empty
    stored = conn.execute("SELECT * FROM obs.water_measurement ORDER BY 1, 2, 3").fetchall()

    again = load_file(conn, delivered, cnemc_water.ARCHIVE_ADAPTER, run_id="w2")
    assert (again.status, again.load_id) == ("already_loaded", first.load_id)
    assert conn.execute("SELECT * FROM obs.water_measurement ORDER BY 1, 2, 3").fetchall() == stored

    # Line 3 (姜公堰, 06-18 00:00): the publisher corrects 氨氮 0.190 → 0.210 mg/L.
    cells = lines[1].split(",")
    assert (cells[4], cells[5], cells[13]) == ("姜公堰", "06-18 00:00", "0.190")
    cells[13] = "0.210"
    corrected = tmp_path / "cnemc_water_auto_leshan_2021-06.csv"
    corrected.write_text("\n".join([header, lines[0], ",".join(cells), *lines[2:6]]) + "\n", encoding="utf-8")
    report = load_file(conn, corrected, cnemc_water.ARCHIVE_ADAPTER, run_id="w3")
    assert (report.status, report.rows_inserted, report.rows_revised, report.rows_stored) == ("loaded", 0, 1, 72)
    revision = conn.execute("""
        SELECT r.domain, s.code, p.code, r.observed_at AT TIME ZONE 'Asia/Shanghai', r.old_value, r.new_value,
               r.old_load_id, r.new_load_id
        FROM ops.measurement_revision r JOIN registry.site s USING (site_id) JOIN registry.parameter p USING (parameter_id)
    """).fetchall()
    assert revision == [("water", "姜公堰", "nh3n", pd.Timestamp("2021-06-18 00:00").to_pydatetime(), 0.19, 0.21,
                         first.load_id, report.load_id)]
    assert conn.execute("SELECT count(*) FROM obs.water_measurement").fetchone()[0] == 72
    assert conn.execute("""SELECT day FROM ops.dirty_day WHERE load_id = %s""", (report.load_id,)).fetchall() == \
        [(pd.Timestamp("2021-06-18").date(),)]


def _january(conn) -> tuple:
    return conn.execute("""
        SELECT m.valid_days, m.pm25_mean, m.good_days, m.computed_at, m.revision
        FROM derived.air_city_month m JOIN registry.site s USING (site_id)
        WHERE s.code = '乐山' AND m.period_start = '2022-01-01'""").fetchone()


def _daily_pm25(files: list[Path]) -> pd.Series:
    """Independent of the code under test: each Beijing day's PM2.5 as the mean of its 24 hour-ending
    values (labels 01:00 … 24:00, i.e. hours 1–23 of the day's file and hour 0 of the next day's file;
    HJ 663-2013 §4, a day needs at least 20 hourly values)."""
    frames = []
    for path in files:
        frame = pd.read_csv(path, dtype=str)
        frame = frame[frame["type"] == "PM2.5"]
        stamp = pd.to_datetime(frame["date"], format="%Y%m%d") + pd.to_timedelta(frame["hour"].astype(int), unit="h")
        frames.append(pd.DataFrame({"day": (stamp - pd.Timedelta(hours=1)).dt.date,
                                    "pm25": pd.to_numeric(frame["乐山"], errors="coerce")}))
    hourly = pd.concat(frames).dropna()
    days = hourly.groupby("day")["pm25"].agg(["mean", "count"])
    return days.loc[days["count"] >= 20, "mean"]


def test_late_file_for_a_closed_month_recomputes_the_month(warehouse):
    """January 2022 is loaded without 15 January and computed; the 15th arrives in February. The
    month (valid days, PM2.5 mean) is recomputed from the queue of touched days (ops.dirty_day),
    flagged as revised (``revision`` 0 → 1: it changed after the month had ended), and the late load
    is on record in ops.load_log with its time span inside the closed month."""
    january = sorted(CITY_ARCHIVE.glob("china_cities_202201*.csv")) + [CITY_ARCHIVE / "china_cities_20220201.csv"]
    late = CITY_ARCHIVE / "china_cities_20220115.csv"
    on_time = [p for p in january if p != late]
    runs.run_loads(cnemc_archive.CITY_ADAPTER, on_time, run_id="on-time", url=warehouse)
    runs.refresh_indicators(warehouse)
    with connect(warehouse) as conn:
        before = _january(conn)
    days = _daily_pm25(on_time)
    days = days[[d.month == 1 and d.year == 2022 for d in days.index]]
    assert before[0] == len(days) == 30

    [report] = runs.run_loads(cnemc_archive.CITY_ADAPTER, [late], run_id="late", url=warehouse)
    assert report["status"] == "loaded" and report["rows_stored"] == 24 * 15
    with connect(warehouse) as conn:
        queued = conn.execute("SELECT day FROM ops.dirty_day WHERE load_id = %s ORDER BY 1",
                              (report["load_id"],)).fetchall()
    # Hour 0 of the 15th is 24:00 of the 14th: both days are touched (the 14th gains its last hour).
    assert [d for (d,) in queued] == [pd.Timestamp("2022-01-14").date(), pd.Timestamp("2022-01-15").date()]
    runs.refresh_indicators(warehouse)
    with connect(warehouse) as conn:
        after = _january(conn)
        assert conn.execute("SELECT count(*) FROM ops.dirty_day").fetchone()[0] == 0
        span = conn.execute("SELECT first_time, last_time FROM ops.load_log WHERE load_id = %s",
                            (report["load_id"],)).fetchone()
    assert span[0] >= pd.Timestamp("2022-01-15 00:00", tz="Asia/Shanghai") and \
        span[1] <= pd.Timestamp("2022-01-16 00:00", tz="Asia/Shanghai")

    all_days = _daily_pm25(january)
    all_days = all_days[[d.month == 1 and d.year == 2022 for d in all_days.index]]
    assert after[0] == before[0] + 1 == len(all_days) == 31
    assert after[3] > before[3]  # recomputed after the late load
    assert (before[4], after[4]) == (0, 1)  # flagged as revised
    # The month's PM2.5 mean moved with the late day (73.1 → 74.0 µg/m³ from the independent daily
    # means; reported as integers, GB/T 8170 rounding).
    assert (before[1], after[1]) == (round_gbt8170(days.mean()), round_gbt8170(all_days.mean())) == (73, 74)
