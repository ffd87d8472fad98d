"""HJ 663-2013 statistics and GB 3095 limits: expected values are worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from standards import gb3095, hj663

BEIJING = "Asia/Shanghai"
SHARED_AIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "air"
BASE = {"so2": 5.0, "no2": 20.0, "co": 0.5, "o3": 40.0, "pm10": 50.0, "pm25": 30.0}


def day_hours(day: str) -> pd.DatetimeIndex:
    """The 24 hour-ending labels of a Beijing natural day: D 01:00 … D+1 00:00."""
    return pd.date_range(f"{day} 01:00", periods=24, freq="h", tz=BEIJING)


def station_day(site: str, day: str, **overrides: list[float]) -> pd.DataFrame:
    """24 hourly rows for one station-day; ``overrides`` replace a pollutant's 24 values (index 0 = 01:00)."""
    frame = pd.DataFrame({"site": site, "observed_at": day_hours(day)})
    for p, v in BASE.items():
        frame[p] = overrides.get(p, [v] * 24)
    return frame


def with_missing(value: float, missing_hours: set[int], n: int = 24) -> list[float]:
    """24 values (hour of the day 1 … 24), NaN at the given hours."""
    return [np.nan if h in missing_hours else value for h in range(1, n + 1)]


def one(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        mask &= (frame[k] == v).to_numpy()
    assert mask.sum() == 1, keys
    return frame.loc[mask].iloc[0]


# ---------------------------------------------------------------------------------------------
# GB 3095 limits and validity minimums
# ---------------------------------------------------------------------------------------------

def test_limits_for_selects_the_version_by_date():
    assert gb3095.limits_for(dt.date(2023, 6, 1)).code == "GB3095-2012"
    assert gb3095.limits_for("2026-02-28").code == "GB3095-2012"
    assert gb3095.limits_for(pd.Timestamp("2026-03-01 00:30", tz=BEIJING)).code == "GB3095-2026-transition"
    assert gb3095.limits_for(dt.date(2030, 12, 31)).code == "GB3095-2026-transition"
    assert gb3095.limits_for(dt.date(2031, 1, 1)).code == "GB3095-2026"
    codes = gb3095.limit_codes_for(pd.Series(pd.to_datetime(["2026-02-28", "2026-03-01", "2031-01-01"])))
    assert list(codes) == ["GB3095-2012", "GB3095-2026-transition", "GB3095-2026"]


@pytest.mark.parametrize(("day", "pollutant", "averaging", "grade_i", "grade_ii"), [
    ("2023-01-01", "pm25", "annual", 15, 35), ("2023-01-01", "pm25", "24h", 35, 75),
    ("2023-01-01", "pm10", "annual", 40, 70), ("2023-01-01", "pm10", "24h", 50, 150),
    ("2023-01-01", "so2", "annual", 20, 60), ("2023-01-01", "no2", "annual", 40, 40),
    ("2023-01-01", "co", "24h", 4, 4), ("2023-01-01", "o3", "8h", 100, 160), ("2023-01-01", "o3", "1h", 160, 200),
    ("2027-05-01", "pm25", "annual", 15, 30), ("2027-05-01", "pm25", "24h", 35, 60),
    ("2027-05-01", "pm10", "annual", 40, 60), ("2027-05-01", "pm10", "24h", 50, 120),
    ("2027-05-01", "so2", "annual", 20, 60), ("2027-05-01", "no2", "24h", 80, 80),
    ("2031-01-01", "pm25", "annual", 10, 25), ("2031-01-01", "pm25", "24h", 25, 50),
    ("2031-01-01", "pm10", "annual", 20, 50), ("2031-01-01", "pm10", "24h", 50, 100),
    ("2031-01-01", "so2", "annual", 20, 20), ("2031-01-01", "so2", "24h", 50, 50), ("2031-01-01", "so2", "1h", 150, 150),
    ("2031-01-01", "no2", "annual", 30, 30), ("2031-01-01", "no2", "24h", 50, 50),
    ("2031-01-01", "o3", "8h", 100, 160), ("2031-01-01", "co", "24h", 4, 4),
])
def test_table1_values(day, pollutant, averaging, grade_i, grade_ii):
    limits = gb3095.limits_for(day)
    assert limits.limit(pollutant, averaging, grade=1) == grade_i
    assert limits.limit(pollutant, averaging) == grade_ii


def test_validity_minimums_and_composite_limits():
    assert (gb3095.ANNUAL_MIN_DAYS, gb3095.MONTHLY_MIN_DAYS, gb3095.FEBRUARY_MIN_DAYS) == (324, 27, 25)
    assert (gb3095.DAILY_MIN_HOURS, gb3095.EIGHT_HOUR_MIN_HOURS, gb3095.HOURLY_MIN_MINUTES) == (20, 6, 45)
    assert gb3095.monthly_min_days(2) == 25 and gb3095.monthly_min_days(3) == 27
    assert dict(gb3095.COMPOSITE_INDEX_LIMITS) == {"so2": 60, "no2": 40, "pm10": 70, "pm25": 35, "co": 4, "o3": 160}
    assert gb3095.limits_for("2024-01-01").get("co", "annual") is None


# ---------------------------------------------------------------------------------------------
# Rounding (GB/T 8170) and percentiles (A.6)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (0.25, 1, 0.2), (0.35, 1, 0.4), (2.5, 0, 2.0), (3.5, 0, 4.0), (34.5, 0, 34.0), (35.5, 0, 36.0),
    (1.25, 1, 1.2), (1.35, 1, 1.4), (0.05, 1, 0.0), (0.15, 1, 0.2), (2.675, 2, 2.68), (0.285, 2, 0.28),
    (94.505, 1, 94.5), (-2.5, 0, -2.0), (-0.0375, 2, -0.04), (35.51, 0, 36.0), (34.49, 0, 34.0),
])
def test_round_gbt8170_half_even_on_decimal_values(value, decimals, expected):
    assert hj663.round_gbt8170(value, decimals) == expected


