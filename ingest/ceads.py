"""CEADs CO2 inventories (Mt CO2) → rows of ``obs.carbon_emission``, each pointing at its sheet and cell.

Two publications (standards.md §4(c); CEADs, Shan et al. 2017–2022, ceads.net):

* the 290-city workbook ``The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx``,
  sheet ``emission vector`` (``ID, city, year, emission``; totals only) — or its CSV export;
* the provincial IPCC-sector × fuel workbooks ``Emission_Inventories_for_30_Provinces_<year>.xlsx``,
  one sheet per province-year (``Sichuan2019``): row 1 the fuels, row 2 the units, then
  ``TotalEmissions`` and 47 sectors — or a CSV export of one sheet
  (``CEADS_province_Sichuan_2019_sectoral.csv``, same layout, so the same cell names).

Region codes (decided here, used by every carbon table):

* a city is its name without the province prefix, as the CNEMC archives and ``registry.site``
  name it: CEADs ``四川乐山`` → ``乐山``; the four municipalities keep their name (``北京``);
  the CEADs name stays in ``row_label`` (so the province of a city is always recoverable);
* a province is its full name as ``registry.site.province`` spells it: ``Sichuan`` → ``四川省``.
  Full names also keep a municipality's provincial inventory (``北京市``) apart from its city
  inventory (``北京``), which would otherwise share a primary key.

Sector and fuel keep the CEADs labels, except the totals: row ``TotalEmissions`` → sector
``total`` and column ``Scope_1_Total`` → fuel ``total`` (the city file's totals are
``total``/``total`` too), so "the region's total" is one query at both levels.

Nothing is dropped: a cell that is empty, not a number or negative, and a line with no usable
region or year, becomes a reject with a reason code; only blank lines are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import IngestError

#: Columns of ``obs.carbon_emission`` a reader fills (``load_id`` comes with the load).
EMISSION_COLUMNS = ["region", "region_level", "year", "sector", "fuel", "co2_mt", "source_code", "sheet",
                    "row_label", "cell"]
#: Columns of ``TableBatch.rejects``: the quarantine's shape (``raw`` is the JSON of the source line/cell).
REJECT_COLUMNS = ["line_no", "field", "reason_code", "message", "raw"]

CITY_SHEET = "emission vector"
CITY_COLUMNS = ("ID", "city", "year", "emission")
TOTAL = "total"
PROVINCE_TOTAL_ROW = "TotalEmissions"
PROVINCE_TOTAL_COLUMN = "Scope_1_Total"
UNIT = "Mt CO2"

#: Province short names (the CEADs city-name prefixes) → full names (``registry.site.province``).
PROVINCES_ZH: dict[str, str] = {
    "北京": "北京市", "天津": "天津市", "河北": "河北省", "山西": "山西省", "内蒙古": "内蒙古自治区",
    "辽宁": "辽宁省", "吉林": "吉林省", "黑龙江": "黑龙江省", "上海": "上海市", "江苏": "江苏省",
    "浙江": "浙江省", "安徽": "安徽省", "福建": "福建省", "江西": "江西省", "山东": "山东省",
    "河南": "河南省", "湖北": "湖北省", "湖南": "湖南省", "广东": "广东省", "广西": "广西壮族自治区",
    "海南": "海南省", "重庆": "重庆市", "四川": "四川省", "贵州": "贵州省", "云南": "云南省",
    "西藏": "西藏自治区", "陕西": "陕西省", "甘肃": "甘肃省", "青海": "青海省", "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
#: CEADs English province names (sheet names without the year) → full Chinese names.
PROVINCES_EN: dict[str, str] = {
    "Beijing": "北京市", "Tianjin": "天津市", "Hebei": "河北省", "Shanxi": "山西省", "InnerMongolia": "内蒙古自治区",
    "Liaoning": "辽宁省", "Jilin": "吉林省", "Heilongjiang": "黑龙江省", "Shanghai": "上海市", "Jiangsu": "江苏省",
    "Zhejiang": "浙江省", "Anhui": "安徽省", "Fujian": "福建省", "Jiangxi": "江西省", "Shandong": "山东省",
    "Henan": "河南省", "Hubei": "湖北省", "Hunan": "湖南省", "Guangdong": "广东省", "Guangxi": "广西壮族自治区",
    "Hainan": "海南省", "Chongqing": "重庆市", "Sichuan": "四川省", "Guizhou": "贵州省", "Yunnan": "云南省",
    "Tibet": "西藏自治区", "Xizang": "西藏自治区", "Shaanxi": "陕西省", "Gansu": "甘肃省", "Qinghai": "青海省",
    "Ningxia": "宁夏回族自治区", "Xinjiang": "新疆维吾尔自治区",
}
MUNICIPALITIES = frozenset({"北京", "天津", "上海", "重庆"})
_PREFIXES = sorted(PROVINCES_ZH, key=len, reverse=True)  # 黑龙江/内蒙古 before any two-character match
_PROVINCE_SHEET = re.compile(r"^([A-Za-z]+)(\d{4})$")
_PROVINCE_CSV = re.compile(r"CEADS_province_([A-Za-z]+)_(\d{4})", re.IGNORECASE)


@dataclass
class TableBatch:
    """One parsed file bound for one ``obs`` table (not the measurement path of ``ingest.base``).

    ``records`` has the table's columns plus ``line_no``; ``rejects`` the quarantine's columns.
    Every data row (city line, province cell, template line) is in exactly one of the two.
    """

    path: Path
    dataset: str
    source_code: str
    records: pd.DataFrame
    rejects: pd.DataFrame
    lines_read: int

    @property
    def rows_read(self) -> int:
        return len(self.records) + len(self.rejects)


def city_region(ceads_name: str) -> tuple[str, str] | None:
    """CEADs city name → (our region code, province full name); ``None`` when no province matches.

    ``四川乐山`` → (``乐山``, ``四川省``); ``北京`` → (``北京``, ``北京市``).
    """
    name = str(ceads_name).strip()
    if name in MUNICIPALITIES:
        return name, PROVINCES_ZH[name]
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):], PROVINCES_ZH[prefix]
    return None


def province_of(ceads_name: str) -> str | None:
    """Province full name of a CEADs city name (what ``row_label`` of a city row holds)."""
    mapped = city_region(ceads_name)
    return mapped[1] if mapped else None


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in [*EMISSION_COLUMNS, "line_no"]})


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS}).astype({"line_no": "int64"})


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _json_cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def _raw(mapping: dict) -> str:
    return json.dumps({str(k): _json_cell(v) for k, v in mapping.items()}, ensure_ascii=False)


def _numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Vectorised: (value, blank, not_a_number) of raw cells (numbers, numeric text or anything else)."""
    text = raw.map(lambda v: "" if _is_blank(v) else str(v).strip())
    blank = text.eq("")
    value = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
    return value, blank, value.isna() & ~blank


