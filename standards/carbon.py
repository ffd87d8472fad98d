"""Carbon and energy indicators: pure, vectorised functions (no I/O), each saying why a value is missing.

Methods and where they come from:

* **CO2 intensity** (碳排放强度, t CO2 per 10⁴ yuan): E / GDP with GDP at constant prices;
  E in Mt and GDP in 亿元 (10⁸ yuan) give ``t/万元 = 100 × E[Mt] / GDP[亿元]``
  (standards.md §4(c); the public city-panel code uses the same factor with real GDP).
* **单位GDP二氧化碳排放降低 / 单位GDP能耗降低** (the plans' binding indicators, e.g. the
  14th Five-Year Plan, seed 000 lines 634-648): the cumulative reduction of the intensity over a
  five-year-plan period, ``(1 − I_year / I_base) × 100`` %, both intensities at the constant prices
  of one base year. Reported to 2 decimals, GB/T 8170 rounding.
* **per capita CO2** (t/person): ``E[Mt] × 10⁶ / (P[万人] × 10⁴) = 100 × E / P``.
* **year-on-year change** (%): ``(v_t / v_{t−1} − 1) × 100`` for consecutive years only — a gap
  year is not bridged, because a two-year change is not a yearly one.
* **share of the province** (%): city E / provincial E × 100 (both CEADs totals of the same year).
* **peak** (碳达峰): see :func:`detect_peak`.

Every function returns the value (NaN where it cannot be computed) together with the reason,
so a missing year is reported as missing instead of being filled with a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from standards.gbt8170 import round_gbt8170

#: t CO2 per 10⁴ yuan from Mt and 亿元 (10⁶ t / 10⁴ 万元).
INTENSITY_FACTOR = 100.0
#: t per person from Mt and 万人 (10⁶ t / 10⁴ persons).
PER_CAPITA_FACTOR = 100.0
#: Decimals of the reported figures (GB/T 8170 rounding). Reductions: 2 decimals as published.
DECIMALS = {"intensity": 4, "per_capita": 2, "energy_per_gdp": 4, "reduction_pct": 2, "yoy_pct": 2,
            "share_pct": 2}
#: Five-year-plan periods (base year, final year): 11th to 14th FYP.
FYP_PERIODS: tuple[tuple[int, int], ...] = ((2005, 2010), (2010, 2015), (2015, 2020), (2020, 2025))
#: Peak detection: fewer years with data than this → insufficient data.
PEAK_MIN_YEARS = 3
#: Years with data after the maximum needed to call the series peaked.
PEAK_MIN_YEARS_AFTER = 2


class Derived(NamedTuple):
    """A derived figure per input row: ``value`` (float, NaN when not computable) and ``reason``
    (None when computed, else why not, e.g. ``"gdp_constant missing"``)."""

    value: pd.Series
    reason: pd.Series


def _inputs(**named: Any) -> dict[str, pd.Series]:
    """Align array-likes and scalars on the index of the first Series given (or a RangeIndex)."""
    index = next((v.index for v in named.values() if isinstance(v, pd.Series)), None)
    if index is None:
        n = max((len(v) for v in named.values() if np.ndim(v)), default=1)
        index = pd.RangeIndex(n)
    out = {}
    for name, values in named.items():
        if isinstance(values, pd.Series):
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64").reindex(index)
        elif np.ndim(values):
            out[name] = pd.Series(np.asarray(values, dtype="float64"), index=index)
        else:
            out[name] = pd.Series(np.nan if values is None else float(values), index=index, dtype="float64")
    return out


def _reasons(index: pd.Index, checks: Sequence[tuple[pd.Series, str]]) -> pd.Series:
    """Join the messages of the failing checks per row (None where every check passes)."""
    joined = np.full(len(index), "", dtype=object)
    for mask, text in checks:
        hit = mask.fillna(False).to_numpy(dtype=bool)
        joined = np.where(hit, np.where(joined == "", text, joined + "; " + text), joined)
    return pd.Series(np.where(joined == "", None, joined), index=index, dtype=object)


def _ratio(numerator: pd.Series, denominator: pd.Series, factor: float, num_name: str, den_name: str,
           decimals: int | None) -> Derived:
    checks = [(numerator.isna(), f"{num_name} missing"), (denominator.isna(), f"{den_name} missing"),
              (denominator.notna() & (denominator <= 0), f"{den_name} not positive")]
    reason = _reasons(numerator.index, checks)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (factor * numerator / denominator).where(reason.isna())
    if decimals is not None:
        value = round_gbt8170(value, decimals)
    return Derived(value.astype("float64"), reason)


def carbon_intensity(co2_mt: Any, gdp_constant_100m_yuan: Any,
                     decimals: int | None = DECIMALS["intensity"]) -> Derived:
    """t CO2 per 10⁴ yuan = 100 × Mt / 亿元, GDP at constant prices (standards.md §4(c)).

    ``decimals=None`` keeps full precision (use it when the result feeds a reduction).
    """
    x = _inputs(co2=co2_mt, gdp=gdp_constant_100m_yuan)
    return _ratio(x["co2"], x["gdp"], INTENSITY_FACTOR, "co2", "gdp_constant", decimals)


def co2_per_capita(co2_mt: Any, population_10k: Any, decimals: int | None = DECIMALS["per_capita"]) -> Derived:
    """t CO2 per person = Mt × 10⁶ / (万人 × 10⁴); only where the population is given."""
    x = _inputs(co2=co2_mt, pop=population_10k)
    return _ratio(x["co2"], x["pop"], PER_CAPITA_FACTOR, "co2", "population", decimals)


def energy_per_gdp(energy_total_10k_tce: Any, gdp_constant_100m_yuan: Any,
                   decimals: int | None = DECIMALS["energy_per_gdp"]) -> Derived:
    """t standard coal per 10⁴ yuan = 万吨标准煤 / 亿元 (10⁴ t / 10⁴ 万元): the fallback when the
    yearbook's own 单位GDP能耗 is not in the template (the published figure is preferred)."""
    x = _inputs(energy=energy_total_10k_tce, gdp=gdp_constant_100m_yuan)
    return _ratio(x["energy"], x["gdp"], 1.0, "energy_total", "gdp_constant", decimals)


