"""HJ 633 AQI: published vectors, hand-computed vectors, the special rules and the readings we chose.

Hand computations use formula (1) of HJ 633-2012 §4.2 / HJ 633-2026 §4.2.4,
IAQI = IAQI_Lo + (IAQI_Hi − IAQI_Lo) · (C − BP_Lo) / (BP_Hi − BP_Lo), then round up (2012 §6.2,
2026 §4.2.6), on the tables of standards/hj633.py (2012 Table 1, 2026 Table 3).
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from standards import hj633
from standards.hj633 import iaqi, realtime_report, round_concentration, rule_version

SIX = ("so2", "no2", "co", "o3", "pm10", "pm25")


def hour(version: str = "2012", **conc: float) -> pd.DataFrame:
    """One real-time row; pollutants not given are low but present (IAQI ≤ 10)."""
    row = {"so2": 5.0, "no2": 10.0, "co": 0.5, "o3": 20.0, "pm10": 10.0, "pm25": 5.0} | conc
    frame = pd.DataFrame([row])
    return realtime_report(frame, version=version)


# ------------------------------------------------------------------ published and hand vectors


@pytest.mark.parametrize(("column", "conc", "expected"), [
    ("pm25_24h", 60, 100), ("pm25_24h", 75, 114), ("pm25_24h", 115, 150),
    ("pm10_24h", 150, 112), ("pm10_24h", 120, 100), ("pm10_24h", 420, 300),
])
def test_published_vectors_2026(column, conc, expected):
    """aqi-hub's 2026 vectors (standards.md §5.1)."""
    assert iaqi(column, conc, "2026") == expected


@pytest.mark.parametrize(("column", "conc", "expected"), [
    ("so2_24h", 150, 100), ("so2_24h", 500, 154), ("co_24h", 2.5, 63),
    ("pm25_24h", 36, 52), ("pm25_24h", 75, 100), ("o3_8h", 170, 110),
])
def test_published_vectors_2012(column, conc, expected):
    """standards.md §5.1 reference vectors; SO2 24h 150→100 and 500→154 are where aqi-hub is wrong."""
    assert iaqi(column, conc, "2012") == expected


@pytest.mark.parametrize(("column", "conc", "version", "expected"), [
    # 2012 PM2.5 75: 100 (breakpoint). 2026 PM2.5 75: 100 + 50·(75−60)/(115−60) = 113.64 → 114.
    ("pm25_24h", 75, "2012", 100),
    # SO2 24h 500: 150 + 50·(500−475)/(800−475) = 153.85 → 154 (2012 = 2026, the column did not change)
    ("so2_24h", 500, "2026", 154),
    # NO2 1h 250: 100 + 50·(250−200)/(700−200) = 105 exactly → 105 (no spurious round-up)
    ("no2_1h", 250, "2012", 105),
    # CO 1h 12.3: 100 + 50·(12.3−10)/(35−10) = 104.6 → 105
    ("co_1h", 12.3, "2012", 105),
    # CO 24h 0.3: 0 + 50·0.3/2 = 7.5 → 8
    ("co_24h", 0.3, "2012", 8),
    # O3 1h 250: 100 + 50·(250−200)/(300−200) = 125 → 125
    ("o3_1h", 250, "2026", 125),
    # PM10 2026 130: 100 + 50·(130−120)/(250−120) = 103.85 → 104; 2012 130: 50 + 50·80/100 = 90
    ("pm10_24h", 130, "2026", 104), ("pm10_24h", 130, "2012", 90),
    # SO2 1h 700: 150 + 50·(700−650)/(800−650) = 166.67 → 167
    ("so2_1h", 700, "2012", 167),
    # top of each table is IAQI 500
    ("o3_1h", 1200, "2012", 500), ("pm10_24h", 600, "2026", 500), ("so2_24h", 2620, "2012", 500),
])
def test_hand_computed_vectors(column, conc, version, expected):
    assert iaqi(column, conc, version) == expected


