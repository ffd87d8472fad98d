"""Recompute the water derived tables for the days and months loads touched (``ops.dirty_day``).

Automatic samples: every sample of a touched month is re-classed, then its section-days and the
section-month; manual monthly results: the section-month (source ``manual``). Then the city and
river shares of every touched month, from all sections' months.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from evaluation.water import MEAN_COLUMNS, area_shares, sample_classes, samples_wide, section_periods
from warehouse.derived import upsert_frame

BEIJING = "Asia/Shanghai"
#: Exclusive end of a stored section/area month row.
MONTH_END = sql.SQL("t.month + interval '1 month'")
TABLES = {"water": "obs.water_measurement", "water_manual": "obs.water_manual_measurement"}


@dataclass(frozen=True)
class WaterRefreshReport:
    dirty_days: int
    samples: int
    section_days: int
    section_months: int
    area_months: int


def sections(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute("""SELECT site_id, code, water_body, target_class, city, river FROM registry.site
                           WHERE kind = 'water_section'""").fetchall()
    return pd.DataFrame(rows, columns=["site_id", "site", "water_body", "target_class", "city", "river"])


#: (section, month) pairs read from the hypertable at a time: bounds the refresh's memory whatever
#: the queue holds (a national backfill queues 3,641 sections × every month it covers).
CHUNK_SECTION_MONTHS = 500


def _records(conn: psycopg.Connection, table: str, site_ids: list[int], months: list) -> pd.DataFrame:
    """Samples of the (section, month) pairs; their overall span is stated too, so the planner can
    exclude hypertable chunks instead of probing every chunk once per pair."""
    span_start = pd.Timestamp(min(months)).tz_localize(BEIJING)
    span_end = (pd.Timestamp(max(months)) + pd.offsets.MonthBegin(1)).tz_localize(BEIJING)
    rows = conn.execute(f"""
        SELECT s.code, p.code, m.observed_at, m.value, m.source_flag
        FROM unnest(%s::int[], %s::date[]) AS d(site_id, month)
        JOIN {table} m ON m.site_id = d.site_id
             AND m.observed_at >= (d.month::timestamp AT TIME ZONE 'Asia/Shanghai')
             AND m.observed_at <  ((d.month + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai')
        JOIN registry.site s ON s.site_id = m.site_id
        JOIN registry.parameter p ON p.parameter_id = m.parameter_id
        WHERE m.observed_at >= %s AND m.observed_at < %s""",
        (site_ids, months, span_start.to_pydatetime(), span_end.to_pydatetime())).fetchall()
    records = pd.DataFrame(rows, columns=["site_code", "parameter", "observed_at", "value", "source_flag"])
    records["observed_at"] = pd.to_datetime(records["observed_at"], utc=True).dt.tz_convert(BEIJING)
    records["value"] = records["value"].astype("float64")
    return records


def _period_rows(periods: pd.DataFrame, ids: pd.Series, period_column: str) -> pd.DataFrame:
    out = pd.DataFrame({"site_id": periods["site"].map(ids).astype("int64").to_numpy(),
                        period_column: pd.to_datetime(periods["period"]).dt.date.to_numpy(),
                        "source": periods["source"].to_numpy(),
                        "n_samples": periods["n_samples"].to_numpy(), "n_valid": periods["n_valid"].to_numpy()})
    for item, column in MEAN_COLUMNS.items():
        out[column] = periods[item].to_numpy() if item in periods else float("nan")
    for column in ("class_code", "class_label", "decided_by", "main_pollutants", "target_class", "compliant",
                   "published_class", "status"):
        out[column] = periods[column].to_numpy() if column in periods else pd.NA
    out["class_code"] = out["class_code"].astype("Int64")
    out["published_class"] = pd.array(out["published_class"], dtype="Int64")
    return out


def refresh_water(conn: psycopg.Connection) -> WaterRefreshReport:
    with conn.transaction():
        dirty = pd.DataFrame(conn.execute(
            "SELECT domain, site_id, day FROM ops.dirty_day WHERE domain IN ('water', 'water_manual') "
            "FOR UPDATE SKIP LOCKED").fetchall(), columns=["domain", "site_id", "day"])
        if dirty.empty:
            return WaterRefreshReport(0, 0, 0, 0, 0)
        registry = sections(conn)
        ids = registry.set_index("site")["site_id"]
        dirty["month"] = pd.to_datetime(dirty["day"]).dt.to_period("M").dt.start_time.dt.date
        n_samples = n_days = n_months = 0
        for domain, source in (("water", "automatic"), ("water_manual", "manual")):
            touched = (dirty[dirty["domain"] == domain][["site_id", "month"]].drop_duplicates()
                       .sort_values(["month", "site_id"]))
            # Section months are independent of each other: any split of them gives the same rows.
            for first in range(0, len(touched), CHUNK_SECTION_MONTHS):
                part = touched.iloc[first:first + CHUNK_SECTION_MONTHS]
                records = _records(conn, TABLES[domain], part["site_id"].tolist(), part["month"].tolist())
                if records.empty:
                    continue
                samples = samples_wide(records)
                if source == "automatic":
                    classes = sample_classes(samples, registry)
                    rows = classes.assign(site_id=classes["site"].map(ids).astype("int64")).drop(columns="site")
                    upsert_frame(conn, "derived.water_sample_class", rows, ["site_id", "observed_at"])
                    days = section_periods(samples, registry, "day")
                    upsert_frame(conn, "derived.water_section_day", _period_rows(days, ids, "day"),
                                 ["site_id", "day", "source"])
                    n_samples, n_days = n_samples + len(rows), n_days + len(days)
                months = section_periods(samples, registry, "month", source=source)
                upsert_frame(conn, "derived.water_section_month", _period_rows(months, ids, "month"),
                             ["site_id", "month", "source"], period_end=MONTH_END)
                n_months += len(months)

        month_list = sorted(set(dirty["month"]))
        stored = pd.DataFrame(conn.execute("""
            SELECT s.code, m.month, m.source, m.class_code, m.compliant
            FROM derived.water_section_month m JOIN registry.site s USING (site_id)
            WHERE m.month = ANY(%s)""", (month_list,)).fetchall(),
            columns=["site", "month", "source", "class_code", "compliant"])
        stored["class_code"] = stored["class_code"].astype("Int64")
        stored["compliant"] = stored["compliant"].astype("boolean")
        areas = area_shares(stored, registry) if len(stored) else pd.DataFrame()
        if len(areas):
            areas = areas[["scope", "area", "month", "source", "n_sections", "n_judged", "n_class_i_iii", "n_lie_v",
                           "n_compliant", "share_i_iii", "share_lie_v", "share_compliant", "grade"]]
            upsert_frame(conn, "derived.water_area_month", areas, ["scope", "area", "month", "source"],
                         period_end=MONTH_END)
        conn.execute("""DELETE FROM ops.dirty_day q USING unnest(%s::text[], %s::int[], %s::date[]) AS d(domain, site_id, day)
                        WHERE q.domain = d.domain AND q.site_id = d.site_id AND q.day = d.day""",
                     (dirty["domain"].tolist(), dirty["site_id"].tolist(), dirty["day"].tolist()))
        return WaterRefreshReport(len(dirty), n_samples, n_days, n_months, len(areas))
