"""Monthly results of Sichuan's surface-water sections (四川省地表水断面月度监测结果), one CSV per year.

Layout: 省份, 城市, 水系, 河流, 断面, 经度, 纬度, 描述, 溶解氧, 温度, 浊度, 氨氮, 高锰酸盐指数,
氢离子浓度指数 (pH), 水质类别 (Ⅰ类 … 劣Ⅴ类, 未知 = no result). Units are not in the file; they
are the usual ones (mg/L, ℃, NTU, pH dimensionless) and are stored in the registry units.

**The month is not in the file.** What the 2021 file (``water_monthly_2021_sichuan_sections.csv``,
1,140 lines) shows instead:

* 95 sections, each on exactly 12 lines, and the lines fall into 12 consecutive blocks of 95:
  block k (file lines 2 + 95·(k−1) … 96 + 95·(k−1)) holds every section exactly once. The order
  of the sections changes from block to block, so the blocks are not a sort artefact.
* The blocks follow the seasons: the mean water temperature of block k over all sections is
  9.5, 14.1, 15.1, 17.3, 20.7, 22.8, 24.6, 24.5, 22.4, 19.3, 14.3, 12.0 ℃ for k = 1 … 12 — cold
  at both ends, warmest in blocks 7–8 (July, August).
* Sixteen sections change their river or city label from block 7 on (e.g. 上河坝: river
  长江流域 → 铜钵河; 团堡岭: 自贡市 → 宜宾市), i.e. the section metadata was revised at mid-year.
* Independent check: for Leshan's six automatic sections, blocks 6–12 match the monthly means
  of the automatic archive (2021-06 … 2021-12) — water temperature 0.8 ℃ apart on average at
  this alignment, 2.2–2.3 ℃ one month either way (tests/test_ingest_water.py).

Month rule: **block k of the file is month k** of the year; equivalently (on this file) the k-th
line of a section is its month k. The block form is used because it is the stricter one: the
file must have 12·B data lines and no section may appear twice in one block, otherwise the month
cannot be known and the file is refused (``IngestError``) instead of being guessed at. The year
comes from the file name (the first 19xx/20xx in it) or from the ``year`` argument; a file with
neither is refused, and so is a ``year`` that contradicts the file name.

Records: site_code = 断面 (sections are coded by name), observed_at = first day of the month
00:00 Beijing time (a period value, stored apart from the 4-hourly samples: adapter ``store``
``water_manual``). Parameters 溶解氧 do, 温度 water_temp, 浊度 turbidity, 氨氮 nh3n, 高锰酸盐指数
codmn, 氢离子浓度指数 ph, 水质类别 → water_class_published (1–6; 未知 → missing). Empty cells are
missing (source_flag ``missing``), everything else ``normal``. An empty 断面 is a line reject
``missing_site``. ``published``: site_code, observed_at, class_code.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BEIJING, REJECT_COLUMNS, Adapter, IngestError, ParsedBatch, clean_columns, melt_wide
from ingest.cnemc_water import parse_class
from ingest.station_list import read_text

DATASET = "water_manual_monthly"
SOURCE = "sichuan_water_monthly"
MONTHS = 12
#: ParsedBatch.cadence is a Timedelta; a calendar month is not one. 31 days is the most frequent
#: step between month starts (7 of 11 in a year); the steps of 28–30 days are months too.
CADENCE = pd.Timedelta(days=31)

#: source column → (parameter code, registry unit as in config/parameters.yaml).
VALUE_COLUMNS: dict[str, tuple[str, str]] = {
    "溶解氧": ("do", "mg/L"),
    "温度": ("water_temp", "℃"),
    "浊度": ("turbidity", "NTU"),
    "氨氮": ("nh3n", "mg/L"),
    "高锰酸盐指数": ("codmn", "mg/L"),
    "氢离子浓度指数": ("ph", "无量纲"),
}
CLASS, SITE = "水质类别", "断面"
META_COLUMNS = ("省份", "城市", "水系", "河流", "断面", "经度", "纬度")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def year_from_name(path: Path) -> int | None:
    match = _YEAR.search(Path(path).name)
    return int(match.group(1)) if match else None


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(StringIO(read_text(path)), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(path, f"not a readable CSV: {exc}") from exc
    frame.columns = clean_columns(path, frame.columns)
    missing = [c for c in (*META_COLUMNS, *VALUE_COLUMNS, CLASS) if c not in frame.columns]
    if missing:
        raise IngestError(path, f"missing column(s) {', '.join(missing)} of the Sichuan monthly section layout", line=1)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line_no")
    return frame


def months(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Month 1–12 of every line by the block rule (module doc); raises when the layout breaks it."""
    n = len(frame)
    if n == 0 or n % MONTHS:
        raise IngestError(path, f"{n} data lines is not 12 blocks of equal size: the month of a line cannot be "
                                "known (the file has no month column; block k of the file is month k)")
    size = n // MONTHS
    month = pd.Series(np.arange(n) // size + 1, index=frame.index, name="month")
    site = frame[SITE].str.strip()
    named = site.ne("")
    repeated = pd.DataFrame({"site": site, "month": month})[named].duplicated(keep="first")
    if repeated.any():
        line = int(repeated[repeated].index[0])
        raise IngestError(path, f"section '{site[line]}' appears twice in block {month[line]} (lines "
                                f"{2 + size * (month[line] - 1)}–{1 + size * month[line]}): the month of its lines "
                                "cannot be known", line=line, field=SITE)
    return month


def parse(path: Path, year: int | None = None) -> ParsedBatch:
    path = Path(path)
    named_year = year_from_name(path)
    if year is not None and named_year is not None and year != named_year:
        raise IngestError(path, f"year {year} given, but the file name says {named_year}")
    year = year if year is not None else named_year
    if year is None:
        raise IngestError(path, "no year: the file has no date column and its name holds no year (pass year=)")
    raw = _read(path)
    month = months(raw, path)

    site = raw[SITE].str.strip()
    bad_site = site.eq("")
    rejects = pd.DataFrame({"line_no": raw.index[bad_site], "field": SITE, "reason_code": "missing_site",
                            "message": f"empty {SITE}"})[REJECT_COLUMNS].astype({"line_no": "int64"})

    good = raw.loc[~bad_site].copy()
    good["line_no"] = good.index.to_numpy()
    good["site_code"] = site[good.index]
    first_day = pd.to_datetime({"year": year, "month": month[good.index], "day": 1})
    good["observed_at"] = first_day.dt.tz_localize(BEIJING)
    ids = {"line_no": "line_no", "site_code": "site_code", "observed_at": "observed_at"}
    records = melt_wide(good, ids, VALUE_COLUMNS)

    class_raw = good[CLASS].fillna("").astype(str)
    class_code, class_missing = parse_class(class_raw)
    class_records = pd.DataFrame({
        "line_no": good["line_no"].to_numpy(), "site_code": good["site_code"].to_numpy(),
        "parameter": "water_class_published", "field": CLASS, "observed_at": good["observed_at"].array,
        "value": class_code.to_numpy(), "raw_value": class_raw.to_numpy(), "unit": "1",
        "source_flag": np.where(class_missing.to_numpy(), "missing", "normal"),
    })
    records = pd.concat([records, class_records], ignore_index=True)
    published = pd.DataFrame({"site_code": good["site_code"].to_numpy(), "observed_at": good["observed_at"].array,
                              "class_code": class_code.to_numpy()})
    return ParsedBatch(dataset=DATASET, domain="water", source_code=SOURCE, path=path, records=records, raw=raw,
                       line_rejects=rejects, lines_read=len(raw), cadence=CADENCE,
                       published=published)


def _city(name: str) -> str:
    """'乐山市' → '乐山', the short form the registry and the CNEMC publications use."""
    name = name.strip()
    return name[:-1] if name.endswith("市") and len(name) > 2 else name


def sections(path: Path) -> pd.DataFrame:
    """Every section of the file in the registry's shape (``warehouse.registry.SITE_COLUMNS``), for
    reference: code = name_zh = 断面, kind water_section, province, city (short form, 乐山), river
    (河流), basin (水系), lon/lat as published (some are wrong: 悦来渡口 and 姜公堰 lie far from
    Leshan; config/sections.yaml is the bureau's corrected registry). Where a section's labels
    change during the year, the last month's are kept."""
    path = Path(path)
    raw = _read(path)
    frame = raw[raw[SITE].str.strip().ne("")]
    last = frame.groupby(frame[SITE].str.strip(), sort=False).tail(1)
    out = pd.DataFrame({
        "code": last[SITE].str.strip().to_numpy(),
        "kind": "water_section",
        "name_zh": last[SITE].str.strip().to_numpy(),
        "province": last["省份"].str.strip().to_numpy(),
        "city": last["城市"].map(_city).to_numpy(),
        "river": last["河流"].str.strip().to_numpy(),
        "basin": last["水系"].str.strip().to_numpy(),
        "lon": pd.to_numeric(last["经度"], errors="coerce").to_numpy(),
        "lat": pd.to_numeric(last["纬度"], errors="coerce").to_numpy(),
        "water_body": None,  # not stated in the file (rivers and reservoirs alike)
        "is_background": False,
    })
    from warehouse.registry import SITE_COLUMNS

    return out.reindex(columns=list(SITE_COLUMNS)).sort_values("code", ignore_index=True)


MONTHLY_ADAPTER = Adapter(dataset=DATASET, source_code=SOURCE, domain="water", parse=parse, store="water_manual")
