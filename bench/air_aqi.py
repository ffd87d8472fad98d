"""Hourly AQI at national scale: one year of every national station, computed in chunks.

Input is generated from real distributions: whole hours (all six pollutants together, so their
correlation is kept) are resampled from the Leshan 2022 city series of the bundled archive and
scaled per station by a factor drawn from the spread of the national snapshot's PM2.5.
Prints rows/s of ``standards.hj633.realtime_report`` and the peak memory (RSS).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from envmon.settings import REPO_ROOT
from evaluation.frames import HOURLY_POLLUTANTS, hourly_wide
from ingest import cnemc_archive
from standards import hj633

STATIONS = 1800
HOURS = 8760
TARGET_SECONDS = 10.0


def real_hours() -> pd.DataFrame:
    files = sorted((REPO_ROOT / "data" / "air" / "china_cities_leshan_2022").glob("*.csv"))
    records = pd.concat([cnemc_archive.parse_cities(f).records for f in files], ignore_index=True)
    return hourly_wide(records)[HOURLY_POLLUTANTS].dropna().reset_index(drop=True)


def chunks(pool: pd.DataFrame, stations: int, hours: int, per_chunk: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01 01:00", tz="Asia/Shanghai")
    times = pd.date_range(start, periods=hours, freq="h")
    base = pool.to_numpy()
    for first in range(0, stations, per_chunk):
        n = min(per_chunk, stations - first)
        picks = rng.integers(0, len(base), size=n * hours)
        scale = np.repeat(rng.lognormal(0.0, 0.5, size=n), hours)[:, None]
        values = np.round(base[picks] * scale, 0)
        values[:, HOURLY_POLLUTANTS.index("co")] = np.round(base[picks, HOURLY_POLLUTANTS.index("co")], 1)
        frame = pd.DataFrame(values, columns=HOURLY_POLLUTANTS)
        frame["observed_at"] = np.tile(times, n)
        yield frame


def run(stations: int = STATIONS, hours: int = HOURS, per_chunk: int = 100) -> dict[str, float]:
    pool = real_hours()
    rows = 0
    compute = 0.0
    for frame in chunks(pool, stations, hours, per_chunk):
        t0 = time.perf_counter()
        report = hj633.realtime_report(frame)
        compute += time.perf_counter() - t0
        rows += len(report)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "seconds": compute, "rows_per_s": rows / compute, "peak_rss_mb": peak_mb}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=STATIONS)
    parser.add_argument("--hours", type=int, default=HOURS)
    args = parser.parse_args(argv)
    result = run(args.stations, args.hours)
    scale = (STATIONS * HOURS) / result["rows"]
    print(f"hourly AQI (HJ 633 real-time report), {args.stations} stations × {args.hours} hours")
    print(f"  rows            {result['rows']:>14,}")
    print(f"  compute         {result['seconds']:>14.2f} s   (national year extrapolated: "
          f"{result['seconds'] * scale:.2f} s; target < {TARGET_SECONDS:.0f} s)")
    print(f"  throughput      {result['rows_per_s']:>14,.0f} rows/s")
    print(f"  peak RSS        {result['peak_rss_mb']:>14,.0f} MB   (chunks of 100 stations: bounded)")


if __name__ == "__main__":
    main()
