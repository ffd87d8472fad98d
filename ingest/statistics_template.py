"""The bureau's yearly statistics (GDP, energy, population) → rows of ``obs.socioeconomic``.

No public machine-readable source gives Leshan's GDP or energy by year, so the bureau fills
``config/templates/statistics_template.csv`` (documented in ``config/templates/README.md``) from
the statistical yearbook. This module reads a filled copy (CSV, UTF-8 or GB18030 as Excel saves it,
or the same columns in the first sheet of an .xlsx) and checks every line:

* a file without the required columns, or that cannot be decoded, is an :class:`IngestError`
  naming the file, line and field;
* a bad line becomes a reject naming its line and field, with every problem of the line in the
  message: unknown indicator, unit not the indicator's unit, constant-price GDP without its price
  base year, a value that is missing / not a number / negative / zero, a missing source, a region
  that is not a region code, and the same region/year/indicator on two lines (both rejected: the
  pipeline cannot know which one is right).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from ingest.base import IngestError
from ingest.ceads import REJECT_COLUMNS, TableBatch, empty_rejects

COLUMNS = ["region", "year", "indicator", "value", "unit", "price_base_year", "source"]
REQUIRED = ["region", "year", "indicator", "value", "unit", "source"]
#: Indicator → the unit the template must state (statistical yearbook units).
UNITS: dict[str, str] = {
    "gdp_current": "亿元",
    "gdp_constant": "亿元(YYYY年价)",
    "energy_total": "万吨标准煤",
    "energy_per_gdp": "吨标准煤/万元",
    "population": "万人",
}
#: Indicators that may carry a price base year (constant-price figures); required for gdp_constant.
PRICE_BASED = frozenset({"gdp_constant", "energy_per_gdp"})
RECORD_COLUMNS = ["region", "year", "indicator", "value", "unit", "price_base_year", "source", "line_no"]

_CONSTANT_UNIT = re.compile(r"^亿元(?:\((\d{4})年价\))?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def normalise_unit(unit: str) -> str:
    """Full-width brackets and stray spaces as Excel users type them → the canonical spelling."""
    return unit.replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(path, "neither UTF-8 nor GB18030 text: save the template as CSV (UTF-8)")


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every line, header first; blank lines are left out."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise IngestError(path, f"not a readable xlsx workbook: {exc}") from exc
        try:
            sheet = workbook[workbook.sheetnames[0]]
            rows = [(n, ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                         for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
        finally:
            workbook.close()
    else:
        reader = csv.reader(io.StringIO(_decode(path), newline=""))
        rows = []
        try:
            for cells in reader:
                rows.append((reader.line_num, cells))
        except csv.Error as exc:
            raise IngestError(path, f"unreadable CSV: {exc}", line=reader.line_num) from exc
    return [(n, [c.strip() for c in cells]) for n, cells in rows if any(c.strip() for c in cells)]


def _number(text: str) -> float | None:
    text = text.replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def _year(text: str) -> int | None:
    value = _number(text)
    if value is None or not value.is_integer() or not 1950 <= value <= 2100:
        return None
    return int(value)


def _check_line(cells: dict[str, str], known_regions: Collection[str] | None) -> tuple[dict, list]:
    """The record of one line and its problems [(field, reason_code, message)]."""
    problems: list[tuple[str, str, str]] = []
    region = cells["region"]
    if not region:
        problems.append(("region", "missing_region", "region is empty"))
    elif known_regions is not None and region not in known_regions:
        hint = ""
        for candidate in (region.removesuffix("市"), region.removesuffix("省")):
            if candidate != region and candidate in known_regions:
                hint = f" — did you mean '{candidate}'?"
        problems.append(("region", "unknown_region",
                         f"'{region}' is not a region code (cities as 乐山, provinces as 四川省){hint}"))
    year = _year(cells["year"])
    if year is None:
        problems.append(("year", "bad_year", f"year '{cells['year']}' is not a whole year between 1950 and 2100"))
    indicator = cells["indicator"]
    if indicator not in UNITS:
        problems.append(("indicator", "unknown_indicator",
                         f"unknown indicator '{indicator}' (one of {', '.join(UNITS)})"))
    raw_value = cells["value"]
    value = _number(raw_value) if raw_value else None
    if not raw_value:
        problems.append(("value", "missing_value", "value is empty (leave the line out if the figure is unknown)"))
    elif value is None:
        problems.append(("value", "not_a_number", f"value '{raw_value}' is not a number"))
    elif value < 0:
        problems.append(("value", "negative_value", f"value {raw_value} is negative"))
    elif value == 0:
        problems.append(("value", "zero_value", "value is zero"))
    base_text = cells.get("price_base_year", "")
    base = _year(base_text) if base_text else None
    if base_text and base is None:
        problems.append(("price_base_year", "bad_year", f"price_base_year '{base_text}' is not a year"))
    unit = normalise_unit(cells["unit"])
    if indicator == "gdp_constant":
        match = _CONSTANT_UNIT.match(unit)
        if not match:
            problems.append(("unit", "unit_mismatch", f"unit '{cells['unit']}' is not 亿元(YYYY年价) for gdp_constant"))
        elif match.group(1) and base is not None and int(match.group(1)) != base:
            problems.append(("unit", "unit_mismatch",
                             f"unit says {match.group(1)} prices but price_base_year is {base}"))
        if not base_text:
            base = int(match.group(1)) if match and match.group(1) else None
            if base is None:
                problems.append(("price_base_year", "missing_price_base_year",
                                 "gdp_constant needs the year of its constant prices (price_base_year)"))
        if base is not None:
            unit = f"亿元({base}年价)"
    elif indicator in UNITS:
        if unit != UNITS[indicator]:
            problems.append(("unit", "unit_mismatch", f"unit '{cells['unit']}' is not '{UNITS[indicator]}' "
                                                      f"for {indicator}"))
        if base_text and indicator not in PRICE_BASED:
            problems.append(("price_base_year", "unexpected_price_base_year",
                             f"{indicator} is not a constant-price figure; leave price_base_year empty"))
    if not cells["source"]:
        problems.append(("source", "missing_source", "source is empty (yearbook, table or page)"))
    record = {"region": region, "year": year, "indicator": indicator, "value": value, "unit": unit,
              "price_base_year": base, "source": cells["source"]}
    return record, problems


def read(path: Path | str, known_regions: Collection[str] | None = None) -> TableBatch:
    """A filled statistics template → records in ``obs.socioeconomic``'s shape plus line rejects.

    ``known_regions``: when given, a region outside it is rejected (a typo such as ``乐山市`` would
    otherwise be stored and never match the CO2 inventory of ``乐山``).
    """
    path = Path(path)
    lines = _lines(path)
    if not lines:
        raise IngestError(path, "empty file: the header line is missing", line=1)
    header_line, header = lines[0]
    names = [h.lower().lstrip("\ufeff") for h in header]
    for column in REQUIRED:
        if column not in names:
            raise IngestError(path, f"column '{column}' missing from the header (needs {', '.join(COLUMNS)})",
                              line=header_line, field=column)
    records, rejects = [], []
    for line_no, cells in lines[1:]:
        padded = cells + [""] * (len(names) - len(cells))
        row = {name: padded[i] for i, name in enumerate(names) if name}
        extra = [c for c in cells[len(names):] if c]
        cells_by_name = {c: row.get(c, "") for c in COLUMNS}
        record, problems = _check_line(cells_by_name, known_regions)
        if extra:
            problems.append(("line", "extra_cells", f"{len(extra)} cell(s) beyond the header"))
        raw = json.dumps(row, ensure_ascii=False)
        if problems:
            rejects.append({"line_no": line_no, "field": problems[0][0], "reason_code": problems[0][1],
                            "message": "; ".join(f"{f}: {m}" for f, _, m in problems), "raw": raw})
        else:
            records.append({**record, "line_no": line_no, "raw": raw})
    good = pd.DataFrame(records, columns=[*RECORD_COLUMNS, "raw"])
    key = ["region", "year", "indicator"]
    dup = good.duplicated(key, keep=False)
    if dup.any():
        first_lines = good[dup].groupby(key)["line_no"].apply(list)
        for idx in good.index[dup]:
            row = good.loc[idx]
            others = [n for n in first_lines.loc[tuple(row[key])] if n != row["line_no"]]
            rejects.append({"line_no": int(row["line_no"]), "field": "indicator", "reason_code": "duplicate_key",
                            "message": f"{row['region']} {row['year']} {row['indicator']} also on line(s) "
                                       f"{', '.join(map(str, others))}; keep one line", "raw": row["raw"]})
        good = good[~dup]
    good = good.drop(columns="raw").reset_index(drop=True)
    good = good.astype({"year": "int64", "value": "float64", "line_no": "int64"})
    good["price_base_year"] = good["price_base_year"].astype("Int64")
    rejected = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("line_no", kind="stable") \
        .reset_index(drop=True).astype({"line_no": "int64"}) if rejects else empty_rejects()
    return TableBatch(path, "bureau_statistics", "bureau_statistics", good, rejected,
                      lines_read=lines[-1][0] if lines else 0)
