"""HJ 663-2013 ambient air quality evaluation: daily values, city values, period statistics.

Pure, vectorised functions over pandas frames; no I/O. Every rule names the clause it implements.
Limits and validity minimums come from :mod:`standards.gb3095`.

Conventions
-----------
* Times are tz-aware timestamps in Beijing time (Asia/Shanghai). Hourly values are labelled
  hour-ENDING (HJ 663 Table A.1: the 1-hour value labelled X is the mean of the hour before X), so
  the natural day D holds the labels D 01:00 … D+1 00:00 (= 24:00 of D); :func:`hour_to_day`.
* Pollutant codes ``so2, no2, co, o3, pm10, pm25``; CO in mg/m³, the others in µg/m³.
* Daily frames have one row per (site, date); ``date`` is a ``datetime.date`` (the Beijing day).
  Functions that read a ``date`` column accept dates, datetime64 or strings.
* Missing or invalid hourly values are NaN. Nothing is dropped: an invalid statistic is NaN and
  the counts that made it invalid are returned next to it.

Which HJ 663
------------
HJ 663-2013 is applied to every date. HJ 663-2026 took effect on 2026-03-01 but its text is not
available here (standards.md §2.4); its validity and percentile rules are UNCONFIRMED. The limits
that statistics are compared with do follow the date (:func:`standards.gb3095.limits_for`).

Decisions documented here (where the standard leaves room)
-----------------------------------------------------------
* Hourly inputs are NOT rounded. HJ 663 §6.3 says the 1-hour values are rounded (Table 3) before
  use; the inputs are the published hourly values, which are already rounded (integers, CO one
  decimal), so rounding them again would change nothing — and rounding a value twice is what
  GB/T 8170 forbids.
* Daily maximum 1-hour O3 (``o3_1h_max``): neither GB 3095 Table 4 nor HJ 663 §6.1 gives a rule
  for a daily maximum 1-hour value. We apply the only daily rule of Table 4 (≥ 20 valid hourly
  values) and, by analogy with HJ 663 §6.1.2 for MDA8, keep a maximum computed from fewer hours
  when it exceeds the 1-hour O3 limit (an exceedance cannot be undone by the missing hours).
  The value matters only for the HJ 633-2012 daily AQI (HJ 633-2026 dropped it from the daily report).
* Validity tests that compare a statistic with a limit (HJ 663 §6.1.2) use the value rounded per
  Table 3, because §6.3 rounds statistics before they are evaluated; this holds even when the
  caller asks for unrounded output.
* Exceedance multiples (A.4) are returned signed: ``(C − S)/S`` < 0 means below the limit. HJ 663
  §5.1.1.2 reports a multiple only for items that exceed, so a report shows positive values only;
  the negative margin is kept because the dashboards plot the distance to the limit.
* The composite index is returned in two forms: HJ 663 App. C (``hj663_index_*``: per pollutant
  the larger of annual-mean/annual-limit and percentile/24-h-limit, with the limits in force at
  the period start, grade II) and the ranking index the MEE and the Sichuan department publish
  (``composite_index``: Σ C/S with GB 3095-2012 grade II annual limits for the SO2, NO2, PM10,
  PM2.5 means, CO p95/4, O3 p90/160). Ratios are formed from the statistics rounded per Table 3;
  the sums are rounded once, to 2 decimals (GB/T 8170); single indexes are shown to 2 decimals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from standards import gb3095
from standards.gbt8170 import round_gbt8170

BEIJING = "Asia/Shanghai"
POLLUTANTS: tuple[str, ...] = gb3095.POLLUTANTS  # so2, no2, co, o3, pm10, pm25

#: HJ 663 Table 3: decimals kept per pollutant (µg/m³ → 0; CO in mg/m³ → 1).
DECIMALS: Mapping[str, int] = {"so2": 0, "no2": 0, "co": 1, "o3": 0, "pm10": 0, "pm25": 0}
#: HJ 663 Table 3: exceedance multiples 2 decimals, attainment rates (%) 1 decimal.
EXCEEDANCE_DECIMALS = 2
RATE_DECIMALS = 1
#: Decimals of composite indexes (as published in the MEE / Sichuan rankings).
INDEX_DECIMALS = 2

#: Daily value columns (HJ 663 Table 1 daily items, plus the O3 daily max 1-hour of HJ 633-2012).
DAILY_MEAN_COLUMNS: Mapping[str, str] = {
    "so2": "so2_24h", "no2": "no2_24h", "co": "co_24h", "pm10": "pm10_24h", "pm25": "pm25_24h"}
DAILY_VALUE_COLUMNS: tuple[str, ...] = (
    "so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h_max", "o3_1h_max")
#: The daily column each pollutant is judged by in period statistics (HJ 663 Table 1, annual items).
PERIOD_BASIS: Mapping[str, str] = {
    "so2": "so2_24h", "no2": "no2_24h", "co": "co_24h", "o3": "o3_8h_max", "pm10": "pm10_24h", "pm25": "pm25_24h"}
COLUMN_DECIMALS: Mapping[str, int] = {
    "so2_24h": 0, "no2_24h": 0, "co_24h": 1, "pm10_24h": 0, "pm25_24h": 0, "o3_8h_max": 0, "o3_1h_max": 0}

#: HJ 663 Table 1 (annual items): which percentile of which daily series.
PERCENTILES: Mapping[str, tuple[str, float]] = {
    "so2_p98": ("so2_24h", 98.0), "no2_p98": ("no2_24h", 98.0),
    "pm10_p95": ("pm10_24h", 95.0), "pm25_p95": ("pm25_24h", 95.0),
    "co_p95": ("co_24h", 95.0), "o3_8h_p90": ("o3_8h_max", 90.0)}
#: Annual means reported (HJ 663 Table 1: SO2, NO2, PM10, PM2.5; none for CO and O3).
MEANS: Mapping[str, str] = {"so2_mean": "so2_24h", "no2_mean": "no2_24h", "pm10_mean": "pm10_24h", "pm25_mean": "pm25_24h"}

#: HJ 663 Table A.1: the MDA8 window is the 8-hour means labelled 08:00 … 24:00 (17 values).
MDA8_FIRST_LABEL = 8
#: HJ 663 §6.1.2: MDA8 needs ≥ 14 valid 8-hour means in that window (unless it exceeds the limit).
MDA8_MIN_VALUES = 14
#: HJ 663 §6.1.4: city values need ≥ 75 % of the city points valid, ≥ 50 % below 4 points.
CITY_MIN_SHARE = 0.75
CITY_MIN_SHARE_SMALL = 0.50
CITY_SMALL_BELOW = 4

# AQI thresholds used by the period counts (HJ 633-2012 Table 2 / HJ 633-2026 Table 1 categories).
GOOD_MAX_AQI = 100  # 优 + 良: AQI ≤ 100 (a good day, 优良天)
HEAVY_ABOVE_AQI = 200  # 重度污染 and worse: AQI > 200 (a heavy-pollution day, 重污染天)
SEVERE_ABOVE_AQI = 300  # 严重污染: AQI > 300


# =============================================================================================
# Rounding (GB/T 8170, HJ 663 §6.3 Table 3)
# =============================================================================================

def _round_columns(frame: pd.DataFrame, decimals: Mapping[str, int]) -> pd.DataFrame:
    out = frame.copy()
    for col, d in decimals.items():
        if col in out.columns:
            out[col] = round_gbt8170(out[col], d)
    return out


# =============================================================================================
# Time
# =============================================================================================

def _beijing(times: pd.Series) -> pd.Series:
    t = pd.Series(times) if not isinstance(times, pd.Series) else times
    if not isinstance(t.dtype, pd.DatetimeTZDtype):
        t = pd.to_datetime(t)
        if not isinstance(t.dtype, pd.DatetimeTZDtype):
            raise ValueError("times must be tz-aware (Beijing time, Asia/Shanghai); got naive timestamps")
    return t.dt.tz_convert(BEIJING)


def hour_to_day(times: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Beijing natural day of each hour-ending label: the date of (label − 1 h).

    HJ 663 Table A.1: the 1-hour values of a natural day are labelled 1:00 … 24:00, and 24:00 of D
    is written 00:00 of D+1. So 2023-01-02 00:00 → 2023-01-01, 2023-01-01 01:00 → 2023-01-01.
    Tz-aware input in any zone is converted to Asia/Shanghai first; naive input is refused.
    Returns a Series of ``datetime.date`` (index kept for a Series input).
    """
    s = times if isinstance(times, pd.Series) else pd.Series(times)
    t = _beijing(s) - pd.Timedelta(hours=1)
    # One date object per distinct day, not per hour (national scale: 15.8 M hours, 365 days).
    wall = t.dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype("int64")
    missing = t.isna().to_numpy()
    if missing.all():
        return t.dt.date.rename("date")
    first = wall[~missing].min()
    offset = np.where(missing, 0, wall - first)
    span = pd.date_range(pd.Timestamp(int(first), unit="D"), periods=int(offset.max()) + 1, freq="D")
    dates = np.append(np.array([d.date() for d in span], dtype=object), pd.NaT)
    return pd.Series(dates[np.where(missing, len(span), offset)], index=s.index, name="date")