def cumulative_reduction(base_value: Any, value: Any, decimals: int | None = DECIMALS["reduction_pct"]) -> Derived:
    """Reduction in % of ``value`` against ``base_value``: (1 − v / v_base) × 100.

    The plans' "单位GDP二氧化碳排放降低 x%" over a five-year-plan period is this function applied to
    the intensities of the base and final years (positive = lower than the base).
    """
    x = _inputs(base=base_value, value=value)
    base, current = x["base"], x["value"]
    reason = _reasons(base.index, [(base.isna(), "base year value missing"), (current.isna(), "year value missing"),
                                   (base.notna() & (base <= 0), "base year value not positive")])
    with np.errstate(divide="ignore", invalid="ignore"):
        result = ((1.0 - current / base) * 100.0).where(reason.isna())
    if decimals is not None:
        result = round_gbt8170(result, decimals)
    return Derived(result.astype("float64"), reason)


def year_on_year(years: Any, values: Any, decimals: int | None = DECIMALS["yoy_pct"]) -> Derived:
    """Change in % against the previous calendar year of the same series; NaN when that year is
    missing (gaps are not bridged). ``years`` need not be sorted; the result follows their order."""
    x = _inputs(year=years, value=values)
    frame = pd.DataFrame(x)
    by_year = frame.dropna(subset=["year"]).drop_duplicates("year").set_index("year")["value"]
    previous = frame["year"].sub(1).map(by_year)
    has_prev_year = frame["year"].sub(1).isin(by_year.index)
    reason = _reasons(frame.index, [(frame["value"].isna(), "value missing"),
                                    (~has_prev_year | previous.isna(), "previous year missing"),
                                    (previous.notna() & (previous <= 0), "previous year not positive")])
    with np.errstate(divide="ignore", invalid="ignore"):
        result = ((frame["value"] / previous - 1.0) * 100.0).where(reason.isna())
    if decimals is not None:
        result = round_gbt8170(result, decimals)
    return Derived(result.astype("float64"), reason)


def share_pct(part: Any, whole: Any, decimals: int | None = DECIMALS["share_pct"],
              part_name: str = "co2", whole_name: str = "province co2") -> Derived:
    """Share in % of a city's total in its province's total of the same year."""
    x = _inputs(part=part, whole=whole)
    return _ratio(x["part"], x["whole"], 100.0, part_name, whole_name, decimals)


@dataclass(frozen=True)
class Peak:
    """Outcome of :func:`detect_peak`.

    ``status``: ``peaked`` | ``not_peaked`` | ``insufficient_data``. ``peak_year`` is the (latest)
    year of the maximum; ``at_or_before`` is True when that is the first year with data, so the
    true peak may lie earlier than the series shows.
    """

    status: str
    peak_year: int | None
    peak_value: float | None
    n_years: int
    years_after_peak: int
    first_year: int | None
    last_year: int | None
    at_or_before: bool
    reason: str


def detect_peak(years: Any, values: Any, min_years: int = PEAK_MIN_YEARS,
                min_years_after: int = PEAK_MIN_YEARS_AFTER) -> Peak:
    """Has the series peaked? (the plans' 碳达峰, seed 000; judged on the years with data only).

    Peak year = the latest year holding the maximum (so every later year is strictly lower).
    ``peaked`` needs at least ``min_years_after`` (2) later years with data — one lower year is
    a dip, not a peak; ``not_peaked`` when the maximum is the last year with data; with fewer
    than ``min_years`` (3) years or only one year after the maximum: ``insufficient_data``.
    Missing years are skipped, never interpolated.
    """
    x = _inputs(year=years, value=values)
    frame = pd.DataFrame(x).dropna().sort_values("year")
    n = len(frame)
    if n == 0:
        return Peak("insufficient_data", None, None, 0, 0, None, None, False, "no year with data")
    first, last = int(frame["year"].iloc[0]), int(frame["year"].iloc[-1])
    top = frame["value"].max()
    peak_row = frame[frame["value"] == top].iloc[-1]
    peak_year = int(peak_row["year"])
    after = int((frame["year"] > peak_year).sum())
    at_or_before = peak_year == first
    args = (peak_year, float(top), n, after, first, last, at_or_before)
    if n < min_years:
        return Peak("insufficient_data", *args, f"{n} year(s) with data, {min_years} needed")
    if after == 0:
        return Peak("not_peaked", *args, f"the maximum is in the last year with data ({last})")
    if after < min_years_after:
        return Peak("insufficient_data", *args,
                    f"only {after} year(s) with data after the maximum of {peak_year}, {min_years_after} needed")
    note = f" (at or before {peak_year}: the series starts at its maximum)" if at_or_before else ""
    return Peak("peaked", *args, f"{after} later year(s) with data, all lower than {peak_year}{note}")
