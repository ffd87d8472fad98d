"""The command line analysts and operators use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from warehouse import migrate

ENVMON = str(Path(sys.executable).parent / "envmon")


def test_help_lists_the_commands():
    out = subprocess.run([ENVMON, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("db", "run"):
        assert f"    {command} " in out
    db = subprocess.run([ENVMON, "db", "--help"], capture_output=True, text=True, check=True).stdout
    for action in ("start", "stop", "migrate", "status"):
        assert action in db


def test_db_status_reports_server_licence_and_schema(warehouse):
    env = {**os.environ, "ENVMON_DATABASE_URL": warehouse}
    out = subprocess.run([ENVMON, "db", "status"], capture_output=True, text=True, check=True, env=env).stdout
    assert "PostgreSQL 15." in out
    assert "timescaledb:   2.19.3 (licence apache)" in out
    assert "mode apache; features: hypertables" in out
    assert f"schema:        {migrate.head_version()} — up to date" in out


def test_db_status_on_an_empty_database_says_so(empty_db):
    env = {**os.environ, "ENVMON_DATABASE_URL": empty_db}
    out = subprocess.run([ENVMON, "db", "status"], capture_output=True, text=True, check=True, env=env).stdout
    assert f"schema:        empty — behind (head {migrate.head_version()})" in out
    assert "timescaledb:   not installed" in out


def test_load_command_reports_each_file(warehouse, tmp_path):
    env = {**os.environ, "ENVMON_DATABASE_URL": warehouse}
    bad = tmp_path / "bad.csv"
    bad.write_text("timepoint\n", encoding="utf-8")
    good = Path(__file__).resolve().parents[1] / "data" / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"
    proc = subprocess.run([ENVMON, "load", "air_station_hourly", str(good), str(bad)], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 1  # one file failed; the other still loaded
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    assert re.fullmatch(r"loaded \(load #\d+\) read 60, stored 60, quarantined 0", lines[str(good)])
    assert re.match(r"failed \(load #\d+\) read 0, stored 0, quarantined 0 — ", lines[str(bad)])
    assert f"{bad}, line 1: missing column(s) stationcode" in lines[str(bad)]


def test_data_docs_are_built_on_demand(warehouse, tmp_path):
    env = {**os.environ, "ENVMON_DATABASE_URL": warehouse}
    good = Path(__file__).resolve().parents[1] / "data" / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"
    out = subprocess.run([ENVMON, "quality", "docs", "air_station_hourly", str(good), "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == f"Data Docs: {tmp_path / 'index.html'}"
    suite_page = (tmp_path / "expectations" / "air_station_hourly.html").read_text(encoding="utf-8")
    assert "expect_column_values_to_be_between" in suite_page or "values must be" in suite_page.lower()
    assert list((tmp_path / "validations" / "air_station_hourly").rglob("*.html"))


def test_database_commands_say_what_to_do_when_the_schema_is_behind(empty_db):
    env = {**os.environ, "ENVMON_DATABASE_URL": empty_db}
    proc = subprocess.run([ENVMON, "targets", "status"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"error: the warehouse schema is at empty, the code expects "
                                   f"{migrate.head_version()}: run `envmon db migrate`")
