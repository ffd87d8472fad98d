"""The national surface-water automatic monitoring publication (国家地表水水质自动监测实时数据), 4-hourly.

The public page (``szzdjc.cnemc.cn:8070/GJZ/Ajax/Publish.ashx``, ``action=getRealDatas``) answers
JSON with ``thead`` and ``tbody``; the columns are 省份, 流域, 断面名称, 监测时间 (``MM-DD HH:MM``, no
year), 水质类别, the 11 measured items (水温 … 藻密度, unit in the header) and, in most captures,
站点情况. Three forms of it reach the bureau, one adapter each (domain ``water``, source
``cnemc_water_auto``):

* ``ARCHIVE_ADAPTER`` (``water_auto_archive``): the third-party archive CSV (UTF-8) that adds
  ``monitor_datetime`` and ``crawl_file`` (the name of the snapshot the row came from) in front.
* ``SNAPSHOT_ADAPTER`` (``water_auto_snapshot``): what a scraper of the page saves, one CSV per
  crawl, GBK-encoded (GB18030 and UTF-8 accepted too), the crawl time only in the file name
  (``2022_12_30_22h48m_国家地表水水质自动监测系统检测数据.csv``).
* ``JSON_ADAPTER`` (``water_auto_json``): the page's JSON answer itself. Measurement cells are HTML
  like ``<span title='原始值：23.88'>23.9</span>``: the raw value of the title is read (the displayed
  text is the publisher's rounding, and the publisher classifies the raw value), the displayed text
  only when there is no title. The class is a code 1–6 (I…劣V), 7 = not monitored. The crawl time
  comes from a top-level key (``crawl_time``, ``crawled_at``, ``retrieved_at`` or ``fetched_at``;
  ISO text, Beijing time unless it carries an offset) or, failing that, from the file name as for
  the snapshots. Line numbers: a JSON answer has no meaningful lines, so ``line_no`` is the row's
  position in ``tbody`` counted from 1 (as in ingest/cnemc_snapshot.py).

Time. 监测时间 is the Beijing time of the sample, stored as given (a sample is instantaneous, not an
hour-ending mean). When it has no year, the year is inferred from the crawl time: the crawl's year,
minus one when the sample's month is later than the crawl's month (a ``12-31 20:00`` sample in a
snapshot crawled 2023-01-01 02:00 is 2022-12-31 20:00). A sample can never be later than the
crawl that saw it, so such a line is rejected (``bad_time``) rather than guessed at. In the archive
the crawl time is read from ``crawl_file``; ``monitor_datetime`` (the archiver's own full time) is
the cross-check, and the fallback when ``crawl_file`` has no time. On the 2021-06 … 2022-12
archive both agree with 监测时间 on every one of the 6,388 rows, including the 14 rows crawled in
the month after their sample (e.g. ``11-30 20:00`` crawled 2021-12-01 00:11); the crawl lags the
sample by 25 min to 20.5 h. A line where ``monitor_datetime`` contradicts 监测时间 + crawl time is
rejected (``bad_time``, field ``monitor_datetime``): two statements of the time disagree and the
file cannot say which is right. The archive holds no crawl across a new year, so the
December→January rule is tested on real rows given a January crawl (tests/test_ingest_water.py).

Records. ``site_code`` is 断面名称 (the registry codes sections by name, config/sections.yaml).
Every measured item becomes a record in the registry unit (config/parameters.yaml, byte for
byte); the published class becomes parameter ``water_class_published`` (1–6, unit "1"), read from
Ⅰ…劣Ⅴ (also I…V, "Ⅱ类", codes 1–6); "--", "-", "" and 7 (not monitored) are missing, and so is
the archives' -1 (no data). Source flag from 站点情况: 正常 → normal, 维护 → maintenance (every
value of the line, the class included), anything else → suspect; a missing cell ('--', '*', '')
keeps ``missing`` whatever the station state. Without a 站点情况 column (the page's shorter
layout) values are ``normal``. A line without a readable time is a line reject ``bad_time``
naming the field; an empty 断面名称 is ``missing_site``; a JSON row whose cell count differs from
``thead`` is ``bad_row``. ``published``: site_code, observed_at, class_code (float, NaN = none).
"""