def _sheet_rows(path: Path, sheets: list[str] | None) -> dict[str, list[tuple]]:
    """Rows of the named workbook sheets (all sheets when ``None``), read in one pass; a CSV is one
    sheet and is returned under the first name asked for."""
    if path.suffix.lower() == ".csv":
        try:
            frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False,
                                encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise IngestError(path, f"not a readable UTF-8 CSV: {exc}") from exc
        return {(sheets or [""])[0]: [tuple(r) for r in frame.itertuples(index=False)]}
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip/xml errors of a damaged or mislabelled file
        raise IngestError(path, f"not a readable xlsx workbook: {exc}") from exc
    try:
        wanted = workbook.sheetnames if sheets is None else sheets
        for sheet in wanted:
            if sheet not in workbook.sheetnames:
                raise IngestError(path, f"no sheet '{sheet}' (sheets: {', '.join(workbook.sheetnames)})")
        return {sheet: [tuple(r) for r in workbook[sheet].iter_rows(values_only=True)] for sheet in wanted}
    finally:
        workbook.close()


def read_city_inventory(path: Path | str) -> TableBatch:
    """The CEADs 290-city totals (sheet ``emission vector``, or its CSV export): every city, every year.

    Provenance: ``sheet`` = ``emission vector``, ``row_label`` = the CEADs city name, ``cell`` =
    the emission cell (``D3322`` for 四川乐山 2012). The CSV export has the same rows and cells.
    """
    path = Path(path)
    sheet = CITY_SHEET
    rows = _sheet_rows(path, [sheet])[sheet]
    if not rows:
        raise IngestError(path, "empty file", line=1)
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
    positions = {}
    for name in CITY_COLUMNS:
        if name.lower() not in header:
            raise IngestError(path, f"column '{name}' missing from the header {list(rows[0])}", line=1, field=name)
        positions[name] = header.index(name.lower())
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if not all(_is_blank(v) for v in r)]
    lines_read = len(rows)
    if not body:
        return TableBatch(path, "carbon_city", "ceads_city", _empty_records(), empty_rejects(), lines_read)

    frame = pd.DataFrame({name: [r[positions[name]] if positions[name] < len(r) else None for _, r in body]
                          for name in CITY_COLUMNS})
    frame["line_no"] = [n for n, _ in body]
    emission_letter = column_letter(positions["emission"])

    city = frame["city"].map(lambda v: "" if _is_blank(v) else str(v).strip())
    mapped = city.map(city_region)
    year_value, year_blank, year_nan = _numbers(frame["year"])
    year_ok = ~year_blank & ~year_nan & year_value.between(1950, 2100) & (year_value % 1 == 0)
    co2, co2_blank, co2_nan = _numbers(frame["emission"])
    year_int = year_value.where(year_ok).astype("Int64")
    ident = frame["ID"].map(lambda v: "" if _is_blank(v) else str(v).strip())
    expected_id = city + year_int.astype("string").fillna("")
    key = city + "|" + year_int.astype("string").fillna("")

    problems = [  # (mask, field, reason_code, message); the first that applies names the line's reason
        (city.eq(""), "city", "missing_region", "no city name"),
        (city.ne("") & mapped.isna(), "city", "unknown_region",
         "city name does not start with a known province (ingest.ceads.PROVINCES_ZH)"),
        (~year_ok, "year", "bad_year", "year is not a whole number between 1950 and 2100"),
        (co2_blank, "emission", "missing_value", "emission cell is empty"),
        (co2_nan, "emission", "not_a_number", "emission is not a number"),
        (co2.lt(0), "emission", "negative_value", "negative emission"),
        (ident.ne("") & year_ok & ident.ne(expected_id), "ID", "inconsistent_id", "ID is not city + year"),
    ]
    bad = pd.Series(False, index=frame.index)
    for mask, *_ in problems:
        bad |= mask.fillna(False)
    dup = key.duplicated(keep=False) & ~bad
    problems.append((dup, "city", "duplicate_key", "the same city and year appear on more than one line"))
    bad |= dup

    rejects = _rejects(frame, problems, bad, lambda r: _raw({c: r[c] for c in CITY_COLUMNS}),
                       extra=lambda r: f"sheet '{sheet}'")
    good = frame[~bad]
    records = pd.DataFrame({
        "region": mapped[~bad].map(lambda m: m[0]),
        "region_level": "city",
        "year": year_int[~bad].astype("int64"),
        "sector": TOTAL,
        "fuel": TOTAL,
        "co2_mt": co2[~bad],
        "source_code": "ceads_city",
        "sheet": sheet,
        "row_label": city[~bad],
        "cell": emission_letter + good["line_no"].astype(str),
        "line_no": good["line_no"].astype("int64"),
    })
    return TableBatch(path, "carbon_city", "ceads_city", records.reset_index(drop=True), rejects, lines_read)