def test_round_gbt8170_keeps_containers_and_missing_values():
    s = pd.Series([0.25, np.nan, 0.35], index=["a", "b", "c"], name="x")
    out = hj663.round_gbt8170(s, 1)
    assert list(out.index) == ["a", "b", "c"] and out.name == "x"
    assert out["a"] == 0.2 and np.isnan(out["b"]) and out["c"] == 0.4
    assert np.isnan(hj663.round_gbt8170(pd.array([pd.NA], dtype="Float64"), 0)[0])
    # Float noise from summing: 12 × 1.2 + 12 × 1.3 is 29.999999999999996 in binary; the mean is 1.25.
    mean = (np.full(12, 1.2).sum() + np.full(12, 1.3).sum()) / 24
    assert hj663.round_gbt8170(mean, 1) == 1.2


def test_percentile_a6_examples():
    # k = 1 + (6 − 1)·0.9 = 5.5 on {2,3,4,4,5,8}: X(5) + 0.5·(X(6) − X(5)) = 5 + 0.5·3 = 6.5
    assert hj663.percentile([3, 4, 8, 2, 5, 4], 90) == pytest.approx(6.5)
    # k = 1 + 364·0.9 = 328.6 on 1 … 365: 328 + 0.6·1 = 328.6
    assert hj663.percentile(range(1, 366), 90) == pytest.approx(328.6)
    assert hj663.percentile([3, np.nan, 4, 8, 2, 5, 4], 90) == pytest.approx(6.5)
    assert np.isnan(hj663.percentile([np.nan], 90))


def test_period_percentiles_grouped_equals_a6():
    frame = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 365,
                          "x": [3, 4, 8, 2, 5, 4, *range(1, 366)]})
    out = hj663.period_percentiles(frame, ["g"], {"x_p90": ("x", 90)})
    assert out.loc["a", "x_p90"] == pytest.approx(6.5)
    assert out.loc["b", "x_p90"] == pytest.approx(328.6)


# ---------------------------------------------------------------------------------------------
# Time labels
# ---------------------------------------------------------------------------------------------

def test_hour_to_day_hour_ending_labels():
    t = pd.Series(pd.to_datetime(["2023-01-01 01:00", "2023-01-01 23:00", "2023-01-02 00:00", "2023-01-02 01:00"])
                  .tz_localize(BEIJING))
    assert list(hj663.hour_to_day(t)) == [dt.date(2023, 1, 1)] * 3 + [dt.date(2023, 1, 2)]
    utc = pd.Series([pd.Timestamp("2023-01-01 16:00", tz="UTC")])  # = 2023-01-02 00:00 Beijing → 24:00 of 01-01
    assert hj663.hour_to_day(utc).iloc[0] == dt.date(2023, 1, 1)
    with pytest.raises(ValueError, match="tz-aware"):
        hj663.hour_to_day(pd.Series(pd.to_datetime(["2023-01-01 01:00"])))


