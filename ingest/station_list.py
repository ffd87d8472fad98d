"""The national air station list (code, name, city, lon/lat, background flag 对照点).

Published lists come in UTF-8 or GB18030 (the superset of GBK used by Chinese Windows tools);
both are accepted. The list is registry input: each row becomes an ``air_station`` site.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.base import IngestError, clean_columns

COLUMNS = {"监测点编码": "code", "监测点名称": "name_zh", "城市": "city", "经度": "lon", "纬度": "lat",
           "对照点": "is_background", "省级行政区": "province", "地级行政区": "prefecture"}
REQUIRED = ("监测点编码", "监测点名称", "城市", "经度", "纬度", "对照点")


def read_text(path: Path) -> str:
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(path, "neither UTF-8 nor GB18030 text")


def parse(path: Path) -> pd.DataFrame:
    from io import StringIO

    try:
        frame = pd.read_csv(StringIO(read_text(path)), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(path, f"not a readable CSV: {exc}") from exc
    frame.columns = clean_columns(path, frame.columns)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(path, f"missing column(s) {', '.join(missing)} of the station list", line=1)
    sites = frame[[c for c in COLUMNS if c in frame.columns]].rename(columns=COLUMNS)
    for column in ("lon", "lat"):
        sites[column] = pd.to_numeric(sites[column], errors="coerce")
    flags = sites["is_background"].str.strip().str.upper()
    bad = ~flags.isin(["Y", "N"])
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise IngestError(path, f"对照点 must be Y or N, got '{sites['is_background'][bad].iloc[0]}'", line=line, field="对照点")
    sites["is_background"] = flags.eq("Y")
    sites["code"] = sites["code"].str.strip()
    sites["kind"] = "air_station"
    return sites


def city_sites(stations: pd.DataFrame) -> pd.DataFrame:
    """One ``air_city`` site per city of the list, coded by the city name the CNEMC archives use
    (``乐山``), placed at the centroid of its non-background stations (HJ 663 city points)."""
    city_points = stations[~stations["is_background"]]
    grouped = city_points.groupby("city", sort=True)
    cities = pd.DataFrame({
        "code": grouped.size().index,
        "name_zh": grouped["prefecture"].first().to_numpy() if "prefecture" in stations else grouped.size().index,
        "province": grouped["province"].first().to_numpy() if "province" in stations else None,
        "city": grouped.size().index,
        "lon": grouped["lon"].mean().round(4).to_numpy(),
        "lat": grouped["lat"].mean().round(4).to_numpy(),
    })
    return cities.assign(kind="air_city", is_background=False)
