"""Recompute the air derived tables for exactly the days loads touched (the ``ops.dirty_day`` queue).

A station day that changed makes its city's day, month and year dirty too. City days come from
the city points' station days when those give a valid day (the official method, HJ 663 Table
A.2); where only the city's own published hourly series exists (the china_cities archive) the
day is computed from that series, and ``method`` says which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from evaluation.air import city_days, hourly_aqi, site_days
from evaluation.frames import HOURLY_EXTRA, HOURLY_POLLUTANTS, hourly_wide
from warehouse.derived import upsert_frame

BEIJING = "Asia/Shanghai"
DAY_COLUMNS = ["so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h_max", "o3_1h_max"]
REPORT = ["aqi", "level", "category", "colour", "primary_pollutant", "rules"]


@dataclass(frozen=True)
class RefreshReport:
    dirty_days: int
    hours: int
    station_days: int
    city_days: int
    months: int
    years: int


def _sites(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute("SELECT site_id, code, kind, city, is_background FROM registry.site "
                        "WHERE kind IN ('air_station', 'air_city')").fetchall()
    return pd.DataFrame(rows, columns=["site_id", "code", "kind", "city", "is_background"])


def _hourly(conn: psycopg.Connection, site_ids: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """Hourly values of the given (site, Beijing day) pairs: labels day 01:00 … day+1 00:00.

    The pairs' overall time span is stated as well: without it the planner cannot exclude
    hypertable chunks and probes every chunk's index once per pair (a national year queued
    660,000 pairs against 365 chunks: the query ran for more than 20 minutes)."""
    first, last = min(days), max(days)
    span_start = pd.Timestamp(first).tz_localize(BEIJING)
    span_end = (pd.Timestamp(last) + pd.Timedelta(days=1)).tz_localize(BEIJING)
    rows = conn.execute("""
        SELECT s.code, p.code, m.observed_at, m.value, m.source_flag
        FROM unnest(%s::int[], %s::date[]) AS d(site_id, day)
        JOIN obs.air_measurement m ON m.site_id = d.site_id
             AND m.observed_at >  (d.day::timestamp       AT TIME ZONE 'Asia/Shanghai')
             AND m.observed_at <= ((d.day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
        JOIN registry.site s ON s.site_id = m.site_id
        JOIN registry.parameter p ON p.parameter_id = m.parameter_id
        WHERE p.code = ANY(%s) AND m.observed_at > %s AND m.observed_at <= %s
    """, (site_ids.tolist(), days.tolist(), HOURLY_POLLUTANTS + HOURLY_EXTRA,
          span_start.to_pydatetime(), span_end.to_pydatetime())).fetchall()
    records = pd.DataFrame(rows, columns=["site_code", "parameter", "observed_at", "value", "source_flag"])
    if records.empty:
        return pd.DataFrame(columns=["site", "observed_at", *HOURLY_POLLUTANTS, *HOURLY_EXTRA])
    records["observed_at"] = pd.to_datetime(records["observed_at"], utc=True).dt.tz_convert(BEIJING)
    records["value"] = records["value"].astype("float64")
    return hourly_wide(records)


def _with_ids(frame: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    ids = sites.set_index("code")["site_id"]
    return frame.assign(site_id=frame["site"].map(ids).astype("int64"))


def _day_rows(days: pd.DataFrame, method: str, n_stations=None) -> pd.DataFrame:
    out = pd.DataFrame({"site_id": days["site_id"].to_numpy(), "day": pd.to_datetime(days["date"]).dt.date})
    for column in DAY_COLUMNS:
        out[column] = days[column].to_numpy() if column in days else np.nan
    out["valid_hours"] = days["valid_hours"].to_numpy() if "valid_hours" in days else pd.NA
    for column in REPORT:
        out[column] = days[column].to_numpy()
    out["aqi"] = out["aqi"].astype("Int64")
    out["method"] = method
    out["n_stations"] = n_stations if n_stations is not None else pd.NA
    return out


#: Exclusive calendar end of a stored month/year row (``period_end`` is the last day with data).
CALENDAR_END = sql.SQL("t.period_start + t.days_in_period")


def _period_rows(stats: pd.DataFrame, sites: pd.DataFrame, period: str) -> pd.DataFrame:
    """``period_start`` is the calendar start of the month or year (the key); ``period_end`` the
    last day with data, so a running year reads as year-to-date."""
    ids = sites.set_index("code")["site_id"]
    first = pd.to_datetime(stats["period_start"])
    start = first.dt.to_period("M" if period == "month" else "Y").dt.start_time
    primary = stats.filter(like="primary_days_")
    completeness = stats.filter(regex=r"^(valid_days_|complete_)")
    return pd.DataFrame({
        "site_id": stats["site"].map(ids).astype("int64").to_numpy(),
        "period_start": start.dt.date.to_numpy(),
        "period_end": pd.to_datetime(stats["period_end"]).dt.date.to_numpy(),
        "days_in_period": stats["days_in_period"].to_numpy(),
        "valid_days": stats["valid_days"].to_numpy(),
        "good_days": stats["good_days"].to_numpy(),
        "good_day_ratio": stats["good_day_ratio"].to_numpy(),
        "heavy_pollution_days": stats["heavy_pollution_days"].to_numpy(),
        "severe_pollution_days": stats["severe_pollution_days"].to_numpy(),
        **{c: stats[c].to_numpy() for c in ("so2_mean", "no2_mean", "pm10_mean", "pm25_mean", "so2_p98", "no2_p98",
                                              "pm10_p95", "pm25_p95", "co_p95", "o3_8h_p90")},
        "pm25_exceedance": stats["pm25_mean_exceedance"].to_numpy(),
        "pm10_exceedance": stats["pm10_mean_exceedance"].to_numpy(),
        "o3_8h_exceedance": stats["o3_8h_p90_exceedance"].to_numpy(),
        "composite_index": stats["composite_index"].to_numpy(),
        "composite_index_max": stats["composite_index_max"].to_numpy(),
        "primary_days": [json.dumps({k.removeprefix("primary_days_"): int(v) for k, v in row.items() if v},
                                    ensure_ascii=False) for row in primary.to_dict(orient="records")],
        "complete": stats["complete"].astype(bool).to_numpy(),
        "completeness": [json.dumps({k: (bool(v) if isinstance(v, (bool, np.bool_)) else int(v))
                                     for k, v in row.items()}) for row in completeness.to_dict(orient="records")],
        "limits_version": stats["limits_version"].astype(str).to_numpy(),
    })


def _refresh_days(conn: psycopg.Connection, dirty: pd.DataFrame,
                  sites: pd.DataFrame) -> tuple[int, int, int, pd.DataFrame]:
    """Hourly AQI, station days and city days of one chunk of whole days; returns the counts and
    the (city code, day) keys whose months and years must be recomputed."""
    stations = sites[sites["kind"] == "air_station"].rename(columns={"code": "site"})

    # 1. Hourly AQI and station/site days of every dirty site's own series.
    wide = _hourly(conn, dirty["site_id"].to_numpy(), dirty["day"].to_numpy())
    kinds = sites.set_index("code")["kind"]
    is_city = wide["site"].map(kinds).eq("air_city").to_numpy()
    hours = pd.concat([hourly_aqi(wide[~is_city], "ceil"), hourly_aqi(wide[is_city], "half_up")])
    hours = _with_ids(hours, sites)
    hour_rows = hours[["site_id", "observed_at", "day", *REPORT,
                       "iaqi_so2", "iaqi_no2", "iaqi_co", "iaqi_o3", "iaqi_pm10", "iaqi_pm25"]].copy()
    hour_rows["aqi"] = hour_rows["aqi"].astype("Int64")
    upsert_frame(conn, "derived.air_hour_aqi", hour_rows, ["site_id", "observed_at"])

    own_days = _with_ids(site_days(wide), sites) if len(wide) else pd.DataFrame()
    station_own = own_days[own_days["site"].map(kinds).eq("air_station")] if len(own_days) else own_days
    city_own = own_days[own_days["site"].map(kinds).eq("air_city")] if len(own_days) else own_days
    upsert_frame(conn, "derived.air_station_day", _day_rows(station_own, "station_hourly"), ["site_id", "day"])

    # 2. City days: cities of the dirty stations and dirty city sites.
    city_keys = pd.concat([
        dirty.loc[dirty["kind"] == "air_station", ["city", "day"]].rename(columns={"city": "code"}),
        dirty.loc[dirty["kind"] == "air_city", ["code", "day"]],
    ]).drop_duplicates()
    city_keys = city_keys[city_keys["code"].isin(sites.loc[sites["kind"] == "air_city", "code"])]
    from_stations = pd.DataFrame()
    if len(city_keys):
        member_ids = stations.loc[stations["city"].isin(city_keys["code"]), "site_id"].to_numpy()
        rows = conn.execute("""
            SELECT s.code, d.day, d.so2_24h, d.no2_24h, d.co_24h, d.pm10_24h, d.pm25_24h, d.o3_8h_max, d.o3_1h_max
            FROM derived.air_station_day d JOIN registry.site s USING (site_id)
            WHERE d.site_id = ANY(%s) AND d.day = ANY(%s)""",
            (member_ids.tolist(), sorted(set(city_keys["day"])))).fetchall()
        station_daily = pd.DataFrame(rows, columns=["site", "date", *DAY_COLUMNS]).astype(
            {c: "float64" for c in DAY_COLUMNS})
        if len(station_daily):
            from_stations = city_days(station_daily, stations[["site", "city", "is_background"]])
            from_stations = from_stations[from_stations["aqi"].notna()]
    chosen = []
    if len(from_stations):
        chosen.append(_day_rows(_with_ids(from_stations, sites), "stations",
                                from_stations["n_stations"].to_numpy()))
    if len(city_own):
        # a city day the stations already give is not taken from the city's own series
        own = pd.MultiIndex.from_arrays([city_own["site"], pd.to_datetime(city_own["date"])])
        taken = (pd.MultiIndex.from_arrays([from_stations["site"], pd.to_datetime(from_stations["date"])])
                 if len(from_stations) else own[:0])
        chosen.append(_day_rows(city_own[~own.isin(taken)], "city_hourly_series"))
    city_rows = pd.concat(chosen, ignore_index=True) if chosen else pd.DataFrame()
    upsert_frame(conn, "derived.air_city_day", city_rows, ["site_id", "day"])

    return len(hour_rows), len(station_own), len(city_rows), city_keys


#: (site, day) pairs read from the hypertable at a time. Bounds the refresh's memory whatever the
#: queue holds (a national year's backfill queues 660,000 station days, about 95 M hourly values).
CHUNK_SITE_DAYS = 5_000


def _day_chunks(dirty: pd.DataFrame, limit: int | None = None) -> list[pd.DataFrame]:
    """Consecutive whole Beijing days, about ``limit`` (default :data:`CHUNK_SITE_DAYS`) pairs per
    chunk. Whole days: a city's day is computed from all its stations' days, so every station day
    of that day must be done first."""
    limit = CHUNK_SITE_DAYS if limit is None else limit
    per_day = dirty.groupby("day").size().sort_index()
    chunk_of_day, chunk, filled = {}, 0, 0
    for day, n in per_day.items():
        if filled and filled + n > limit:
            chunk, filled = chunk + 1, 0
        chunk_of_day[day] = chunk
        filled += n
    return [part for _, part in dirty.groupby(dirty["day"].map(chunk_of_day), sort=True)]


def refresh_air(conn: psycopg.Connection) -> RefreshReport:
    """Drain the air part of the queue in one transaction (a crash leaves the queue as it was),
    reading and computing it in chunks of whole days (:data:`CHUNK_SITE_DAYS`)."""
    from standards import hj663

    with conn.transaction():
        dirty = pd.DataFrame(conn.execute(
            "SELECT site_id, day FROM ops.dirty_day WHERE domain = 'air' FOR UPDATE SKIP LOCKED").fetchall(),
            columns=["site_id", "day"])
        if dirty.empty:
            return RefreshReport(0, 0, 0, 0, 0, 0)
        sites = _sites(conn)
        dirty = dirty.merge(sites, on="site_id")
        hour_count = station_count = city_count = 0
        touched = []
        for part in _day_chunks(dirty):
            hours, station_days, city_days_n, city_keys = _refresh_days(conn, part, sites)
            hour_count, station_count, city_count = (hour_count + hours, station_count + station_days,
                                                     city_count + city_days_n)
            touched.append(city_keys)
        city_keys = pd.concat(touched, ignore_index=True).drop_duplicates()

        # 3. Months and years of the affected cities, recomputed from all their city days.
        months = years = 0
        if len(city_keys):
            city_ids = sites.set_index("code").loc[city_keys["code"].unique(), "site_id"].tolist()
            year_list = sorted({d.year for d in city_keys["day"]})
            rows = conn.execute("""
                SELECT s.code, d.day, d.so2_24h, d.no2_24h, d.co_24h, d.pm10_24h, d.pm25_24h, d.o3_8h_max,
                       d.o3_1h_max, d.aqi, d.primary_pollutant
                FROM derived.air_city_day d JOIN registry.site s USING (site_id)
                WHERE d.site_id = ANY(%s) AND extract(year FROM d.day)::int = ANY(%s)""",
                (city_ids, year_list)).fetchall()
            days = pd.DataFrame(rows, columns=["site", "date", *DAY_COLUMNS, "aqi", "primary_pollutant"]).astype(
                {c: "float64" for c in DAY_COLUMNS})
            days["aqi"] = days["aqi"].astype("Int64")
            days["primary_pollutant"] = days["primary_pollutant"].fillna("")
            dates = pd.to_datetime(days["date"])
            touched_months = pd.MultiIndex.from_arrays(
                [city_keys["code"], pd.to_datetime(city_keys["day"]).dt.to_period("M")])
            # A boolean array (never an empty list, which would select no columns instead of no rows).
            in_month = pd.MultiIndex.from_arrays([days["site"], dates.dt.to_period("M")]).isin(touched_months)
            month_days = days[in_month].assign(month=dates[in_month].dt.strftime("%Y-%m"))
            month_stats = hj663.period_statistics(month_days, by=["site", "month"], daily_aqi="aqi", period="month")
            upsert_frame(conn, "derived.air_city_month", _period_rows(month_stats, sites, "month"), ["site_id", "period_start"],
                         period_end=CALENDAR_END)
            year_stats = hj663.period_statistics(days.assign(year=dates.dt.year), by=["site", "year"],
                                                 daily_aqi="aqi", period="year")
            upsert_frame(conn, "derived.air_city_year", _period_rows(year_stats, sites, "year"), ["site_id", "period_start"],
                         period_end=CALENDAR_END)
            months, years = len(month_stats), len(year_stats)

        conn.execute("""DELETE FROM ops.dirty_day q USING unnest(%s::int[], %s::date[]) AS d(site_id, day)
                        WHERE q.domain = 'air' AND q.site_id = d.site_id AND q.day = d.day""",
                     (dirty["site_id"].tolist(), dirty["day"].tolist()))
        return RefreshReport(len(dirty), hour_count, station_count, city_count, months, years)
