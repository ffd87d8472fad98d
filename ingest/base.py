"""What every adapter hands to the quality stage: the narrow form plus the raw lines it came from.

An adapter reads one file in one publisher's format and yields, per value cell, a record
(site, parameter, time in Beijing time, value, source flag). It never drops anything: a line it
cannot turn into records becomes a line reject with a reason, and a cell it cannot read keeps
its raw text so the quality stage can quarantine it with the file, line and field named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

BEIJING = "Asia/Shanghai"

#: Columns of ``ParsedBatch.records``.
RECORD_COLUMNS = ["line_no", "site_code", "parameter", "field", "observed_at", "value", "raw_value", "unit", "source_flag"]
#: Columns of ``ParsedBatch.line_rejects``.
REJECT_COLUMNS = ["line_no", "field", "reason_code", "message"]

#: Cell texts that publishers use for "no value". They become missing values, not errors.
MISSING_MARKERS = frozenset({"", "-", "--", "—", "NA", "N/A", "NaN", "nan", "null", "NULL", "-999", "-999.0", "-99", "*"})


class IngestError(Exception):
    """A file that cannot be read at all: names the file, and the line and field when known."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = str(path), line, field
        where = self.path + (f", line {line}" if line is not None else "") + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass
class ParsedBatch:
    dataset: str
    domain: str
    source_code: str
    path: Path
    records: pd.DataFrame
    raw: pd.DataFrame
    line_rejects: pd.DataFrame
    lines_read: int
    cadence: pd.Timedelta
    published: pd.DataFrame | None = field(default=None)

    @property
    def rows_read(self) -> int:
        """Rows for the accounting: one per value cell, plus one per line that gave no cells."""
        return len(self.records) + len(self.line_rejects)


@dataclass(frozen=True)
class Adapter:
    """A publisher format: which dataset it feeds, from which source, and how to parse a file."""

    dataset: str
    source_code: str
    domain: str
    parse: Callable[[Path], ParsedBatch]
    #: Measurement table key (``warehouse.load.MEASUREMENT_TABLES``) when not the domain's own.
    store: str | None = None


def file_checksum(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def clean_columns(path: Path | str, columns) -> list[str]:
    """Header names with surrounding blanks removed. Two columns that name the same thing once
    stripped (``pm10`` and `` pm10 ``) leave no way to tell which one holds the values: the file is
    refused, naming the column, instead of one of them being read and the other silently dropped."""
    names = [str(c).strip() for c in columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IngestError(path, f"column '{name}' appears twice in the header", line=1, field=name)
        seen.add(name)
    return names


def numbered_lines(frame: pd.DataFrame) -> pd.DataFrame:
    """Index = file line numbers (header = line 1) of a CSV read with ``skip_blank_lines=False``. Lines
    without any text carry nothing and are dropped afterwards, so the numbers after them stay right
    (skipped while reading, every later quarantine message would name the line above the real one)."""
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line_no")
    if frame.empty or not len(frame.columns):
        return frame
    # Only lines whose first cell is empty can be blank: the full check runs on those few.
    suspects = frame.loc[frame.iloc[:, 0].astype(str).str.strip().eq("")]
    if suspects.empty:
        return frame
    blank = suspects.apply(lambda col: col.astype(str).str.strip().eq("")).all(axis=1)
    return frame.drop(index=blank.index[blank.to_numpy()])


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised cell parsing: (value, is_missing_marker). Unreadable text → NaN, not missing.
    Each distinct cell text is parsed once: a file repeats few distinct texts (a national day file
    has 260 k cells and a few thousand texts)."""
    if not isinstance(raw.dtype, pd.StringDtype):  # numbers or mixed objects: judged by their text
        raw = raw.fillna("").astype(str)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    text = pd.Series([*uniques, ""], dtype=object).str.strip()  # code -1 (an empty cell) takes ""
    missing = text.isin(MISSING_MARKERS).to_numpy()
    value = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype="float64")
    return pd.Series(value[codes], index=raw.index), pd.Series(missing[codes], index=raw.index)


def melt_wide(
    frame: pd.DataFrame,
    id_columns: dict[str, str],
    value_columns: dict[str, tuple[str, str]],
) -> pd.DataFrame:
    """Wide publisher table → narrow records.

    ``id_columns`` maps record columns (line_no, site_code, observed_at) to frame columns;
    ``value_columns`` maps a source column to (parameter code, unit).
    """
    n = len(frame)
    parts = []
    for column, (parameter, unit) in value_columns.items():
        raw = frame[column]
        value, missing = parse_numbers(raw)
        parts.append(pd.DataFrame({
            **{rec: frame[src].array for rec, src in id_columns.items()},
            "parameter": parameter,
            "field": column,
            "value": value.to_numpy(),
            "raw_value": raw.fillna("").astype(str).to_numpy(),
            "unit": unit,
            "source_flag": np.where(missing.to_numpy(), "missing", "normal"),
        }, index=range(n)))
    if not parts:
        return pd.DataFrame(columns=RECORD_COLUMNS)
    return pd.concat(parts, ignore_index=True)[RECORD_COLUMNS]


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS}).astype({"line_no": "int64"})