from __future__ import annotations

import html
import json
import re
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import (
    BEIJING,
    MISSING_MARKERS,
    REJECT_COLUMNS,
    Adapter,
    IngestError,
    ParsedBatch,
    clean_columns,
    melt_wide,
)
from ingest.station_list import read_text

SOURCE = "cnemc_water_auto"
ARCHIVE_DATASET = "water_auto_archive"
SNAPSHOT_DATASET = "water_auto_snapshot"
JSON_DATASET = "water_auto_json"
CADENCE = pd.Timedelta(hours=4)

#: Measured items: header name (text before the unit) → (parameter code, registry unit, header unit).
#: Registry units are copied byte for byte from config/parameters.yaml (μ is U+03BC there).
ITEMS: dict[str, tuple[str, str, str]] = {
    "水温": ("water_temp", "℃", "℃"),
    "pH": ("ph", "无量纲", "无量纲"),
    "溶解氧": ("do", "mg/L", "mg/L"),
    "电导率": ("conductivity", "μS/cm", "μS/cm"),
    "浊度": ("turbidity", "NTU", "NTU"),
    "高锰酸盐指数": ("codmn", "mg/L", "mg/L"),
    "氨氮": ("nh3n", "mg/L", "mg/L"),
    "总磷": ("tp", "mg/L", "mg/L"),
    "总氮": ("tn", "mg/L", "mg/L"),
    "叶绿素α": ("chla", "mg/L", "mg/L"),
    "藻密度": ("algae", "cells/L", "cells/L"),
}
#: Other spellings of item names seen in captures of the page.
ITEM_ALIASES = {"叶绿素a": "叶绿素α", "叶绿素": "叶绿素α", "PH": "pH", "ph": "pH"}
CLASS_PARAMETER, CLASS_UNIT = "water_class_published", "1"
SITE, TIME, CLASS, STATE = "断面名称", "监测时间", "水质类别", "站点情况"
MONITOR_DATETIME, CRAWL_FILE = "monitor_datetime", "crawl_file"
#: Top-level keys of a JSON answer that may carry the crawl time (first present wins).
CRAWL_KEYS = ("crawl_time", "crawled_at", "retrieved_at", "fetched_at")

#: Class texts → code. Missing: "--", "-", "", 7 (not monitored), -1 (no data in saved CSVs).
CLASS_CODES: dict[str, int] = {
    **{r: i for i, r in enumerate(("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ"), start=1)},
    **{r: i for i, r in enumerate(("I", "II", "III", "IV", "V"), start=1)},
    "劣Ⅴ": 6, "劣V": 6, **{str(i): i for i in range(1, 7)},
}
CLASS_MISSING = frozenset(MISSING_MARKERS | {"7", "-1", "未监测", "未知"})
STATE_FLAGS = {"正常": "normal", "维护": "maintenance"}

_TAG = re.compile(r"<[^>]*>")
_RAW_TITLE = re.compile(r"原始值\s*[：:]\s*([^\s'\"<>]+)")
_UNIT = re.compile(r"[(（]([^)）]*)[)）]")
_TIME = re.compile(r"^\s*(?:(\d{4})[-/])?(\d{1,2})[-/](\d{1,2})\s+(\d{1,2}):(\d{2})(?::\d{2})?\s*$")
_CRAWL_NAME = re.compile(r"(\d{4})_(\d{1,2})_(\d{1,2})_(\d{1,2})h(\d{1,2})m")


# ---------------------------------------------------------------- cells, headers, times

def cell_text(cell) -> str:
    """Visible text of a cell: tags removed, entities decoded, stripped."""
    if cell is None:
        return ""
    return html.unescape(_TAG.sub("", str(cell))).strip()


