"""Versions of a month's export: ``OUT/YYYY-MM/vN/`` with a manifest (checksums, data cut-off, code
version) and, from the second version on, a summary of what changed.

Identity is decided on the CSVs (the tables' content): when a rerun's CSVs equal the latest
version's byte for byte, no version is created (status ``unchanged``). The manifest holds no
wall-clock time, so the same data and code give the same manifest.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from envmon.settings import REPO_ROOT
from exports.monthly import SHEETS, MonthlyReport, dumps

MAX_CELLS_LISTED = 200


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_version() -> str:
    """``git describe`` of the repository when it is a checkout, else the installed package version."""
    try:
        proc = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=10)
        if proc.returncode == 0 and proc.stdout.strip():
            return "git:" + proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "leshan-envmon " + version("leshan-envmon")
    except PackageNotFoundError:
        return "unknown"


def versions(month_dir: Path) -> list[int]:
    if not month_dir.is_dir():
        return []
    return sorted(int(m.group(1)) for p in month_dir.iterdir() if (m := re.fullmatch(r"v(\d+)", p.name)))


def csv_names() -> list[str]:
    return [f"{name}.csv" for name in SHEETS.values()]


def same_tables(new_dir: Path, old_dir: Path) -> bool:
    return all((old_dir / n).is_file() and (new_dir / n).read_bytes() == (old_dir / n).read_bytes()
               for n in csv_names())


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(path.read_bytes()), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _keyed(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    cols = [c for c in key if c in frame.columns] or list(frame.columns[:1])
    labels = frame[cols].astype(str).agg(" / ".join, axis=1)
    labels = labels + frame.groupby(labels).cumcount().map(lambda n: "" if n == 0 else f" #{n + 1}")
    return frame.set_index(labels)


def diff_summary(new_dir: Path, old_dir: Path, keys: dict[str, list[str]]) -> dict[str, Any]:
    """Per sheet: rows added, removed, and changed cells (row key, column, old → new)."""
    sheets: dict[str, Any] = {}
    for sheet, stem in SHEETS.items():
        new_path, old_path = new_dir / f"{stem}.csv", old_dir / f"{stem}.csv"
        if old_path.is_file() and new_path.read_bytes() == old_path.read_bytes():
            continue
        new = _keyed(_read(new_path), keys.get(sheet, []))
        old = _keyed(_read(old_path), keys.get(sheet, [])) if old_path.is_file() else new.iloc[0:0]
        added = [k for k in new.index if k not in old.index]
        removed = [k for k in old.index if k not in new.index]
        cells = []
        common = [k for k in new.index if k in old.index]
        columns = [c for c in new.columns if c in old.columns]
        for k in common:
            for c in columns:
                if new.at[k, c] != old.at[k, c]:
                    cells.append({"row": k, "column": c, "old": old.at[k, c], "new": new.at[k, c]})
        sheets[sheet] = {"csv": f"{stem}.csv", "rows_added": added, "rows_removed": removed,
                         "cells_changed": len(cells), "changes": cells[:MAX_CELLS_LISTED],
                         "columns_added": [c for c in new.columns if c not in old.columns],
                         "columns_removed": [c for c in old.columns if c not in new.columns]}
    lines = []
    for sheet, d in sheets.items():
        text = f"{sheet}：{d['cells_changed']} 个单元格变化"
        if d["rows_added"] or d["rows_removed"]:
            text += f"，新增 {len(d['rows_added'])} 行，删除 {len(d['rows_removed'])} 行"
        shown = [f"{c['row']} 的 {c['column']}：{c['old'] or '空'} → {c['new'] or '空'}" for c in d["changes"][:5]]
        if shown:
            text += "（" + "；".join(shown) + ("；…" if d["cells_changed"] > 5 else "") + "）"
        lines.append(text)
    return {"sheets_changed": list(sheets), "sheets": sheets, "text": "\n".join(lines)}


def manifest(report: MonthlyReport, version_dir: Path, version: int, previous: int | None,
             diff: dict[str, Any] | None, code: str) -> dict[str, Any]:
    files: dict[str, Any] = {}
    rows = {s.csv_name: (s.name, len(s.frame)) for s in report.sheets}
    for path in sorted(version_dir.iterdir()):
        if path.name in ("manifest.json", "diff_summary.json"):
            continue
        entry: dict[str, Any] = {"sha256": sha256(path), "bytes": path.stat().st_size}
        if path.name in rows:
            entry["sheet"], entry["rows"] = rows[path.name]
        files[path.name] = entry
    return {
        "month": report.label,
        "version": version,
        "previous_version": previous,
        "data_cutoff": report.cutoff,
        "code_version": code,
        "identity": "a rerun whose CSVs equal the latest version's creates no new version",
        "files": files,
        "completeness": {"complete": not report.missing, "missing": report.missing},
        "diff_summary": None if diff is None else {"sheets_changed": diff["sheets_changed"], "text": diff["text"]},
    }


def publish(report: MonthlyReport, out_root: Path, write_tables, write_documents) -> dict[str, Any]:
    """Write the month's files as a new version, or report ``unchanged`` when the tables are the
    latest version's. ``write_tables(dir)`` writes the CSVs, ``write_documents(dir)`` the rest."""
    month_dir = Path(out_root) / report.label
    month_dir.mkdir(parents=True, exist_ok=True)
    existing = versions(month_dir)
    latest = existing[-1] if existing else None
    staging = month_dir / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_tables(staging)
        if latest is not None and same_tables(staging, month_dir / f"v{latest}"):
            return {"status": "unchanged", "month": report.label, "version": latest,
                    "dir": str(month_dir / f"v{latest}"), "manifest": str(month_dir / f"v{latest}" / "manifest.json")}
        write_documents(staging)
        diff = None
        if latest is not None:
            diff = diff_summary(staging, month_dir / f"v{latest}", {s.name: s.key for s in report.sheets})
            (staging / "diff_summary.json").write_text(dumps(diff), encoding="utf-8")
        version = (latest or 0) + 1
        data = manifest(report, staging, version, latest, diff, code_version())
        (staging / "manifest.json").write_text(dumps(data), encoding="utf-8")
        final = month_dir / f"v{version}"
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"status": "created", "month": report.label, "version": version, "dir": str(final),
            "manifest": str(final / "manifest.json"), "previous_version": latest,
            "diff": None if diff is None else diff["text"]}
