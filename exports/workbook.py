"""The report's tables as files: one CSV per sheet (UTF-8 with BOM) and the Excel workbook.

Both are reproducible: CSV cells are formatted with each column's fixed decimals (rows come in
the order the report built them, which is sorted), and the workbook's timestamps (document
properties and zip entries) are set from the data cut-off, so unchanged data give the same bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from exports.monthly import MonthlyReport, Sheet

#: Excel opens a UTF-8 CSV with Chinese text correctly only when the file starts with a BOM.
CSV_ENCODING = "utf-8-sig"


def _cell_text(value: object, decimals: int | None) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if decimals is not None and isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        text = f"{float(value):.{decimals}f}"
        return text.lstrip("-") if float(text) == 0 else text
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def formatted(sheet: Sheet) -> pd.DataFrame:
    """The sheet as text cells: numbers with the column's fixed decimals, empty for missing."""
    out = pd.DataFrame(index=sheet.frame.index)
    for column in sheet.frame.columns:
        decimals = sheet.decimals.get(column)
        out[column] = [_cell_text(v, decimals) for v in sheet.frame[column].astype(object)]
    return out


def csv_bytes(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    formatted(sheet).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode(CSV_ENCODING)


def write_csvs(report: MonthlyReport, out_dir: Path) -> list[Path]:
    paths = []
    for sheet in report.sheets:
        path = out_dir / sheet.csv_name
        path.write_bytes(csv_bytes(sheet))
        paths.append(path)
    return paths


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fixed_time(report: MonthlyReport) -> datetime:
    """The workbook's creation time: the data cut-off (UTC, naive), or the month's first day."""
    if report.cutoff:
        ts = pd.Timestamp(report.cutoff).tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime().replace(microsecond=0)
    return datetime(report.month.year, report.month.month, 1)


def write_workbook(report: MonthlyReport, path: Path) -> Path:
    """Chinese headers with units, a title row and the header row frozen, fixed number formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin", color="999999")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in report.sheets:
        ws = wb.create_sheet(sheet.name)
        columns = list(sheet.frame.columns)
        ws.cell(row=1, column=1, value=sheet.title).font = Font(bold=True, size=13)
        if len(columns) > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
        for j, name in enumerate(columns, start=1):
            cell = ws.cell(row=2, column=j, value=name)
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        for i, row in enumerate(sheet.frame.itertuples(index=False), start=3):
            for j, (name, value) in enumerate(zip(columns, row, strict=True), start=1):
                if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                    continue
                if isinstance(value, np.integer):
                    value = int(value)
                elif isinstance(value, np.floating):
                    value = float(value)
                cell = ws.cell(row=i, column=j, value=value)
                decimals = sheet.decimals.get(name)
                if decimals is not None and isinstance(value, (int, float)):
                    cell.number_format = "0" if decimals == 0 else "0." + "0" * decimals
        cells = formatted(sheet)
        for j, name in enumerate(columns, start=1):
            longest = max([_width(name) // 2 + 2, *[_width(v) for v in cells[name]]], default=8)
            ws.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, 8), 60)
        ws.row_dimensions[2].height = 32
        ws.freeze_panes = "A3"
        if columns:
            ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(2, len(sheet.frame) + 2)}"
    when = fixed_time(report)
    wb.properties.creator = "envmon exports"
    wb.properties.title = f"乐山市生态环境月度达标报告 {report.label}"
    wb.properties.created = when
    wb.save(path)
    normalise_zip(path, when)
    return path


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def normalise_zip(path: Path, when: datetime) -> None:
    """Rewrite an xlsx with every zip entry dated ``when`` and docProps' modified time = ``when``
    (openpyxl stamps the save time into both), entries in their original order."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
    path.write_bytes(buffer.getvalue())
