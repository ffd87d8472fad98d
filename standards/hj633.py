"""HJ 633 air quality index (AQI): the breakpoint tables of 2012 and 2026 and the rules that apply them.

Two rule sets, chosen by date (:func:`rule_version`): HJ 633-2012 for data before 2026-03-01 and
HJ 633-2026 from 2026-03-01 00:00 Beijing time (HJ 633-2026 foreword: HJ 633-2012 is withdrawn on
that date). Everything here is pure and vectorised (numpy/pandas, no loop over rows), no I/O.

What the official data show (BRIEF, reproduced by tests/test_aqi_official.py): the CNEMC hourly
station publication computes the real-time AQI from the 1-hour SO2, NO2, CO and O3 (1-hour
tables) and the 1-hour PM10/PM2.5 scored on the 24-hour table, each IAQI rounded up, missing
pollutants skipped. That is the HJ 633-2026 §4.2.3/§4.2.4 method; under 2012 the CNEMC used it
too, although HJ 633-2012 §5.1.3 lists nine indicators (with the O3 8-hour and the PM 24-hour
moving means): that literal 2012 reading reproduces 446 of 1,558 published station-hours, the
publication's method all 1,558, so :func:`realtime_report` follows the publication for both versions.

Readings of the texts that are decisions (each has a test in tests/test_hj633.py):

* Above the top of a table (IAQI 500) neither standard defines the IAQI: it is NaN here, the
  pollutant is named in ``iaqi_undefined`` and the AQI of that row is NA (the maximum is unknown).
  Negative concentrations are invalid and treated the same way.
* HJ 633-2026 §4.1.1 gives the AQI range as 1–500 (2012 Table 2: 0–50 for 一级). An AQI that
  computes to 0 (every pollutant rounded to 0) is published as 1 under 2026; the IAQIs stay 0.
  The 2026 Table 1 range for 一级 is accordingly 1–50.
* The 2026 missing-data rule (§5.3.1) counts a pollutant as missing when its concentration is
  NaN. A pollutant whose IAQI is undefined is not "missing"; it makes the AQI NA (see above).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from standards.gbt8170 import round_gbt8170

BEIJING = "Asia/Shanghai"

Version = Literal["2012", "2026"]
Rounding = Literal["ceil", "half_up"]

VERSIONS: tuple[str, ...] = ("2012", "2026")
RULES: dict[str, str] = {"2012": "HJ 633-2012", "2026": "HJ 633-2026"}
"""Label of each rule set, as written to the ``rules`` column of the reports."""

EFFECTIVE_2026 = pd.Timestamp("2026-03-01 00:00")
"""HJ 633-2026 (cover page, 实施 2026-03-01) applies from this Beijing wall-clock instant."""

IAQI_LEVELS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
"""IAQI values the breakpoints align with (HJ 633-2012 Table 1, HJ 633-2026 Table 3, first column)."""

BREAKPOINTS_2012: dict[str, tuple[float, ...]] = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}
"""HJ 633-2012 Table 1 (§4.1): concentration breakpoints aligned with :data:`IAQI_LEVELS`.

µg/m³, CO in mg/m³. The 1-hour SO2, NO2 and CO columns serve the real-time report only (note 1).
``so2_1h`` stops at 800 (IAQI 200) and ``o3_8h`` at 800 (IAQI 300): above them notes 2 and 3 apply
(see :func:`iaqi`).
"""

BREAKPOINTS_2026: dict[str, tuple[float, ...]] = {
    **BREAKPOINTS_2012,
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}
"""HJ 633-2026 Table 3 (§4.2.4): identical to 2012 except PM10 and PM2.5 at IAQI 100 (120, 60).