def test_float_edge_case_that_a_naive_ceil_gets_wrong():
    """CO 24h 2.2: 50 + 50·0.2/2 = 55 exactly; the textbook order of operations gives 55.00000000000001."""
    naive = (100 - 50) / (4 - 2) * (2.2 - 2) + 50
    assert naive > 55 and math.ceil(naive) == 56  # the trap
    assert iaqi("co_24h", 2.2, "2012") == 55


def test_every_breakpoint_maps_exactly_to_its_iaqi():
    for version, tables in hj633.BREAKPOINTS.items():
        for column, table in tables.items():
            got = iaqi(column, np.array(table, dtype=float), version, rounded=False)
            assert got.tolist() == list(hj633.IAQI_LEVELS[: len(table)]), (version, column)


def test_every_published_precision_concentration_matches_exact_arithmetic():
    """All integer (CO: 0.1) concentrations of every column, against rational arithmetic."""
    for version, tables in hj633.BREAKPOINTS.items():
        for column, table in tables.items():
            step = 10 if column.startswith("co") else 1
            numerators = np.arange(0, int(table[-1] * step) + 1)
            got = iaqi(column, numerators / step, version)
            bp = [Fraction(b) for b in table]
            expected = []
            for num in numerators:
                c = Fraction(int(num), step)
                i = min(int(np.searchsorted(table, float(c), side="right")) - 1, len(bp) - 2)
                lo, hi = hj633.IAQI_LEVELS[i], hj633.IAQI_LEVELS[i + 1]
                expected.append(math.ceil(lo + (hi - lo) * (c - bp[i]) / (bp[i + 1] - bp[i])))
            assert got.tolist() == expected, (version, column)


def test_nan_negative_and_above_the_table_give_nan():
    got = iaqi("pm25_24h", np.array([np.nan, -1.0, 500.0, 501.0]), "2012")
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == 500 and np.isnan(got[3])
    assert np.isnan(iaqi("o3_1h", 1201, "2026"))


def test_iaqi_keeps_a_series_shape_and_takes_one_version_per_value():
    conc = pd.Series([75.0, 75.0], index=["a", "b"])
    got = iaqi("pm25_24h", conc, np.array(["2012", "2026"]))
    assert isinstance(got, pd.Series) and got.to_dict() == {"a": 100.0, "b": 114.0}
    with pytest.raises(ValueError, match="unknown HJ 633 version"):
        iaqi("pm25_24h", 10, "2013")


# ------------------------------------------------------------------ special rules above 800


def test_so2_1h_above_800():
    """2012 Table 1 note 2: the IAQI of the SO2 24-hour mean; 2026 Table 3 note b: 200."""
    assert iaqi("so2_1h", 800, "2012") == 200  # still on the table
    assert iaqi("so2_1h", 900, "2012", companion=500) == 154  # IAQI of SO2 24h 500
    assert np.isnan(iaqi("so2_1h", 900, "2012"))  # no 24-hour mean, no IAQI
    assert iaqi("so2_1h", 900, "2026") == 200
    assert iaqi("so2_1h", 5000, "2026") == 200

    old = realtime_report(pd.DataFrame({**{p: [1.0] for p in SIX}, "so2": [900.0], "so2_24h": [500.0]}),
                          version="2012").iloc[0]
    assert (old["iaqi_so2"], old["aqi"], old["primary_pollutant"], old["category"]) == (154, 154, "SO2", "中度污染")
    new = hour("2026", so2=900.0).iloc[0]
    assert (new["iaqi_so2"], new["aqi"], new["level"], new["colour"]) == (200, 200, "四级", "#FF0000")
    # 2012 without the 24-hour mean: the SO2 IAQI is undefined, so is the AQI
    lost = hour("2012", so2=900.0).iloc[0]
    assert pd.isna(lost["aqi"]) and lost["iaqi_undefined"] == "SO2"


