"""Water end to end: the water_quality DAG under dag.test() on the real Leshan data, the derived
tables it fills, and the analysts' commands."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import BUNDLED_DATA
from tests.test_dags import _bag
from warehouse.db import connect

ENVMON = str(Path(sys.executable).parent / "envmon")
SNAPSHOT = "2022_12_31_22h52m_国家地表水水质自动监测系统检测数据.csv"


def _state(url: str):
    queries = [
        "SELECT site_id, parameter_id, observed_at, value, source_flag, load_id FROM obs.water_measurement ORDER BY 1,2,3",
        "SELECT count(*) FROM obs.water_manual_measurement",
        "SELECT load_id, status, rows_read, rows_stored, rows_quarantined FROM ops.load_log ORDER BY 1",
        "SELECT * FROM derived.water_sample_class ORDER BY site_id, observed_at",
        "SELECT * FROM derived.water_section_month ORDER BY site_id, month, source",
        "SELECT * FROM derived.water_area_month ORDER BY scope, area, month, source",
        "SELECT count(*) FROM ops.quarantine",
    ]
    with connect(url) as conn:
        return [conn.execute(q).fetchall() for q in queries]


def test_water_dag_loads_the_leshan_data_classifies_and_a_second_run_changes_nothing(
        airflow_db, empty_db, monkeypatch, tmp_path):
    data = tmp_path / "data" / "water"
    (data / "cnemc_snapshots_gbk").mkdir(parents=True)
    for name in ("cnemc_water_auto_leshan_2021-2022.csv", "water_monthly_2021_sichuan_sections.csv"):
        (data / name).symlink_to(BUNDLED_DATA / "water" / name)
    # A real snapshot with one row added for a section nobody registered.
    original = (BUNDLED_DATA / "water" / "cnemc_snapshots_gbk" / SNAPSHOT).read_bytes().decode("gbk")
    first = original.splitlines()[1]
    extra = first.replace("姜公堰", "无名断面", 1)
    (data / "cnemc_snapshots_gbk" / SNAPSHOT).write_bytes((original.rstrip("\n") + "\n" + extra + "\n").encode("gbk"))

    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    dag = _bag().get_dag("water_quality")
    run = dag.test(run_conf={"data_dir": str(tmp_path / "data")})
    assert str(run.state) == "success"
    with connect(empty_db) as conn:
        loads = dict(conn.execute("SELECT dataset, sum(rows_read) FROM ops.load_log WHERE status = 'loaded' "
                                  "GROUP BY 1").fetchall())
        assert loads == {"water_auto_archive": 6388 * 12, "water_auto_snapshot": 6 * 12,
                         "water_manual_monthly": 1140 * 7}
        reasons = conn.execute("""SELECT q.reason_code, count(*), min(q.raw->>'断面名称') FROM ops.quarantine q
                                  GROUP BY 1""").fetchall()
        assert reasons == [("unknown_site", 12, "无名断面")]
        # Flags, never silent drops: '--' and '*' stored as missing, 维护 rows as maintenance.
        flags = dict(conn.execute("SELECT source_flag, count(DISTINCT (site_id, observed_at)) "
                                  "FROM obs.water_measurement GROUP BY 1").fetchall())
        assert flags["maintenance"] == 338 and flags["missing"] == 6388  # every sample has '*' cells
        # Per-sample classes against the published class (both stored): ≥ 99 % of the samples
        # the publisher classed and we could judge (maintenance samples are not judged here).
        agree, total = conn.execute("""
            SELECT count(*) FILTER (WHERE class_code = published_class), count(*)
            FROM derived.water_sample_class WHERE published_class IS NOT NULL AND status = 'ok'""").fetchone()
        assert total > 5_900 and agree / total >= 0.99
        month = conn.execute("""
            SELECT m.n_valid, m.class_label, m.compliant, m.status, m.target_class
            FROM derived.water_section_month m JOIN registry.site s USING (site_id)
            WHERE s.code = '悦来渡口' AND m.month = '2022-12-01' AND m.source = 'automatic'""").fetchone()
        assert month == (175, "II", True, "ok", 3)
        sparse = conn.execute("""
            SELECT m.n_valid, m.class_label, m.status FROM derived.water_section_month m
            JOIN registry.site s USING (site_id)
            WHERE s.code = '悦来渡口' AND m.month = '2021-08-01' AND m.source = 'automatic'""").fetchone()
        assert sparse == (1, None, "insufficient_data")
        city = conn.execute("""SELECT n_sections, n_judged, share_i_iii, share_compliant, grade
                               FROM derived.water_area_month WHERE scope = 'city' AND area = '乐山'
                               AND month = '2022-12-01' AND source = 'automatic'""").fetchone()
        assert city == (6, 6, 1.0, 1.0, "优")
    first_state = _state(empty_db)

    run = dag.test(run_conf={"data_dir": str(tmp_path / "data")})
    assert str(run.state) == "success"
    assert _state(empty_db) == first_state


def _csv(*args: str) -> pd.DataFrame:
    proc = subprocess.run([ENVMON, "water", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)


def test_classify_command_on_the_gbk_snapshots():
    files = sorted(str(p) for p in (BUNDLED_DATA / "water" / "cnemc_snapshots_gbk").glob("*.csv"))
    out = _csv("classify", *files)
    assert list(out.columns) == ["section", "time", "class", "main_pollutants", "decided_by"]
    assert len(out) == 30 and set(out["section"]) == {"姜公堰", "悦来渡口", "月波", "李码头", "马边河河口"}
    first = out.iloc[0]
    assert (first["section"], first["time"], first["class"], first["decided_by"]) == (
        "姜公堰", "2022-12-30T20:00:00+08:00", "II", "tp")  # TP 0.030: class II (0.02 < TP ≤ 0.1)
    # Every snapshot row's published class is reproduced.
    published = []
    for f in files:
        frame = pd.read_csv(f, encoding="gbk", dtype=str)
        published += frame["水质类别"].str.replace("Ⅱ", "II").str.replace("Ⅲ", "III").tolist()
    assert sorted(out["class"]) == sorted(published)


def test_monthly_command_judges_period_means_and_says_when_data_are_too_few():
    out = _csv("monthly", str(BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv"))
    row = out[(out["section"] == "悦来渡口") & (out["month"] == "2022-12")].iloc[0]
    assert (row["valid_samples"], row["class"], row["target_class"], row["compliant"], row["status"]) == (
        "175", "II", "III", "true", "ok")
    assert row["tp"] == "0.082"
    thin = out[(out["section"] == "悦来渡口") & (out["month"] == "2021-08")].iloc[0]
    assert (thin["class"], thin["compliant"], thin["status"]) == ("", "", "insufficient_data")
    only = _csv("monthly", str(BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv"), "--month", "2022-12")
    assert set(only["month"]) == {"2022-12"} and len(only) == 6


def test_recompute_applies_a_changed_target_class_to_stored_months(warehouse):
    """`recompute` reaches months no new load touches: the manual monthly file is loaded once, then
    the bureau tightens one section's target to class I (config change) and the months are
    recomputed from the stored values — only that section's rows change (target, revision) and its
    compliance turns false exactly where the class is worse than I."""
    from ingest.registry import adapter
    from pipeline import runs

    path = BUNDLED_DATA / "water" / "water_monthly_2021_sichuan_sections.csv"
    runs.register_sections_from_data(BUNDLED_DATA, warehouse)
    runs.run_loads(adapter("water_manual_monthly"), [path], run_id="t-recompute", url=warehouse)
    runs.refresh_indicators(warehouse)
    raw = pd.read_csv(path, dtype=str)
    judged = raw[["溶解氧", "氨氮", "高锰酸盐指数", "氢离子浓度指数"]].notna().all(axis=1)
    query = """SELECT s.code, m.month, m.status, m.class_code, m.compliant, m.revision
               FROM derived.water_section_month m JOIN registry.site s USING (site_id)
               WHERE m.source = 'manual' ORDER BY 1, 2"""
    with connect(warehouse) as conn:
        before = pd.DataFrame(conn.execute(query).fetchall(),
                              columns=["site", "month", "status", "class_code", "compliant", "revision"])
        # every section-month with the four measured items is judged; the rest say so
        assert (before["status"] == "ok").sum() == judged.sum() and len(before) == len(raw) == 1140
        section = before.loc[before["class_code"].eq(2), "site"].iloc[0]
        conn.execute("UPDATE registry.site SET target_class = 1 WHERE code = %s AND kind = 'water_section'",
                     (section,))
        conn.commit()
    result = runs.recompute(["water_manual"], url=warehouse)
    assert result["queued_days"] == {"water_manual": 1140}
    with connect(warehouse) as conn:
        after = pd.DataFrame(conn.execute(query).fetchall(), columns=before.columns)
    mine = before["site"].eq(section)
    assert list(after.compare(before).index) == list(before.index[mine]) and mine.sum() == 12
    assert after.loc[mine, "revision"].eq(1).all() and after.loc[~mine, "revision"].eq(0).all()
    flipped = after["compliant"].ne(before["compliant"]) & before["compliant"].notna()
    worse = mine & before["class_code"].notna() & before["class_code"].gt(1)
    assert flipped.equals(worse) and worse.sum() > 0 and not after.loc[worse, "compliant"].any()
    # recomputing again changes nothing
    runs.recompute(["water_manual"], url=warehouse)
    with connect(warehouse) as conn:
        again = pd.DataFrame(conn.execute(query).fetchall(), columns=before.columns)
    assert again.equals(after)
