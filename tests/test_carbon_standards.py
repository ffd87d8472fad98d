"""standards.carbon: the formulas by hand arithmetic, and missing inputs reported, never filled."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from standards import carbon

#: CEADs Leshan (四川乐山), Mt CO2, as published (2017 and 2019 are not in the file).
LESHAN = {2012: 39.83954099796645, 2013: 37.0078206751238, 2014: 35.94995719826938, 2015: 35.395569593723394,
          2016: 34.6539538840822, 2018: 30.813799027541123}


def test_intensity_is_100_times_mt_over_100m_yuan():
    # 35.3956 Mt / 1000 亿元 = 35.3956e6 t / 1000e4 万元 = 3.5396 t/万元
    result = carbon.carbon_intensity([LESHAN[2015], 10.0], [1000.0, 400.0])
    assert result.value.tolist() == [3.5396, 2.5]
    assert result.reason.isna().all()
    assert carbon.carbon_intensity(LESHAN[2015], 1000.0, decimals=None).value.iloc[0] == pytest.approx(3.5395569593723394)


def test_intensity_names_what_is_missing():
    result = carbon.carbon_intensity(pd.Series([np.nan, 30.0, np.nan, 30.0]), pd.Series([1000.0, np.nan, np.nan, 0.0]))
    assert result.value.isna().all()
    assert result.reason.tolist() == ["co2 missing", "gdp_constant missing", "co2 missing; gdp_constant missing",
                                      "gdp_constant not positive"]


def test_series_keep_their_index():
    co2 = pd.Series([30.0, 40.0], index=[2015, 2016])
    result = carbon.carbon_intensity(co2, pd.Series([1000.0, 2000.0], index=[2015, 2016]))
    assert result.value.to_dict() == {2015: 3.0, 2016: 2.0}


def test_per_capita_is_tonnes_per_person():
    # 35.3956e6 t / 326.0e4 persons = 10.8575 t → 10.86
    result = carbon.co2_per_capita([LESHAN[2015], 1.0], [326.0, None])
    assert result.value.iloc[0] == 10.86
    assert math.isnan(result.value.iloc[1]) and result.reason.iloc[1] == "population missing"


def test_energy_per_gdp_from_totals():
    # 1200 万吨标准煤 / 2000 亿元 = 1200e4 t / 2000e4 万元 = 0.6 t/万元
    assert carbon.energy_per_gdp([1200.0], [2000.0]).value.tolist() == [0.6]


def test_cumulative_reduction_is_rounded_per_gbt8170():
    # (1 − 2.4651039/3.5395570) × 100 = 30.3556 → 30.36; an increase is a negative reduction
    base = 100 * LESHAN[2015] / 1000
    now = 100 * LESHAN[2018] / 1250
    result = carbon.cumulative_reduction([base, 1.0, 1.0, 2.0], [now, 1.1, np.nan, 1.0])
    assert result.value.iloc[:2].tolist() == [30.36, -10.0]
    assert math.isnan(result.value.iloc[2]) and result.reason.iloc[2] == "year value missing"
    assert result.value.iloc[3] == 50.0
    # half-even at the second decimal: 12.345 → 12.34 (GB/T 8170), not 12.35
    assert carbon.cumulative_reduction([100.0], [87.655]).value.iloc[0] == 12.34


def test_reduction_needs_a_positive_base():
    result = carbon.cumulative_reduction([0.0, np.nan], [1.0, 1.0])
    assert result.value.isna().all()
    assert result.reason.tolist() == ["base year value not positive", "base year value missing"]


def test_year_on_year_does_not_bridge_a_gap():
    years = list(LESHAN)
    result = carbon.year_on_year(years, list(LESHAN.values()))
    # 2013: (37.0078 / 39.8395 − 1) × 100 = −7.1078 → −7.11
    assert result.value.iloc[1] == -7.11
    assert math.isnan(result.value.iloc[0]) and result.reason.iloc[0] == "previous year missing"
    assert math.isnan(result.value.iloc[5]) and result.reason.iloc[5] == "previous year missing"  # 2018 vs no 2017


def test_share_of_province():
    # 30.8138 / 250 × 100 = 12.3255 → 12.33
    result = carbon.share_pct([LESHAN[2018], 5.0], [250.0, np.nan])
    assert result.value.iloc[0] == 12.33
    assert result.reason.iloc[1] == "province co2 missing"


def test_peak_of_the_real_leshan_series():
    peak = carbon.detect_peak(list(LESHAN), list(LESHAN.values()))
    assert (peak.status, peak.peak_year, peak.years_after_peak, peak.n_years) == ("peaked", 2012, 5, 6)
    assert peak.at_or_before  # the series starts at its maximum: the peak may be earlier
    assert "at or before 2012" in peak.reason


@pytest.mark.parametrize(("years", "values", "status", "peak_year"), [
    ([2015, 2016], [1.0, 0.5], "insufficient_data", 2015),          # fewer than 3 years
    ([2015, 2016, 2017], [1.0, 2.0, 3.0], "not_peaked", 2017),        # still rising
    ([2015, 2016, 2017], [1.0, 3.0, 2.0], "insufficient_data", 2016),  # one lower year is a dip, not a peak
    ([2015, 2016, 2018, 2019], [1.0, 3.0, 2.0, 2.5], "peaked", 2016),   # two later years, both lower; gap skipped
    ([2015, 2016, 2017, 2018], [3.0, 1.0, 3.0, 2.0], "insufficient_data", 2017),  # tie: the later maximum counts
    ([2015, 2016, 2017], [np.nan, np.nan, 1.0], "insufficient_data", 2017),
])
def test_peak_rules(years, values, status, peak_year):
    peak = carbon.detect_peak(years, values)
    assert (peak.status, peak.peak_year) == (status, peak_year)


def test_peak_of_nothing():
    assert carbon.detect_peak([], []).status == "insufficient_data"


def test_fyp_periods_are_five_years():
    assert all(end - base == 5 for base, end in carbon.FYP_PERIODS)
    assert (2020, 2025) in carbon.FYP_PERIODS
