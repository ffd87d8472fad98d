"""The daily archives ``china_cities_YYYYMMDD.csv`` and ``china_sites_YYYYMMDD.csv``.

Layout: ``date,hour,type,<one column per city name or station code>``, long by ``type`` (AQI,
PM2.5, PM2.5_24h, …), wide by site. ``hour`` h is the hour-ending label h:00 of ``date`` in
Beijing time, so hour 0 is 24:00 of the previous day. Shown on the data in
tests/test_ingest_cnemc_archive.py: the Leshan city column agrees with the mean of the city's
stations of the hourly publication (explicit ``timepoint`` labels) at offset 0 and at no other.
The ``AQI`` rows are the published AQI: stored as parameter ``aqi_published`` for reconciliation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import (
    BEIJING,
    REJECT_COLUMNS,
    Adapter,
    IngestError,
    ParsedBatch,
    clean_columns,
    numbered_lines,
    parse_numbers,
)

UG, MG = "µg/m³", "mg/m³"
#: archive ``type`` → (parameter code, unit). In this archive ``O3`` is the 1-hour value.
TYPES: dict[str, tuple[str, str]] = {
    "PM2.5": ("pm25", UG), "PM2.5_24h": ("pm25_24h", UG),
    "PM10": ("pm10", UG), "PM10_24h": ("pm10_24h", UG),
    "SO2": ("so2", UG), "SO2_24h": ("so2_24h", UG),
    "NO2": ("no2", UG), "NO2_24h": ("no2_24h", UG),
    "CO": ("co", MG), "CO_24h": ("co_24h", MG),
    "O3": ("o3", UG), "O3_24h": ("o3_1h_max24h", UG),
    "O3_8h": ("o3_8h", UG), "O3_8h_24h": ("o3_8h_max24h", UG),
    "AQI": ("aqi_published", "1"),
}
PUBLISHED_TYPE = "AQI"
ID_COLUMNS = ("date", "hour", "type")


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(path, f"not a readable CSV: {exc}") from exc


def parse_archive(path: Path, dataset: str, source: str) -> ParsedBatch:
    path = Path(path)
    raw = _read(path)
    raw.columns = clean_columns(path, raw.columns)
    missing = [c for c in ID_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(path, f"missing column(s) {', '.join(missing)}; expected date,hour,type,<sites…>", line=1)
    site_columns = [c for c in raw.columns if c not in ID_COLUMNS]
    if not site_columns:
        raise IngestError(path, "no site columns after date,hour,type", line=1)
    raw = numbered_lines(raw)

    day = pd.to_datetime(raw["date"].str.strip(), format="%Y%m%d", errors="coerce")
    hour = pd.to_numeric(raw["hour"].str.strip(), errors="coerce")
    kind = raw["type"].str.strip()
    bad_date = day.isna()
    bad_hour = ~bad_date & ~(hour.between(0, 24) & hour.eq(hour.round()))  # a whole hour label, 0–24
    bad_type = ~(bad_date | bad_hour) & ~kind.isin(list(TYPES))
    rejects = pd.concat([
        pd.DataFrame({"line_no": raw.index[bad_date], "field": "date", "reason_code": "bad_time",
                      "message": "date '" + raw.loc[bad_date, "date"] + "' is not YYYYMMDD"}),
        pd.DataFrame({"line_no": raw.index[bad_hour], "field": "hour", "reason_code": "bad_time",
                      "message": "hour '" + raw.loc[bad_hour, "hour"] + "' is not a whole hour 0–24"}),
        pd.DataFrame({"line_no": raw.index[bad_type], "field": "type", "reason_code": "unknown_type",
                      "message": "type '" + kind[bad_type] + "' is not one of the archive's 15 types"}),
    ], ignore_index=True)[REJECT_COLUMNS]

    ok = ~(bad_date | bad_hour | bad_type)
    observed = (day + pd.to_timedelta(hour.where(ok), unit="h")).dt.tz_localize(BEIJING)
    # Wide → long in the order of DataFrame.melt (site by site, each site's lines in file order),
    # built with numpy: melt plus label-based lookups cost most of a national file's parse time.
    lines = raw.loc[ok, site_columns]
    n_lines, n_sites = lines.shape
    line_no = np.tile(lines.index.to_numpy(), n_sites)
    raw_value = pd.Series(lines.to_numpy().T.reshape(-1))
    kinds = np.tile(kind[ok].to_numpy(), n_sites)
    kind_parameter = np.tile(kind[ok].map({t: p for t, (p, _) in TYPES.items()}).to_numpy(dtype=object), n_sites)
    kind_unit = np.tile(kind[ok].map({t: u for t, (_, u) in TYPES.items()}).to_numpy(dtype=object), n_sites)
    value, is_missing = parse_numbers(raw_value)
    long = pd.DataFrame({
        "line_no": line_no,
        "site_code": np.repeat(np.asarray(site_columns, dtype=object), n_lines),
        "raw_value": raw_value.to_numpy(),
        "type": kinds,
        "observed_at": observed[ok].array.take(np.tile(np.arange(n_lines), n_sites)),
        "value": value.to_numpy(),
        "source_flag": np.where(is_missing.to_numpy(), "missing", "normal"),
    })
    records = pd.DataFrame({
        "line_no": long["line_no"].to_numpy(),
        "site_code": long["site_code"].to_numpy(),
        "parameter": kind_parameter,
        "field": long["site_code"].to_numpy(),
        "observed_at": long["observed_at"].array,
        "value": long["value"].to_numpy(),
        "raw_value": long["raw_value"].to_numpy(),
        "unit": kind_unit,
        "source_flag": long["source_flag"].to_numpy(),
    })
    aqi = long[long["type"] == PUBLISHED_TYPE]
    published = pd.DataFrame({
        "site_code": aqi["site_code"].to_numpy(),
        "observed_at": aqi["observed_at"].array,
        "aqi": aqi["value"].to_numpy(),
        "primary_pollutant": pd.Series(pd.NA, index=range(len(aqi)), dtype="object"),
    })
    return ParsedBatch(dataset=dataset, domain="air", source_code=source, path=path, records=records,
                       raw=raw, line_rejects=rejects, lines_read=len(raw), cadence=pd.Timedelta(hours=1),
                       published=published)


def parse_cities(path: Path) -> ParsedBatch:
    return parse_archive(path, CITY_DATASET, "china_cities_archive")


def parse_sites(path: Path) -> ParsedBatch:
    return parse_archive(path, SITE_DATASET, "china_sites_archive")


CITY_DATASET = "air_city_archive"
SITE_DATASET = "air_station_archive"
CITY_ADAPTER = Adapter(dataset=CITY_DATASET, source_code="china_cities_archive", domain="air", parse=parse_cities)
SITE_ADAPTER = Adapter(dataset=SITE_DATASET, source_code="china_sites_archive", domain="air", parse=parse_sites)
