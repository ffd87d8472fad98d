"""The command line analysts and operators use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
    assert "schema:        0001_core — up to date" in out


def test_db_status_on_an_empty_database_says_so(empty_db):
    env = {**os.environ, "ENVMON_DATABASE_URL": empty_db}
    out = subprocess.run([ENVMON, "db", "status"], capture_output=True, text=True, check=True, env=env).stdout
    assert "schema:        empty — behind (head 0001_core)" in out
    assert "timescaledb:   not installed" in out