def _rejects(frame: pd.DataFrame, problems: list, bad: pd.Series, raw, extra=None) -> pd.DataFrame:
    """One reject per bad line: the first problem names field and reason, the message lists all."""
    if not bad.any():
        return empty_rejects()
    out = []
    for idx in frame.index[bad]:
        hits = [(field, code, msg) for mask, field, code, msg in problems if bool(mask.fillna(False).loc[idx])]
        row = frame.loc[idx]
        where = f"{extra(row)}: " if extra else ""
        out.append({"line_no": int(row["line_no"]), "field": hits[0][0], "reason_code": hits[0][1],
                    "message": where + "; ".join(f"{f}: {m}" for f, _, m in hits), "raw": raw(row)})
    return pd.DataFrame(out, columns=REJECT_COLUMNS).astype({"line_no": "int64"})


def read_province_inventory(path: Path | str, sheets: list[str] | None = None) -> TableBatch:
    """Provincial IPCC-sector × fuel inventories: every province sheet of the workbook (or ``sheets``),
    or the one sheet a CSV export holds (province and year from the file name).

    One record per cell: ``sector`` = row label, ``fuel`` = column header (totals → ``total``),
    ``sheet`` = ``Sichuan2019``, ``row_label`` = the row label as published, ``cell`` = ``B4``.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        match = _PROVINCE_CSV.search(path.stem)
        if not match:
            raise IngestError(path, "CSV name must say province and year, like CEADS_province_Sichuan_2019_….csv")
        sheets = [f"{match.group(1)}{match.group(2)}"]
    workbook = _sheet_rows(path, sheets)
    names = [s for s in workbook if _PROVINCE_SHEET.match(s)] if sheets is None else sheets
    if not names:
        raise IngestError(path, "no province-year sheet (like 'Sichuan2019') in the workbook")
    parts, rejects, lines = [], [], 0
    for name in names:
        rows = workbook[name]
        records, bad, n = _province_sheet(path, name, rows)
        parts.append(records)
        rejects.append(bad)
        lines += n
    records = pd.concat(parts, ignore_index=True) if parts else _empty_records()
    rejected = pd.concat([r for r in rejects if len(r)], ignore_index=True) if any(len(r) for r in rejects) \
        else empty_rejects()
    return TableBatch(path, "carbon_province", "ceads_province", records, rejected, lines)


def _province_sheet(path: Path, sheet: str, rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    match = _PROVINCE_SHEET.match(sheet)
    if not match:
        raise IngestError(path, f"sheet '{sheet}' is not named <Province><year>", field=sheet)
    province = PROVINCES_EN.get(match.group(1))
    if province is None:
        raise IngestError(path, f"sheet '{sheet}': unknown province '{match.group(1)}' (ingest.ceads.PROVINCES_EN)")
    year = int(match.group(2))
    if len(rows) < 3:
        raise IngestError(path, f"sheet '{sheet}' has no data rows", line=len(rows))
    header = ["" if _is_blank(h) else str(h).strip() for h in rows[0]]
    fuels = [(j, h) for j, h in enumerate(header) if j > 0 and h]
    if PROVINCE_TOTAL_COLUMN not in header:
        raise IngestError(path, f"sheet '{sheet}': no '{PROVINCE_TOTAL_COLUMN}' column", line=1,
                          field=PROVINCE_TOTAL_COLUMN)
    units = rows[1]
    for j, fuel in fuels:
        unit = "" if j >= len(units) or _is_blank(units[j]) else str(units[j]).strip()
        if unit != UNIT:
            raise IngestError(path, f"sheet '{sheet}', cell {column_letter(j)}2: unit '{unit}' of '{fuel}' "
                              f"is not '{UNIT}'", line=2, field=fuel)
    body = [(i + 3, r) for i, r in enumerate(rows[2:]) if not all(_is_blank(v) for v in r)]
    labels = ["" if _is_blank(r[0]) else str(r[0]).strip() for _, r in body]
    if PROVINCE_TOTAL_ROW not in labels:
        raise IngestError(path, f"sheet '{sheet}': no '{PROVINCE_TOTAL_ROW}' row", field="Emission_Inventory")

    cells = pd.DataFrame([
        {"line_no": n, "row_label": label, "fuel_label": fuel, "col": j,
         "raw_value": r[j] if j < len(r) else None}
        for (n, r), label in zip(body, labels, strict=True) for j, fuel in fuels])
    if cells.empty:
        return _empty_records(), empty_rejects(), len(rows)
    value, blank, nan = _numbers(cells["raw_value"])
    cell_name = cells["col"].map(column_letter) + cells["line_no"].astype(str)
    dup_label = pd.Series(labels).duplicated(keep=False)
    dup_lines = {n for (n, _), d in zip(body, dup_label, strict=True) if d}
    problems = [
        (cells["row_label"].eq(""), "Emission_Inventory", "missing_sector", "row has no sector label"),
        (blank, None, "missing_value", "cell is empty"),
        (nan, None, "not_a_number", "cell is not a number"),
        (value.lt(0), None, "negative_value", "negative emission"),
        (cells["line_no"].isin(dup_lines) & cells["row_label"].ne(""), "Emission_Inventory", "duplicate_key",
         "the same sector label appears on more than one row"),
    ]
    bad = pd.Series(False, index=cells.index)
    for mask, *_ in problems:
        bad |= mask.fillna(False)
    rejected = []
    for idx in cells.index[bad]:
        row = cells.loc[idx]
        hits = [(f or row["fuel_label"], c, msg) for m, f, c, msg in problems if bool(m.fillna(False).loc[idx])]
        rejected.append({
            "line_no": int(row["line_no"]), "field": f"{sheet}!{cell_name.loc[idx]}", "reason_code": hits[0][1],
            "message": f"sheet '{sheet}', cell {cell_name.loc[idx]} ({row['row_label']} × {row['fuel_label']}): "
                       + "; ".join(m for _, _, m in hits),
            "raw": _raw({"sheet": sheet, "row_label": row["row_label"], "column": row["fuel_label"],
                         "cell": cell_name.loc[idx], "value": row["raw_value"]}),
        })
    good = cells[~bad]
    records = pd.DataFrame({
        "region": province,
        "region_level": "province",
        "year": year,
        "sector": good["row_label"].where(good["row_label"].ne(PROVINCE_TOTAL_ROW), TOTAL),
        "fuel": good["fuel_label"].where(good["fuel_label"].ne(PROVINCE_TOTAL_COLUMN), TOTAL),
        "co2_mt": value[~bad],
        "source_code": "ceads_province",
        "sheet": sheet,
        "row_label": good["row_label"],
        "cell": cell_name[~bad],
        "line_no": good["line_no"].astype("int64"),
    })
    rejects = pd.DataFrame(rejected, columns=REJECT_COLUMNS).astype({"line_no": "int64"}) if rejected \
        else empty_rejects()
    return records.reset_index(drop=True), rejects, len(rows)
