"""The bureau's section registry (config/sections.yaml) → registry rows, validated.

The file is configuration the bureau owns (target classes, assessment levels, roles, corrected
coordinates); this module turns it into rows in the shape of ``warehouse.registry.SITE_COLUMNS``
(kind ``water_section``, code = name_zh, the name the publications use) for
``warehouse.registry.upsert_sites`` (``monitoring``, automatic | manual, is one of them: the alerts
tell a silent automatic section from a manual one). Every error names the file, the section and the field.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import yaml

from envmon.settings import CONFIG_DIR
from warehouse.registry import SITE_COLUMNS

KIND = "water_section"
TOP_KEYS = frozenset({"version", "updated", "sections"})
REQUIRED = ("name_zh", "river", "water_body", "target_class", "monitoring")
OPTIONAL = ("province", "city", "district", "basin", "role", "assessment_level", "lon", "lat",
            "active_from", "active_to", "notes")
ALLOWED = {
    "water_body": ("river", "lake_reservoir"),
    "role": ("entry", "exit", "control", "mouth"),
    "assessment_level": ("national", "provincial", "municipal"),
    "monitoring": ("automatic", "manual"),
}
TEXT_FIELDS = ("name_zh", "province", "city", "district", "river", "basin", "notes")
COLUMNS = list(SITE_COLUMNS)


class SectionConfigError(ValueError):
    """config/sections.yaml is invalid: the message names the file, the section and the field."""

    def __init__(self, path: Path | str, message: str, section: str | None = None, field: str | None = None):
        self.path, self.section, self.field = str(path), section, field
        where = self.path + (f": section '{section}'" if section else "") + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


def _check_section(path: Path, position: int, entry) -> dict:
    if not isinstance(entry, dict):
        raise SectionConfigError(path, f"entry {position} of 'sections' is not a mapping of keys")
    name = entry.get("name_zh")
    label = str(name).strip() if isinstance(name, str) and name.strip() else f"#{position}"
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise SectionConfigError(path, f"unknown key(s) {', '.join(map(str, unknown))}; allowed: "
                                       f"{', '.join((*REQUIRED, *OPTIONAL))}", label, str(unknown[0]))
    for key in REQUIRED:
        if entry.get(key) is None or (isinstance(entry.get(key), str) and not entry[key].strip()):
            raise SectionConfigError(path, "is required", label, key)
    row = {k: entry.get(k) for k in (*REQUIRED, *OPTIONAL)}
    for key in TEXT_FIELDS:
        if row[key] is not None and not isinstance(row[key], str):
            raise SectionConfigError(path, f"must be text, got {row[key]!r}", label, key)
        if isinstance(row[key], str):
            row[key] = row[key].strip() or None
    target = row["target_class"]
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 6:
        raise SectionConfigError(path, f"must be an integer 1–6 (GB 3838 class I…劣V), got {target!r}",
                                 label, "target_class")
    for key, allowed in ALLOWED.items():
        if row[key] is not None and row[key] not in allowed:
            raise SectionConfigError(path, f"must be one of {', '.join(allowed)}"
                                           f"{' or null' if key not in REQUIRED else ''}, got {row[key]!r}", label, key)
    for key, bound in (("lon", 180), ("lat", 90)):
        value = row[key]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or abs(value) > bound:
            raise SectionConfigError(path, f"must be degrees within ±{bound} or null, got {value!r}", label, key)
    if (row["lon"] is None) != (row["lat"] is None):
        raise SectionConfigError(path, "lon and lat must be given together (or both null)", label,
                                 "lat" if row["lat"] is None else "lon")
    for key in ("active_from", "active_to"):
        if row[key] is not None and not isinstance(row[key], dt.date):
            raise SectionConfigError(path, f"must be a date YYYY-MM-DD or null, got {row[key]!r}", label, key)
    if row["active_from"] and row["active_to"] and row["active_from"] > row["active_to"]:
        raise SectionConfigError(path, "active_to is before active_from", label, "active_to")
    return row


def load_sections(path: Path = CONFIG_DIR / "sections.yaml") -> pd.DataFrame:
    """Validated sections in the registry's shape (``SITE_COLUMNS``)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            document = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise SectionConfigError(path, f"not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise SectionConfigError(path, "must be a mapping with version, updated and sections")
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise SectionConfigError(path, f"unknown top-level key(s) {', '.join(map(str, unknown))}; "
                                       f"allowed: {', '.join(sorted(TOP_KEYS))}", field=str(unknown[0]))
    if document.get("version") in (None, ""):
        raise SectionConfigError(path, "the file needs a 'version'", field="version")
    if not isinstance(document.get("updated"), dt.date):
        raise SectionConfigError(path, f"'updated' must be a date YYYY-MM-DD, got {document.get('updated')!r}",
                                 field="updated")
    entries = document.get("sections")
    if not isinstance(entries, list) or not entries:
        raise SectionConfigError(path, "'sections' must be a non-empty list", field="sections")
    rows = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        row = _check_section(path, position, entry)
        if row["name_zh"] in seen:
            raise SectionConfigError(path, "duplicate section name (names are the registry codes)",
                                     row["name_zh"], "name_zh")
        seen.add(row["name_zh"])
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["code"] = frame["name_zh"]
    frame["kind"] = KIND
    frame["is_background"] = False
    frame["target_class"] = frame["target_class"].astype("int64")
    return frame.reindex(columns=COLUMNS)