def test_hour_to_day_keeps_the_index_and_missing_times_across_gaps_and_month_ends():
    # Dates are made once per distinct day: rows far apart, out of order, NaT and a leap day.
    labels = ["2024-03-01 00:00", None, "2024-02-29 01:00", "2025-01-01 00:00", "2024-03-01 00:00", "2024-03-01 01:00"]
    t = pd.Series(pd.to_datetime(labels).tz_localize(BEIJING), index=[10, 11, 12, 13, 14, 15])
    days = hj663.hour_to_day(t)
    assert list(days.index) == [10, 11, 12, 13, 14, 15] and days.name == "date"
    assert list(days.drop(11)) == [dt.date(2024, 2, 29), dt.date(2024, 2, 29), dt.date(2024, 12, 31),
                                   dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    assert pd.isna(days[11])
    index_input = hj663.hour_to_day(pd.DatetimeIndex(["2023-06-30 16:00"], tz="UTC"))  # 07-01 00:00 Beijing
    assert list(index_input) == [dt.date(2023, 6, 30)]


# ---------------------------------------------------------------------------------------------
# Station daily values
# ---------------------------------------------------------------------------------------------

def test_daily_means_rounding_and_the_20_hour_rule():
    frames = [
        # PM2.5: 23 × 35 + 47 = 852, / 24 = 35.5 → 36; PM10: 23 × 34 + 46 = 828, / 24 = 34.5 → 34 (half even);
        # CO: 12 × 1.2 + 12 × 1.3 = 30.0, / 24 = 1.25 → 1.2; NO2: 12 × 1.3 + 12 × 1.4 → 1.35 → 1.4 (used as a
        # decimal example on a µg/m³ column only to exercise rounding: → 1 as integer).
        station_day("S1", "2023-03-01", pm25=[35.0] * 23 + [47.0], pm10=[34.0] * 23 + [46.0],
                    co=[1.2] * 12 + [1.3] * 12),
        # 19 valid hours → no 24-hour value; 20 valid → a value (mean of the 20).
        station_day("S1", "2023-03-02", pm25=with_missing(30.0, {1, 2, 3, 4, 5}),
                    pm10=with_missing(60.0, {1, 2, 3, 4}), co=[1.3] * 12 + [1.4] * 12),
    ]
    hourly = pd.concat(frames, ignore_index=True)
    out = hj663.daily_values(hourly)
    d1 = one(out, site="S1", date=dt.date(2023, 3, 1))
    assert d1["pm25_24h"] == 36.0 and d1["pm10_24h"] == 34.0 and d1["co_24h"] == 1.2
    assert d1["so2_24h"] == 5.0 and d1["no2_24h"] == 20.0
    assert d1["valid_hours"] == 24 and d1["valid_hours_pm25"] == 24
    d2 = one(out, site="S1", date=dt.date(2023, 3, 2))
    assert np.isnan(d2["pm25_24h"]) and d2["valid_hours_pm25"] == 19
    assert d2["pm10_24h"] == 60.0 and d2["valid_hours_pm10"] == 20
    assert d2["co_24h"] == 1.4  # (12 × 1.3 + 12 × 1.4) / 24 = 1.35 → 1.4
    assert d2["valid_hours"] == 19  # min over the six pollutants
    raw = one(hj663.daily_values(hourly, rounded=False), site="S1", date=dt.date(2023, 3, 1))
    assert raw["pm25_24h"] == pytest.approx(35.5) and raw["co_24h"] == pytest.approx(1.25)


def test_mda8_window_is_0800_to_2400_of_the_natural_day():
    # Day D-1 all 40 except its 24:00 hour (label D 00:00) = 800; day D all 40.
    prev = station_day("S1", "2023-07-01", o3=[40.0] * 23 + [800.0])
    day = station_day("S1", "2023-07-02")
    out = hj663.daily_values(pd.concat([prev, day], ignore_index=True))
    # D-1: the 8-hour mean labelled 24:00 = (7 × 40 + 800) / 8 = 135 → MDA8 135.
    assert one(out, date=dt.date(2023, 7, 1))["o3_8h_max"] == 135.0
    assert one(out, date=dt.date(2023, 7, 1))["o3_1h_max"] == 800.0
    # D: the 8-hour mean labelled D 07:00 (labels D 00:00 … 07:00) is also 135, but it is outside the
    # 08:00–24:00 window, so MDA8 = 40.
    assert one(out, date=dt.date(2023, 7, 2))["o3_8h_max"] == 40.0

    # High hours labelled 17:00 … 24:00 (D+1 00:00): the 24:00 8-hour mean (= 200) counts.
    late = station_day("S2", "2023-07-02", o3=[40.0] * 16 + [200.0] * 8)
    res = one(hj663.daily_values(late), site="S2")
    assert res["o3_8h_max"] == 200.0 and res["valid_8h_o3"] == 17


def test_mda8_needs_14_valid_8h_means_unless_it_exceeds_the_limit():
    # Hours 20 … 24 missing (19 valid): 8-hour means labelled 22, 23, 24 have ≤ 5 hours → 14 valid → valid.
    fourteen = station_day("A", "2023-07-02", o3=with_missing(40.0, {20, 21, 22, 23, 24}))
    # Hours 19 … 24 missing: labels 21 … 24 invalid → 13 valid 8-hour means → MDA8 invalid.
    thirteen = station_day("B", "2023-07-02", o3=with_missing(40.0, {19, 20, 21, 22, 23, 24}))
    # Hours 17 … 20 missing (20 valid hours): labels 19 … 24 invalid → 11 valid; hours 9 … 16 = 200
    # → the 8-hour mean labelled 16:00 is 200 > 160 → MDA8 valid despite 11 values (§6.1.2).
    high = [np.nan if h in {17, 18, 19, 20} else (200.0 if 9 <= h <= 16 else 40.0) for h in range(1, 25)]
    exceeding = station_day("C", "2023-07-02", o3=high)
    # Same pattern with exactly 160: not above the limit → invalid.
    at_limit = station_day("D", "2023-07-02", o3=[np.nan if h in {17, 18, 19, 20} else (160.0 if 9 <= h <= 16 else 40.0)
                                                  for h in range(1, 25)])
    out = hj663.daily_values(pd.concat([fourteen, thirteen, exceeding, at_limit], ignore_index=True))
    a, b, c, d = (one(out, site=s) for s in "ABCD")
    assert a["valid_8h_o3"] == 14 and a["o3_8h_max"] == 40.0
    assert b["valid_8h_o3"] == 13 and np.isnan(b["o3_8h_max"])
    assert c["valid_8h_o3"] == 11 and c["o3_8h_max"] == 200.0
    assert d["valid_8h_o3"] == 11 and np.isnan(d["o3_8h_max"])
    # O3 daily max 1-hour: 19 hours → invalid (A, B); 20 hours → valid (C, D).
    assert np.isnan(a["o3_1h_max"]) and np.isnan(b["o3_1h_max"])
    assert c["o3_1h_max"] == 200.0 and d["o3_1h_max"] == 160.0


def test_eight_hour_mean_needs_6_hours():
    # Hours 2, 3, 4 missing, hour 1 = 1000, the rest 40. The 8-hour mean labelled 08:00 has 5 hours
    # (1, 5, 6, 7, 8): with them it would be (1000 + 4 × 40) / 5 = 232, but it is not valid; nor is
    # 09:00 (hours 5 … 9 = 5). Labels 10 … 24 are valid (15) and do not contain hour 1 → MDA8 = 40.
    values = [1000.0, np.nan, np.nan, np.nan] + [40.0] * 20
    out = one(hj663.daily_values(station_day("S1", "2023-07-03", o3=values)), site="S1")
    assert out["valid_8h_o3"] == 15 and out["o3_8h_max"] == 40.0
    # One more valid hour in that window (hour 4 back): the 08:00 mean has 6 hours, (1000 + 5 × 40) / 6 = 200.
    values = [1000.0, np.nan, np.nan] + [40.0] * 21
    out = one(hj663.daily_values(station_day("S1", "2023-07-03", o3=values)), site="S1")
    assert out["valid_8h_o3"] == 17 and out["o3_8h_max"] == 200.0


def test_daily_values_refuses_ambiguous_input():
    frame = station_day("S1", "2023-03-01")
    with pytest.raises(ValueError, match="share a"):
        hj663.daily_values(pd.concat([frame, frame.iloc[:1]], ignore_index=True))
    naive = frame.assign(observed_at=frame["observed_at"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="tz-aware"):
        hj663.daily_values(naive)
    with pytest.raises(ValueError, match="missing column"):
        hj663.daily_values(frame.drop(columns=["co"]))


# ---------------------------------------------------------------------------------------------
# City values
# ---------------------------------------------------------------------------------------------

STATIONS = pd.DataFrame({
    "site": ["2535A", "2536A", "2537A", "2538A", "3361A", "T1", "T2", "T3", "P1", "P2"],
    "city": ["乐山"] * 5 + ["three"] * 3 + ["two"] * 2,
    "is_background": [True, False, False, False, False, False, False, False, False, False],
})


def test_city_values_share_rule_background_and_rounding():
    d1, d2, d3 = dt.date(2023, 5, 1), dt.date(2023, 5, 2), dt.date(2023, 5, 3)
    rows = [
        # day 1: 3 of 4 city points valid (75 %) → mean of 30, 31, 39 (… and 2538A invalid); the background
        # station's 10 is not averaged. PM10: 30 + 31 + 39 + 38 = 138 / 4 = 34.5 → 34 (half even).
        ("2535A", d1, 10, 10, 0.1), ("2536A", d1, 30, 30, 0.8), ("2537A", d1, 31, 31, 0.9),
        ("2538A", d1, np.nan, 39, 0.8), ("3361A", d1, 39, 38, 0.9),
        # day 2: 2 of 4 valid (50 %) → invalid, although the background station is valid too.
        ("2535A", d2, 10, 10, 0.5), ("2536A", d2, 30, np.nan, 0.5), ("2537A", d2, 41, np.nan, np.nan),
        ("2538A", d2, np.nan, 40, np.nan), ("3361A", d2, np.nan, 41, np.nan),
        # day 3: 3361A has no row at all: 3 of 4 → valid; 30 + 31 + 40 = 101 / 3 = 33.67 → 34.
        ("2536A", d3, 30, 30, 1.0), ("2537A", d3, 31, 31, 1.0), ("2538A", d3, 40, 40, 1.0),
        # city with 3 points (≥ 50 % needed): day 1 two valid → valid; day 2 one valid → invalid.
        ("T1", d1, 20, 20, 0.5), ("T2", d1, 23, np.nan, 0.6), ("T3", d1, np.nan, np.nan, np.nan),
        ("T1", d2, 20, 20, 0.5), ("T2", d2, np.nan, np.nan, np.nan),
        # city with 2 points: one of two = 50 % → valid.
        ("P1", d1, 50, 50, 1.0), ("P2", d1, np.nan, np.nan, np.nan),
        # a site that is in no city list is ignored
        ("X9", d1, 500, 500, 9.9),
    ]
    daily = pd.DataFrame(rows, columns=["site", "date", "pm25_24h", "pm10_24h", "co_24h"])
    out = hj663.city_values(daily, STATIONS)
    assert list(out.columns) == ["city", "date", "co_24h", "pm10_24h", "pm25_24h", "n_stations",
                                 "n_valid_co_24h", "n_valid_pm10_24h", "n_valid_pm25_24h"]
    r1 = one(out, city="乐山", date=d1)
    assert r1["n_stations"] == 4 and r1["n_valid_pm25_24h"] == 3
    assert r1["pm25_24h"] == 33.0  # (30 + 31 + 39) / 3 = 33.33 → 33
    assert r1["pm10_24h"] == 34.0  # 34.5 → 34
    assert r1["co_24h"] == 0.8  # (0.8 + 0.9 + 0.8 + 0.9) / 4 = 0.85 → 0.8 (half even)
    r2 = one(out, city="乐山", date=d2)
    assert np.isnan(r2["pm25_24h"]) and r2["n_valid_pm25_24h"] == 2
    assert np.isnan(r2["pm10_24h"]) and r2["n_valid_pm10_24h"] == 2
    assert np.isnan(r2["co_24h"]) and r2["n_valid_co_24h"] == 1
    r3 = one(out, city="乐山", date=d3)
    assert r3["pm25_24h"] == 34.0 and r3["n_valid_pm25_24h"] == 3
    t1 = one(out, city="three", date=d1)
    assert t1["n_stations"] == 3 and t1["pm25_24h"] == 22.0  # (20 + 23) / 2 = 21.5 → 22 (half even)
    assert np.isnan(t1["pm10_24h"]) and t1["n_valid_pm10_24h"] == 1  # one of three < 50 %
    assert np.isnan(one(out, city="three", date=d2)["pm25_24h"])
    assert one(out, city="two", date=d1)["pm25_24h"] == 50.0
    assert "X9" not in set(out["city"])
    raw = one(hj663.city_values(daily, STATIONS, rounded=False), city="乐山", date=d1)
    assert raw["pm25_24h"] == pytest.approx(100 / 3)


def test_city_share_rule_boundaries():
    # HJ 663 §6.1.4: 4+ points need 75 %, fewer than 4 need 50 %.
    assert list(hj663.city_share_ok([3, 2, 4, 3, 2, 1, 1, 0], [4, 4, 5, 5, 3, 3, 2, 1])) == [
        True, False, True, False, True, False, True, False]


def test_city_hourly_mean_of_city_points():
    t = pd.Timestamp("2023-01-01 01:00", tz=BEIJING)
    hourly = pd.DataFrame({
        "site": ["2535A", "2536A", "2537A", "2538A", "3361A"],
        "observed_at": [t] * 5,
        "pm25": [90, 40, 39, 37, 36],  # city points: 152 / 4 = 38
        "co": [2.0, 0.8, 0.8, 0.9, 0.8],  # 3.3 / 4 = 0.825 → 0.8
        "o3": [1, 10, np.nan, np.nan, 20],  # 2 of 4 → invalid
    })
    out = hj663.city_hourly(hourly, STATIONS)
    row = one(out, city="乐山")
    assert row["pm25"] == 38.0 and row["co"] == 0.8 and np.isnan(row["o3"])
    assert row["n_valid_o3"] == 2 and row["n_stations"] == 4
    assert row["observed_at"] == t


# ---------------------------------------------------------------------------------------------
# Period statistics and completeness
# ---------------------------------------------------------------------------------------------

def test_good_day_ratio_heavy_days_published_example():
    # 91 valid days (2023-04-01 … 06-30), 86 good (AQI ≤ 100, some exactly 100), 5 not good: 101, 150,
    # 200 (not heavy), 201 (heavy), 301 (heavy and severe). 86 / 91 = 94.505 % → 94.5.
    dates = pd.date_range("2023-04-01", "2023-06-30", freq="D").date
    assert len(dates) == 91
    aqi = [50] * 80 + [100] * 6 + [101, 150, 200, 201, 301]
    # Primary pollutants as standards.hj633 writes them (and plain codes): a tie counts for each
    # pollutant, the two O3 indicators of one day count once for O3.
    primary = [""] * 80 + ["PM2.5"] * 6 + ["PM2.5;O3_8h", "O3_8h;O3_1h", "o3", "pm25", "PM10;PM2.5"]
    daily = pd.DataFrame({"site": "S1", "quarter": "2023Q2", "date": dates,
                          "aqi": pd.array(aqi, dtype="Int64"), "primary_pollutant": primary})
    for col in hj663.PERIOD_BASIS.values():
        daily[col] = 10.0
    out = hj663.period_statistics(daily, ["site", "quarter"], "aqi", period="span")
    row = out.iloc[0]
    assert row["valid_days"] == 91 and row["good_days"] == 86
    assert row["good_day_ratio"] == 94.5
    assert row["heavy_pollution_days"] == 2 and row["severe_pollution_days"] == 1
    assert row["primary_days_pm25"] == 6 + 1 + 1 + 1 and row["primary_days_o3"] == 3
    assert row["primary_days_pm10"] == 1 and row["primary_days_so2"] == 0
    assert row["period_kind"] == "span" and bool(row["complete"])  # Apr 30, May 31, Jun 30 ≥ 27
    assert row["period_start"] == dt.date(2023, 4, 1) and row["period_end"] == dt.date(2023, 6, 30)
    # The AQI may also come as a Series aligned with the frame.
    again = hj663.period_statistics(daily.drop(columns="aqi"), ["site", "quarter"], daily["aqi"], period="span")
    assert again.iloc[0]["good_day_ratio"] == 94.5


def test_period_statistics_month_means_percentiles_and_indexes():
    dates = pd.date_range("2023-06-01", "2023-06-30", freq="D")
    i = np.arange(1, 31, dtype=float)
    june = pd.DataFrame({
        "site": "S1", "month": "2023-06", "date": dates.date,
        "so2_24h": 6.0, "no2_24h": 20.0, "pm10_24h": 2 * i, "pm25_24h": i, "co_24h": np.round(0.1 * i, 1),
        "o3_8h_max": 100 + 2 * i, "o3_1h_max": 200.0,
        "aqi": pd.array([40] * 28 + [pd.NA, 120], dtype="Int64"),
        "primary_pollutant": [""] * 28 + [None, "o3"],
    })
    out = hj663.period_statistics(june, ["site", "month"])
    r = out.iloc[0]
    # AQI: 29 valid, 28 good → 96.55 % → 96.6
    assert r["valid_days"] == 29 and r["good_days"] == 28 and r["good_day_ratio"] == 96.6
    # Means: SO2 6, NO2 20, PM10 mean(2 … 60) = 31, PM2.5 mean(1 … 30) = 15.5 → 16 (half even).
    assert (r["so2_mean"], r["no2_mean"], r["pm10_mean"], r["pm25_mean"]) == (6, 20, 31, 16)
    # A.6, n = 30: p95 → k = 1 + 29 × 0.95 = 28.55; p98 → 29.42; p90 → 27.1.
    assert r["pm25_p95"] == 29.0  # 28.55 → 29
    assert r["pm10_p95"] == 57.0  # 2 × 28.55 = 57.1 → 57
    assert r["co_p95"] == 2.9  # 2.855 → 2.9
    assert r["o3_8h_p90"] == 154.0  # 154 + 0.1 × 2 = 154.2 → 154
    assert r["so2_p98"] == 6.0 and r["no2_p98"] == 20.0
    # Exceedance multiples against GB 3095-2012 grade II (period starts 2023-06-01).
    assert r["limits_version"] == "GB3095-2012"
    assert r["pm25_mean_exceedance"] == -0.54  # (16 − 35) / 35 = −0.5429
    assert r["pm25_p95_exceedance"] == -0.61  # (29 − 75) / 75 = −0.6133
    assert r["o3_8h_p90_exceedance"] == -0.04  # (154 − 160) / 160 = −0.0375 → −0.04
    assert r["co_p95_exceedance"] == -0.28  # (2.9 − 4) / 4 = −0.275 → −0.28 (half even)
    # Ranking composite index: 6/60 + 20/40 + 31/70 + 16/35 + 2.9/4 + 154/160
    #   = 0.1 + 0.5 + 0.442857 + 0.457143 + 0.725 + 0.9625 = 3.1875 → 3.19
    assert r["composite_index"] == 3.19
    assert r["composite_index_max"] == 0.96 and r["composite_index_max_pollutant"] == "o3"  # 0.9625 → 0.96
    assert r["ranking_index_pm10"] == 0.44 and r["ranking_index_pm25"] == 0.46
    # HJ 663 App. C: I_pm10 = max(31/70, 57/150) = 0.442857; I_pm25 = max(16/35, 29/75) = 0.457143;
    # I_so2 = max(6/60, 6/150) = 0.1; I_no2 = max(20/40, 20/80) = 0.5; I_co = 0.725; I_o3 = 0.9625.
    assert r["hj663_index_sum"] == 3.19 and r["hj663_index_max"] == 0.96
    assert r["hj663_index_so2"] == 0.10 and r["hj663_index_no2"] == 0.50 and r["hj663_index_co"] == 0.72
    assert r["hj663_index_max_pollutant"] == "o3"
    assert r["primary_days_o3"] == 1
    # Completeness: 30 valid days in June ≥ 27.
    assert r["period_kind"] == "month" and bool(r["complete"]) and r["valid_days_pm25"] == 30


def test_period_statistics_limits_by_period_start_and_positive_exceedance():
    def month(site: str, start: str, pm25: float, n: int) -> pd.DataFrame:
        dates = pd.date_range(start, periods=n, freq="D")
        frame = pd.DataFrame({"site": site, "date": dates.date, "aqi": 80, "primary_pollutant": "pm25"})
        for col in hj663.PERIOD_BASIS.values():
            frame[col] = 10.0
        frame["pm25_24h"] = pm25
        return frame

    daily = pd.concat([month("S2012", "2023-03-01", 50.0, 31), month("S2026", "2027-03-01", 45.0, 26),
                       month("SFeb", "2023-02-01", 50.0, 25)], ignore_index=True)
    out = hj663.period_statistics(daily, ["site"]).set_index("site")
    assert out.loc["S2012", "pm25_mean_exceedance"] == 0.43  # (50 − 35) / 35 = 0.4286
    assert out.loc["S2026", "limits_version"] == "GB3095-2026-transition"
    assert out.loc["S2026", "pm25_mean_exceedance"] == 0.5  # (45 − 30) / 30
    assert out.loc["S2026", "pm25_p95_exceedance"] == -0.25  # (45 − 60) / 60
    # 26 days in March < 27 → incomplete; 25 in February is enough.
    assert not out.loc["S2026", "complete"] and bool(out.loc["SFeb", "complete"])
    assert out.loc["S2012", "valid_days"] == 31 and out.loc["S2012", "good_day_ratio"] == 100.0


def _year(site: str, year: int, drop: dict[int, int]) -> pd.DataFrame:
    """A year of valid daily values, minus ``drop[month]`` days at the end of the given months."""
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    keep = np.ones(len(dates), dtype=bool)
    for m, k in drop.items():
        idx = np.flatnonzero(dates.month == m)
        keep[idx[len(idx) - k:]] = False
    frame = pd.DataFrame({"site": site, "date": dates[keep].date, "aqi": 50})
    for col in hj663.PERIOD_BASIS.values():
        frame[col] = 10.0
    return frame


def test_completeness_month_and_year_rules():
    # A: February 25 of 28, other months 3 days short (31 → 28, 30 → 27): 365 − 3 − 33 = 329 ≥ 324 → complete.
    a = _year("A", 2023, {2: 3, **{m: 3 for m in range(1, 13) if m != 2}})
    # B: every month at its minimum: 25 + 11 × 27 = 322 < 324 → every month complete, the year not.
    b = _year("B", 2023, {2: 3, **{m: (31 if m in (1, 3, 5, 7, 8, 10, 12) else 30) - 27 for m in range(1, 13) if m != 2}})
    # C: like A but April has 26 days: 328 ≥ 324, yet a month below 27 → the year is incomplete.
    c = _year("C", 2023, {2: 3, **{m: 3 for m in range(1, 13) if m != 2}, 4: 4})
    assert len(a) == 329 and len(b) == 322 and len(c) == 328
    daily = pd.concat([a, b, c], ignore_index=True)
    comp = hj663.completeness(daily, ["site"])
    feb = one(comp, site="A", year=2023, month=2)
    assert feb["min_days"] == 25 and feb["valid_days_pm25"] == 25 and bool(feb["month_complete_pm25"])
    assert bool(one(comp, site="A", year=2023, month=1)["year_complete"])
    assert one(comp, site="A", year=2023, month=1)["year_valid_days_o3"] == 329
    b_rows = comp[comp["site"] == "B"]
    assert b_rows["month_complete"].all() and not b_rows["year_complete"].any()
    apr = one(comp, site="C", year=2023, month=4)
    assert apr["valid_days_so2"] == 26 and not apr["month_complete_so2"] and not apr["year_complete_so2"]

    daily["year"] = 2023
    stats = hj663.period_statistics(daily, ["site", "year"]).set_index("site")
    assert list(stats["period_kind"]) == ["year"] * 3
    assert stats.loc["A", "complete"] and not stats.loc["B", "complete"] and not stats.loc["C", "complete"]
    assert stats.loc["A", "valid_days_pm25"] == 329

    # A missing pollutant makes only that pollutant incomplete.
    a_no_o3 = a.assign(o3_8h_max=np.where(pd.to_datetime(a["date"]).dt.month == 7, np.nan, 40.0))
    comp = hj663.completeness(a_no_o3, ["site"])
    assert not comp["year_complete_o3"].any() and comp["year_complete_pm25"].all()


# ---------------------------------------------------------------------------------------------
# Real data: CNEMC hourly publication, Leshan, 2023-01-01
# ---------------------------------------------------------------------------------------------

def test_real_station_day_matches_published_24h_values():
    from ingest.cnemc_air import parse

    path = SHARED_AIR / "cnemc_station_hourly_leshan_2023-01-01.csv"
    assert path.exists(), f"{path} missing: tests expect ../shared beside the repository"
    records = parse(path).records
    wide = (records.pivot_table(index=["site_code", "observed_at"], columns="parameter", values="value")
            .reset_index().rename(columns={"site_code": "site"}))
    wide.columns.name = None
    daily = hj663.daily_values(wide)
    assert set(daily["date"]) == {dt.date(2023, 1, 1)}  # 01:00 … 24:00 are one natural day

    published = wide[wide["observed_at"] == pd.Timestamp("2023-01-02 00:00", tz=BEIJING)].set_index("site")
    daily = daily.set_index("site")
    checked = daily.index[daily["valid_hours_pm25"] >= 20]
    assert len(checked) == 4
    for site in checked:  # includes 2538A (20 valid hours; 40.55 → 41) and 2535A (54.5 → 54, half even)
        assert daily.loc[site, "pm25_24h"] == published.loc[site, "pm25_24h"], site

    # Stations with all 24 hours reproduce every published 24-hour value at 24:00, the daily max
    # 1-hour O3 and the daily max 8-hour O3 (2535A: 40.5 → 40, half even). The archive's two 8-hour
    # fields are taken together (max of both) because one is the current 8-hour mean and the other
    # the day's running maximum.
    complete = daily.index[daily["valid_hours"] == 24]
    assert set(complete) == {"2535A", "2536A", "2537A"}
    for site in complete:
        for p in ("so2", "no2", "co", "pm10", "pm25"):
            assert daily.loc[site, f"{p}_24h"] == published.loc[site, f"{p}_24h"], (site, p)
        published_mda8 = max(published.loc[site, "o3_8h"], published.loc[site, "o3_8h_max24h"])
        assert daily.loc[site, "o3_8h_max"] == published_mda8, site
        assert daily.loc[site, "o3_1h_max"] == published.loc[site, "o3_1h_max24h"], site
    assert daily.loc["2535A", "o3_8h_max"] == 40.0 and daily.loc["2535A", "pm25_24h"] == 54.0
    # 2538A lacks the hours 17, 20, 21, 22 in this archive: 13 valid 8-hour means → MDA8 not valid
    # here (§6.1.2), while the publisher, who had those hours, printed 40.
    assert daily.loc["2538A", "valid_8h_o3"] == 13 and np.isnan(daily.loc["2538A", "o3_8h_max"])
