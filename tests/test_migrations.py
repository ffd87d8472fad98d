"""Migrations apply from empty, are idempotent, and the schema works with and without TimescaleDB."""

from __future__ import annotations

import pytest

from ingest import cnemc_air
from pipeline import runs
from tests.conftest import BUNDLED_DATA
from warehouse import capabilities, migrate
from warehouse.db import connect

CATALOG = """
SELECT table_schema, table_name, column_name, data_type, is_nullable
FROM information_schema.columns
WHERE table_schema IN ('registry', 'obs', 'ops', 'derived')
ORDER BY 1, 2, 3
"""
INDEXES = "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname IN ('registry','obs','ops') ORDER BY 1,2,3"


def _snapshot(url: str):
    with connect(url) as conn:
        return (conn.execute(CATALOG).fetchall(), conn.execute(INDEXES).fetchall(),
                conn.execute("SELECT code, valid_min, valid_max FROM registry.parameter ORDER BY code").fetchall(),
                conn.execute("SELECT code, updated_at FROM registry.site ORDER BY code").fetchall())


def test_migrations_apply_from_empty_and_are_idempotent(empty_db):
    assert migrate.current_version(empty_db) is None
    runs.prepare_with_stations(BUNDLED_DATA, empty_db)
    assert migrate.current_version(empty_db) == migrate.head_version()
    first = _snapshot(empty_db)
    tables = {(s, t) for s, t, *_ in first[0]}
    for expected in [("registry", "site"), ("registry", "parameter"), ("registry", "data_source"),
                     ("obs", "air_measurement"), ("obs", "water_measurement"), ("ops", "load_log"),
                     ("ops", "quarantine"), ("ops", "validation_result"), ("ops", "measurement_revision")]:
        assert expected in tables
    # Second run: same catalog, same registry rows, not even an updated_at touched.
    runs.prepare_with_stations(BUNDLED_DATA, empty_db)
    assert _snapshot(empty_db) == first


DUPLICATE_KEYS = """
SELECT i.indrelid::regclass::text, array_agg(i.indexrelid::regclass::text ORDER BY 1)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('registry', 'obs', 'ops', 'derived') AND i.indpred IS NULL  -- partial indexes are another matter
GROUP BY i.indrelid, (i.indkey::int2[])[0:i.indnkeyatts - 1]
HAVING count(*) > 1
"""


def test_no_table_has_two_indexes_on_the_same_key(warehouse):
    """Each extra B-tree is upkeep on every write (the hourly AQI refresh writes 15.8 M rows per
    national year): a covering column goes into the existing key's index (INCLUDE), not a twin."""
    with connect(warehouse) as conn:
        assert conn.execute(DUPLICATE_KEYS).fetchall() == []
        pkey = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'air_hour_aqi_pkey'").fetchone()[0]
    assert pkey.endswith("(site_id, observed_at) INCLUDE (aqi)")


def test_local_build_is_detected_as_apache_with_hypertables(warehouse):
    with connect(warehouse) as conn:
        caps = capabilities.detect(conn)
        hypertables = {r[0] for r in conn.execute(
            "SELECT hypertable_schema || '.' || hypertable_name FROM timescaledb_information.hypertables")}
        bucket = conn.execute(
            "SELECT time_bucket('1 day', timestamptz '2023-01-01 13:00+08', 'Asia/Shanghai')").fetchone()[0]
    assert caps.mode == "apache" and caps.license == "apache"
    assert caps.hypertables and not caps.continuous_aggregates and not caps.compression
    assert {"obs.air_measurement", "obs.water_measurement", "ops.validation_result"} <= hypertables
    assert bucket.isoformat() == "2022-12-31T16:00:00+00:00"  # Beijing midnight


def test_plain_postgresql_schema_works_without_the_extension(empty_db, monkeypatch):
    monkeypatch.setenv("ENVMON_TIMESCALEDB", "off")
    runs.prepare_with_stations(BUNDLED_DATA, empty_db)
    with connect(empty_db) as conn:
        caps = capabilities.detect(conn)
        assert caps.mode == "postgresql" and not caps.hypertables
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone()[0] == 0
    reports = runs.run_loads(cnemc_air.ADAPTER, [BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"],
                             run_id="test", url=empty_db)
    assert reports[0]["status"] == "loaded" and reports[0]["rows_stored"] == 60


@pytest.mark.parametrize("mode,expected", [
    (("2.19.3", "timescale"), ("timescale", True, True, True)),
    (("2.19.3", "apache"), ("apache", True, False, False)),
    ((None, None), ("postgresql", False, False, False)),
])
def test_capability_matrix(mode, expected):
    caps = capabilities.Capabilities("15.18", *mode)
    assert (caps.mode, caps.hypertables, caps.continuous_aggregates, caps.compression) == expected
    assert caps.retention_policies == expected[2]
