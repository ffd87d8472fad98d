"""GB 3095 ambient air quality standard: concentration limits and data-validity minimums, as data.

Three limit sets, selected by the date the evaluated period starts (:func:`limits_for`):

=================================  ==========================  ==========================================
code                               applies to dates             source
=================================  ==========================  ==========================================
``GB3095-2012``                    before 2026-03-01            GB 3095-2012 §4.2 Table 1
``GB3095-2026-transition``         2026-03-01 … 2030-12-31      GB 3095-2026 §4.4, Table 1 "过渡阶段浓度限值"
``GB3095-2026``                    from 2031-01-01              GB 3095-2026 §4.4, Table 1 "浓度限值"
=================================  ==========================  ==========================================

GB 3095-2012 was in force nationally from 2016-01-01 (§4.3); for earlier dates it is still the rule
set used here (the bureau's data start later; HJ 663-2013, which evaluates against GB 3095-2012,
took effect 2013-10-01). The 2026 values were read from the page image of the official scan
(Table 1 on page 3; the OCR text of that table is unusable) and agree with standards.md §2.1.

Averaging keys: ``annual`` (年平均), ``24h`` (24 小时平均 / 日平均), ``1h`` (1 小时平均) and ``8h``
(O3 日最大 8 小时平均, the limit the daily maximum 8-hour mean is compared with). Units: µg/m³,
CO in mg/m³. Grade I (一级) applies to class-1 areas, grade II (二级) to class-2 areas (§4.2); the
whole urban area of Leshan is class 2, so grade II is the default everywhere.

Validity minimums (GB 3095-2012 §6.4 Table 4 = GB 3095-2026 §6.4 Table 4, identical) are
module constants. No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

#: Basic pollutants of GB 3095 Table 1 (codes used across the project).
POLLUTANTS: tuple[str, ...] = ("so2", "no2", "co", "o3", "pm10", "pm25")
#: Averaging-time keys of the limit tables.
AVERAGING: tuple[str, ...] = ("annual", "24h", "1h", "8h")
UNITS: Mapping[str, str] = MappingProxyType(
    {"so2": "µg/m³", "no2": "µg/m³", "co": "mg/m³", "o3": "µg/m³", "pm10": "µg/m³", "pm25": "µg/m³"})

#: First day of GB 3095-2026 (its transition limits), and of its final limits (GB 3095-2026 §4.4).
GB3095_2026_START = dt.date(2026, 3, 1)
GB3095_2026_FINAL_START = dt.date(2031, 1, 1)

Key = tuple[str, str]  # (pollutant, averaging)

# ---------------------------------------------------------------------------------------------
# Table 1 values as (grade I, grade II).
# ---------------------------------------------------------------------------------------------

#: GB 3095-2012 §4.2 Table 1 (环境空气污染物基本项目浓度限值).
_TABLE1_2012: dict[Key, tuple[float, float]] = {
    ("so2", "annual"): (20, 60), ("so2", "24h"): (50, 150), ("so2", "1h"): (150, 500),
    ("no2", "annual"): (40, 40), ("no2", "24h"): (80, 80), ("no2", "1h"): (200, 200),
    ("co", "24h"): (4, 4), ("co", "1h"): (10, 10),
    ("o3", "8h"): (100, 160), ("o3", "1h"): (160, 200),
    ("pm10", "annual"): (40, 70), ("pm10", "24h"): (50, 150),
    ("pm25", "annual"): (15, 35), ("pm25", "24h"): (35, 75),
}
#: GB 3095-2026 Table 1, columns "过渡阶段浓度限值" (in force 2026-03-01 … 2030-12-31, §4.4).
_TABLE1_2026_TRANSITION: dict[Key, tuple[float, float]] = {
    ("so2", "annual"): (20, 60), ("so2", "24h"): (50, 150), ("so2", "1h"): (150, 500),
    ("no2", "annual"): (40, 40), ("no2", "24h"): (80, 80), ("no2", "1h"): (200, 200),
    ("co", "24h"): (4, 4), ("co", "1h"): (10, 10),
    ("o3", "8h"): (100, 160), ("o3", "1h"): (160, 200),
    ("pm10", "annual"): (40, 60), ("pm10", "24h"): (50, 120),
    ("pm25", "annual"): (15, 30), ("pm25", "24h"): (35, 60),
}
#: GB 3095-2026 Table 1, columns "浓度限值" (in force nationally from 2031-01-01, §4.4).
_TABLE1_2026_FINAL: dict[Key, tuple[float, float]] = {
    ("so2", "annual"): (20, 20), ("so2", "24h"): (50, 50), ("so2", "1h"): (150, 150),
    ("no2", "annual"): (30, 30), ("no2", "24h"): (50, 50), ("no2", "1h"): (200, 200),
    ("co", "24h"): (4, 4), ("co", "1h"): (10, 10),
    ("o3", "8h"): (100, 160), ("o3", "1h"): (160, 200),
    ("pm10", "annual"): (20, 50), ("pm10", "24h"): (50, 100),
    ("pm25", "annual"): (10, 25), ("pm25", "24h"): (25, 50),
}


@dataclass(frozen=True)
class LimitSet:
    """One version of GB 3095 Table 1: limits by (pollutant, averaging) for grades I and II."""

    code: str
    title: str
    clause: str
    valid_from: dt.date | None  # first day the set applies (None: no lower bound)
    valid_until: dt.date | None  # last day the set applies, inclusive (None: open-ended)
    grade_i: Mapping[Key, float]
    grade_ii: Mapping[Key, float]

    def limit(self, pollutant: str, averaging: str, grade: int = 2) -> float:
        """The limit for ``pollutant`` and ``averaging``; KeyError when Table 1 has none (e.g. CO annual)."""
        table = self.grade_ii if grade == 2 else self.grade_i if grade == 1 else None
        if table is None:
            raise ValueError(f"grade must be 1 or 2, not {grade!r}")
        return table[(pollutant, averaging)]

    def get(self, pollutant: str, averaging: str, grade: int = 2) -> float | None:
        """Like :meth:`limit`, but None when Table 1 has no such limit."""
        try:
            return self.limit(pollutant, averaging, grade)
        except KeyError:
            return None

    def applies_to(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day <= self.valid_until)


def _set(code: str, title: str, clause: str, start: dt.date | None, end: dt.date | None,
         table: dict[Key, tuple[float, float]]) -> LimitSet:
    return LimitSet(code, title, clause, start, end,
                    MappingProxyType({k: float(v[0]) for k, v in table.items()}),
                    MappingProxyType({k: float(v[1]) for k, v in table.items()}))


GB3095_2012 = _set("GB3095-2012", "GB 3095-2012 环境空气质量标准", "GB 3095-2012 §4.2 Table 1",
                   None, GB3095_2026_START - dt.timedelta(days=1), _TABLE1_2012)
GB3095_2026_TRANSITION = _set(
    "GB3095-2026-transition", "GB 3095-2026 环境空气质量标准（过渡阶段浓度限值）",
    "GB 3095-2026 §4.4 and Table 1 (过渡阶段浓度限值)",
    GB3095_2026_START, GB3095_2026_FINAL_START - dt.timedelta(days=1), _TABLE1_2026_TRANSITION)
GB3095_2026 = _set("GB3095-2026", "GB 3095-2026 环境空气质量标准", "GB 3095-2026 §4.4 and Table 1 (浓度限值)",
                   GB3095_2026_FINAL_START, None, _TABLE1_2026_FINAL)

#: All limit sets, oldest first.
LIMIT_SETS: tuple[LimitSet, ...] = (GB3095_2012, GB3095_2026_TRANSITION, GB3095_2026)
LIMIT_SETS_BY_CODE: Mapping[str, LimitSet] = MappingProxyType({s.code: s for s in LIMIT_SETS})


def _as_date(day: dt.date | dt.datetime | pd.Timestamp | str) -> dt.date:
    if isinstance(day, pd.Timestamp):
        return day.date()
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return pd.Timestamp(day).date()


def limits_for(day: dt.date | dt.datetime | pd.Timestamp | str) -> LimitSet:
    """The GB 3095 limit set in force on ``day`` (GB 3095-2026 §4.4: 2012 values before 2026-03-01,
    transition values 2026-03-01 … 2030-12-31, final values from 2031-01-01).

    A period is judged with the set in force on its first day (a calendar year or month never
    straddles a change: both changes fall on the first day of a month). A timestamp is taken by
    its own calendar date, so pass Beijing-time values (or plain dates).
    """
    d = _as_date(day)
    if d < GB3095_2026_START:
        return GB3095_2012
    if d < GB3095_2026_FINAL_START:
        return GB3095_2026_TRANSITION
    return GB3095_2026


def limit_codes_for(days: pd.Series) -> pd.Series:
    """Vectorised :func:`limits_for`: the limit-set code for every date in ``days`` (same index)."""
    d = pd.to_datetime(days)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    codes = np.select(
        [d < pd.Timestamp(GB3095_2026_START), d < pd.Timestamp(GB3095_2026_FINAL_START)],
        [GB3095_2012.code, GB3095_2026_TRANSITION.code], default=GB3095_2026.code)
    return pd.Series(codes, index=days.index, name="limits_version", dtype=object)


def limits_frame() -> pd.DataFrame:
    """Every Table 1 value as rows: version, pollutant, averaging, grade_i, grade_ii, unit, clause."""
    rows = [
        {"version": s.code, "valid_from": s.valid_from, "valid_until": s.valid_until, "pollutant": p,
         "averaging": a, "grade_i": s.grade_i[(p, a)], "grade_ii": s.grade_ii[(p, a)], "unit": UNITS[p],
         "clause": s.clause}
        for s in LIMIT_SETS for (p, a) in s.grade_ii
    ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Data-validity minimums: GB 3095-2012 §6.4 Table 4; GB 3095-2026 §6.4 Table 4 has the same values.
# ---------------------------------------------------------------------------------------------

#: Annual mean (SO2, NO2, PM10, PM2.5, NOx): at least 324 daily values per year (Table 4).
ANNUAL_MIN_DAYS = 324
#: … and at least 27 daily values in every month (Table 4) …
MONTHLY_MIN_DAYS = 27
#: … except February: at least 25 (Table 4).
FEBRUARY_MIN_DAYS = 25
#: 24-hour mean (SO2, NO2, CO, PM10, PM2.5, NOx): at least 20 hourly values per day (Table 4).
DAILY_MIN_HOURS = 20
#: O3 8-hour mean: at least 6 hourly values in each 8 hours (Table 4).
EIGHT_HOUR_MIN_HOURS = 6
#: 1-hour mean (SO2, NO2, CO, O3, NOx): at least 45 minutes of sampling in the hour (Table 4).
HOURLY_MIN_MINUTES = 45


def monthly_min_days(month: int) -> int:
    """Minimum daily values in a calendar month for an annual statistic (GB 3095 Table 4): 27, February 25."""
    return FEBRUARY_MIN_DAYS if month == 2 else MONTHLY_MIN_DAYS


# ---------------------------------------------------------------------------------------------
# Limits of the composite index used in city rankings
# ---------------------------------------------------------------------------------------------

#: Denominators of the ranking composite index (城市环境空气质量排名技术规定, 环办监测〔2018〕19号,
#: the "综合指数" the MEE and the Sichuan department publish): GB 3095-2012 grade II — annual limits
#: for the annual means of SO2, NO2, PM10 and PM2.5, the 24-hour CO limit for the CO 95th percentile
#: and the O3 8-hour limit for the O3 90th percentile. Fixed to the 2012 values on purpose: rankings
#: after 2026-03-01 have not been re-based in any document available here (see hj663 docs).
COMPOSITE_INDEX_LIMITS: Mapping[str, float] = MappingProxyType(
    {"so2": 60.0, "no2": 40.0, "pm10": 70.0, "pm25": 35.0, "co": 4.0, "o3": 160.0})
