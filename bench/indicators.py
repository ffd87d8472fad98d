"""Indicators at national scale: hourly AQI (HJ 633), daily values (HJ 663), GB 3838 classes,
and the real refresh of the derived tables for the data the ingest section loaded.

The pure computations run chunk by chunk on generated national data (bench/generate.py) and are
extrapolated to a national year (air) or ten national years (water) when the run is scaled down;
the refresh is ``evaluation.air_refresh.refresh_air`` on the warehouse, as the DAGs run it.
"""

from __future__ import annotations

from bench import generate
from bench.harness import Figure, Stopwatch, peak_rss_mb, reset_peak_rss, timed
from evaluation.air import hourly_aqi, site_days
from standards import gb3838

SECTION = "indicators"
NATIONAL_STATION_HOURS = 1800 * 8760
NATIONAL_SECTION_SAMPLES_10Y = 3641 * 6 * 365 * 10  # 4-hourly samples of every national section
AQI_TARGET_S = 10.0


def air(plan: generate.Plan) -> list[Figure]:
    reset_peak_rss()
    hourly, daily = Stopwatch(), Stopwatch()
    hours = days = 0
    for wide in generate.station_hours(plan, days_per_chunk=10):
        with hourly:
            hours += len(hourly_aqi(wide))
        with daily:
            days += len(site_days(wide))
    scale = NATIONAL_STATION_HOURS / hours
    return [
        Figure(SECTION, f"hourly AQI (HJ 633 real-time report), {plan.stations:,} stations",
               hours / hourly.seconds, "station-hours/s",
               f"national year {hourly.seconds * scale:.1f} s (goal < {AQI_TARGET_S:.0f} s)"),
        Figure(SECTION, "daily values + daily AQI (HJ 663 / HJ 633)", days / daily.seconds, "station-days/s",
               f"national year {daily.seconds * scale:.1f} s ({days:,} station-days here)"),
        Figure(SECTION, "  peak RSS (chunks of 10 days)", peak_rss_mb(), "MB", "bounded by the chunk"),
    ]


def water(samples: int) -> list[Figure]:
    watch, done = Stopwatch(), 0
    for frame in generate.water_samples(samples):
        with watch:
            done += len(gb3838.classify(frame))
    return [Figure(SECTION, "GB 3838 sample classes", done / watch.seconds, "samples/s",
                   f"10 national years ({NATIONAL_SECTION_SAMPLES_10Y / 1e6:.0f} M samples) "
                   f"{watch.seconds * NATIONAL_SECTION_SAMPLES_10Y / done:.0f} s")]


def refresh(url: str) -> list[Figure]:
    """The derived air tables for every day the ingest queued (drains ``ops.dirty_day``)."""
    from evaluation.air_refresh import refresh_air
    from warehouse.db import connect

    with connect(url) as conn, timed() as watch:
        try:
            report = refresh_air(conn)
        except Exception as exc:  # a defect found by the benchmark is a result too
            return [Figure(SECTION, "refresh of the derived air tables (evaluation.air_refresh)", "FAILED", "",
                           f"{type(exc).__name__}: {exc}")]
    return [
        Figure(SECTION, "refresh of the derived air tables (evaluation.air_refresh)", report.station_days /
               watch.seconds, "station-days/s", f"{watch.seconds:.1f} s for {report.hours:,} hours, "
               f"{report.station_days:,} station-days, {report.city_days:,} city-days, {report.months:,} months"),
    ]


def run(plan: generate.Plan, water_samples: int, url: str | None) -> tuple[list[Figure], list[str]]:
    figures = air(plan) + water(water_samples)
    notes = []
    if url:
        figures += refresh(url)
    else:
        notes.append("Refresh of the derived tables not measured: it runs on the ingest section's warehouse "
                     "(run with the ingest section).")
    return figures, notes