def test_o3_8h_above_800():
    """2012 Table 1 note 3: the IAQI of the O3 1-hour value; 2026 Table 3 note c: 300."""
    # O3 1h 900: 300 + 100·(900−800)/(1000−800) = 350
    assert iaqi("o3_8h", 850, "2012", companion=900) == 350
    assert iaqi("o3_8h", 800, "2012") == 300
    assert iaqi("o3_8h", 850, "2026") == 300
    day = pd.DataFrame({"so2_24h": [5.0, 5.0], "no2_24h": [10.0, 10.0], "co_24h": [0.5, 0.5],
                        "pm10_24h": [10.0, 10.0], "pm25_24h": [5.0, 5.0], "o3_8h_max": [850.0, 850.0],
                        "o3_1h_max": [900.0, 900.0], "date": [dt.date(2025, 7, 1), dt.date(2026, 7, 1)]})
    got = hj633.daily_report(day)
    assert got["iaqi_o3_8h"].tolist() == [350, 300]
    assert got["aqi"].tolist() == [350, 300]
    assert got["primary_pollutant"].tolist() == ["O3_8h;O3_1h", "O3_8h"]  # 2012: O3 1h IAQI is 350 too
    assert got["rules"].tolist() == ["HJ 633-2012", "HJ 633-2026"]


# ------------------------------------------------------------------ reports


def test_realtime_report_columns_and_types():
    got = hour("2012", pm25=80.0)
    assert list(got.columns) == ["iaqi_so2", "iaqi_no2", "iaqi_co", "iaqi_o3", "iaqi_pm10", "iaqi_pm25", "aqi",
                                 "level", "category", "colour", "primary_pollutant", "rules", "iaqi_undefined"]
    assert str(got["aqi"].dtype) == "Int64"
    row = got.iloc[0]
    # PM2.5 80 (2012): 100 + 50·5/40 = 106.25 → 107
    assert (row["aqi"], row["level"], row["category"], row["colour"], row["primary_pollutant"]) == \
        (107, "三级", "轻度污染", "#FF7E00", "PM2.5")


def test_realtime_pm_uses_the_24h_table_and_the_version():
    """The same 1-hour PM2.5 of 75 is 100 under 2012 and 114 under 2026 (its IAQI 100 cell moved)."""
    assert hour("2012", pm25=75.0)["aqi"].iloc[0] == 100
    assert hour("2026", pm25=75.0)["aqi"].iloc[0] == 114


def test_concentrations_are_rounded_before_the_iaqi():
    """PM2.5 35.4 → 35 → IAQI 50 (not 51: 50 + 50·0.4/40 = 50.5); CO 1h 5.04 → 5.0 → 50."""
    row = hour("2012", pm25=35.4, co=5.04).iloc[0]
    assert (row["iaqi_pm25"], row["iaqi_co"], row["aqi"], row["primary_pollutant"]) == (50, 50, 50, "")


def test_ties_name_every_primary_pollutant_in_fixed_order():
    # 2012: PM10 150 → 100 and PM2.5 75 → 100; O3 1h 200 → 100
    row = hour("2012", pm10=150.0, pm25=75.0, o3=200.0).iloc[0]
    assert (row["aqi"], row["primary_pollutant"]) == (100, "O3;PM10;PM2.5")


def test_no_primary_pollutant_at_or_below_50():
    assert hour("2012", pm25=35.0)["primary_pollutant"].iloc[0] == ""  # AQI 50
    row = hour("2012", pm25=36.0).iloc[0]  # 50 + 50/40 = 51.25 → 52
    assert (row["aqi"], row["primary_pollutant"], row["category"]) == (52, "PM2.5", "良")


def test_missing_pollutants_2012_are_skipped():
    row = hour("2012", pm25=np.nan).iloc[0]
    assert row["aqi"] == 10 and np.isnan(row["iaqi_pm25"])  # PM10 10 → 10 beats O3 20 → 6.25 → 7
    nothing = realtime_report(pd.DataFrame({p: [np.nan] for p in SIX}), version="2012").iloc[0]
    assert pd.isna(nothing["aqi"]) and pd.isna(nothing["category"]) and nothing["primary_pollutant"] == ""


