"""Synthetic national air data from real distributions, streamed one day (one file) at a time.

The national feed is the daily station archive ``china_sites_YYYYMMDD.csv`` (``date,hour,type,
<one column per station code>``, read by :mod:`ingest.cnemc_archive`): one file per day for all
stations, the cheapest real format to write (wide by station, so a day of 1,800 stations is
144 lines). Only the six hourly pollutant types are written (PM2.5, PM10, SO2, NO2, O3, CO):
1,800 stations × 8,760 h × 6 = 94.6 M measurements, the "≈ 100 M" of a national year. A real
archive also carries the 24-hour moving means and the AQI (15 types, 2.5× the cells); the rates
below are per measurement and carry over.

Real distributions: the hourly values are the Leshan 2022 city series of the bundled archive
(all six pollutants of one hour together, so their correlation is kept), each station reading
that year rotated by its own offset (so its series keeps the real autocorrelation and a day
is not the same hour everywhere) and scaled by its own factor, the ratio of the station's PM2.5
to the median in the real national snapshot (``../shared/data/air``, 1,495 stations, one hour).
Missing cells (empty) occur at the rate of the real series; a few cells per million are made
unreadable or out of range so the quarantine path is exercised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from envmon.settings import REPO_ROOT
from evaluation.frames import HOURLY_POLLUTANTS
from ingest.base import BEIJING

SHARED_AIR = REPO_ROOT.parent / "shared" / "data" / "air"
#: archive ``type`` written for each pollutant column of the pool.
TYPE_OF = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO2", "no2": "NO2", "o3": "O3", "co": "CO"}
#: Cells per million made unreadable ("—x") or out of range (negative): quarantined row by row.
BAD_CELLS_PER_MILLION = 5


@lru_cache(maxsize=1)
def hourly_pool() -> pd.DataFrame:
    """The real Leshan 2022 hourly series (bundled city archive, ``china_cities`` format: hour h of
    a file is the label h:00 of its date), one row per hour in time order; hours the archive lacks
    stay as NaN rows (their cells are written empty)."""
    files = sorted((REPO_ROOT / "data" / "air" / "china_cities_leshan_2022").glob("*.csv"))
    raw = pd.concat([pd.read_csv(f, dtype={"date": str}) for f in files], ignore_index=True)
    types = {v: k for k, v in TYPE_OF.items()}
    raw = raw[raw["type"].isin(types)]
    raw = raw.assign(time=pd.to_datetime(raw["date"], format="%Y%m%d") + pd.to_timedelta(raw["hour"], unit="h"),
                     pollutant=raw["type"].map(types))
    wide = raw.pivot_table(index="time", columns="pollutant", values=raw.columns[3], aggfunc="first")
    hours = pd.date_range(wide.index.min(), wide.index.max(), freq="h")
    return wide.reindex(index=hours, columns=HOURLY_POLLUTANTS)


def station_codes(n: int) -> list[str]:
    """``n`` codes of the real national station list, whole cities only (a city's day is computed
    from all its city points, HJ 663): cities in list order, skipping one that no longer fits."""
    stations = pd.read_csv(SHARED_AIR / "stations_national.csv", dtype=str)
    stations = stations.assign(code=stations["监测点编码"].str.strip()).drop_duplicates("code")
    codes: list[str] = []
    for _, group in stations.groupby("城市", sort=False):
        if len(codes) + len(group) <= n:
            codes += group["code"].tolist()
    if len(codes) < n:
        raise ValueError(f"{n} stations asked, whole cities of the national list give {len(codes)}")
    return codes


@lru_cache(maxsize=1)
def snapshot_scales() -> np.ndarray:
    """Station PM2.5 / national median PM2.5 in the real national snapshot: the spread of stations."""
    features = json.loads((SHARED_AIR / "national_station_snapshot_2017-07-07T16.json").read_text())["features"]
    pm25 = pd.to_numeric(pd.Series([f["properties"].get("pm2_5") for f in features]), errors="coerce")
    pm25 = pm25[pm25 > 0].to_numpy()
    return pm25 / np.median(pm25)


@dataclass(frozen=True)
class Plan:
    """What to generate: ``stations`` national stations over ``days`` days from ``start``."""

    stations: int
    days: int
    start: str = "2025-01-01"
    seed: int = 1

    @property
    def measurements(self) -> int:
        return self.stations * self.days * 24 * len(HOURLY_POLLUTANTS)

    def label(self) -> str:
        return f"{self.stations:,} stations × {self.days} days × {len(HOURLY_POLLUTANTS)} pollutants"


def day_values(plan: Plan) -> Iterator[tuple[pd.Timestamp, np.ndarray]]:
    """(day, values): values[h, station, pollutant] is the hour-ending label day h:00 (hour 0 =
    24:00 of the day before), rounded as published (CO to 0.1 mg/m³, the others to 1 µg/m³), NaN
    where missing. Memory holds one day at a time whatever the plan's length."""
    pool = hourly_pool().to_numpy()
    n_pool = len(pool)
    rng = np.random.default_rng(plan.seed)
    offsets = rng.integers(0, n_pool, size=plan.stations)
    is_co = np.arange(len(HOURLY_POLLUTANTS)) == HOURLY_POLLUTANTS.index("co")
    scales = np.where(is_co[None, :], 1.0, rng.choice(snapshot_scales(), size=plan.stations)[:, None])
    first = pd.Timestamp(plan.start)
    for d in range(plan.days):
        hour_index = (d * 24 + np.arange(24))[:, None] + offsets[None, :]  # (24, stations)
        values = pool[hour_index % n_pool] * scales[None, :, :]  # (24, stations, 6)
        values = np.where(is_co, np.round(values, 1), np.round(values, 0))
        yield first + pd.Timedelta(days=d), values


