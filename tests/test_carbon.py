"""Carbon and energy on the real CEADs workbooks and a real warehouse: provenance, the bureau's
statistics template, indicators computed by hand arithmetic, missing years reported as missing,
idempotent loads, and the ``carbon_energy`` DAG under ``dag.test()``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation import carbon
from ingest import ceads, statistics_template
from ingest.base import IngestError
from tests.conftest import BUNDLED_DATA, shared
from warehouse.db import connect

CITY = BUNDLED_DATA / "carbon" / "The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx"
SICHUAN_CSV = BUNDLED_DATA / "carbon" / "CEADS_province_Sichuan_2019_sectoral.csv"
#: Published CEADs values for 四川乐山 (data/README.md), Mt CO2; 2017 and 2019 are not in the workbook.
LESHAN_PUBLISHED = {2012: 39.84, 2013: 37.01, 2014: 35.95, 2015: 35.40, 2016: 34.65, 2018: 30.81}
HEADER = "region,year,indicator,value,unit,price_base_year,source\n"
SRC = "测试值(非统计年鉴数据)"

#: Test values (not Leshan's statistics): GDP at 2015 prices for 2015–2018 and 2020, 2019 left out.
TEST_TEMPLATE = HEADER + "".join(f"{line},{SRC}\n" for line in [
    "乐山,2015,gdp_constant,1000,亿元(2015年价),2015",
    "乐山,2016,gdp_constant,1080,亿元(2015年价),2015",
    "乐山,2017,gdp_constant,1160,亿元(2015年价),2015",
    "乐山,2018,gdp_constant,1250,亿元(2015年价),2015",
    "乐山,2020,gdp_constant,1400,亿元(2015年价),2015",
    "乐山,2015,gdp_current,1000,亿元,",
    "乐山,2015,population,326.0,万人,",
    "乐山,2015,energy_per_gdp,0.9,吨标准煤/万元,2015",
    "乐山,2020,energy_per_gdp,0.72,吨标准煤/万元,2015",
    "乐山,2016,energy_total,972,万吨标准煤,",
])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _indicator(conn, region: str, year: int) -> dict:
    cur = conn.execute("SELECT * FROM derived.carbon_indicator WHERE region = %s AND year = %s", (region, year))
    row = cur.fetchone()
    return dict(zip([c.name for c in cur.description], row, strict=True)) if row else {}


def _reduction(conn, region: str, indicator: str, base: int, year: int) -> tuple:
    return conn.execute("""SELECT base_value, value, reduction_pct, status, missing FROM derived.carbon_reduction
                           WHERE region = %s AND indicator = %s AND base_year = %s AND year = %s""",
                        (region, indicator, base, year)).fetchone()


# --------------------------------------------------------------------------------------------- readers

def test_city_region_codes():
    assert ceads.city_region("四川乐山") == ("乐山", "四川省")
    assert ceads.city_region("北京") == ("北京", "北京市")
    assert ceads.city_region("黑龙江哈尔滨") == ("哈尔滨", "黑龙江省")
    assert ceads.city_region("内蒙古呼和浩特") == ("呼和浩特", "内蒙古自治区")
    assert ceads.city_region("火星城") is None


def test_city_reader_keeps_every_city_and_the_csv_export_gives_the_same_rows():
    batch = ceads.read_city_inventory(CITY)
    assert (batch.rows_read, len(batch.rejects)) == (3929, 0)
    assert batch.records["row_label"].nunique() == 290
    assert batch.records["region"].nunique() == 290  # the short codes stay unique
    csv = ceads.read_city_inventory(shared("carbon", "CEADS_290cities_emission_vector_MtCO2.csv"))
    pd.testing.assert_frame_equal(csv.records, batch.records)


def test_city_reader_rejects_bad_lines_with_reasons(tmp_path):
    lines = ["ID,city,year,emission",
             "四川乐山2012,四川乐山,2012,39.83954099796645",
             "四川乐山2013,四川乐山,2013,n/a",
             "四川乐山2014,四川乐山,2014,",
             "火星2014,火星,2014,1.0",
             "四川乐山,四川乐山,20x5,1.0",
             "四川乐山2016,四川乐山,2016,-3",
             "四川乐山2012,四川乐山,2012,39.8",
             "", "四川乐山2018,四川乐山,2018,30.813799027541123"]
    path = _write(tmp_path / "CEADS_290cities_emission_vector_MtCO2.csv", "\n".join(lines) + "\n")
    batch = ceads.read_city_inventory(path)
    assert batch.records[["year", "cell"]].values.tolist() == [[2018, "D10"]]
    got = batch.rejects[["line_no", "field", "reason_code"]].values.tolist()
    assert got == [[2, "city", "duplicate_key"], [3, "emission", "not_a_number"], [4, "emission", "missing_value"],
                   [5, "city", "unknown_region"], [6, "year", "bad_year"], [7, "emission", "negative_value"],
                   [8, "city", "duplicate_key"]]
    assert json.loads(batch.rejects["raw"].iloc[1])["emission"] == "n/a"
    assert batch.rows_read == 8  # the blank line is no row


def test_city_reader_fails_on_a_wrong_header(tmp_path):
    path = _write(tmp_path / "x.csv", "ID,city,year,co2\n北京1997,北京,1997,61.9\n")
    with pytest.raises(IngestError, match=r"x\.csv, line 1, field 'emission'"):
        ceads.read_city_inventory(path)


def test_province_sheet_totals_equal_the_sum_of_sectors_and_fuels():
    batch = ceads.read_province_inventory(SICHUAN_CSV)
    records = batch.records
    assert (len(records), len(batch.rejects)) == (48 * 22, 0)
    grid = records.pivot(index="sector", columns="fuel", values="co2_mt")
    sectors = grid.drop(index="total")
    assert len(sectors) == 47  # 45 socio-economic sectors + Urban + Rural
    assert (sectors.sum() - grid.loc["total"]).abs().max() < 1e-9
    assert (grid.drop(columns="total").sum(axis=1) - grid["total"]).abs().max() < 1e-9
    assert round(grid.loc["total", "total"], 2) == 315.16
    total = records[(records["sector"] == "total") & (records["fuel"] == "total")].iloc[0]
    assert (total["region"], total["sheet"], total["row_label"], total["cell"]) == \
        ("四川省", "Sichuan2019", "TotalEmissions", "W4")
    # the original workbook's Sichuan sheet holds the same cells
    sheet = ceads.read_province_inventory(shared("carbon", "Emission_Inventories_for_30_Provinces_2019.xlsx"),
                                          sheets=["Sichuan2019"])
    pd.testing.assert_frame_equal(sheet.records, records)


def test_province_reader_rejects_unreadable_cells(tmp_path):
    text = SICHUAN_CSV.read_text(encoding="utf-8").splitlines()
    cells = text[5].split(",")  # line 6: Coal Mining and Dressing (no quoted label)
    cells[1], cells[3] = "abc", ""
    text[5] = ",".join(cells)
    path = _write(tmp_path / "CEADS_province_Sichuan_2019_sectoral.csv", "\n".join(text) + "\n")
    batch = ceads.read_province_inventory(path)
    assert batch.rejects[["line_no", "field", "reason_code"]].values.tolist() == [
        [6, "Sichuan2019!B6", "not_a_number"], [6, "Sichuan2019!D6", "missing_value"]]
    assert batch.rows_read == 48 * 22 and len(batch.records) == 48 * 22 - 2


def test_template_reader_reports_each_bad_line(tmp_path):
    path = _write(tmp_path / "stats.csv", HEADER + "\n".join([
        f"乐山,2015,gdp_constant,1000,亿元(2015年价),2015,{SRC}",       # 2 good
        f"乐山,2015,gpd,1000,亿元,,{SRC}",                              # 3 unknown indicator
        f"乐山,2016,gdp_current,1000,万元,,{SRC}",                      # 4 unit
        f"乐山,2016,gdp_constant,1000,亿元,,{SRC}",                     # 5 no price base year
        f"乐山,2017,population,-5,万人,,{SRC}",                          # 6 negative
        f"乐山,2018,energy_total,12a,万吨标准煤,,{SRC}",                  # 7 not a number
        f"乐山市,2018,population,300,万人,,{SRC}",                       # 8 unknown region
        f"乐山,2019,population,300,万人,,{SRC}",                         # 9 duplicate of 10
        f"乐山,2019,population,301,万人,,{SRC}",                         # 10
        "乐山,2019,gdp_current,1500,亿元,,",                             # 11 no source
        f"乐山,2020,gdp_current,1500,亿元,2020,{SRC}",                   # 12 price base on a current figure
        f"乐山,2020,gdp_constant,1400,亿元(2015年价),2020,{SRC}",          # 13 unit contradicts base year
        f"四川省,2019,gdp_current,\"46,615.8\",亿元,,{SRC}",               # 14 good, thousands separator
        f"乐山,2021,population,316,（万人）,,{SRC}",                       # 15 unit
    ]) + "\n")
    batch = statistics_template.read(path, known_regions={"乐山", "四川省"})
    assert batch.records[["region", "year", "indicator", "value", "unit", "price_base_year"]].values.tolist() == [
        ["乐山", 2015, "gdp_constant", 1000.0, "亿元(2015年价)", 2015], ["四川省", 2019, "gdp_current", 46615.8, "亿元", pd.NA]]
    got = batch.rejects[["line_no", "field", "reason_code"]].values.tolist()
    assert got == [[3, "indicator", "unknown_indicator"], [4, "unit", "unit_mismatch"],
                   [5, "price_base_year", "missing_price_base_year"], [6, "value", "negative_value"],
                   [7, "value", "not_a_number"], [8, "region", "unknown_region"], [9, "indicator", "duplicate_key"],
                   [10, "indicator", "duplicate_key"], [11, "source", "missing_source"],
                   [12, "price_base_year", "unexpected_price_base_year"], [13, "unit", "unit_mismatch"],
                   [15, "unit", "unit_mismatch"]]
    messages = batch.rejects.set_index("line_no")["message"]
    assert "did you mean '乐山'" in messages[8]
    assert "also on line(s) 10" in messages[9]
    assert batch.rows_read == 14


def test_template_reader_fails_without_a_required_column(tmp_path):
    path = _write(tmp_path / "stats.csv", "region,year,indicator,value,source\n乐山,2015,population,300,x\n")
    with pytest.raises(IngestError, match=r"stats\.csv, line 1, field 'unit'"):
        statistics_template.read(path)


def test_the_shipped_template_is_the_header_only():
    path = Path(__file__).resolve().parents[1] / "config" / "templates" / "statistics_template.csv"
    batch = statistics_template.read(path)
    assert batch.rows_read == 0
    assert path.read_text(encoding="utf-8").strip() == HEADER.strip()


def test_template_in_gb18030_as_excel_saves_it(tmp_path):
    path = tmp_path / "stats.csv"
    path.write_bytes((HEADER + f"乐山,2015,population,326,万人,,{SRC}\n").encode("gb18030"))
    assert statistics_template.read(path).records["region"].tolist() == ["乐山"]


# --------------------------------------------------------------------------------------------- warehouse

def test_leshan_co2_2012_2018_from_the_real_workbook_with_provenance(conn):
    report = carbon.load_city_inventory(conn, CITY, run_id="test")
    assert (report.status, report.rows_read, report.rows_stored, report.rows_quarantined) == ("loaded", 3929, 3929, 0)
    rows = conn.execute("""SELECT year, co2_mt, region_level, sector, fuel, source_code, sheet, row_label, cell, load_id
                           FROM obs.carbon_emission WHERE region = '乐山' ORDER BY year""").fetchall()
    assert {r[0]: round(r[1], 2) for r in rows} == LESHAN_PUBLISHED
    assert [r[2:9] for r in rows] == [("city", "total", "total", "ceads_city", "emission vector", "四川乐山", f"D{n}")
                                      for n in range(3322, 3328)]
    assert {r[9] for r in rows} == {report.load_id}
    log = conn.execute("SELECT dataset, source_code, file_path, status, rows_read, rows_stored, checksum_sha256 "
                       "FROM ops.load_log").fetchall()
    assert [r[:6] for r in log] == [("carbon_city", "ceads_city", str(CITY), "loaded", 3929, 3929)]
    assert len(log[0][6]) == 64
    assert conn.execute("SELECT count(DISTINCT region) FROM obs.carbon_emission").fetchone()[0] == 290


def _load_all(conn, stats: Path) -> list[carbon.CarbonLoadReport]:
    return [carbon.load_city_inventory(conn, CITY, "test"), carbon.load_province_inventory(conn, SICHUAN_CSV, "test"),
            carbon.load_statistics(conn, stats, "test")]


def test_intensity_reductions_and_missing_years_from_a_test_template(conn, tmp_path):
    stats = _write(tmp_path / "statistics" / "bureau_statistics.csv", TEST_TEMPLATE)
    reports = _load_all(conn, stats)
    assert [r.status for r in reports] == ["loaded"] * 3
    assert (reports[2].rows_stored, reports[2].rows_quarantined) == (10, 0)
    refreshed = carbon.refresh_carbon(conn)
    assert refreshed.indicator_rows > 0 and refreshed.reduction_rows > 0

    # intensity = 100 × Mt / 亿元: 100 × 35.395570 / 1000 = 3.5396; 100 × 34.653954 / 1080 = 3.2087;
    # 100 × 30.813799 / 1250 = 2.4651; per capita 2015: 100 × 35.395570 / 326.0 = 10.86 t
    y2015, y2016, y2018 = (_indicator(conn, "乐山", y) for y in (2015, 2016, 2018))
    assert (y2015["intensity_t_per_10k_yuan"], y2016["intensity_t_per_10k_yuan"],
            y2018["intensity_t_per_10k_yuan"]) == (3.5396, 3.2087, 2.4651)
    assert (y2015["status"], y2015["gdp_constant_100m_yuan"], y2015["price_base_year"]) == ("ok", 1000.0, 2015)
    assert y2015["co2_per_capita_t"] == 10.86 and y2016["co2_per_capita_t"] is None
    assert "population 2016" in y2016["missing"]
    # energy per GDP: published 0.9 in 2015; 2016 computed 972 万吨标准煤 / 1080 亿元 = 0.9
    assert (y2015["energy_per_gdp"], y2016["energy_per_gdp"]) == (0.9, 0.9)

    # 2017: no CO2 in the workbook → a row saying so, no number
    y2017 = _indicator(conn, "乐山", 2017)
    assert y2017["status"] == "insufficient_data"
    assert y2017["co2_mt"] is None and y2017["intensity_t_per_10k_yuan"] is None
    assert y2017["gdp_constant_100m_yuan"] == 1160.0
    assert y2017["missing"].split("; ")[0] == "co2 2017"
    # 2012: CO2 but no GDP → insufficient, naming the GDP
    y2012 = _indicator(conn, "乐山", 2012)
    assert (y2012["status"], round(y2012["co2_mt"], 2)) == ("insufficient_data", 39.84)
    assert y2012["missing"].split("; ") == ["gdp_constant 2012", "population 2012", "energy_per_gdp 2012",
                                           "四川省 co2 2012"]
    # 2019: Sichuan's provincial total exists, Leshan's CO2 does not → share not computed
    y2019 = _indicator(conn, "乐山", 2019)
    assert y2019["share_of_province_pct"] is None and y2019["status"] == "insufficient_data"
    assert "co2 2019" in y2019["missing"]
    # the province row: CO2 from the sector × fuel table, no GDP for the province
    sichuan = _indicator(conn, "四川省", 2019)
    assert round(sichuan["co2_mt"], 2) == 315.16 and sichuan["missing"] == "gdp_constant 2019; population 2019; " \
                                                                         "energy_per_gdp 2019"

    # 13th FYP 2015 → 2020: GDP 2020 given, CO2 2020 missing → insufficient data, not a number
    assert _reduction(conn, "乐山", "co2_intensity", 2015, 2020) == (3.5396, None, None, "insufficient_data",
                                                                     "co2 2020")
    # progress within the period, both years present: (1 − 2.465104 / 3.539557) × 100 = 30.36 %
    assert _reduction(conn, "乐山", "co2_intensity", 2015, 2018) == (3.5396, 2.4651, 30.36, "ok", None)
    # (1 − 3.208699 / 3.539557) × 100 = 9.35 %
    assert _reduction(conn, "乐山", "co2_intensity", 2015, 2016)[2] == 9.35
    # (1 − 30.813799 / 35.395570) × 100 = 12.94 %
    assert _reduction(conn, "乐山", "co2_total", 2015, 2018)[2:4] == (12.94, "ok")
    # energy per GDP 0.9 → 0.72: 20 % lower over the 13th FYP
    assert _reduction(conn, "乐山", "energy_intensity", 2015, 2020)[2:4] == (20.0, "ok")
    # 2017 inside the period: CO2 missing
    assert _reduction(conn, "乐山", "co2_intensity", 2015, 2017)[3:] == ("insufficient_data", "co2 2017")
    # 14th FYP 2020 → 2025: GDP 2020 alone is not enough
    assert _reduction(conn, "乐山", "co2_intensity", 2020, 2025)[3:] == ("insufficient_data",
                                                                         "co2 2020; co2 2025; gdp_constant 2025")

    # a test-only period pair (base, year) is computed on request
    carbon.refresh_carbon(conn, periods=[(2013, 2016)])
    assert _reduction(conn, "乐山", "co2_total", 2013, 2016)[2] == round((1 - 34.6539538840822 / 37.0078206751238)
                                                                         * 100, 2)
    assert _reduction(conn, "乐山", "co2_intensity", 2015, 2018) is None  # only the requested periods are kept


def test_gdp_at_different_price_bases_is_not_compared(conn, tmp_path):
    stats = _write(tmp_path / "stats.csv", HEADER + "".join(f"{line},{SRC}\n" for line in [
        "乐山,2015,gdp_constant,900,亿元(2010年价),2010", "乐山,2018,gdp_constant,1250,亿元(2015年价),2015"]))
    _load_all(conn, stats)
    carbon.refresh_carbon(conn)
    base_value, value, reduction, status, missing = _reduction(conn, "乐山", "co2_intensity", 2015, 2018)
    assert (reduction, status) == (None, "insufficient_data")
    assert missing == "price base differs: 2015 at 2010 prices, 2018 at 2015 prices"


def test_share_of_the_province_when_both_totals_exist(conn, tmp_path):
    # a test-only provincial total for 2018 (the real provincial file is 2019 only)
    province = _write(tmp_path / "CEADS_province_Sichuan_2018_test.csv",
                      "Emission_Inventory,Raw_Coal,Scope_1_Total\nunit,Mt CO2,Mt CO2\n,,\nTotalEmissions,100,250\n")
    carbon.load_city_inventory(conn, CITY, "test")
    assert carbon.load_province_inventory(conn, province, "test").rows_stored == 2
    carbon.refresh_carbon(conn)
    # 30.813799 / 250 × 100 = 12.3255 → 12.33 %
    assert _indicator(conn, "乐山", 2018)["share_of_province_pct"] == 12.33
    assert _indicator(conn, "乐山", 2016)["share_of_province_pct"] is None
    assert "四川省 co2 2016" in _indicator(conn, "乐山", 2016)["missing"]


def _state(conn) -> list:
    queries = ["SELECT * FROM obs.carbon_emission ORDER BY region, year, sector, fuel",
               "SELECT * FROM obs.socioeconomic ORDER BY region, year, indicator",
               "SELECT * FROM derived.carbon_indicator ORDER BY region, year",
               "SELECT * FROM derived.carbon_reduction ORDER BY region, indicator, base_year, year",
               "SELECT load_id, status, rows_read, rows_stored, rows_quarantined FROM ops.load_log ORDER BY 1",
               "SELECT count(*) FROM ops.quarantine"]
    return [conn.execute(q).fetchall() for q in queries]


def test_loading_the_same_files_twice_changes_nothing(conn, tmp_path):
    stats = _write(tmp_path / "stats.csv", TEST_TEMPLATE)
    _load_all(conn, stats)
    carbon.refresh_carbon(conn)
    first = _state(conn)
    again = _load_all(conn, stats)
    assert [r.status for r in again] == ["already_loaded"] * 3
    report = carbon.refresh_carbon(conn)
    assert (report.indicator_written, report.reduction_written, report.removed) == (0, 0, 0)
    assert _state(conn) == first
    # forced: a new load of identical content stores nothing new and rewrites nothing
    forced = carbon.load_city_inventory(conn, CITY, "test", force=True)
    assert (forced.status, forced.rows_inserted, forced.rows_revised, forced.rows_removed) == ("loaded", 0, 0, 0)
    assert _state(conn)[:4] == first[:4]
    # the original workbook's Sichuan sheet after the CSV export: same cells, nothing revised
    xlsx = carbon.load_province_inventory(conn, shared("carbon", "Emission_Inventories_for_30_Provinces_2019.xlsx"),
                                          "test")
    assert (xlsx.rows_stored, xlsx.rows_revised, xlsx.rows_inserted) == (30 * 1056, 0, 29 * 1056)


def test_template_with_bad_lines_quarantines_them_and_stores_the_good_ones(conn, tmp_path):
    path = _write(tmp_path / "bureau_statistics.csv", HEADER + "\n".join([
        f"乐山,2015,gdp_constant,1000,亿元(2015年价),2015,{SRC}",
        f"乐山,2016,gdp_constant,-1080,亿元(2015年价),2015,{SRC}",
        f"乐山市,2016,population,300,万人,,{SRC}",
        f"乐山,2016,population,300,万吨,,{SRC}",
        f"乐山,2017,gdp_real,1160,亿元,,{SRC}",
        f"乐山,2018,gdp_constant,1250,亿元,,{SRC}",
        f"乐山,2018,population,320,万人,,{SRC}",
    ]) + "\n")
    report = carbon.load_statistics(conn, path, "test")
    assert (report.status, report.rows_read, report.rows_stored, report.rows_quarantined) == ("loaded", 7, 2, 5)
    stored = conn.execute("SELECT region, year, indicator, value, unit, price_base_year, source FROM obs.socioeconomic "
                          "ORDER BY year").fetchall()
    assert stored == [("乐山", 2015, "gdp_constant", 1000.0, "亿元(2015年价)", 2015, SRC),
                      ("乐山", 2018, "population", 320.0, "万人", None, SRC)]
    quarantined = conn.execute("SELECT line_no, field, reason_code, message, raw FROM ops.quarantine "
                               "WHERE load_id = %s ORDER BY line_no", (report.load_id,)).fetchall()
    assert [q[:3] for q in quarantined] == [(3, "value", "negative_value"), (4, "region", "unknown_region"),
                                            (5, "unit", "unit_mismatch"), (6, "indicator", "unknown_indicator"),
                                            (7, "price_base_year", "missing_price_base_year")]
    assert quarantined[0][3].startswith("bureau_statistics.csv, line 3, field 'value': ")
    assert quarantined[0][4]["value"] == "-1080"
    log = conn.execute("SELECT status, rows_read, rows_stored, rows_quarantined FROM ops.load_log "
                       "WHERE load_id = %s", (report.load_id,)).fetchone()
    assert log == ("loaded", 7, 2, 5)


def test_a_template_missing_a_column_fails_naming_file_line_and_field(conn, tmp_path):
    path = _write(tmp_path / "bureau_statistics.csv", "region,year,indicator,value,unit\n乐山,2015,population,1,万人\n")
    report = carbon.load_statistics(conn, path, "test")
    assert report.status == "failed"
    assert "bureau_statistics.csv, line 1, field 'source'" in report.error
    assert conn.execute("SELECT status, error FROM ops.load_log").fetchone() == ("failed", report.error)
    assert conn.execute("SELECT count(*) FROM obs.socioeconomic").fetchone()[0] == 0


def test_a_changed_template_replaces_its_values(conn, tmp_path):
    path = tmp_path / "bureau_statistics.csv"
    _write(path, TEST_TEMPLATE)
    carbon.load_statistics(conn, path, "test")
    changed = TEST_TEMPLATE.replace("乐山,2016,gdp_constant,1080", "乐山,2016,gdp_constant,1090")
    changed = "".join(line + "\n" for line in changed.splitlines() if ",2017,gdp_constant," not in line)
    _write(path, changed)
    report = carbon.load_statistics(conn, path, "test")
    assert (report.status, report.rows_inserted, report.rows_revised, report.rows_removed) == ("loaded", 0, 1, 1)
    rows = dict(conn.execute("SELECT year, value FROM obs.socioeconomic WHERE indicator = 'gdp_constant'").fetchall())
    assert rows == {2015: 1000.0, 2016: 1090.0, 2018: 1250.0, 2020: 1400.0}


def test_peak_detection_and_trend_on_the_real_series(conn):
    carbon.load_city_inventory(conn, CITY, "test")
    carbon.refresh_carbon(conn)
    peaks = carbon.carbon_peaks(conn, ["乐山"]).set_index("region")
    leshan = peaks.loc["乐山"]
    # 2012 is the maximum of 2012–2018 and five later years are all lower: peaked, at or before 2012
    assert (leshan["status"], leshan["peak_year"], leshan["years_after_peak"], bool(leshan["at_or_before"])) == \
        ("peaked", 2012, 5, True)
    trend = carbon.co2_series(conn, "乐山").set_index("year")
    assert list(trend.index) == list(range(2012, 2019))
    assert trend.loc[2013, "yoy_pct"] == -7.11  # (37.007821 / 39.839541 − 1) × 100
    assert pd.isna(trend.loc[2018, "yoy_pct"]) and trend.loc[2018, "yoy_missing"] == "previous year missing"
    assert pd.isna(trend.loc[2017, "co2_mt"]) and trend.loc[2017, "yoy_missing"].startswith("value missing")


# --------------------------------------------------------------------------------------------- DAG

def _bag():
    from airflow.dag_processing.dagbag import DagBag

    from envmon.settings import REPO_ROOT

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_carbon_energy_dag_is_scheduled_on_its_input_files(airflow_db):
    bag = _bag()
    assert bag.import_errors == {}
    dag = bag.get_dag("carbon_energy")
    uris = {a.uri for a in dag.timetable.asset_condition.objects}
    assert {Path(u.removeprefix("file://")).name for u in uris} == {
        CITY.name, SICHUAN_CSV.name, "Emission_Inventories_for_30_Provinces_2019.xlsx", "bureau_statistics.csv"}
    assert set(dag.task_ids) == {"prepare", "load_inventories", "load_statistics", "refresh", "check"}


def test_carbon_energy_dag_runs_and_a_second_run_changes_nothing(airflow_db, empty_db, monkeypatch, tmp_path):
    data = tmp_path / "data"
    (data / "carbon").mkdir(parents=True)
    for source in (CITY, SICHUAN_CSV):
        (data / "carbon" / source.name).symlink_to(source)
    _write(data / "statistics" / "bureau_statistics.csv", TEST_TEMPLATE + f"乐山,2019,gpd,1,亿元,,{SRC}\n")
    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    dag = _bag().get_dag("carbon_energy")
    run = dag.test(run_conf={"data_dir": str(data)})
    assert str(run.state) == "success"
    with connect(empty_db) as conn:
        loads = conn.execute("SELECT dataset, status, rows_read, rows_stored, rows_quarantined, run_id "
                             "FROM ops.load_log ORDER BY dataset").fetchall()
        assert loads == [("bureau_statistics", "loaded", 11, 10, 1, run.run_id),
                         ("carbon_city", "loaded", 3929, 3929, 0, run.run_id),
                         ("carbon_province", "loaded", 1056, 1056, 0, run.run_id)]
        assert _indicator(conn, "乐山", 2015)["intensity_t_per_10k_yuan"] == 3.5396
        assert _indicator(conn, "乐山", 2017)["status"] == "insufficient_data"
        first = _state(conn)

    run = dag.test(run_conf={"data_dir": str(data)})
    assert str(run.state) == "success"
    with connect(empty_db) as conn:
        assert _state(conn) == first


def test_carbon_energy_dag_run_is_red_when_a_file_fails(airflow_db, empty_db, monkeypatch, tmp_path):
    data = tmp_path / "data"
    _write(data / "statistics" / "bureau_statistics.csv", "region,year\n乐山,2015\n")
    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    run = _bag().get_dag("carbon_energy").test(run_conf={"data_dir": str(data)})
    assert str(run.state) == "failed"
    with connect(empty_db) as conn:
        assert conn.execute("SELECT dataset, status FROM ops.load_log").fetchall() == [("bureau_statistics", "failed")]


def test_inputs_watch_announces_only_files_not_loaded_yet(airflow_db, empty_db, monkeypatch):
    from envmon.settings import data_dir

    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", empty_db)
    present = [n for n, (_, rel) in carbon.ASSET_FILES.items() if (data_dir() / rel).is_file()]
    # an empty database has loaded nothing: every file present is announced
    assert carbon.changed_inputs(data_dir(), empty_db) == present
    run = _bag().get_dag("carbon_inputs_watch").test()
    assert str(run.state) == "success"
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert {t: s for t, s in states.items() if t.startswith("announce_")} == {
        f"announce_{n}": ("success" if n in present else "skipped") for n in carbon.ASSET_FILES}
    # once loaded, nothing is announced
    from pipeline import runs

    runs.prepare_warehouse(empty_db)
    for kind in ("city_inventory", "province_inventory"):
        carbon.load_inputs(kind, data_dir(), "test", empty_db)
    assert carbon.changed_inputs(data_dir(), empty_db) == []


def test_inventory_in_the_wrong_unit_fails_its_gate_and_is_quarantined_whole(warehouse, tmp_path):
    """Tonnes instead of Mt (× 10⁶): every value is impossible; nothing of the file is stored."""
    from evaluation.carbon import load_city_inventory

    csv = tmp_path / "CEADS_290cities_emission_vector_MtCO2.csv"
    frame = pd.read_csv(shared("carbon", "CEADS_290cities_emission_vector_MtCO2.csv"))
    value = [c for c in frame.columns if c.lower().startswith("emission")][0]
    frame[value] = frame[value] * 1e6
    frame.to_csv(csv, index=False)
    with connect(warehouse) as conn:
        report = load_city_inventory(conn, csv, run_id="gate")
        assert report.status == "rejected"
        assert conn.execute("SELECT count(*) FROM obs.carbon_emission").fetchone()[0] == 0
        status, gate, read, quarantined = conn.execute(
            "SELECT status, gate_passed, rows_read, rows_quarantined FROM ops.load_log WHERE load_id = %s",
            (report.load_id,)).fetchone()
        assert (status, gate, quarantined) == ("rejected", False, read) and read > 3_900
        failed = conn.execute("SELECT column_name FROM ops.validation_result WHERE load_id = %s AND NOT success",
                              (report.load_id,)).fetchall()
        assert failed == [("co2_mt",)]