def test_missing_pollutant_2026_rule():
    """2026 §5.3.1: with a pollutant missing the AQI of the rest is published only when > 100."""
    low = hour("2026", pm25=np.nan).iloc[0]
    assert pd.isna(low["aqi"]) and pd.isna(low["level"]) and pd.isna(low["category"]) and pd.isna(low["colour"])
    assert low["primary_pollutant"] == "" and low["iaqi_pm10"] == 10  # the IAQIs are still published
    # 100 exactly is not > 100: still NA (PM10 2026 120 → 100)
    assert pd.isna(hour("2026", pm25=np.nan, pm10=120.0)["aqi"].iloc[0])
    # PM10 250 → 150 under 2026: published, with its class and primary pollutant
    high = hour("2026", pm25=np.nan, pm10=250.0).iloc[0]
    assert (high["aqi"], high["category"], high["primary_pollutant"]) == (150, "轻度污染", "PM10")
    # the same low row under 2012 is published
    assert hour("2012", pm25=np.nan)["aqi"].iloc[0] == 10


def test_aqi_range_starts_at_1_under_2026():
    """2026 §4.1.1 "空气质量指数的范围为 1—500": an all-zero hour is AQI 1 (2012 Table 2: 0)."""
    zeros = pd.DataFrame({p: [0.0] for p in SIX})
    assert realtime_report(zeros, version="2012")["aqi"].iloc[0] == 0
    new = realtime_report(zeros, version="2026").iloc[0]
    assert (new["aqi"], new["iaqi_pm25"], new["category"]) == (1, 0, "优")


def test_half_up_rounding_is_the_city_publishers_rounding():
    """PM2.5 80.0 (2012): IAQI 106.25 → half-up 106 (the standard's round-up gives 107)."""
    frame = pd.DataFrame({"so2": [5.0], "no2": [10.0], "co": [0.5], "o3": [20.0], "pm10": [10.0], "pm25": [80.0]})
    half = realtime_report(frame, rounding="half_up", version="2012").iloc[0]
    assert half["iaqi_pm25"] == pytest.approx(106.25) and half["aqi"] == 106 and half["primary_pollutant"] == "PM2.5"
    # 62.5 exactly (CO 24h-style half): PM2.5 45 → 50 + 50·10/40 = 62.5 → 63
    assert realtime_report(frame.assign(pm25=45.0), rounding="half_up", version="2012")["aqi"].iloc[0] == 63


def test_above_the_table_makes_the_aqi_undefined():
    row = hour("2026", pm10=700.0).iloc[0]
    assert pd.isna(row["aqi"]) and np.isnan(row["iaqi_pm10"]) and row["iaqi_undefined"] == "PM10"


def test_version_from_hour_ending_labels():
    """The hour labelled 2026-03-01 00:00 is 24:00 of 2026-02-28: still 2012 (HJ 663 Table A.1)."""
    times = pd.Series(pd.to_datetime(["2026-02-28 23:00", "2026-03-01 00:00", "2026-03-01 01:00"]).tz_localize(
        "Asia/Shanghai"))
    frame = pd.DataFrame({p: [10.0] * 3 for p in SIX}).assign(pm25=75.0, observed_at=times)
    got = realtime_report(frame)
    assert got["rules"].tolist() == ["HJ 633-2012", "HJ 633-2012", "HJ 633-2026"]
    assert got["aqi"].tolist() == [100, 100, 114]


def test_daily_report_2012_seven_and_2026_six_indicators():
    day = pd.DataFrame({"so2_24h": [5.0, 5.0], "no2_24h": [10.0, 10.0], "co_24h": [0.5, 0.5],
                        "pm10_24h": [10.0, 10.0], "pm25_24h": [75.0, 75.0], "o3_8h_max": [170.0, 170.0],
                        "o3_1h_max": [210.0, 210.0], "date": ["2026-02-28", "2026-03-01"]})
    got = hj633.daily_report(day)
    # 2012: O3 8h 170 → 110, O3 1h 210 → 100 + 50·10/100 = 105, PM2.5 75 → 100
    assert got["iaqi_o3_8h"].tolist() == [110, 110]
    assert got["iaqi_o3_1h"].iloc[0] == 105 and np.isnan(got["iaqi_o3_1h"].iloc[1])
    # 2026: PM2.5 75 → 114 beats O3 8h 110
    assert got["aqi"].tolist() == [110, 114]
    assert got["primary_pollutant"].tolist() == ["O3_8h", "PM2.5"]
    # 2026 without the O3 1-hour maximum at all is complete (six indicators)
    new = hj633.daily_report(day.drop(columns="o3_1h_max").assign(pm25_24h=20.0).iloc[[1]]).iloc[0]
    assert new["aqi"] == 110 and new["primary_pollutant"] == "O3_8h"
    # 2026 missing MDA8 and AQI ≤ 100 → NA
    assert pd.isna(hj633.daily_report(day.assign(o3_8h_max=np.nan, pm25_24h=20.0))["aqi"].iloc[1])


