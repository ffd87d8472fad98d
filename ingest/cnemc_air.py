"""CNEMC hourly station publication, as archived (one CSV row per station and hour).

Time labels are hour-ending Beijing time (the value at 16:00 is the mean of 15:00–16:00), so a
natural day holds the labels 01:00 … 24:00; ``timepoint`` is stored as given, in Asia/Shanghai.

Quirk of this archive: the ozone pairs are swapped. ``o3_24h`` holds the 1-hour value and ``o3``
the maximum 1-hour value of the past 24 hours; likewise ``o3_8h_24h`` holds the 8-hour moving
mean and ``o3_8h`` its 24-hour maximum (checked on the data: the maxima are never below the
values they cover and plateau while the values move; see tests/test_ingest_cnemc_air.py).
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
    melt_wide,
    numbered_lines,
)

DATASET = "air_station_hourly"
SOURCE = "cnemc_air_hourly"

UG, MG = "µg/m³", "mg/m³"
#: source column → (parameter code, unit). Note the ozone swap of this archive.
VALUE_COLUMNS: dict[str, tuple[str, str]] = {
    "pm2_5": ("pm25", UG), "pm2_5_24h": ("pm25_24h", UG),
    "pm10": ("pm10", UG), "pm10_24h": ("pm10_24h", UG),
    "so2": ("so2", UG), "so2_24h": ("so2_24h", UG),
    "no2": ("no2", UG), "no2_24h": ("no2_24h", UG),
    "co": ("co", MG), "co_24h": ("co_24h", MG),
    "o3_24h": ("o3", UG), "o3": ("o3_1h_max24h", UG),
    "o3_8h_24h": ("o3_8h", UG), "o3_8h": ("o3_8h_max24h", UG),
    "aqi": ("aqi_published", "1"),
}
ID_COLUMNS = ("timepoint", "stationcode")
PUBLISHED_COLUMNS = ("aqi", "primarypollutant")


def parse(path: Path) -> ParsedBatch:
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(path, f"not a readable CSV: {exc}") from exc
    raw.columns = clean_columns(path, raw.columns)
    missing = [c for c in (*ID_COLUMNS, *VALUE_COLUMNS) if c not in raw.columns and c != "aqi"]
    if missing:
        raise IngestError(path, f"missing column(s) {', '.join(missing)}; expected the CNEMC hourly layout "
                                f"({', '.join((*ID_COLUMNS, *VALUE_COLUMNS))})", line=1)
    raw = numbered_lines(raw)  # file line numbers (header is line 1)

    observed = pd.to_datetime(raw["timepoint"].str.strip(), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    site = raw["stationcode"].str.strip()
    bad_time = observed.isna()
    bad_site = site.eq("") & ~bad_time
    rejects = pd.concat([
        pd.DataFrame({"line_no": raw.index[bad_time], "field": "timepoint", "reason_code": "bad_time",
                      "message": "timepoint '" + raw.loc[bad_time, "timepoint"] + "' is not YYYY-MM-DDTHH:MM:SS"}),
        pd.DataFrame({"line_no": raw.index[bad_site], "field": "stationcode", "reason_code": "missing_site",
                      "message": "empty stationcode"}),
    ], ignore_index=True)[REJECT_COLUMNS]

    good = raw.loc[~(bad_time | bad_site)].copy()
    good["line_no"] = good.index.to_numpy()
    good["site_code"] = site[good.index]
    good["observed_at"] = observed[good.index].dt.tz_localize(BEIJING)
    records = melt_wide(good, {"line_no": "line_no", "site_code": "site_code", "observed_at": "observed_at"},
                        {c: v for c, v in VALUE_COLUMNS.items() if c in good.columns})

    published = None
    if all(c in raw.columns for c in PUBLISHED_COLUMNS):
        aqi = pd.to_numeric(good["aqi"].str.strip(), errors="coerce")
        published = pd.DataFrame({
            "site_code": good["site_code"].to_numpy(),
            "observed_at": good["observed_at"].array,
            "aqi": aqi.to_numpy(),
            "primary_pollutant": good["primarypollutant"].str.strip().replace("", np.nan).to_numpy(),
        })
    return ParsedBatch(
        dataset=DATASET, domain="air", source_code=SOURCE, path=path, records=records,
        raw=raw, line_rejects=rejects, lines_read=len(raw), cadence=pd.Timedelta(hours=1), published=published,
    )


ADAPTER = Adapter(dataset=DATASET, source_code=SOURCE, domain="air", parse=parse)
