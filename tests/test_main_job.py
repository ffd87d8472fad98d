"""The main job end to end (``envmon run``, what ``./dev run`` calls): loads, summarises, and a
second run changes nothing in the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from warehouse.db import connect

ENVMON = str(Path(sys.executable).parent / "envmon")
STATE = [
    "SELECT site_id, parameter_id, observed_at, value, source_flag, status, load_id FROM obs.air_measurement ORDER BY 1,2,3",
    "SELECT site_id, parameter_id, observed_at, value, source_flag, status, load_id FROM obs.water_measurement ORDER BY 1,2,3",
    "SELECT * FROM derived.water_section_month ORDER BY site_id, month, source",
    "SELECT load_id, file_path, checksum_sha256, status, rows_read, rows_stored, rows_quarantined FROM ops.load_log ORDER BY 1",
    "SELECT count(*) FROM ops.quarantine",
    "SELECT count(*) FROM ops.measurement_revision",
    "SELECT code, updated_at FROM registry.site ORDER BY 1",
    "SELECT * FROM derived.air_city_year ORDER BY site_id, period_start",
    "SELECT * FROM derived.target_status ORDER BY target_id, as_of",
    "SELECT * FROM derived.carbon_indicator ORDER BY region, year",
]


def _run(url: str, outputs: Path) -> str:
    env = {**os.environ, "ENVMON_DATABASE_URL": url, "AIRFLOW_CONN_ENVMON_WAREHOUSE": url,
           "ENVMON_OUTPUT_DIR": str(outputs)}
    proc = subprocess.run([ENVMON, "run", "--no-cluster"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _state(url: str):
    with connect(url) as conn:
        return [conn.execute(q).fetchall() for q in STATE]


def test_main_job_loads_the_bundled_data_and_a_second_run_changes_nothing(airflow_db, empty_db, tmp_path):
    out = _run(empty_db, tmp_path)
    assert "DAG air_quality: success" in out
    assert "=== envmon main job summary ===" in out
    assert "air_station_hourly       loaded        2      1500      1500       0" in out
    assert "air_city_archive         loaded      365    130755    130755       0" in out
    assert "乐山市 2022 (through 12-31): good days 300/362 = 82.9 %, heavy-pollution days 0, PM2.5 40 µg/m³" in out
    first = _state(empty_db)
    assert len(first[0]) == 1500 + 130755
    # air files, the water archive, 6 GBK snapshots, the monthly file, 2 CEADs workbooks
    assert len(first[3]) == 367 + 1 + 6 + 1 + 2
    assert "DAG carbon_energy: success" in out
    assert "carbon: Leshan CO2 2018 30.81 Mt (CEADs)" in out
    assert "A1   中心城区空气质量优良天数比例: 82.9 % vs 88 — at_risk" in out
    assert "DAG water_quality: success" in out
    assert "悦来渡口 2022-12: class II (175 valid samples), meets target III" in out
    # the two manual sections of the registry appear in none of the bundled files (said, not hidden)
    assert "马鞍山: no data loaded for this section" in out and "河口渡口: no data loaded for this section" in out
    # the monthly report of the last month the bundled data cover
    report = tmp_path / "exports" / "2022-12" / "v1"
    assert "DAG monthly_compliance (2022-12): success" in out
    assert f"monthly compliance report 2022-12: {report} (workbook, CSVs, PDF, manifest.json)" in out
    written = sorted(p.name for p in report.iterdir())
    assert "monthly_compliance_2022-12.xlsx" in written and "monthly_compliance_2022-12.pdf" in written
    manifest = (report / "manifest.json").read_bytes()

    out = _run(empty_db, tmp_path)
    assert "DAG air_quality: success" in out
    assert _state(empty_db) == first
    # same data → no new version, the manifest untouched
    assert f"monthly compliance report 2022-12: {report} (workbook" in out
    assert sorted(p.name for p in report.parent.iterdir()) == ["v1"]
    assert (report / "manifest.json").read_bytes() == manifest