# ------------------------------------------------------------------ rule version, rounding, categories


def test_rule_version_boundary():
    beijing = pd.Series(pd.to_datetime(["2026-02-28 23:00", "2026-03-01 00:00", "2026-03-01 01:00"]).tz_localize(
        "Asia/Shanghai"))
    assert rule_version(beijing).tolist() == ["2012", "2026", "2026"]
    assert rule_version(beijing, hour_ending=True).tolist() == ["2012", "2012", "2026"]
    # tz-aware in another zone: 2026-02-28 16:00 UTC is 2026-03-01 00:00 in Beijing
    assert rule_version(pd.Timestamp("2026-02-28 16:00", tz="UTC")) == "2026"
    assert rule_version(pd.Timestamp("2026-02-28 15:59", tz="UTC")) == "2012"
    assert rule_version(dt.date(2026, 2, 28)) == "2012" and rule_version(dt.date(2026, 3, 1)) == "2026"
    assert rule_version([dt.date(2026, 2, 28), dt.date(2026, 3, 1)]).tolist() == ["2012", "2026"]
    with pytest.raises(ValueError, match="missing time"):
        rule_version(pd.Series([pd.NaT]))


def test_gbt_8170_rounding():
    co = round_concentration("co", np.array([0.25, 0.35, 0.15, 0.45, 1.25, 1.251, 2.05]))
    assert co.tolist() == [0.2, 0.4, 0.2, 0.4, 1.2, 1.3, 2.0]
    whole = round_concentration("pm25", pd.Series([12.5, 13.5, 0.5, 1.5, 12.51, 2.4999]))
    assert whole.tolist() == [12.0, 14.0, 0.0, 2.0, 13.0, 2.0]
    assert round_concentration("so2_24h", 150.5) == 150.0 and round_concentration("co_1h", 0.05) == 0.0
    with pytest.raises(ValueError, match="unknown pollutant"):
        round_concentration("nox", 1.0)


def test_categories_and_colours():
    assert [c.hex for c in hj633.CATEGORIES] == ["#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023"]
    assert [c.category for c in hj633.CATEGORIES] == ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]
    assert [hj633.category_of(a).level for a in (0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500)] == [
        "一级", "一级", "二级", "二级", "三级", "三级", "四级", "四级", "五级", "五级", "六级", "六级"]
    assert hj633.category_of(0, "2026").category == "优"  # read as 1 (2026 §4.1.1)
    assert hj633.category_of(None) is None and hj633.category_of(np.nan) is None
    with pytest.raises(ValueError):
        hj633.category_of(501)


def test_official_primary_names():
    parse = hj633.parse_official_primary
    assert parse("-;") == "" and parse("") == "" and parse(None) == "" and parse(np.nan) == ""
    assert parse("细颗粒物(PM2.5)") == "PM2.5" and parse("颗粒物(PM10)") == "PM10"
    assert parse("颗粒物(PM10),细颗粒物(PM2.5)") == "PM10;PM2.5"
    assert parse("细颗粒物(PM2.5),臭氧1小时") == "O3;PM2.5"  # our fixed order
    assert parse("细颗粒物（PM2.5）;") == "PM2.5"
    assert parse("二氧化硫") == "SO2" and parse("二氧化氮") == "NO2" and parse("一氧化碳") == "CO"
    assert parse("臭氧1小时", report="daily") == "O3_1h" and parse("臭氧8小时") == "O3_8h"
    with pytest.raises(ValueError, match="unknown primary-pollutant name"):
        parse("总悬浮颗粒物")
