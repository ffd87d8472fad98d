"""Air indicators composed from the standards: hourly AQI, station/city days, period statistics.

Pure (frames in, frames out): the command line runs these on files, ``evaluation.air_refresh``
on the warehouse's series. Which rules apply is decided inside ``standards`` by date.
"""

from __future__ import annotations

import pandas as pd

from standards import hj633, hj663

REPORT_COLUMNS = ["aqi", "level", "category", "colour", "primary_pollutant", "rules"]
DAY_VALUES = ["so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h_max", "o3_1h_max"]


def hourly_aqi(wide: pd.DataFrame, rounding: hj633.Rounding = "ceil") -> pd.DataFrame:
    """Real-time AQI per site and hour-ending label (the CNEMC hourly report)."""
    report = hj633.realtime_report(wide, time_column="observed_at", rounding=rounding)
    out = wide[["site", "observed_at"]].join(report)
    out["day"] = hj663.hour_to_day(wide["observed_at"]).to_numpy()
    return out


def site_days(wide: pd.DataFrame) -> pd.DataFrame:
    """Daily values (HJ 663) and the daily AQI (HJ 633 daily report) of each site's own series."""
    days = hj663.daily_values(wide)
    report = hj633.daily_report(days, date_column="date")
    return days.join(report[[*REPORT_COLUMNS, *[c for c in report.columns if c.startswith("iaqi_")]]])


def city_days(station_days: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """City daily values from its city points' station days (HJ 663 Table A.2, §6.1), with the AQI.

    ``stations``: site, city, is_background. The result's ``site`` is the city code.
    """
    values = hj663.city_values(station_days, stations)
    report = hj633.daily_report(values, date_column="date")
    out = values.join(report[REPORT_COLUMNS])
    return out.rename(columns={"city": "site"})


def period_summary(days: pd.DataFrame, start: pd.Timestamp | str, end: pd.Timestamp | str,
                   period: str = "auto") -> pd.DataFrame:
    """HJ 663 statistics per site over [start, end] (Beijing calendar days, inclusive)."""
    dates = pd.to_datetime(days["date"])
    window = days[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    return hj663.period_statistics(window, by=["site"], daily_aqi="aqi", period=period)