In the real-time report the 1-hour PM10/PM2.5 are scored on these 24-hour columns (§4.2.4, the
definitions of BP_Hi/BP_Lo); the 1-hour SO2, NO2, CO and O3 columns serve the real-time report only
(Table 3 note a).
"""

BREAKPOINTS: dict[str, dict[str, tuple[float, ...]]] = {"2012": BREAKPOINTS_2012, "2026": BREAKPOINTS_2026}

SO2_1H_CAP = 800.0
"""Top of the SO2 1-hour column. Above it: 2012 Table 1 note 2 → report the IAQI of the SO2 24-hour
mean; 2026 Table 3 note b → the IAQI is 200."""
SO2_1H_ABOVE_CAP_2026 = 200.0
O3_8H_CAP = 800.0
"""Top of the O3 8-hour column. Above it: 2012 Table 1 note 3 → report the IAQI of the O3 1-hour
value; 2026 Table 3 note c → the IAQI is 300."""
O3_8H_ABOVE_CAP_2026 = 300.0

CONCENTRATION_DECIMALS: dict[str, int] = {"so2": 0, "no2": 0, "o3": 0, "pm10": 0, "pm25": 0, "co": 1}
"""Decimals kept before the IAQI is computed: HJ 633-2026 §4.2.2/§4.2.3 (GB/T 8170; µg/m³ to integers,
CO in mg/m³ to 1 decimal) and HJ 663-2013 Table 3, which gives the same precisions."""

_EPS = 1e-9  # far above float error of an IAQI (≤ 500), far below any real step


@dataclass(frozen=True)
class Category:
    """One AQI class: HJ 633-2012 Table 2 + Table A.1; HJ 633-2026 Table 1 + Table A.1."""

    low: int
    high: int
    level: str
    category: str
    colour_name: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


CATEGORIES: tuple[Category, ...] = (
    Category(0, 50, "一级", "优", "绿色", (0, 228, 0)),
    Category(51, 100, "二级", "良", "黄色", (255, 255, 0)),
    Category(101, 150, "三级", "轻度污染", "橙色", (255, 126, 0)),
    Category(151, 200, "四级", "中度污染", "红色", (255, 0, 0)),
    Category(201, 300, "五级", "重度污染", "紫色", (153, 0, 76)),
    Category(301, 500, "六级", "严重污染", "褐红色", (126, 0, 35)),
)
"""AQI classes. 一级 is 0–50 under 2012 (Table 2) and 1–50 under 2026 (Table 1, §4.1.1: AQI range
1–500); 六级 is ">300" in both, 500 being the top of the defined range."""
_UPPER = np.array([c.high for c in CATEGORIES[:-1]], dtype="float64")

#: CNEMC primary-pollutant names (as published) → our codes. "臭氧1小时" is the 1-hour O3: ``O3`` in
#: the real-time report, ``O3_1h`` (daily maximum 1 h) in the 2012 daily report.
OFFICIAL_PRIMARY_NAMES: dict[str, str] = {
    "二氧化硫": "SO2", "二氧化硫(SO2)": "SO2", "SO2": "SO2",
    "二氧化氮": "NO2", "二氧化氮(NO2)": "NO2", "NO2": "NO2",
    "一氧化碳": "CO", "一氧化碳(CO)": "CO", "CO": "CO",
    "臭氧1小时": "O3_1h", "臭氧1小时平均": "O3_1h", "O3_1h": "O3_1h",
    "臭氧8小时": "O3_8h", "臭氧8小时平均": "O3_8h", "O3_8h": "O3_8h",
    "颗粒物(PM10)": "PM10", "可吸入颗粒物(PM10)": "PM10", "PM10": "PM10",
    "细颗粒物(PM2.5)": "PM2.5", "PM2.5": "PM2.5",
}
_NO_PRIMARY = frozenset({"", "-", "--", "—", "-;", "/", "NA", "nan", "None"})
_PRIMARY_ORDER = ("SO2", "NO2", "CO", "O3", "O3_8h", "O3_1h", "PM10", "PM2.5")

#: Real-time indicators: (primary code, input column, table, output column). Order = tie order.
REALTIME_INDICATORS: tuple[tuple[str, str, str, str], ...] = (
    ("SO2", "so2", "so2_1h", "iaqi_so2"),
    ("NO2", "no2", "no2_1h", "iaqi_no2"),
    ("CO", "co", "co_1h", "iaqi_co"),
    ("O3", "o3", "o3_1h", "iaqi_o3"),
    ("PM10", "pm10", "pm10_24h", "iaqi_pm10"),
    ("PM2.5", "pm25", "pm25_24h", "iaqi_pm25"),
)
#: Daily indicators (2012 §5.1.2: seven; 2026 §4.2.2: six, no O3 1-hour maximum).
DAILY_INDICATORS: tuple[tuple[str, str, str, str], ...] = (
    ("SO2", "so2_24h", "so2_24h", "iaqi_so2"),
    ("NO2", "no2_24h", "no2_24h", "iaqi_no2"),
    ("CO", "co_24h", "co_24h", "iaqi_co"),
    ("O3_8h", "o3_8h_max", "o3_8h", "iaqi_o3_8h"),
    ("O3_1h", "o3_1h_max", "o3_1h", "iaqi_o3_1h"),
    ("PM10", "pm10_24h", "pm10_24h", "iaqi_pm10"),
    ("PM2.5", "pm25_24h", "pm25_24h", "iaqi_pm25"),
)
_DAILY_2026_EXCLUDED = frozenset({"O3_1h"})


# ---------------------------------------------------------------------------------------------
# small helpers


def _float_array(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def _like(template: Any, values: np.ndarray) -> Any:
    """Return ``values`` in the shape of the input: Series → Series, scalar → float, else ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=template.name)
    if np.ndim(template) == 0:
        return float(values)
    return values