def cell_value(cell) -> str:
    """The raw value of a measurement cell: the ``title='原始值：…'`` value when there is one,
    else the visible text."""
    if cell is None:
        return ""
    match = _RAW_TITLE.search(html.unescape(str(cell)))
    return match.group(1) if match else cell_text(cell)


def _norm_unit(unit: str) -> str:
    return unit.replace("µ", "μ").replace(" ", "")


def map_columns(path: Path, headers: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(item name → header, role → header) for the page's columns; raises on a missing, repeated or
    differently-unitted column."""
    items: dict[str, str] = {}
    roles: dict[str, str] = {}
    for header in headers:
        text = cell_text(header)
        name = re.split(r"[(（]", text, maxsplit=1)[0].strip()
        name = ITEM_ALIASES.get(name, name)
        if name in items or name in roles:  # e.g. pH(无量纲) and PH(无量纲): which one holds the values?
            raise IngestError(path, f"column '{text}' repeats {name} (column '{cell_text(items.get(name) or roles[name])}')",
                              line=1, field=text)
        if name in ITEMS:
            unit = _UNIT.search(text)
            expected = ITEMS[name][2]
            if unit and _norm_unit(unit.group(1)) != _norm_unit(expected):
                raise IngestError(path, f"column '{text}' is in {unit.group(1)}, this adapter reads {name} in {expected}",
                                  line=1, field=text)
            items[name] = header
        elif name in (SITE, TIME, CLASS, STATE, MONITOR_DATETIME, CRAWL_FILE, "省份", "流域"):
            roles[name] = header
    missing = [c for c in (SITE, TIME, CLASS) if c not in roles] + [n for n in ITEMS if n not in items]
    if missing:
        raise IngestError(path, f"missing column(s) {', '.join(missing)}; expected the surface-water automatic "
                                f"publication layout ({SITE}, {TIME}, {CLASS}, {', '.join(ITEMS)})", line=1)
    return items, roles


def crawl_time_from_name(name: str) -> pd.Timestamp | None:
    """Crawl time (naive Beijing) of a name like ``2022_12_30_22h48m_….csv``; None if absent/invalid."""
    match = _CRAWL_NAME.search(name)
    if not match:
        return None
    try:
        return pd.Timestamp(*(int(g) for g in match.groups()))
    except ValueError:
        return None


_ISO_TIME = r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"


def monitor_times(text: pd.Series) -> pd.Series:
    """``monitor_datetime`` cells as naive times (µs); anything not shaped YYYY-MM-DD HH:MM… is NaT
    (ISO 8601 alone would read the sentinel ``-999`` as the year −999)."""
    text = text.fillna("").astype(str).str.strip()
    shaped = text.str.match(_ISO_TIME)
    return pd.to_datetime(text.where(shaped), format="ISO8601", errors="coerce").astype("datetime64[us]")


def _crawl_times(names: pd.Series) -> pd.Series:
    parts = names.astype(str).str.extract(_CRAWL_NAME)
    text = parts[0] + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2) + " " + \
        parts[3].str.zfill(2) + ":" + parts[4].str.zfill(2)
    return pd.to_datetime(text, format="%Y-%m-%d %H:%M", errors="coerce")


def infer_year(month: pd.Series, crawl: pd.Series) -> pd.Series:
    """Year of a sample labelled with ``month`` and no year, seen in a crawl at ``crawl``: the
    crawl's year, minus one when the sample month is later than the crawl month (Dec → Jan)."""
    return crawl.dt.year - (month > crawl.dt.month).astype("float64")


def resolve_times(text: pd.Series, crawl: pd.Series, crawl_what: str,
                  limit: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """(naive Beijing time, rejection message or None) of 监测时间 texts with or without a year.

    ``crawl`` is the year reference per line (the crawl time; NaT when unknown); ``crawl_what``
    names where it was looked for, for the messages. ``limit`` is the real crawl time a sample
    cannot be later than (default: ``crawl``)."""
    limit = crawl if limit is None else limit
    text = text.fillna("").astype(str)
    parts = text.str.extract(_TIME)
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    unreadable = month.isna()
    inferred = infer_year(month, crawl)
    year = year.fillna(inferred)
    no_year = ~unreadable & year.isna()
    stamp = (year.astype("Int64").astype(str) + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2) + " "
             + parts[3].str.zfill(2) + ":" + parts[4])
    observed = pd.to_datetime(stamp.where(~(unreadable | no_year)), format="%Y-%m-%d %H:%M", errors="coerce")
    invalid = ~(unreadable | no_year) & observed.isna()
    after_crawl = observed.notna() & limit.notna() & (observed > limit)
    quoted = "'" + text + "'"
    message = pd.Series(None, index=text.index, dtype="object")
    message[unreadable] = (quoted + " is not a time MM-DD HH:MM or YYYY-MM-DD HH:MM")[unreadable]
    message[no_year] = (quoted + f" has no year and no crawl time was found ({crawl_what})")[no_year]
    message[invalid] = (quoted + " is not a valid date in the inferred year " + year.astype("Int64").astype(str))[invalid]
    message[after_crawl] = (quoted + " is later than the crawl time " + limit.dt.strftime("%Y-%m-%d %H:%M")
                            + " that saw it")[after_crawl]
    return observed.where(message.isna()), message


def parse_class(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(class code 1–6 as float, is_missing) of published class cells; unreadable text → NaN, not missing."""
    clean = text.fillna("").astype(str).map(cell_text).str.replace("类", "", regex=False).str.strip()
    missing = clean.isin(CLASS_MISSING)
    code = clean.map(CLASS_CODES).astype("float64").where(~missing)
    return code, missing


# ---------------------------------------------------------------- the common core

def _batch(path: Path, dataset: str, raw: pd.DataFrame, table: pd.DataFrame, items: dict[str, str],
           roles: dict[str, str], crawl: pd.Series, crawl_what: str,
           extra_rejects: pd.DataFrame | None = None, limit: pd.Series | None = None) -> ParsedBatch:
    """Records of a table of cell texts (index = line numbers; value cells already reduced to
    their raw value) plus per-line crawl times (see :func:`resolve_times`)."""
    site = table[roles[SITE]].fillna("").astype(str).map(cell_text)
    time_text = table[roles[TIME]].fillna("").astype(str).map(cell_text)
    observed, time_msg = resolve_times(time_text, crawl, crawl_what, limit)

    time_field = pd.Series(roles[TIME], index=table.index, dtype="object")
    if MONITOR_DATETIME in roles:  # archive cross-check
        mdt_text = table[roles[MONITOR_DATETIME]].fillna("").astype(str).str.strip()
        mdt = monitor_times(mdt_text)
        unreadable = time_msg.isna() & mdt_text.ne("") & mdt.isna()
        differs = time_msg.isna() & mdt.notna() & observed.ne(mdt)
        time_msg[unreadable] = ("monitor_datetime '" + mdt_text + "' is not a time")[unreadable]
        time_msg[differs] = ("monitor_datetime '" + mdt_text + "' contradicts " + roles[TIME] + " '" + time_text
                             + "' in the crawl " + crawl.dt.strftime("%Y-%m-%d %H:%M").fillna("?") + " (→ "
                             + observed.dt.strftime("%Y-%m-%d %H:%M").fillna("?") + ")")[differs]
        time_field[unreadable | differs] = MONITOR_DATETIME
    bad_time = time_msg.notna()
    bad_site = ~bad_time & site.eq("")
    parts = [
        pd.DataFrame({"line_no": table.index[bad_time], "field": time_field[bad_time].to_numpy(),
                      "reason_code": "bad_time", "message": time_msg[bad_time].to_numpy()}),
        pd.DataFrame({"line_no": table.index[bad_site], "field": roles[SITE], "reason_code": "missing_site",
                      "message": f"empty {SITE}"}),
    ]
    if extra_rejects is not None and len(extra_rejects):
        parts.insert(0, extra_rejects)
    rejects = pd.concat(parts, ignore_index=True)[REJECT_COLUMNS].astype({"line_no": "int64"})

    good = table.loc[~(bad_time | bad_site)].copy()
    good["line_no"] = good.index.to_numpy()
    good["site_code"] = site[good.index]
    good["observed_at"] = observed[good.index].dt.tz_localize(BEIJING)
    ids = {"line_no": "line_no", "site_code": "site_code", "observed_at": "observed_at"}
    records = melt_wide(good, ids, {items[n]: (code, unit) for n, (code, unit, _) in ITEMS.items()})

    class_raw = good[roles[CLASS]].fillna("").astype(str)
    class_code, class_missing = parse_class(class_raw)
    class_records = pd.DataFrame({
        "line_no": good["line_no"].to_numpy(), "site_code": good["site_code"].to_numpy(),
        "parameter": CLASS_PARAMETER, "field": cell_text(roles[CLASS]), "observed_at": good["observed_at"].array,
        "value": class_code.to_numpy(), "raw_value": class_raw.to_numpy(), "unit": CLASS_UNIT,
        "source_flag": np.where(class_missing.to_numpy(), "missing", "normal"),
    })
    records = pd.concat([records, class_records], ignore_index=True)

    if STATE in roles:
        state = good[roles[STATE]].fillna("").astype(str).map(cell_text)
        fallback = np.where(state.str.contains("维护", regex=False), "maintenance", "suspect")
        flag_of_line = state.map(STATE_FLAGS).fillna(pd.Series(fallback, index=good.index)).astype(object)
        stated = records["line_no"].map(flag_of_line).to_numpy()
        records["source_flag"] = np.where(records["source_flag"].eq("missing"), "missing", stated)

    published = pd.DataFrame({
        "site_code": good["site_code"].to_numpy(),
        "observed_at": good["observed_at"].array,
        "class_code": class_code.to_numpy(),
    })
    return ParsedBatch(dataset=dataset, domain="water", source_code=SOURCE, path=path, records=records[
        ["line_no", "site_code", "parameter", "field", "observed_at", "value", "raw_value", "unit", "source_flag"]],
        raw=raw, line_rejects=rejects, lines_read=len(raw), cadence=CADENCE, published=published)


def _read_csv(path: Path) -> pd.DataFrame:
    """All cells as text, index = file line numbers (header = line 1); blank lines carry nothing
    and are skipped without shifting the numbering."""
    text = read_text(path)
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(path, f"not a readable CSV: {exc}") from exc
    frame = frame.fillna("")
    frame.columns = clean_columns(path, frame.columns)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line_no")
    blank = frame.apply(lambda col: col.astype(str).str.strip().eq("")).all(axis=1)
    return frame.loc[~blank]


# ---------------------------------------------------------------- the three forms

def parse_archive(path: Path) -> ParsedBatch:
    path = Path(path)
    raw = _read_csv(path)
    items, roles = map_columns(path, list(raw.columns))
    if CRAWL_FILE not in roles and MONITOR_DATETIME not in roles:
        raise IngestError(path, f"the archive layout needs {CRAWL_FILE} or {MONITOR_DATETIME} (监测时间 has no year)",
                          line=1)
    crawl = _crawl_times(raw[roles[CRAWL_FILE]]) if CRAWL_FILE in roles else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    reference = crawl
    if MONITOR_DATETIME in roles:
        # No crawl time on a line: monitor_datetime stands in as the year reference (and is then
        # checked against 监测时间 like on every other line); "later than the crawl" needs a real crawl.
        mdt = monitor_times(raw[roles[MONITOR_DATETIME]])
        reference = crawl.fillna(mdt)
    return _batch(path, ARCHIVE_DATASET, raw, raw, items, roles, reference, f"{CRAWL_FILE}, {MONITOR_DATETIME}",
                  limit=crawl)


def parse_snapshot(path: Path) -> ParsedBatch:
    path = Path(path)
    raw = _read_csv(path)
    items, roles = map_columns(path, list(raw.columns))
    crawl_at = crawl_time_from_name(path.name)
    crawl = pd.Series(crawl_at if crawl_at is not None else pd.NaT, index=raw.index, dtype="datetime64[us]")
    return _batch(path, SNAPSHOT_DATASET, raw, raw, items, roles, crawl,
                  f"file name '{path.name}' has no YYYY_MM_DD_HHhMMm crawl time")


def _json_crawl_time(path: Path, document: dict) -> pd.Timestamp | None:
    for key in CRAWL_KEYS:
        if document.get(key) not in (None, ""):
            try:
                stamp = pd.Timestamp(str(document[key]))
            except ValueError as exc:
                raise IngestError(path, f"top-level '{key}' = {document[key]!r} is not a time", field=key) from exc
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert(BEIJING).tz_localize(None)
            return stamp
    return crawl_time_from_name(path.name)


def parse_json(path: Path) -> ParsedBatch:
    path = Path(path)
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(document, dict) or not isinstance(document.get("thead"), list) \
            or not isinstance(document.get("tbody"), list):
        raise IngestError(path, "not the publication's JSON answer (needs top-level 'thead' and 'tbody' lists)")
    headers = [cell_text(h) for h in document["thead"]]
    if len(set(headers)) != len(headers):
        raise IngestError(path, f"duplicate column names in thead: {headers}", field="thead")
    items, roles = map_columns(path, headers)
    rows = document["tbody"]
    index = pd.RangeIndex(1, len(rows) + 1, name="line_no")
    width = len(headers)
    shaped = [r if isinstance(r, list) and len(r) == width else [None] * width for r in rows]
    bad_row = [i + 1 for i, r in enumerate(rows) if not (isinstance(r, list) and len(r) == width)]
    raw = pd.DataFrame([["" if c is None else str(c) for c in r] for r in shaped], columns=headers, index=index)
    for i in bad_row:  # keep the original row for the quarantine, in the first column
        raw.loc[i] = [json.dumps(rows[i - 1], ensure_ascii=False)] + [""] * (width - 1)
    value_headers = set(items.values())
    table = pd.DataFrame({h: [cell_value(r[j]) if h in value_headers else cell_text(r[j]) for r in shaped]
                          for j, h in enumerate(headers)}, index=index)
    table = table.loc[~table.index.isin(bad_row)]
    rejects = pd.DataFrame({"line_no": bad_row, "field": "tbody", "reason_code": "bad_row",
                            "message": [f"row has {len(rows[i - 1]) if isinstance(rows[i - 1], list) else 'no'} "
                                        f"cells, thead has {width}" for i in bad_row]})
    crawl_at = _json_crawl_time(path, document)
    crawl = pd.Series(crawl_at if crawl_at is not None else pd.NaT, index=table.index, dtype="datetime64[us]")
    return _batch(path, JSON_DATASET, raw, table, items, roles, crawl,
                  f"no top-level {'/'.join(CRAWL_KEYS)} and no YYYY_MM_DD_HHhMMm in the file name '{path.name}'",
                  extra_rejects=rejects)


ARCHIVE_ADAPTER = Adapter(dataset=ARCHIVE_DATASET, source_code=SOURCE, domain="water", parse=parse_archive)
SNAPSHOT_ADAPTER = Adapter(dataset=SNAPSHOT_DATASET, source_code=SOURCE, domain="water", parse=parse_snapshot)
JSON_ADAPTER = Adapter(dataset=JSON_DATASET, source_code=SOURCE, domain="water", parse=parse_json)
