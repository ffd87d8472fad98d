"""CNEMC national station snapshot: a GeoJSON FeatureCollection of every national station at one hour.

Each feature's ``properties`` hold strings: ``stationcode``, ``timepoint`` (hour-ending Beijing
time, ``YYYY-MM-DDTHH:MM:SS``), the concentrations, and the published ``aqi``, ``quality``
(category, e.g. 轻度污染) and ``primarypollutant``. The publisher writes "-;" for no value (and
for no primary pollutant); "—", "-" and "" are read as missing too.

Line numbers: a GeoJSON file has no meaningful lines (it is usually a single one), so ``line_no``
is the feature's position in ``features``, counted from 1 (feature index + 1).

Quirk of this format, as in the hourly archive (ingest/cnemc_air.py): the ozone columns are
swapped. ``o3_24h`` holds the 1-hour value and ``o3`` the maximum 1-hour value of the past 24
hours; likewise ``o3_8h_24h`` holds the current 8-hour moving mean and ``o3_8h`` its 24-hour
maximum. Evidence on the 2017-07-07T16 snapshot (tests/test_aqi_official.py): ``o3`` is never
below ``o3_24h`` (1,007 stations above, 0 below) and ``o3_8h`` never below ``o3_8h_24h`` (230
above, 0 below) — a maximum cannot be below the value it covers; and the published AQI is
reproduced for every station with ``o3_24h`` as the 1-hour ozone, but not with ``o3`` (e.g. 1002A:
o3 179, o3_24h 160, published AQI 50 = IAQI of 160; 179 would give 74).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ingest import cnemc_air
from ingest.base import BEIJING, REJECT_COLUMNS, Adapter, IngestError, ParsedBatch, melt_wide

DATASET = "air_station_snapshot"
SOURCE = "cnemc_air_snapshot"

#: source property → (parameter code, unit): the hourly publication's columns, with the same
#: ozone swap (module doc), the published AQI stored as ``aqi_published``.
VALUE_COLUMNS: dict[str, tuple[str, str]] = cnemc_air.VALUE_COLUMNS
ID_COLUMNS = ("timepoint", "stationcode")
PUBLISHED_COLUMNS = ("aqi", "primarypollutant", "quality")
#: Texts of this format meaning "no value" (besides ingest.base.MISSING_MARKERS).
SNAPSHOT_MISSING = frozenset({"-;", "—", "-", "--", ""})


def _features(path: Path) -> list:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise IngestError(path, "not a GeoJSON FeatureCollection (top-level 'type' must be 'FeatureCollection')")
    features = document.get("features")
    if not isinstance(features, list):
        raise IngestError(path, "FeatureCollection without a 'features' list", field="features")
    return features


def parse(path: Path) -> ParsedBatch:
    path = Path(path)
    features = _features(path)
    properties = [f.get("properties") if isinstance(f, dict) else None for f in features]
    usable = [isinstance(p, dict) for p in properties]
    raw = pd.DataFrame([p if ok else {} for p, ok in zip(properties, usable, strict=True)], dtype=object)
    raw = raw.apply(lambda col: col.map(lambda v: "" if v is None else str(v)))
    raw.index = pd.RangeIndex(1, len(features) + 1, name="line_no")  # feature index + 1
    absent = [c for c in (*ID_COLUMNS, *VALUE_COLUMNS) if c not in raw.columns]
    if absent:
        raise IngestError(path, f"missing {'property' if len(absent) == 1 else 'properties'} {', '.join(absent)} in every feature; expected the "
                                f"CNEMC snapshot layout ({', '.join((*ID_COLUMNS, *VALUE_COLUMNS))})",
                          field=absent[0])

    no_props = ~pd.Series(usable, index=raw.index)
    observed = pd.to_datetime(raw["timepoint"].str.strip(), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    site = raw["stationcode"].str.strip()
    bad_time = observed.isna() & ~no_props
    bad_site = site.eq("") & ~bad_time & ~no_props
    rejects = pd.concat([
        pd.DataFrame({"line_no": raw.index[no_props], "field": "properties", "reason_code": "bad_feature",
                      "message": "feature without a 'properties' object"}),
        pd.DataFrame({"line_no": raw.index[bad_time], "field": "timepoint", "reason_code": "bad_time",
                      "message": "timepoint '" + raw.loc[bad_time, "timepoint"] + "' is not YYYY-MM-DDTHH:MM:SS"}),
        pd.DataFrame({"line_no": raw.index[bad_site], "field": "stationcode", "reason_code": "missing_site",
                      "message": "empty stationcode"}),
    ], ignore_index=True)[REJECT_COLUMNS].astype({"line_no": "int64"})

    good = raw.loc[~(no_props | bad_time | bad_site)].copy()
    good["line_no"] = good.index.to_numpy()
    good["site_code"] = site[good.index]
    good["observed_at"] = observed[good.index].dt.tz_localize(BEIJING)
    records = melt_wide(good, {"line_no": "line_no", "site_code": "site_code", "observed_at": "observed_at"},
                        VALUE_COLUMNS)
    # "-;" is this publisher's empty cell: a missing value, not an unreadable one.
    records.loc[records["raw_value"].str.strip().isin(SNAPSHOT_MISSING), "source_flag"] = "missing"

    published = None
    if all(c in raw.columns for c in PUBLISHED_COLUMNS):
        def text(column: str) -> np.ndarray:
            values = good[column].str.strip()
            return values.where(~values.isin(SNAPSHOT_MISSING)).to_numpy(dtype=object)

        published = pd.DataFrame({
            "site_code": good["site_code"].to_numpy(),
            "observed_at": good["observed_at"].array,
            "aqi": pd.to_numeric(good["aqi"].str.strip(), errors="coerce").to_numpy(),
            "primary_pollutant": text("primarypollutant"),
            "quality": text("quality"),
        })
    return ParsedBatch(
        dataset=DATASET, domain="air", source_code=SOURCE, path=path, records=records,
        raw=raw, line_rejects=rejects, lines_read=len(raw), cadence=pd.Timedelta(hours=1), published=published,
    )


ADAPTER = Adapter(dataset=DATASET, source_code=SOURCE, domain="air", parse=parse)