#: Cell texts by integer value (0 … 9,999; CO in tenths): formatting by table lookup is ~50× faster
#: than printing each number.
_INT_TEXT = np.array([str(i) for i in range(10_000)], dtype=object)
_TENTHS_TEXT = np.array([f"{i / 10:.1f}" for i in range(10_000)], dtype=object)


def day_table(day: pd.Timestamp, values: np.ndarray, codes: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """The archive table of one day: 24 hours × 6 types lines, one column per station code."""
    co = HOURLY_POLLUTANTS.index("co")
    text = np.empty(values.shape, dtype=object)
    for k in range(len(HOURLY_POLLUTANTS)):
        column = values[:, :, k]
        missing = np.isnan(column)
        ints = np.clip(np.nan_to_num(column * (10 if k == co else 1)), 0, 9_999).astype(np.int64)
        cells = (_TENTHS_TEXT if k == co else _INT_TEXT)[ints]
        cells[missing] = ""
        text[:, :, k] = cells
    for i in range(rng.poisson(BAD_CELLS_PER_MILLION * text.size / 1e6)):
        h, s, k = (rng.integers(0, m) for m in text.shape)
        text[h, s, k] = "—x" if i % 2 else "-5"
    # lines ordered like the real archive: by hour, then type.
    lines = text.transpose(0, 2, 1).reshape(24 * len(HOURLY_POLLUTANTS), len(codes))
    frame = pd.DataFrame(lines, columns=codes)
    frame.insert(0, "type", np.tile([TYPE_OF[p] for p in HOURLY_POLLUTANTS], 24))
    frame.insert(0, "hour", np.repeat(np.arange(24), len(HOURLY_POLLUTANTS)))
    frame.insert(0, "date", day.strftime("%Y%m%d"))
    return frame


def write_files(plan: Plan, directory: Path) -> Iterator[Path]:
    """Write the plan's days as ``china_sites_YYYYMMDD.csv`` files, yielding each path once written
    (so a caller may load a day before the next one is generated)."""
    directory.mkdir(parents=True, exist_ok=True)
    codes = station_codes(plan.stations)
    rng = np.random.default_rng(plan.seed + 1)
    for day, values in day_values(plan):
        path = directory / f"china_sites_{day:%Y%m%d}.csv"
        frame = day_table(day, values, codes, rng)
        body = [",".join(frame.columns)] + [",".join(map(str, row)) for row in frame.itertuples(index=False)]
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        yield path


def station_hours(plan: Plan, days_per_chunk: int) -> Iterator[pd.DataFrame]:
    """The plan's values as the wide hourly frames the indicator functions take (site, observed_at,
    one column per pollutant), ``days_per_chunk`` whole Beijing days at a time: the 24 values of a
    day are given the labels 01:00 … 24:00 so every chunk holds complete days (HJ 663)."""
    codes = np.array(station_codes(plan.stations), dtype=object)
    parts: list[pd.DataFrame] = []
    for n, (day, values) in enumerate(day_values(plan), start=1):
        times = pd.date_range(day + pd.Timedelta(hours=1), periods=24, freq="h", tz=BEIJING)
        frame = pd.DataFrame(values.reshape(-1, len(HOURLY_POLLUTANTS)), columns=HOURLY_POLLUTANTS)
        frame.insert(0, "observed_at", np.repeat(times, plan.stations))
        frame.insert(0, "site", np.tile(codes, 24))
        parts.append(frame)
        if n % days_per_chunk == 0 or n == plan.days:
            yield pd.concat(parts, ignore_index=True)
            parts = []


#: GB 3838 items of the automatic water stations (wide sample frame columns).
WATER_ITEMS = ["water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn"]
#: Items whose level differs between sections (scaled per sample; pH, DO, temperature are not).
WATER_SCALED = ["codmn", "nh3n", "tp", "tn", "turbidity"]


@lru_cache(maxsize=1)
def water_pool() -> np.ndarray:
    """Real samples (all items of one sample together, keeping their correlation): the bundled
    Leshan 2021–2022 automatic archive."""
    from evaluation.water import samples_wide
    from ingest import cnemc_water

    batch = cnemc_water.ARCHIVE_ADAPTER.parse(REPO_ROOT / "data" / "water" / "cnemc_water_auto_leshan_2021-2022.csv")
    return samples_wide(batch.records)[WATER_ITEMS].dropna().to_numpy()


def water_samples(total: int, per_chunk: int = 250_000, seed: int = 7) -> Iterator[pd.DataFrame]:
    """``total`` samples resampled from :func:`water_pool`, the section-dependent items scaled by a
    factor spread like the differences between sections (lognormal, σ 0.6), in chunks."""
    pool = water_pool()
    rng = np.random.default_rng(seed)
    scaled = [WATER_ITEMS.index(c) for c in WATER_SCALED]
    done = 0
    while done < total:
        n = min(per_chunk, total - done)
        picks = pool[rng.integers(0, len(pool), size=n)].copy()
        picks[:, scaled] *= rng.lognormal(0.0, 0.6, size=(n, 1))
        done += n
        yield pd.DataFrame(picks, columns=WATER_ITEMS)
