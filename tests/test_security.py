"""Security (issue #8): read-only roles only read, the ingest role cannot damage the schema, no
credentials in the repository, and hostile names pass through the load path as plain data.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from envmon.settings import REPO_ROOT
from ingest import cnemc_air
from pipeline.load_file import load_file
from tests.conftest import BUNDLED_DATA
from warehouse import registry
from warehouse.roles import INGEST_ROLE

DAY = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"

#: Statements no reading or loading role may run (each must fail for lack of privilege).
SCHEMA_DAMAGE = [
    "DROP TABLE obs.air_measurement",
    "DROP TABLE derived.air_city_day",
    "ALTER TABLE obs.air_measurement ADD COLUMN x int",
    "ALTER TABLE ops.load_log DROP COLUMN error",
    "TRUNCATE obs.air_measurement",
    "TRUNCATE ops.measurement_revision",
    "CREATE TABLE obs.intruder (x int)",
    "CREATE TABLE derived.intruder (x int)",
    "CREATE TABLE public.intruder (x int)",
    "CREATE SCHEMA intruder",
    "DROP SCHEMA derived CASCADE",
    "CREATE ROLE intruder SUPERUSER",
    "ALTER TABLE obs.air_measurement OWNER TO envmon_reader",
]
WRITES = [
    "INSERT INTO derived.air_city_day (site_id, day, rules, method) VALUES (1, '2020-01-01', 'x', 'x')",
    "UPDATE derived.air_city_day SET aqi = 0",
    "DELETE FROM derived.air_city_day",
    "UPDATE obs.air_measurement SET value = 0",
    "DELETE FROM obs.air_measurement",
    "INSERT INTO ops.load_log (dataset, source_code, file_path, run_id) VALUES ('x', 'x', 'x', 'x')",
    "UPDATE registry.site SET name_zh = 'x'",
]


def _refused(conn: psycopg.Connection, statement: str) -> bool:
    """True when the statement fails for lack of privilege (or read-only); it never commits."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction):
        return True
    return False


def _as_role(conn: psycopg.Connection, role: str) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def test_reader_role_selects_everything_and_changes_nothing(conn):
    load_file(conn, DAY, cnemc_air.ADAPTER, run_id="r")
    _as_role(conn, "envmon_reader")
    assert conn.execute("SELECT current_user").fetchone()[0] == "envmon_reader"
    for table in ("obs.air_measurement", "derived.air_city_day", "derived.air_city_month", "ops.load_log",
                  "ops.quarantine", "registry.site", "derived.target_status"):
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert conn.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 1440
    allowed = [s for s in SCHEMA_DAMAGE + WRITES if not _refused(conn, s)]
    assert allowed == []


@pytest.fixture
def grafana_login(conn, warehouse):
    """``grafana_reader`` as deploy/postgres/init/01-roles.sh creates it: a login that is a member of
    envmon_reader, read-only by default. Created here when the cluster lacks it, dropped afterwards."""
    script = (REPO_ROOT / "deploy" / "postgres" / "init" / "01-roles.sh").read_text(encoding="utf-8")
    assert "GRANT envmon_reader TO grafana_reader;" in script
    assert "ALTER ROLE grafana_reader SET default_transaction_read_only = on;" in script
    created = not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader'").fetchone()
    if created:
        conn.execute("CREATE ROLE grafana_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        conn.execute("GRANT envmon_reader TO grafana_reader")
        conn.execute("ALTER ROLE grafana_reader SET default_transaction_read_only = on")
    yield warehouse.replace("://envmon@", "://grafana_reader@")
    if created:
        conn.execute("DROP ROLE IF EXISTS grafana_reader")


def test_grafana_login_can_only_read(conn, grafana_login):
    load_file(conn, DAY, cnemc_air.ADAPTER, run_id="g")
    with psycopg.connect(grafana_login) as grafana:
        assert grafana.execute("SELECT current_user, current_setting('default_transaction_read_only')").fetchone() \
            == ("grafana_reader", "on")
        assert grafana.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 1440
        grafana.rollback()
        grafana.autocommit = True
        assert [s for s in SCHEMA_DAMAGE + WRITES if not _refused(grafana, s)] == []
        # Not even when the session asks for a read-write transaction: the privileges are missing too.
        grafana.execute("SET default_transaction_read_only = off")
        assert [s for s in SCHEMA_DAMAGE + WRITES if not _refused(grafana, s)] == []


def test_ingest_role_loads_files_but_cannot_drop_alter_or_erase_the_audit_trail(conn, tmp_path):
    _as_role(conn, INGEST_ROLE)
    report = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="ingest")
    assert (report.status, report.rows_stored) == ("loaded", 1440)
    # A corrected value: the revision is written by the ingest role too.
    corrected = DAY.read_text(encoding="utf-8").replace("2023-01-01T01:00:00,2535A,103.7723,29.5462,乐山市,花湖湾(对照点),"
                                                        "细颗粒物(PM2.5),77,65", "2023-01-01T01:00:00,2535A,103.7723,"
                                                        "29.5462,乐山市,花湖湾(对照点),细颗粒物(PM2.5),77,66", 1)
    assert conn.execute("SELECT current_user").fetchone()[0] == INGEST_ROLE
    path = tmp_path / DAY.name
    path.write_text(corrected, encoding="utf-8")
    revised = load_file(conn, path, cnemc_air.ADAPTER, run_id="ingest-2")
    assert (revised.status, revised.rows_revised) == ("loaded", 1)
    forbidden = SCHEMA_DAMAGE + [
        "DELETE FROM ops.measurement_revision",
        "DELETE FROM ops.load_log",
        "DELETE FROM ops.quarantine",
        "UPDATE registry.site SET name_zh = 'x'",
        "INSERT INTO derived.air_city_day (site_id, day, rules, method) VALUES (1, '2020-01-01', 'x', 'x')",
        "UPDATE derived.air_city_day SET aqi = 0",
    ]
    assert [s for s in forbidden if not _refused(conn, s)] == []
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM ops.measurement_revision").fetchone()[0] == 1