# =============================================================================================
# Station daily values
# =============================================================================================

def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")


def _float_block(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    block = frame[list(columns)].apply(pd.to_numeric, errors="coerce")
    return block.to_numpy(dtype="float64", na_value=np.nan)


def _o3_limits(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Grade II O3 8-hour and 1-hour limits in force on each date (GB 3095 Table 1; 160 / 200 in all versions)."""
    codes = gb3095.limit_codes_for(pd.Series(pd.to_datetime(pd.Series(dates)).to_numpy()))
    l8 = codes.map({c: s.limit("o3", "8h") for c, s in gb3095.LIMIT_SETS_BY_CODE.items()})
    l1 = codes.map({c: s.limit("o3", "1h") for c, s in gb3095.LIMIT_SETS_BY_CODE.items()})
    return l8.to_numpy(dtype=float), l1.to_numpy(dtype=float)


def daily_values(hourly: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """Station daily values from 1-hour values (HJ 663 Table 1 daily items, Table A.1, §6.1).

    ``hourly``: columns ``site, observed_at, so2, no2, co, o3, pm10, pm25`` (1-hour values; NaN =
    missing or invalid; extra columns are ignored). ``observed_at`` tz-aware hour-ending labels, on
    the hour; one row per (site, label) — duplicates raise ValueError. Hourly inputs are not
    rounded (module docs).

    Output, one row per (site, date) that has at least one label, sorted:

    * ``so2_24h, no2_24h, co_24h, pm10_24h, pm25_24h`` — 24-hour mean = arithmetic mean of the
      day's valid 1-hour values (Table A.1 "点位24小时平均"), valid only with ≥ 20 of them
      (GB 3095 Table 4 via HJ 663 §6.1.1), else NaN.
    * ``o3_8h_max`` — MDA8 (Table A.1): the 8-hour mean labelled X covers the labels X−7 … X and is
      valid with ≥ 6 hourly values (GB 3095 Table 4); MDA8 is the maximum of the valid 8-hour means
      labelled 08:00 … 24:00 of the day (so it only uses the day's own hours: 08:00 = D 01:00…08:00,
      24:00 = D 17:00 … D+1 00:00), valid with ≥ 14 valid 8-hour means, or with fewer when it
      exceeds the O3 8-hour limit (HJ 663 §6.1.2; grade II 160 µg/m³, compared after rounding).
    * ``o3_1h_max`` — daily maximum 1-hour O3; ≥ 20 valid hours, or fewer when it exceeds the 1-hour
      limit (200) — our rule, see module docs.
    * ``valid_hours_<pollutant>`` per pollutant, ``valid_hours`` = their minimum, and
      ``valid_8h_o3`` = number of valid 8-hour means labelled 08:00 … 24:00.

    ``rounded=True`` rounds the values per HJ 663 Table 3 / GB/T 8170 (integers, CO 1 decimal);
    ``rounded=False`` returns the unrounded means (validity is decided identically).
    """
    _require(hourly, ["site", "observed_at", *POLLUTANTS], "daily_values(hourly)")
    t = _beijing(hourly["observed_at"])
    if not t.eq(t.dt.floor("h")).all():
        bad = t[~t.eq(t.dt.floor("h"))].iloc[0]
        raise ValueError(f"daily_values: observed_at must be on the hour (hour-ending labels); got {bad}")
    shifted = t - pd.Timedelta(hours=1)
    keys = pd.DataFrame({"site": hourly["site"].to_numpy(), "date": shifted.dt.date.to_numpy(),
                         "hour": shifted.dt.hour.to_numpy() + 1})  # hour 1 … 24 of the natural day
    dup = keys.duplicated(keep=False)
    if dup.any():
        first = hourly.loc[dup.to_numpy()].iloc[0]
        raise ValueError(f"daily_values: {int(dup.sum())} rows share a (site, observed_at), "
                         f"e.g. {first['site']} {first['observed_at']}; de-duplicate first")

    values = pd.DataFrame(_float_block(hourly, POLLUTANTS), columns=list(POLLUTANTS),
                          index=pd.MultiIndex.from_frame(keys))
    hours = list(range(1, 25))
    wide = values.unstack("hour").reindex(columns=pd.MultiIndex.from_product([list(POLLUTANTS), hours]))
    cube = wide.to_numpy(dtype="float64").reshape(len(wide), len(POLLUTANTS), 24)  # (site-day, pollutant, hour)

    present = ~np.isnan(cube)
    n_hours = present.sum(axis=2)
    sums = np.where(present, cube, 0.0).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n_hours > 0, sums / np.maximum(n_hours, 1), np.nan)

    out = wide.index.to_frame(index=False)
    dates = out["date"]
    pidx = {p: i for i, p in enumerate(POLLUTANTS)}
    for p, col in DAILY_MEAN_COLUMNS.items():
        out[col] = np.where(n_hours[:, pidx[p]] >= gb3095.DAILY_MIN_HOURS, means[:, pidx[p]], np.nan)

    # O3: 8-hour moving means labelled 08:00 … 24:00 (windows over day hours 1-8, 2-9, …, 17-24).
    o3 = cube[:, pidx["o3"], :]
    windows = sliding_window_view(o3, 8, axis=1)  # (site-day, 17, 8)
    n8 = (~np.isnan(windows)).sum(axis=2)
    s8 = np.where(np.isnan(windows), 0.0, windows).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        m8 = np.where(n8 >= gb3095.EIGHT_HOUR_MIN_HOURS, s8 / np.maximum(n8, 1), np.nan)
    n_valid8 = (~np.isnan(m8)).sum(axis=1)
    mda8 = np.fmax.reduce(m8, axis=1)  # NaN only when no valid 8-hour mean
    o3_max1h = np.fmax.reduce(o3, axis=1)
    limit8, limit1 = _o3_limits(dates)
    with np.errstate(invalid="ignore"):
        mda8_ok = (n_valid8 >= MDA8_MIN_VALUES) | (round_gbt8170(mda8, 0) > limit8)
        max1_ok = (n_hours[:, pidx["o3"]] >= gb3095.DAILY_MIN_HOURS) | (round_gbt8170(o3_max1h, 0) > limit1)
    out["o3_8h_max"] = np.where(mda8_ok, mda8, np.nan)
    out["o3_1h_max"] = np.where(max1_ok, o3_max1h, np.nan)

    for p in POLLUTANTS:
        out[f"valid_hours_{p}"] = n_hours[:, pidx[p]].astype("int64")
    out["valid_hours"] = n_hours.min(axis=1).astype("int64")
    out["valid_8h_o3"] = n_valid8.astype("int64")
    if rounded:
        out = _round_columns(out, COLUMN_DECIMALS)
    cols = ["site", "date", *DAILY_VALUE_COLUMNS, "valid_hours", *(f"valid_hours_{p}" for p in POLLUTANTS), "valid_8h_o3"]
    return out[cols]


# =============================================================================================
# City values (HJ 663 Table A.2, §6.1.4)
# =============================================================================================

_TRUE = {"y", "yes", "true", "t", "1", "是"}
_FALSE = {"n", "no", "false", "f", "0", "否", ""}


def _as_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(s):
        return s.fillna(0).astype(bool)
    text = s.fillna("").astype(str).str.strip().str.lower()
    unknown = ~text.isin(_TRUE | _FALSE)
    if unknown.any():
        raise ValueError(f"is_background: cannot read {text[unknown].iloc[0]!r} as yes/no")
    return text.isin(_TRUE)


def _city_points(stations: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """City points (城市点) of each city: the non-background stations; and their number per city."""
    _require(stations, ["site", "city", "is_background"], "stations")
    s = stations[["site", "city", "is_background"]].copy()
    if s["site"].duplicated().any():
        raise ValueError(f"stations: site {s.loc[s['site'].duplicated(), 'site'].iloc[0]!r} listed twice")
    s = s[~_as_bool(s["is_background"]).to_numpy()]
    return s[["site", "city"]], s.groupby("city", sort=True).size().rename("n_stations")


def city_share_ok(n_valid: Any, n_stations: Any) -> Any:
    """HJ 663 §6.1.4: valid city points ≥ 75 % of the city's points (≥ 50 % when fewer than 4). Vectorised."""
    nv = np.asarray(n_valid)
    n = np.asarray(n_stations)
    return np.where(n < CITY_SMALL_BELOW, 2 * nv >= n, 4 * nv >= 3 * n) & (n > 0)


def _city_aggregate(frame: pd.DataFrame, key: str, value_cols: Sequence[str], stations: pd.DataFrame,
                    decimals: Mapping[str, int], rounded: bool) -> pd.DataFrame:
    points, n_stations = _city_points(stations)
    if frame.duplicated(["site", key]).any():
        raise ValueError(f"city values: duplicated (site, {key}) rows in the station input")
    data = frame[["site", key]].copy()
    data[list(value_cols)] = _float_block(frame, value_cols)
    data = data.merge(points, on="site", how="inner")  # background and unlisted sites do not count
    grouped = data.groupby(["city", key], sort=True)
    means = grouped[list(value_cols)].mean()
    counts = grouped[list(value_cols)].count()
    out = means.index.to_frame(index=False)
    n = n_stations.reindex(out["city"]).to_numpy()
    out["n_stations"] = n.astype("int64")
    for col in value_cols:
        ok = city_share_ok(counts[col].to_numpy(), n)
        out[col] = np.where(ok, means[col].to_numpy(), np.nan)
    for col in value_cols:
        out[f"n_valid_{col}"] = counts[col].to_numpy().astype("int64")
    if rounded:
        out = _round_columns(out, {c: decimals[c] for c in value_cols})
    return out[["city", key, *value_cols, "n_stations", *(f"n_valid_{c}" for c in value_cols)]]


def city_values(station_daily: pd.DataFrame, stations: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """City daily values from station daily values (HJ 663 Table A.2 and §6.1.4).

    ``station_daily``: one row per (site, date) with any of ``so2_24h, no2_24h, co_24h, pm10_24h,
    pm25_24h, o3_8h_max, o3_1h_max`` (NaN = not valid), e.g. :func:`daily_values` output.
    ``stations``: ``site, city, is_background`` — the city's points in force for the period
    (bool or Y/N). Only city points count (Table A.2 note: not background, regional, traffic or
    source points), so background stations are excluded; sites not listed are ignored.

    Per city, date and pollutant: the arithmetic mean of the valid station values (O3: mean of
    the stations' MDA8, Table A.2), valid only when the valid stations are ≥ 75 % of the city's
    points (≥ 50 % when the city has fewer than 4; §6.1.4; a listed station without a row counts as
    invalid), else NaN. The means are taken of the values as given (pass the published, rounded
    station values) and rounded per Table 3 afterwards (``rounded``).

    Output: ``city, date, <value columns>, n_stations, n_valid_<value column>``.
    """
    _require(station_daily, ["site", "date"], "city_values(station_daily)")
    cols = [c for c in DAILY_VALUE_COLUMNS if c in station_daily.columns]
    if not cols:
        raise ValueError(f"city_values: no daily value column ({', '.join(DAILY_VALUE_COLUMNS)})")
    return _city_aggregate(station_daily, "date", cols, stations, COLUMN_DECIMALS, rounded)


def city_hourly(station_hourly: pd.DataFrame, stations: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """City 1-hour values: mean of the city points' 1-hour values (HJ 663 Table A.2 "城市 1 小时平均").

    Same station selection and §6.1.4 share rule as :func:`city_values`, per hour and pollutant.
    ``station_hourly``: ``site, observed_at`` and any of ``so2, no2, co, o3, pm10, pm25``.
    Output: ``city, observed_at, <pollutants>, n_stations, n_valid_<pollutant>``; values rounded
    per Table 3 (integers, CO 1 decimal) unless ``rounded=False``. (The CNEMC city archive prints
    city CO with two decimals, i.e. unrounded: compare with ``rounded=False``.)
    """
    _require(station_hourly, ["site", "observed_at"], "city_hourly(station_hourly)")
    cols = [p for p in POLLUTANTS if p in station_hourly.columns]
    if not cols:
        raise ValueError(f"city_hourly: no pollutant column ({', '.join(POLLUTANTS)})")
    frame = station_hourly.copy()
    frame["observed_at"] = _beijing(frame["observed_at"])
    return _city_aggregate(frame, "observed_at", cols, stations, DECIMALS, rounded)


# =============================================================================================
# Percentiles (HJ 663 A.6)
# =============================================================================================

def percentile(values: Any, p: float) -> float:
    """HJ 663 A.6 percentile: sort ascending, k = 1 + (n − 1)·p %, s = ⌊k⌋,
    m_p = X(s) + (X(s+1) − X(s))·(k − s). Identical to numpy's default ``linear`` method.
    NaN values are skipped; NaN when nothing is left. Not rounded (round the statistic with
    :func:`round_gbt8170`)."""
    arr = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return float("nan")
    return float(np.percentile(arr, p, method="linear"))


def period_percentiles(daily: pd.DataFrame, by: Sequence[str],
                       mapping: Mapping[str, tuple[str, float]] = PERCENTILES) -> pd.DataFrame:
    """Vectorised HJ 663 A.6 percentiles per group: ``{output: (daily column, p)}`` →
    one row per group (index = ``by``), unrounded. pandas' grouped ``quantile`` with linear
    interpolation is the A.6 formula; NaN values are skipped."""
    by = list(by)
    cols = sorted({col for col, _ in mapping.values()})
    frame = daily[by].copy()
    frame[cols] = _float_block(daily, cols)
    grouped = frame.groupby(by, sort=True, dropna=False)
    return pd.DataFrame({out: grouped[col].quantile(p / 100.0, interpolation="linear")
                         for out, (col, p) in mapping.items()})


# =============================================================================================
# Completeness (GB 3095 Table 4, HJ 663 §6.1.3)
# =============================================================================================

def _dates(daily: pd.DataFrame) -> pd.Series:
    d = pd.to_datetime(daily["date"])
    if isinstance(d.dtype, pd.DatetimeTZDtype):
        d = d.dt.tz_convert(BEIJING).dt.tz_localize(None)
    return d


def _monthly_counts(daily: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Valid daily values per (by…, year, month) and pollutant (columns = pollutant codes)."""
    d = _dates(daily)
    frame = daily[by].copy()
    frame["_year"] = d.dt.year.to_numpy()
    frame["_month"] = d.dt.month.to_numpy()
    for p, col in PERIOD_BASIS.items():
        frame[p] = daily[col].notna().to_numpy() if col in daily.columns else False
    return frame.groupby([*by, "_year", "_month"], sort=True, dropna=False)[list(POLLUTANTS)].sum()


def completeness(daily: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Days with a valid daily value per calendar month and year, against GB 3095 Table 4 and
    HJ 663 §6.1.3: ≥ 27 per month (≥ 25 in February) and ≥ 324 per year with every month meeting
    its minimum. Applies to the annual means and percentiles of SO2, NO2, PM10, PM2.5 (24-hour
    values), CO (24-hour values) and O3 (MDA8).

    ``daily``: one row per (entity, date) with ``date`` and the daily value columns
    (``so2_24h`` … ``o3_8h_max``; a missing column counts as no valid day). ``by``: the entity
    keys (e.g. ``["site"]`` or ``["city"]``); year and month are added.

    Output, one row per (by…, year, month) present in ``daily``: ``min_days``,
    ``valid_days_<p>``, ``month_complete_<p>``, ``year_valid_days_<p>``, ``year_complete_<p>``
    (for p in so2, no2, co, o3, pm10, pm25), and ``month_complete`` / ``year_complete`` = all six.
    A month without any row is absent here, and makes its year incomplete.
    """
    by = list(by)
    if {"year", "month"} & set(by):
        raise ValueError("completeness: 'by' names the entity only; year and month are added")
    counts = _monthly_counts(daily, by)
    out = counts.index.to_frame(index=False).rename(columns={"_year": "year", "_month": "month"})
    out["min_days"] = np.where(out["month"].to_numpy() == 2, gb3095.FEBRUARY_MIN_DAYS, gb3095.MONTHLY_MIN_DAYS)
    month_ok = counts.to_numpy() >= out["min_days"].to_numpy()[:, None]
    ok_frame = pd.DataFrame(month_ok, columns=list(POLLUTANTS), index=counts.index)
    year_keys = [*by, "_year"]
    year_n = counts.groupby(level=year_keys, dropna=False).transform("sum")
    year_months_ok = ok_frame.groupby(level=year_keys, dropna=False).transform("sum")
    for i, p in enumerate(POLLUTANTS):
        out[f"valid_days_{p}"] = counts[p].to_numpy().astype("int64")
        out[f"month_complete_{p}"] = month_ok[:, i]
    for p in POLLUTANTS:
        out[f"year_valid_days_{p}"] = year_n[p].to_numpy().astype("int64")
        out[f"year_complete_{p}"] = (year_n[p].to_numpy() >= gb3095.ANNUAL_MIN_DAYS) & (
            year_months_ok[p].to_numpy() == 12)
    out["month_complete"] = out[[f"month_complete_{p}" for p in POLLUTANTS]].all(axis=1)
    out["year_complete"] = out[[f"year_complete_{p}" for p in POLLUTANTS]].all(axis=1)
    return out


# =============================================================================================
# Period statistics (HJ 663 §5.1, Table 1, App. A, App. C)
# =============================================================================================

_PRIMARY_ALIASES = (  # token pattern (lower case, spaces removed) → pollutant code; first match wins
    (r"pm2[._]?5|细颗粒物", "pm25"), (r"pm10|可吸入颗粒物", "pm10"), (r"o3|臭氧", "o3"),
    (r"so2|二氧化硫", "so2"), (r"no2|二氧化氮", "no2"), (r"^co$|\(co\)|一氧化碳|^co_", "co"))


def _primary_code(token: str) -> str:
    for pattern, code in _PRIMARY_ALIASES:
        if re.search(pattern, token):
            return code
    return token


def _primary_counts(daily: pd.DataFrame, column: str, keys: pd.DataFrame) -> pd.DataFrame:
    """Days each pollutant was primary, from ';'-joined codes. HJ 633-2012 §4.4.2 / HJ 633-2026
    §4.3.1: when AQI > 50 the pollutant with the largest IAQI is primary and tied pollutants
    are all primary, so a day counts for each of them; the O3 8-hour and 1-hour indicators of
    one day count once for O3. Codes are matched case-insensitively (``PM2.5``, ``pm25``, ``O3_8h``,
    the CNEMC Chinese names); an unknown token gets its own ``primary_days_<token>`` column."""
    if column not in daily.columns:
        text = pd.Series("", index=daily.index)
    else:
        text = daily[column].astype(object).where(daily[column].notna(), "").astype(str)
    text = text.str.lower().str.replace(r"\s+", "", regex=True).str.replace(r"[,，、]", ";", regex=True)
    dummies = text.str.get_dummies(sep=";")
    if dummies.shape[1]:
        codes = [_primary_code(c) for c in dummies.columns]  # loop over distinct tokens, not rows
        dummies = dummies.T.groupby(codes).max().T
    dummies = dummies.reindex(columns=sorted(set(dummies.columns) | set(POLLUTANTS)), fill_value=0)
    order = [*POLLUTANTS, *sorted(set(dummies.columns) - set(POLLUTANTS))]
    dummies = dummies[order].add_prefix("primary_days_")
    dummies.index = daily.index
    return pd.concat([keys, dummies], axis=1).groupby(list(keys.columns), sort=True, dropna=False).sum()


def period_statistics(daily: pd.DataFrame, by: Sequence[str], daily_aqi: pd.Series | str = "aqi", *,
                      primary_column: str = "primary_pollutant",
                      period: Literal["auto", "month", "year", "span"] = "auto",
                      grade: int = 2, rounded: bool = True) -> pd.DataFrame:
    """Statistics of any period for any grouping (HJ 663 §5.1.1–5.1.2, Table 1, App. A, App. C).

    ``daily``: one row per (entity, date): ``date``, the grouping columns ``by`` (e.g.
    ``["site", "month"]`` — add period columns yourself, e.g. a year, month or YTD-window column),
    the daily values ``so2_24h, no2_24h, co_24h, pm10_24h, pm25_24h, o3_8h_max`` (NaN = not valid),
    the daily AQI (``daily_aqi``: column name or a Series aligned with ``daily``; NA = no valid
    AQI) and ``primary_pollutant`` (';'-joined codes, empty when AQI ≤ 50).

    Output, one row per group (``by`` columns first):

    * ``period_start``, ``period_end`` (first/last date present, ``datetime.date``), ``days_in_period`` (rows),
      ``period_kind`` (see completeness), ``limits_version`` (GB 3095 set in force on
      ``period_start``, :func:`standards.gb3095.limits_for`).
    * ``valid_days`` (valid AQI), ``good_days`` (AQI ≤ 100), ``good_day_ratio`` = good / valid ×
      100 (HJ 663 A.5 formula A.2 with B = valid monitoring days; 1 decimal per Table 3),
      ``heavy_pollution_days`` (AQI > 200), ``severe_pollution_days`` (AQI > 300).
    * ``so2_mean, no2_mean, pm10_mean, pm25_mean`` (Table A.1/A.2 annual mean = mean of the
      daily values) and ``so2_p98, no2_p98, pm10_p95, pm25_p95, co_p95, o3_8h_p90`` (Table 1, A.6),
      rounded per Table 3 (CO 1 decimal, others integers) unless ``rounded=False``.
    * ``valid_days_<p>`` for p in so2, no2, co, o3, pm10, pm25 (days with a valid daily value;
      O3: MDA8), ``complete_<p>`` and ``complete`` (all six). Statistics are always returned; the
      flags say whether HJ 663 §6.1.3 / GB 3095 Table 4 hold, so the caller can mark the rest.
      ``period_kind``: ``month`` (one calendar month: ≥ 27 days, 25 in February), ``year`` (≥ 324
      days and all 12 months meeting their minimum) or ``span`` (any other window, e.g. YTD: every
      calendar month from the first to the last date meets its minimum — our extension). With
      ``period="auto"`` a group within one month is a month, within one calendar year a year
      (so a year-to-date group is judged as a year: incomplete until the year has its 324 days —
      pass ``period="span"`` to judge the months elapsed instead), otherwise a span.
    * Exceedance multiples (A.4, (C − S)/S, 2 decimals, signed — module docs):
      ``<so2|no2|pm10|pm25>_mean_exceedance`` vs the annual limit, ``so2_p98_exceedance``,
      ``no2_p98_exceedance``, ``pm10_p95_exceedance``, ``pm25_p95_exceedance``, ``co_p95_exceedance``
      vs the 24-hour limit, ``o3_8h_p90_exceedance`` vs the 8-hour limit; limits of ``grade`` in the
      set in force on ``period_start``.
    * HJ 663 App. C (C.1–C.2): ``hj663_index_<p>`` = max(C_annual/S_annual, C_percentile/S_24h)
      (CO and O3: percentile only), ``hj663_index_sum`` (I_sum), ``hj663_index_max`` (I_max),
      ``hj663_index_max_pollutant``.
    * Ranking composite index (城市环境空气质量排名技术规定; the "综合指数" Sichuan publishes):
      ``ranking_index_<p>`` = C/S with :data:`standards.gb3095.COMPOSITE_INDEX_LIMITS` (annual means
      of SO2, NO2, PM10, PM2.5; CO p95; O3 p90), ``composite_index`` = their sum,
      ``composite_index_max`` and ``composite_index_max_pollutant``. NaN when any input is NaN.
    * ``primary_days_<p>``: days each pollutant was (one of) the primary pollutant(s).
    """
    by = list(by)
    if not by:
        raise ValueError("period_statistics: 'by' must name at least one grouping column")
    _require(daily, ["date", *by], "period_statistics(daily)")
    if period not in ("auto", "month", "year", "span"):
        raise ValueError(f"period must be auto, month, year or span, not {period!r}")
    if isinstance(daily_aqi, str):
        aqi_raw = daily[daily_aqi]
    else:
        aqi_raw = pd.Series(daily_aqi)
        if len(aqi_raw) != len(daily) or not aqi_raw.index.equals(daily.index):
            raise ValueError("period_statistics: daily_aqi must be a Series with the index of daily")
    aqi = pd.to_numeric(pd.Series(np.asarray(aqi_raw, dtype=object)), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)

    value_cols = [c for c in PERIOD_BASIS.values()]
    frame = daily[by].reset_index(drop=True)
    dates = _dates(daily).reset_index(drop=True)
    values = pd.DataFrame(
        {c: (_float_block(daily, [c])[:, 0] if c in daily.columns else np.full(len(daily), np.nan))
         for c in value_cols})
    work = pd.concat([frame, values], axis=1)
    work["_date"] = dates.to_numpy()
    with np.errstate(invalid="ignore"):
        work["_valid"] = ~np.isnan(aqi)
        work["_good"] = aqi <= GOOD_MAX_AQI
        work["_heavy"] = aqi > HEAVY_ABOVE_AQI
        work["_severe"] = aqi > SEVERE_ABOVE_AQI
    grouped = work.groupby(by, sort=True, dropna=False)

    stats = pd.DataFrame({
        "period_start": grouped["_date"].min(),
        "period_end": grouped["_date"].max(),
        "days_in_period": grouped.size(),
        "valid_days": grouped["_valid"].sum(),
        "good_days": grouped["_good"].sum(),
        "heavy_pollution_days": grouped["_heavy"].sum(),
        "severe_pollution_days": grouped["_severe"].sum(),
    })
    for c in ("days_in_period", "valid_days", "good_days", "heavy_pollution_days", "severe_pollution_days"):
        stats[c] = stats[c].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(stats["valid_days"] > 0, 100.0 * stats["good_days"] / stats["valid_days"].clip(lower=1), np.nan)
    stats["good_day_ratio"] = round_gbt8170(pd.Series(ratio, index=stats.index), RATE_DECIMALS)

    # Means and percentiles (Table 1; A.6), rounded per Table 3.
    means = grouped[list(MEANS.values())].mean()
    for out_col, col in MEANS.items():
        stats[out_col] = means[col]
    pct = period_percentiles(work, by, PERCENTILES)
    for out_col in PERCENTILES:
        stats[out_col] = pct[out_col]
    stat_decimals = {**{m: DECIMALS[m.split("_")[0]] for m in MEANS},
                     **{k: DECIMALS[k.split("_")[0]] for k in PERCENTILES}}
    if rounded:
        stats = _round_columns(stats, stat_decimals)

    # Completeness (GB 3095 Table 4, HJ 663 §6.1.3).
    counts = _monthly_counts(daily.reset_index(drop=True).assign(date=dates), by)
    counts_idx = counts.index.to_frame(index=False)
    mins = np.where(counts_idx["_month"].to_numpy() == 2, gb3095.FEBRUARY_MIN_DAYS, gb3095.MONTHLY_MIN_DAYS)
    months_ok = pd.DataFrame(counts.to_numpy() >= mins[:, None], columns=list(POLLUTANTS), index=counts.index)
    n_ok = months_ok.groupby(level=by, sort=True, dropna=False).sum()
    n_total = counts.groupby(level=by, sort=True, dropna=False).sum()
    start, end = pd.to_datetime(stats["period_start"]), pd.to_datetime(stats["period_end"])
    if period == "auto":
        kind = np.where((start.dt.year == end.dt.year) & (start.dt.month == end.dt.month), "month",
                        np.where(start.dt.year == end.dt.year, "year", "span"))
    else:
        kind = np.full(len(stats), period, dtype=object)
    span_months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month) + 1
    expected = np.where(kind == "month", 1, np.where(kind == "year", 12, span_months))
    stats["period_kind"] = kind
    for p in POLLUTANTS:
        stats[f"valid_days_{p}"] = n_total[p].reindex(stats.index).to_numpy().astype("int64")
    for p in POLLUTANTS:
        ok = n_ok[p].reindex(stats.index).to_numpy() == expected
        ok &= (kind != "year") | (stats[f"valid_days_{p}"].to_numpy() >= gb3095.ANNUAL_MIN_DAYS)
        stats[f"complete_{p}"] = ok
    stats["complete"] = stats[[f"complete_{p}" for p in POLLUTANTS]].all(axis=1)

    # Limits in force at the period start (GB 3095 §4.4 via limits_for), grade II by default.
    stats["limits_version"] = gb3095.limit_codes_for(stats["period_start"]).to_numpy()

    def lim(pollutant: str, averaging: str) -> np.ndarray:
        table = {c: s.limit(pollutant, averaging, grade) for c, s in gb3095.LIMIT_SETS_BY_CODE.items()}
        return stats["limits_version"].map(table).to_numpy(dtype=float)

    basis = {  # statistic → (pollutant, averaging of the limit): HJ 663 A.4
        "so2_mean": ("so2", "annual"), "no2_mean": ("no2", "annual"), "pm10_mean": ("pm10", "annual"),
        "pm25_mean": ("pm25", "annual"), "so2_p98": ("so2", "24h"), "no2_p98": ("no2", "24h"),
        "pm10_p95": ("pm10", "24h"), "pm25_p95": ("pm25", "24h"), "co_p95": ("co", "24h"), "o3_8h_p90": ("o3", "8h")}
    ratio_of = {stat: stats[stat].to_numpy(dtype=float) / lim(*pa) for stat, pa in basis.items()}
    for stat in basis:
        stats[f"{stat}_exceedance"] = round_gbt8170(ratio_of[stat] - 1.0, EXCEEDANCE_DECIMALS)

    # HJ 663 App. C.1 (single index) and C.2 (I_max, I_sum).
    hj = {
        "so2": np.maximum(ratio_of["so2_mean"], ratio_of["so2_p98"]),
        "no2": np.maximum(ratio_of["no2_mean"], ratio_of["no2_p98"]),
        "co": ratio_of["co_p95"],
        "o3": ratio_of["o3_8h_p90"],
        "pm10": np.maximum(ratio_of["pm10_mean"], ratio_of["pm10_p95"]),
        "pm25": np.maximum(ratio_of["pm25_mean"], ratio_of["pm25_p95"]),
    }
    _add_index(stats, "hj663_index", hj, sum_col="hj663_index_sum", max_col="hj663_index_max")

    # Ranking composite index: Σ C/S, GB 3095-2012 grade II (城市环境空气质量排名技术规定).
    cl = gb3095.COMPOSITE_INDEX_LIMITS
    ranking = {
        "so2": stats["so2_mean"].to_numpy(dtype=float) / cl["so2"],
        "no2": stats["no2_mean"].to_numpy(dtype=float) / cl["no2"],
        "co": stats["co_p95"].to_numpy(dtype=float) / cl["co"],
        "o3": stats["o3_8h_p90"].to_numpy(dtype=float) / cl["o3"],
        "pm10": stats["pm10_mean"].to_numpy(dtype=float) / cl["pm10"],
        "pm25": stats["pm25_mean"].to_numpy(dtype=float) / cl["pm25"],
    }
    _add_index(stats, "ranking_index", ranking, sum_col="composite_index", max_col="composite_index_max")

    # Primary pollutant day counts.
    primary = _primary_counts(daily.reset_index(drop=True), primary_column, frame)
    stats = stats.join(primary)
    stats["period_start"] = start.dt.date.to_numpy()  # plain dates, like the daily 'date'
    stats["period_end"] = end.dt.date.to_numpy()

    return stats.reset_index()


def _add_index(stats: pd.DataFrame, prefix: str, ratios: Mapping[str, np.ndarray], *, sum_col: str, max_col: str) -> None:
    """Single indexes (2 decimals), their sum and max from the unrounded ratios, the max's pollutant."""
    block = np.column_stack([ratios[p] for p in POLLUTANTS])
    for i, p in enumerate(POLLUTANTS):
        stats[f"{prefix}_{p}"] = round_gbt8170(block[:, i], INDEX_DECIMALS)
    complete = ~np.isnan(block).any(axis=1)
    with np.errstate(invalid="ignore"):
        total = np.where(complete, block.sum(axis=1), np.nan)
        biggest = np.where(complete, np.nanmax(np.where(np.isnan(block), -np.inf, block), axis=1), np.nan)
    stats[sum_col] = round_gbt8170(total, INDEX_DECIMALS)
    stats[max_col] = round_gbt8170(biggest, INDEX_DECIMALS)
    arg = np.argmax(np.where(np.isnan(block), -np.inf, block), axis=1)
    stats[f"{max_col}_pollutant"] = np.where(complete, np.asarray(POLLUTANTS, dtype=object)[arg], None)


__all__ = [
    "BEIJING", "COLUMN_DECIMALS", "DAILY_VALUE_COLUMNS", "DECIMALS", "PERCENTILES", "POLLUTANTS",
    "city_hourly", "city_share_ok", "city_values", "completeness", "daily_values", "hour_to_day",
    "percentile", "period_percentiles", "period_statistics", "round_gbt8170",
]