def _ceil(values: np.ndarray) -> np.ndarray:
    """Round up (2012 §6.2 "全部进位取整数", 2026 §4.2.6 "全部向上进位取整数"), float-noise safe."""
    return np.ceil(values - _EPS) + 0.0


def _half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5 + _EPS) + 0.0


def _pollutant_base(name: str) -> str:
    match = re.match(r"(so2|no2|co|o3|pm10|pm25|pm2_5)", name.lower())
    if not match:
        raise ValueError(f"unknown pollutant '{name}'; expected one of {', '.join(CONCENTRATION_DECIMALS)}")
    return "pm25" if match.group(1) == "pm2_5" else match.group(1)


# ---------------------------------------------------------------------------------------------
# rule version, rounding, IAQI


def rule_version(times: Any, *, hour_ending: bool = False) -> np.ndarray | str:
    """Which HJ 633 applies: "2026" from 2026-03-01 00:00 Beijing time, "2012" before.

    ``times``: tz-aware timestamps (converted to Asia/Shanghai), naive timestamps (taken as
    Beijing wall-clock), dates, or a scalar of those (then a plain ``str`` is returned).
    ``hour_ending=True`` reads timestamps as CNEMC hour-ending labels: the hour labelled
    2026-03-01 00:00 is 24:00 of 2026-02-28 (HJ 663-2013 Table A.1), measured before the
    effective date, so it stays under 2012. Missing times raise ``ValueError``.
    """
    scalar = np.ndim(times) == 0
    series = pd.Series([times] if scalar else list(times) if not isinstance(times, pd.Series) else times)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        stamps = series.dt.tz_convert(BEIJING).dt.tz_localize(None)
    else:
        try:
            stamps = pd.to_datetime(series)
        except (ValueError, TypeError):  # mixed offsets
            stamps = pd.to_datetime(series, utc=True)
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_convert(BEIJING).dt.tz_localize(None)
    if stamps.isna().any():
        raise ValueError("rule_version: missing time(s); the HJ 633 version cannot be chosen")
    if hour_ending:
        stamps = stamps - pd.Timedelta(hours=1)
    out = np.where((stamps >= EFFECTIVE_2026).to_numpy(), "2026", "2012")
    return str(out[0]) if scalar else out


