"""The bulk-load path on real files: idempotent, revisions kept, bad rows quarantined, gate enforced."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from ingest import cnemc_air
from pipeline.load_file import load_file
from tests.conftest import BUNDLED_DATA

DAY = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"
STATE = {
    "measurements": "SELECT site_id, parameter_id, observed_at, value, source_flag, status, load_id "
                    "FROM obs.air_measurement ORDER BY 1, 2, 3",
    "revisions": "SELECT count(*) FROM ops.measurement_revision",
    "quarantine": "SELECT count(*) FROM ops.quarantine",
}


def _state(conn):
    return {k: conn.execute(q).fetchall() for k, q in STATE.items()}


def test_same_real_file_twice_leaves_identical_tables(conn):
    first = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="run-1")
    assert first.status == "loaded"
    # 24 hours × 4 stations × 15 value columns (incl. the published AQI); the file's empty cells are stored as 'missing'.
    assert first.rows_read == 1440 and first.rows_stored == 1440 and first.rows_quarantined == 0
    before = _state(conn)
    assert len(before["measurements"]) == 1440
    missing = [r for r in before["measurements"] if r[4] == "missing"]
    assert len(missing) == 32 and all(r[3] is None for r in missing)

    # Same checksum: recognised and skipped, nothing written, not even a load-log row.
    loads_before = conn.execute("SELECT count(*) FROM ops.load_log").fetchone()[0]
    again = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="run-2")
    assert again.status == "already_loaded" and again.load_id == first.load_id
    assert conn.execute("SELECT count(*) FROM ops.load_log").fetchone()[0] == loads_before

    # Forced through the whole upsert path: every row unchanged, tables identical.
    forced = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="run-3", force=True)
    assert forced.status == "loaded" and forced.rows_inserted == 0 and forced.rows_revised == 0
    assert conn.execute("SELECT rows_unchanged FROM ops.load_log WHERE load_id = %s",
                        (forced.load_id,)).fetchone()[0] == 1440
    assert _state(conn) == before


def test_corrected_value_becomes_a_revision(conn, tmp_path):
    load_file(conn, DAY, cnemc_air.ADAPTER, run_id="run-1")
    corrected = tmp_path / DAY.name
    lines = DAY.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 2: 2535A at 2023-01-01T01:00, pm2_5 = 56 (11th column). The publisher corrects it to 58.
    cells = lines[1].split(",")
    assert (cells[0], cells[1], cells[10]) == ("2023-01-01T01:00:00", "2535A", "56")
    cells[10] = "58"
    lines[1] = ",".join(cells)
    corrected.write_text("".join(lines), encoding="utf-8")

    report = load_file(conn, corrected, cnemc_air.ADAPTER, run_id="run-2")
    assert (report.rows_inserted, report.rows_revised, report.rows_stored) == (0, 1, 1440)
    rev = conn.execute("""
        SELECT s.code, p.code, r.observed_at AT TIME ZONE 'Asia/Shanghai', r.old_value, r.new_value, r.new_load_id
        FROM ops.measurement_revision r JOIN registry.site s USING (site_id) JOIN registry.parameter p USING (parameter_id)
    """).fetchall()
    assert rev == [("2535A", "pm25", pd.Timestamp("2023-01-01 01:00").to_pydatetime(), 56.0, 58.0, report.load_id)]
    value, load_id = conn.execute("""
        SELECT m.value, m.load_id FROM obs.air_measurement m JOIN registry.site s USING (site_id)
        JOIN registry.parameter p USING (parameter_id)
        WHERE s.code = '2535A' AND p.code = 'pm25' AND m.observed_at = '2023-01-01 01:00+08'""").fetchone()
    assert (value, load_id) == (58.0, report.load_id)
    assert conn.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 1440


def test_malformed_rows_are_quarantined_while_good_rows_of_the_file_load(conn, tmp_path):
    src = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"
    header, *rows = src.read_text(encoding="utf-8").splitlines()
    bad_time = rows[0].replace("2022-01-04T16:00:00", "2022-13-04T16:00:00", 1)
    unknown_site = rows[0].replace("2535A", "9999A", 1)
    cells = rows[1].split(",")
    cells[10] = "-12"       # pm2_5 negative
    cells[16] = "abc"       # no2 not a number
    cells[20] = "-999"      # co: the publisher's missing marker
    damaged = ",".join(cells)
    path = tmp_path / "cnemc_station_hourly_damaged.csv"
    path.write_text("\n".join([header, bad_time, unknown_site, damaged, rows[2], rows[3], rows[3]]) + "\n",
                    encoding="utf-8")

    report = load_file(conn, path, cnemc_air.ADAPTER, run_id="run-q")
    assert report.status == "loaded"
    # 6 data lines: 1 unparseable line (1 row), 5 lines × 14 cells.
    assert report.rows_read == 1 + 5 * 15
    quarantine = conn.execute(
        "SELECT line_no, field, reason_code, message, raw FROM ops.quarantine WHERE load_id = %s ORDER BY 1, 2",
        (report.load_id,)).fetchall()
    by_reason = {}
    for line_no, field, reason, message, raw in quarantine:
        by_reason.setdefault(reason, []).append((line_no, field))
        assert message.startswith(f"{path.name}, line {line_no}")
        assert isinstance(raw, dict) and "stationcode" in raw
    assert by_reason["bad_time"] == [(2, "timepoint")]
    assert len(by_reason["unknown_site"]) == 15 and {ln for ln, _ in by_reason["unknown_site"]} == {3}
    assert by_reason["out_of_range"] == [(4, "pm2_5")]
    assert by_reason["not_a_number"] == [(4, "no2")]
    assert len(by_reason["duplicate_key"]) == 15 and {ln for ln, _ in by_reason["duplicate_key"]} == {7}
    assert report.rows_quarantined == len(quarantine) == 1 + 15 + 1 + 1 + 15
    assert report.rows_stored == report.rows_read - report.rows_quarantined == 43
    # The -999 CO of line 4 is stored as missing, not quarantined.
    co = conn.execute("""SELECT value, source_flag FROM obs.air_measurement m JOIN registry.site s USING (site_id)
        JOIN registry.parameter p USING (parameter_id) WHERE s.code = '2536A' AND p.code = 'co'""").fetchone()
    assert co == (None, "missing")
    raw = next(r for *_, reason, _m, r in quarantine if reason == "not_a_number")
    assert raw["no2"] == "abc" and json.dumps(raw, ensure_ascii=False).count("牛耳桥") == 1


def test_batch_failing_its_gate_is_quarantined_whole_and_nothing_is_stored(conn, tmp_path):
    """Values delivered in ng/m³ instead of µg/m³ (×1000): most exceed the physical range."""
    src = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"
    frame = pd.read_csv(src, dtype=str)
    for col in ("pm2_5", "pm2_5_24h", "pm10", "pm10_24h"):
        frame[col] = (frame[col].astype(float) * 1000).astype(int).astype(str)
    path = tmp_path / "cnemc_station_hourly_ng.csv"
    frame.to_csv(path, index=False)

    report = load_file(conn, path, cnemc_air.ADAPTER, run_id="run-g")
    assert report.status == "rejected"
    assert conn.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 0
    status, gate_passed, read, stored, quarantined = conn.execute(
        "SELECT status, gate_passed, rows_read, rows_stored, rows_quarantined FROM ops.load_log WHERE load_id = %s",
        (report.load_id,)).fetchone()
    assert (status, gate_passed, read, stored, quarantined) == ("rejected", False, 60, 0, 60)
    failed = conn.execute("""SELECT expectation, column_name, observed->'parameters' FROM ops.validation_result
        WHERE load_id = %s AND NOT success AND severity = 'critical' ORDER BY 1""", (report.load_id,)).fetchall()
    # 16 of 60 values are impossible (27 %, under the overall tolerance), but four parameters are
    # impossible wholesale: the per-parameter expectation stops the batch and names them.
    assert failed == [("expect_column_values_to_be_between", "parameter_out_of_range_share",
                       ["pm10", "pm10_24h", "pm25", "pm25_24h"])]
    reasons = conn.execute("SELECT DISTINCT reason_code FROM ops.quarantine WHERE load_id = %s",
                           (report.load_id,)).fetchall()
    assert reasons == [("gate_failed",)]


def test_unreadable_file_fails_with_file_and_column_named_and_the_next_file_loads(conn, tmp_path):
    from pipeline.runs import load_files

    broken = tmp_path / "a_broken.csv"
    broken.write_text("timepoint,stationcode,aqi\n2023-01-01T01:00:00,2535A,50\n", encoding="utf-8")
    good = tmp_path / "b_good.csv"
    shutil.copy(BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv", good)
    reports = load_files(conn, cnemc_air.ADAPTER, [good, broken], run_id="run-b")
    assert [r.status for r in reports] == ["failed", "loaded"]
    assert f"{broken}, line 1: missing column(s) pm2_5" in reports[0].error
    error = conn.execute("SELECT error FROM ops.load_log WHERE load_id = %s", (reports[0].load_id,)).fetchone()[0]
    assert error == reports[0].error


def test_a_single_published_hour_refreshes_without_any_valid_day(conn, warehouse):
    """One hour of the four Leshan stations: hourly AQI is stored, no day is valid (HJ 663 §6.1.3
    needs 20 hours), so the city has no day, month or year — and the refresh must not fail on the
    empty month (a bench run at national scale hit exactly that)."""
    from pipeline.runs import refresh_indicators

    snapshot = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv"
    assert load_file(conn, snapshot, cnemc_air.ADAPTER, run_id="run-1").status == "loaded"
    conn.commit()
    report = refresh_indicators(warehouse)
    assert report["air_hours"] == 4 and report["air_months"] == 0 and report["air_years"] == 0
    hours = conn.execute("SELECT s.code, h.aqi FROM derived.air_hour_aqi h JOIN registry.site s USING (site_id) "
                         "ORDER BY 1").fetchall()
    # Ceiling of the IAQI (HJ 633 §5), recomputed from the published concentrations.
    assert [code for code, _ in hours] == ["2535A", "2536A", "2537A", "2538A"]
    assert hours[0][1] == 95
    assert conn.execute("SELECT count(*) FROM derived.air_city_month").fetchone()[0] == 0


def test_a_batch_naming_an_unknown_site_or_parameter_writes_nothing(conn):
    """The measurement hypertables carry no per-row foreign keys (migration 0010: they made COPY four
    times slower); the store checks each batch's references once, and a batch that names a site or
    parameter the registry lacks is refused whole, with the ids named."""
    import psycopg
    import pytest

    from warehouse.load import UnknownReference, begin_load, upsert_measurements

    load_id = begin_load(conn, dataset=cnemc_air.ADAPTER.dataset, source_code=cnemc_air.ADAPTER.source_code,
                         file_path="x.csv", checksum=None, file_bytes=None, run_id="r")
    known_site = conn.execute("SELECT min(site_id) FROM registry.site").fetchone()[0]
    known_parameter = conn.execute("SELECT min(parameter_id) FROM registry.parameter").fetchone()[0]
    rows = pd.DataFrame({"site_id": [known_site, 999_999], "parameter_id": [known_parameter, known_parameter],
                         "observed_at": pd.to_datetime(["2023-01-01T01:00:00Z"] * 2), "value": [1.0, 2.0],
                         "source_flag": ["normal", "normal"], "status": ["provisional", "provisional"]})
    with pytest.raises(UnknownReference, match=r"site_id \[999999\]"), conn.transaction():
        upsert_measurements(conn, "air", rows, load_id)
    bad_parameter = rows.iloc[:1].assign(parameter_id=32_000)
    with pytest.raises(UnknownReference, match=r"parameter_id \[32000\]"), conn.transaction():
        upsert_measurements(conn, "air", bad_parameter, load_id)
    with pytest.raises(UnknownReference, match="load_id 424242"), conn.transaction():
        upsert_measurements(conn, "air", rows.iloc[:1], 424242)
    assert conn.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 0
    # the good row alone is stored, and while its batch is open the site cannot be deleted
    with conn.transaction():
        assert upsert_measurements(conn, "air", rows.iloc[:1], load_id).inserted == 1
        with psycopg.connect(conn.info.dsn, autocommit=True) as other:
            other.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM registry.site WHERE site_id = %s", (known_site,))
    assert conn.execute("SELECT count(*) FROM obs.air_measurement").fetchone()[0] == 1