# ---------------------------------------------------------------- no credentials in the repository

def _repository_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                         capture_output=True, check=True).stdout.decode()
    return [REPO_ROOT / name for name in out.split("\0") if name and (REPO_ROOT / name).is_file()]


#: Values that are placeholders or references, not secrets: change-me (deploy/env.example), ${VAR:?…},
#: $VAR, <value>, ***, %s, {name}, the NAME of an environment variable or the name of a variable (psql
#: :'envmon_password', a doc's user:password), obvious test values, paths.
PLACEHOLDER = re.compile(r"""^(?:change-?me|\$\{[^}]*\}?|\$[A-Za-z_][A-Za-z0-9_]*|:'[a-z_]+'|<[^>]*>|\*+|%s|\{[a-z_]+\}
    |[A-Z][A-Z0-9_]*|[a-z_]*(?:password|secret|token)[a-z_]*|pass|(?:test|fake|dummy|example)[-_].*|\.?/.*)$""", re.X)
SECRET_PATTERNS = {
    "private key": re.compile("-----BEGIN " + r"(?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "API key": re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
}
#: scheme://user:password@host — the password must be a placeholder.
URL_CREDENTIAL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:([^\s@'\"/]+)@")
_SECRET_NAME = r"[A-Za-z0-9_]*(?:password|passwd|secret|token|api_?key|fernet_?key)[A-Za-z0-9_]*"
#: A quoted literal assigned to a secret-named key, in any file: password = "…", "token": "…".
QUOTED_SECRET = re.compile(rf"""(?i){_SECRET_NAME}["']?\s*[:=]\s*(["'])([^"'\s]{{4,}})\1""")
#: KEY=value / key: value lines of environment and configuration files.
CONFIG_SECRET = re.compile(rf"""(?i)^\s*(?:export\s+|-\s+)?{_SECRET_NAME}\s*[=:]\s*["']?([^\s"'#]+)""")
CONFIG_SUFFIXES = {".env", ".example", ".yml", ".yaml", ".ini", ".cfg", ".conf", ".toml", ".properties"}


def _findings(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []  # binary files (xlsx, images, fonts)
    config = path.suffix in CONFIG_SUFFIXES or path.name.startswith(".env")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{path.relative_to(REPO_ROOT)}:{number}"
        found += [f"{where}: {name}" for name, pattern in SECRET_PATTERNS.items() if pattern.search(line)]
        found += [f"{where}: password in URL '{m.group(0)}'" for m in URL_CREDENTIAL.finditer(line)
                  if not PLACEHOLDER.match(m.group(1))]
        found += [f"{where}: '{m.group(0)}'" for m in QUOTED_SECRET.finditer(line) if not PLACEHOLDER.match(m.group(2))]
        if config and (m := CONFIG_SECRET.match(line)) and not PLACEHOLDER.match(m.group(1)):
            found.append(f"{where}: '{m.group(0).strip()}'")
    return sorted(set(found))


def test_the_scanner_finds_what_it_looks_for(tmp_path, monkeypatch):
    """Known leaks are found (the samples are assembled at run time so this file stays clean)."""
    monkeypatch.setattr("tests.test_security.REPO_ROOT", tmp_path)
    leaked = "hunter" + "2hunter2"
    env = tmp_path / "leaky.env"
    env.write_text("\n".join([
        "ENVMON_DB_" + "PASSWORD=" + leaked,
        "POSTGRES_PASSWORD=change-me",                      # the placeholders of deploy/env.example
        "GRAFANA_READER_PASSWORD=",
    ]), encoding="utf-8")
    code = tmp_path / "leaky.py"
    code.write_text("\n".join([
        'url = "postgresql://envmon:' + leaked + '@db:5432/envmon"',
        "aws = AKIA" + "ABCDEFGHIJKLMNOP",
        "-----BEGIN " + "RSA PRIVATE KEY-----",
        '"pass' + 'word": "' + leaked + '"',
        # references are fine:
        'url = "postgresql://envmon:${ENVMON_DB_PASSWORD}@timescaledb:5432/envmon"',
        "password = os.environ['X']",
        'TOKEN_ENV = "ENVMON_GRAFANA_TOKEN"',
    ]), encoding="utf-8")
    found = sorted({f.split(": ", 1)[0] for path in (env, code) for f in _findings(path)})
    assert found == ["leaky.env:1", *(f"leaky.py:{n}" for n in (1, 2, 3, 4))]


def test_no_credentials_in_the_repository():
    files = _repository_files()
    assert any(f.name == "env.example" for f in files) and not any(f.name == ".env" for f in files)
    findings = [f for path in files for f in _findings(path)]
    assert findings == []


# ---------------------------------------------------------------- hostile names are data

HOSTILE_CODES = [
    "X'); DROP TABLE obs.air_measurement; --",
    'Q"uote"; DELETE FROM ops.load_log; --',
    "back\\slash\\N\\.",
    "new\nline,comma",
    "乐山\u202e站\t%s%%(load_id)s",
]


def test_hostile_station_codes_and_file_names_are_stored_verbatim_and_nothing_is_dropped(conn, tmp_path):
    """Station codes and a file name made to break string-built SQL, COPY text and CSV: registered,
    loaded and quarantined through the real path, they come back byte for byte and every table stays."""
    tables_before = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname IN ('obs', 'ops', 'registry', "
                                 "'derived')").fetchone()[0]
    registry.upsert_sites(conn, pd.DataFrame({
        "code": HOSTILE_CODES, "kind": "air_station", "name_zh": [f"站{c}" for c in HOSTILE_CODES], "city": "乐山"}),
        config_source="tests/test_security.py'; DROP TABLE registry.site; --")
    header, *lines = DAY.read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines[:len(HOSTILE_CODES) + 1]))
    for row, code in zip(rows, [*HOSTILE_CODES, "'; DROP TABLE obs.air_measurement; -- unregistered"], strict=True):
        row[1] = code
    name = "cnemc_station_hourly_'; DROP TABLE ops.load_log; --\\ \"x\"\n乐山 %s.csv"
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        csv.writer(fh, lineterminator="\n").writerows(rows)

    report = load_file(conn, path, cnemc_air.ADAPTER, run_id="run'; DROP TABLE ops.quarantine; --")
    assert report.status == "loaded", report.error
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (6 * 15, 5 * 15, 15)
    stored = conn.execute("""SELECT DISTINCT s.code FROM obs.air_measurement m JOIN registry.site s USING (site_id)
                             ORDER BY 1""").fetchall()
    assert [c for (c,) in stored] == sorted(HOSTILE_CODES)
    assert conn.execute("SELECT file_path, run_id FROM ops.load_log WHERE load_id = %s",
                        (report.load_id,)).fetchone() == (str(path), "run'; DROP TABLE ops.quarantine; --")
    quarantined = conn.execute("SELECT DISTINCT reason_code, raw->>'stationcode', message FROM ops.quarantine "
                               "WHERE load_id = %s", (report.load_id,)).fetchall()
    assert {(r, c) for r, c, _ in quarantined} == {("unknown_site", "'; DROP TABLE obs.air_measurement; -- unregistered")}
    assert len(quarantined) == 15 and all(m.startswith(f"{path.name}, line 7, field '") for *_, m in quarantined)
    names = conn.execute("SELECT name_zh FROM registry.site WHERE code = ANY(%s) ORDER BY code",
                         (HOSTILE_CODES,)).fetchall()
    assert [n for (n,) in names] == [f"站{c}" for c in sorted(HOSTILE_CODES)]
    assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname IN ('obs', 'ops', 'registry', "
                        "'derived')").fetchone()[0] == tables_before