def round_concentration(pollutant: str, values: Any) -> Any:
    """GB/T 8170 rounding (round half to even on the decimal value) before the IAQI is computed.

    HJ 633-2026 §4.2.2/§4.2.3 and HJ 663-2013 Table 3: SO2, NO2, O3, PM10, PM2.5 (µg/m³) to
    integers, CO (mg/m³) to 1 decimal. ``pollutant`` is a code such as ``so2``, ``co_24h``,
    ``o3_8h_max``. See :func:`standards.gbt8170.round_gbt8170` (0.25 → 0.2, 0.35 → 0.4).
    """
    decimals = CONCENTRATION_DECIMALS[_pollutant_base(pollutant)]
    return _like(values, round_gbt8170(_float_array(values), decimals) + 0.0)


def _interpolate(table: Sequence[float], conc: np.ndarray) -> np.ndarray:
    """Formula (1) of 2012 §4.2 / 2026 §4.2.4, unrounded; NaN outside [0, top of the table]."""
    bp = np.asarray(table, dtype="float64")
    levels = np.asarray(IAQI_LEVELS[: len(bp)], dtype="float64")
    inside = (conc >= 0) & (conc <= bp[-1])
    c = np.where(inside, conc, 0.0)
    i = np.clip(np.searchsorted(bp, c, side="right") - 1, 0, len(bp) - 2)
    # (C − BP_Lo)/(BP_Hi − BP_Lo) first: exactly 0 or 1 at a breakpoint, so breakpoints map exactly.
    fraction = (c - bp[i]) / (bp[i + 1] - bp[i])
    return np.where(inside, levels[i] + (levels[i + 1] - levels[i]) * fraction, np.nan)


def iaqi(
    column: str,
    conc: Any,
    version: str | Sequence[str] | np.ndarray = "2012",
    *,
    companion: Any = None,
    rounded: bool = True,
) -> Any:
    """IAQI of one indicator: HJ 633-2012 §4.2 formula (1) on Table 1; HJ 633-2026 §4.2.4 on Table 3.

    ``column`` names the table column (a key of :data:`BREAKPOINTS_2012`); ``version`` is "2012"
    or "2026", scalar or one per value. Concentrations are used as given (round them first with
    :func:`round_concentration`, as the reports do). Result rounded up to an integer (2012 §6.2,
    2026 §4.2.6) unless ``rounded=False``. NaN in → NaN out; negative or above the top of the
    table (IAQI 500, undefined in both standards) → NaN.

    Special rules: ``so2_1h`` above 800 µg/m³ → 2012: the IAQI of the SO2 24-hour mean given as
    ``companion`` (NaN without it; Table 1 note 2); 2026: 200 (Table 3 note b). ``o3_8h`` above
    800 µg/m³ → 2012: the IAQI of the O3 1-hour value given as ``companion`` (note 3); 2026: 300
    (note c).
    """
    if column not in BREAKPOINTS_2012:
        raise ValueError(f"unknown IAQI column '{column}'; expected one of {', '.join(BREAKPOINTS_2012)}")
    c = _float_array(conc)
    versions = np.asarray(version)
    if versions.dtype.kind != "U":
        versions = versions.astype(str)
    versions = np.broadcast_to(versions, c.shape)
    masks = {ver: versions == ver for ver in VERSIONS}
    known = masks["2012"] | masks["2026"]
    if not known.all():
        unknown = sorted(set(versions[~known].tolist()))
        raise ValueError(f"unknown HJ 633 version(s) {unknown}; expected '2012' or '2026'")
    other = None if companion is None else np.broadcast_to(_float_array(companion), c.shape)
    out = np.full(c.shape, np.nan)
    for ver in VERSIONS:
        m = masks[ver]
        if not m.any():
            continue
        if m.all():  # one version for every value (all but the days around 2026-03-01)
            out = _interpolate(BREAKPOINTS[ver][column], c)
        else:
            out[m] = _interpolate(BREAKPOINTS[ver][column], c[m])
        if column in ("so2_1h", "o3_8h"):
            cap = SO2_1H_CAP if column == "so2_1h" else O3_8H_CAP
            above = m & (c > cap)
            if ver == "2026":
                out[above] = SO2_1H_ABOVE_CAP_2026 if column == "so2_1h" else O3_8H_ABOVE_CAP_2026
            elif other is None:
                out[above] = np.nan
            else:
                fallback = "so2_24h" if column == "so2_1h" else "o3_1h"
                out[above] = _interpolate(BREAKPOINTS["2012"][fallback], other[above])
    return _like(conc, _ceil(out) if rounded else out)


