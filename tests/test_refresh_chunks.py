"""The refreshes read the dirty-day queue in chunks (air: whole days; water: section months), so
memory stays bounded at national scale; the chunks must give exactly what one pass gives."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from evaluation import air_refresh, water_refresh
from ingest import cnemc_air, cnemc_water
from pipeline.load_file import load_file
from tests.conftest import BUNDLED_DATA

FILES = [BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv",
         BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"]
WATER = BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv"
WATER_TABLES = {
    "derived.water_sample_class": "site_id, observed_at",
    "derived.water_section_day": "site_id, day, source",
    "derived.water_section_month": "site_id, month, source",
    "derived.water_area_month": "scope, area, month, source",
}
TABLES = {
    "derived.air_hour_aqi": "site_id, observed_at",
    "derived.air_station_day": "site_id, day",
    "derived.air_city_day": "site_id, day",
    "derived.air_city_month": "site_id, period_start",
    "derived.air_city_year": "site_id, period_start",
}


def _derived(conn, tables: dict[str, str] = TABLES) -> dict[str, list]:
    out = {}
    for table, key in tables.items():
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = %s "
            "AND column_name <> 'computed_at' ORDER BY ordinal_position", (table,))]
        out[table] = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}").fetchall()  # noqa: S608
    return out


def test_day_chunks_keep_whole_days_in_order():
    days = [dt.date(2022, 1, d) for d in (1, 1, 1, 2, 3, 3, 4)]
    dirty = pd.DataFrame({"site_id": range(len(days)), "day": days})
    chunks = air_refresh._day_chunks(dirty, limit=3)
    assert [sorted(set(c["day"])) for c in chunks] == [
        [dt.date(2022, 1, 1)], [dt.date(2022, 1, 2), dt.date(2022, 1, 3)], [dt.date(2022, 1, 4)]]
    assert sum(len(c) for c in chunks) == len(dirty)
    # a day larger than the limit stays whole
    assert len(air_refresh._day_chunks(dirty, limit=1)) == 4


def test_refresh_in_chunks_equals_one_pass(conn, monkeypatch):
    for path in FILES:
        assert load_file(conn, path, cnemc_air.ADAPTER, run_id="chunks").status == "loaded"
    queue = conn.execute("SELECT domain, site_id, day, load_id FROM ops.dirty_day").fetchall()
    assert len({day for _, _, day, _ in queue}) == 2  # two days: two chunks below

    monkeypatch.setattr(air_refresh, "CHUNK_SITE_DAYS", 1)
    chunked = air_refresh.refresh_air(conn)
    in_chunks = _derived(conn)
    assert chunked.station_days > 0 and chunked.city_days > 0 and chunked.months > 0

    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ops.dirty_day (domain, site_id, day, load_id) VALUES (%s, %s, %s, %s)", queue)
    monkeypatch.undo()
    assert len(air_refresh._day_chunks(pd.DataFrame({"site_id": [s for _, s, _, _ in queue],
                                                     "day": [d for _, _, d, _ in queue]}))) == 1
    whole = air_refresh.refresh_air(conn)
    assert whole == chunked
    assert _derived(conn) == in_chunks
    assert conn.execute("SELECT count(*) FROM ops.dirty_day WHERE domain = 'air'").fetchone()[0] == 0


def test_water_refresh_in_chunks_equals_one_pass(conn, monkeypatch):
    assert load_file(conn, WATER, cnemc_water.ARCHIVE_ADAPTER, run_id="chunks").status == "loaded"
    queue = conn.execute("SELECT domain, site_id, day, load_id FROM ops.dirty_day").fetchall()
    section_months = {(s, d.replace(day=1)) for _, s, d, _ in queue}
    assert len(section_months) > 50  # 6 sections × 19 months, fewer where a section has gaps

    monkeypatch.setattr(water_refresh, "CHUNK_SECTION_MONTHS", 7)  # 7 does not divide a month's sections
    chunked = water_refresh.refresh_water(conn)
    in_chunks = _derived(conn, WATER_TABLES)
    assert chunked.samples > 5000 and chunked.section_months == len(section_months)

    for table in WATER_TABLES:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ops.dirty_day (domain, site_id, day, load_id) VALUES (%s, %s, %s, %s)", queue)
    monkeypatch.undo()
    assert len(section_months) < water_refresh.CHUNK_SECTION_MONTHS  # one pass
    assert water_refresh.refresh_water(conn) == chunked
    assert _derived(conn, WATER_TABLES) == in_chunks