# ---------------------------------------------------------------------------------------------
# categories and official primary-pollutant names


def category_of(aqi: float | None, version: Version = "2012") -> Category | None:
    """The class of an AQI (2012 Table 2, 2026 Table 1). None for a missing AQI.

    Under 2026 the AQI range is 1–500 (§4.1.1): an AQI of 0 is read as 1, i.e. 一级 as well.
    Above 500 the AQI is undefined (ValueError), as is a negative one.
    """
    if aqi is None or pd.isna(aqi):
        return None
    value = float(aqi)
    if version == "2026":
        value = max(value, 1.0)
    if value < 0 or value > 500:
        raise ValueError(f"AQI {aqi} outside the defined range {'1' if version == '2026' else '0'}–500")
    return CATEGORIES[int(np.searchsorted(_UPPER, value, side="left"))]


def parse_official_primary(text: Any, report: Literal["realtime", "daily"] = "realtime") -> str:
    """CNEMC primary-pollutant text → our codes joined by ';' in fixed order ('' for none).

    Handles the published variants: "细颗粒物(PM2.5)", "颗粒物(PM10),细颗粒物(PM2.5)", "-;" (none),
    "" / None, trailing ";" and full-width brackets. In a real-time report "臭氧1小时" is the
    1-hour O3 (code ``O3``); in a daily report it is the daily maximum 1 h (``O3_1h``).
    Unknown names raise ``ValueError`` so a new publisher spelling is noticed, not dropped.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    clean = str(text).strip().replace("（", "(").replace("）", ")").replace(" ", "")
    codes = set()
    for part in re.split(r"[,;，；、]", clean):
        if part in _NO_PRIMARY:
            continue
        if part not in OFFICIAL_PRIMARY_NAMES:
            raise ValueError(f"unknown primary-pollutant name '{part}' in '{text}'")
        code = OFFICIAL_PRIMARY_NAMES[part]
        codes.add("O3" if report == "realtime" and code == "O3_1h" else code)
    return ";".join(c for c in _PRIMARY_ORDER if c in codes)


# ---------------------------------------------------------------------------------------------
# reports


def _join_codes(masks: Sequence[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """Codes whose mask is true, joined by ';' in the given (fixed) order; '' when none.

    Vectorised: the masks form a bit pattern per row, and each of the 2^k patterns has its
    joined text computed once."""
    codes = [code for code, _ in masks]
    bits = np.zeros(n, dtype=np.int64)
    for i, (_, mask) in enumerate(masks):
        bits |= np.asarray(mask, dtype=bool).astype(np.int64) << i
    table = np.array([";".join(c for i, c in enumerate(codes) if pattern >> i & 1)
                      for pattern in range(1 << len(codes))], dtype=object)
    return table[bits]


def _assemble(
    index: pd.Index,
    indicators: Sequence[tuple[str, str]],
    unrounded: dict[str, np.ndarray],
    present: dict[str, np.ndarray],
    counted: dict[str, np.ndarray],
    versions: np.ndarray,
    rounding: Rounding,
) -> pd.DataFrame:
    """AQI = max IAQI (2012 §4.4.1 / 2026 §4.2.4 formula (2)), primary pollutant (2012 §4.4.2,
    2026 §4.3.1), class (2012 Table 2, 2026 Table 1) and the 2026 missing-data rule (§5.3.1).

    ``indicators``: (key, primary code) in tie order; per key the unrounded IAQI, whether the
    concentration was given, and whether the indicator belongs to the row's version.
    """
    if rounding not in ("ceil", "half_up"):
        raise ValueError(f"rounding must be 'ceil' or 'half_up', not '{rounding}'")
    n = len(index)
    keys = [key for key, _ in indicators]
    # IAQI as published (ceil) or unrounded (half_up: the publisher rounds the maximum only).
    shown = {k: _ceil(unrounded[k]) if rounding == "ceil" else unrounded[k] for k in keys}
    ranked = {k: _ceil(unrounded[k]) if rounding == "ceil" else _half_up(unrounded[k]) for k in keys}
    # Column by column (no n × k stacks): fmax skips NaN, so an all-NaN row stays NaN.
    aqi = np.full(n, np.nan)
    undefined, any_undefined, missing = {}, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for k in keys:
        aqi = np.fmax(aqi, np.where(counted[k], ranked[k], np.nan))
        undefined[k] = counted[k] & present[k] & np.isnan(unrounded[k])
        any_undefined |= undefined[k]
        missing |= counted[k] & ~present[k]
    aqi[any_undefined] = np.nan
    is_2026 = versions == "2026"
    aqi = np.where(is_2026 & (aqi == 0), 1.0, aqi)  # 2026 §4.1.1: AQI range 1–500
    aqi = np.where(is_2026 & missing & (aqi <= 100), np.nan, aqi)  # 2026 §5.3.1

    has_aqi = ~np.isnan(aqi)
    cls = np.searchsorted(_UPPER, np.where(has_aqi, aqi, 0.0), side="left")

    def pick(values: list[str]) -> pd.Series:
        # Categorical from codes: no per-row string objects (national scale); NA without an AQI.
        codes = np.where(has_aqi, np.minimum(cls, len(values) - 1), -1)
        return pd.Series(pd.Categorical.from_codes(codes, categories=values), index=index)

    out = pd.DataFrame({f"iaqi_{k}": shown[k] for k in keys}, index=index)
    out["aqi"] = pd.Series(aqi, index=index).astype("Int64")  # integral floats; NaN → <NA>
    out["level"] = pick([c.level for c in CATEGORIES])
    out["category"] = pick([c.category for c in CATEGORIES])
    out["colour"] = pick([c.hex for c in CATEGORIES])
    primary = [(code, has_aqi & (aqi > 50) & counted[k] & (ranked[k] == aqi)) for k, code in indicators]
    out["primary_pollutant"] = _join_codes(primary, n)
    out["rules"] = np.array([RULES["2012"], RULES["2026"]], dtype=object)[is_2026.astype(np.intp)]  # shared str objects
    out["iaqi_undefined"] = _join_codes([(code, undefined[k]) for k, code in indicators], n)
    return out


def _column(frame: pd.DataFrame, name: str, required: bool) -> np.ndarray:
    if name not in frame.columns:
        if required:
            raise KeyError(f"column '{name}' missing; expected {name} in the input frame")
        return np.full(len(frame), np.nan)
    return _float_array(frame[name])


def _versions(frame: pd.DataFrame, column: str, version: str | None, hour_ending: bool) -> np.ndarray:
    if version is not None:
        if version not in VERSIONS:
            raise ValueError(f"unknown HJ 633 version '{version}'")
        return np.full(len(frame), version)
    if column not in frame.columns:
        raise KeyError(f"time column '{column}' missing; pass time_column= or version=")
    return np.asarray(rule_version(frame[column], hour_ending=hour_ending))


def realtime_report(
    frame: pd.DataFrame,
    time_column: str = "observed_at",
    rounding: Rounding = "ceil",
    *,
    version: str | None = None,
    hour_ending: bool = True,
) -> pd.DataFrame:
    """Hourly (real-time) AQI per row, as the CNEMC publishes it (HJ 633-2026 §4.2.3; see module doc).

    Input: 1-hour ``so2, no2, co, o3, pm10, pm25`` (NaN = missing) and optionally ``so2_24h`` (the
    2012 SO2 > 800 rule). Concentrations are rounded (:func:`round_concentration`) first. PM is
    scored on the 24-hour table; the O3 8-hour and PM 24-hour moving means do not enter.
    ``rounding="ceil"``: each IAQI rounded up, AQI = max (the standard). ``"half_up"``: IAQIs kept
    unrounded and AQI = the maximum rounded half up — how the city archive publisher computes the
    city AQI (BRIEF: a publisher inconsistency reproduced, not fixed).
    Missing pollutants: 2012 skips them; 2026 §5.3.1 publishes the AQI of the rest only when it
    is > 100, else AQI/level/category/primary are NA. The version comes from ``time_column``
    (hour-ending labels by default, see :func:`rule_version`) unless ``version`` forces one.
    Output (same index): iaqi_so2 … iaqi_pm25, aqi (Int64), level, category, colour,
    primary_pollutant, rules, iaqi_undefined.
    """
    versions = _versions(frame, time_column, version, hour_ending)
    so2_24h = round_concentration("so2", _column(frame, "so2_24h", required=False))
    unrounded, present, counted = {}, {}, {}
    for _, source, table, _ in REALTIME_INDICATORS:
        conc = round_concentration(source, _column(frame, source, required=True))
        present[source] = ~np.isnan(conc)
        counted[source] = np.ones(len(frame), dtype=bool)
        companion = so2_24h if source == "so2" else None
        unrounded[source] = iaqi(table, conc, versions, companion=companion, rounded=False)
    indicators = [(source, code) for code, source, _, _ in REALTIME_INDICATORS]
    return _assemble(frame.index, indicators, unrounded, present, counted, versions, rounding)


def daily_report(
    frame: pd.DataFrame,
    date_column: str = "date",
    rounding: Rounding = "ceil",
    *,
    version: str | None = None,
) -> pd.DataFrame:
    """Daily AQI per row: 2012 §5.1.2 (seven indicators), 2026 §4.2.2 (six, no O3 1-hour maximum).

    Input: ``so2_24h, no2_24h, co_24h, pm10_24h, pm25_24h`` (24-hour means), ``o3_8h_max`` (MDA8)
    and, for 2012 rows, ``o3_1h_max`` (optional column). MDA8 > 800: 2012 → IAQI of the O3 1-hour
    maximum, 2026 → 300. Same rounding, missing-data rule and output as :func:`realtime_report`,
    with ``iaqi_o3_8h`` and ``iaqi_o3_1h`` (NaN for 2026 rows) instead of ``iaqi_o3``; primary codes
    SO2, NO2, CO, O3_8h, O3_1h, PM10, PM2.5. The version comes from the day (``date_column``).
    """
    versions = _versions(frame, date_column, version, hour_ending=False)
    o3_1h = round_concentration("o3", _column(frame, "o3_1h_max", required=False))
    unrounded, present, counted = {}, {}, {}
    for code, source, table, out in DAILY_INDICATORS:
        key = out.removeprefix("iaqi_")
        conc = o3_1h if source == "o3_1h_max" else round_concentration(source, _column(frame, source, required=True))
        present[key] = ~np.isnan(conc)
        counted[key] = versions != "2026" if code in _DAILY_2026_EXCLUDED else np.ones(len(frame), dtype=bool)
        value = iaqi(table, conc, versions, companion=o3_1h if code == "O3_8h" else None, rounded=False)
        unrounded[key] = np.where(counted[key], value, np.nan)
    indicators = [(out.removeprefix("iaqi_"), code) for code, _, _, out in DAILY_INDICATORS]
    return _assemble(frame.index, indicators, unrounded, present, counted, versions, rounding)


__all__ = [
    "BREAKPOINTS", "BREAKPOINTS_2012", "BREAKPOINTS_2026", "CATEGORIES", "CONCENTRATION_DECIMALS",
    "DAILY_INDICATORS", "EFFECTIVE_2026", "IAQI_LEVELS", "OFFICIAL_PRIMARY_NAMES", "REALTIME_INDICATORS",
    "RULES", "Category", "category_of", "daily_report", "iaqi", "parse_official_primary",
    "realtime_report", "round_concentration", "rule_version",
]
