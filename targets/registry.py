"""The target registry: ``config/targets.yaml`` loaded, validated and synced to ``registry.target``.

The YAML is the bureau's configuration, edited by people: every mistake must be reported with
the target id and the field (unknown key, unknown methodology, bad comparator, a missing value),
before anything reaches the database. Syncing is an upsert by id; a target removed from the file
is kept (its statuses stay readable) but marked inactive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.types.json import Jsonb

from envmon.settings import CONFIG_DIR
from targets.methodologies import METHODOLOGIES, SCOPE_KINDS, Scope

DEFAULT_PATH = CONFIG_DIR / "targets.yaml"

TOP_KEYS = ("version", "updated", "documents", "scopes", "targets")
REQUIRED_KEYS = (
    "id",
    "indicator",
    "name_zh",
    "scope",
    "comparator",
    "unit",
    "deadline",
    "attribute",
    "source",
    "methodology",
)
OPTIONAL_KEYS = (
    "value",
    "assigned_value",
    "assigned_direction",
    "assigned_by",
    "baseline",
    "also_cited",
    "notes",
)
SCOPE_KEYS = ("name_zh", "air_site", "water_sections", "water_rivers", "carbon_regions", "note")
DOCUMENT_KEYS = ("file", "title_zh")
CITATION_KEYS = ("document", "lines", "quote")
COMPARATORS = ("ge", "le", "eq", "assigned")
ATTRIBUTES = ("binding", "expected", "text")
_LINES = re.compile(r"^(\d+)(?:-(\d+))?$")


class TargetConfigError(ValueError):
    """A mistake in config/targets.yaml; the message names the target (or scope) and the field."""


@dataclass(frozen=True)
class Citation:
    document: str
    lines: str
    quote: str
    id: str | None = None  # the targets.md number this citation stands for, when it is another one

    @property
    def line_range(self) -> tuple[int, int]:
        first, last = _LINES.match(self.lines).groups()
        return int(first), int(last or first)

    def as_json(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("id", self.id),
                ("document", self.document),
                ("lines", self.lines),
                ("quote", self.quote),
            )
            if v is not None
        }


@dataclass(frozen=True)
class Target:
    id: str
    indicator: str
    name_zh: str
    scope: str
    comparator: str
    value: float | None
    assigned_value: float | None
    assigned_direction: str | None
    assigned_by: str | None
    unit: str
    baseline_value: float | None
    baseline_year: int | None
    deadline: int | None
    attribute: str
    source: Citation
    also_cited: tuple[Citation, ...]
    methodology: str
    notes: str | None

    @property
    def target_value(self) -> float | None:
        """The number to compare with: the plan's value, or the assigned one (None = not set)."""
        return self.assigned_value if self.comparator == "assigned" else self.value

    @property
    def effective_comparator(self) -> str:
        return self.assigned_direction if self.comparator == "assigned" else self.comparator


@dataclass(frozen=True)
class TargetConfig:
    path: Path
    version: int
    updated: dt.date
    documents: dict[str, dict[str, str]]
    scopes: dict[str, Scope]
    targets: tuple[Target, ...]

    def target(self, target_id: str) -> Target:
        return next(t for t in self.targets if t.id == target_id)


def _fail(path: Path, where: str, field: str, message: str) -> TargetConfigError:
    return TargetConfigError(f"{path}: {where}: field '{field}': {message}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _citation(path: Path, where: str, field: str, raw: Any, documents: dict, allow_id: bool) -> Citation:
    if not isinstance(raw, dict):
        raise _fail(path, where, field, "must be a mapping with document, lines, quote")
    allowed = (*CITATION_KEYS, "id") if allow_id else CITATION_KEYS
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise _fail(
            path, where, field, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )
    for key in CITATION_KEYS:
        if raw.get(key) in (None, ""):
            raise _fail(path, where, f"{field}.{key}", "missing")
    document, lines = str(raw["document"]), str(raw["lines"])
    if document not in documents:
        raise _fail(
            path, where, f"{field}.document", f"{document!r} is not one of the documents {sorted(documents)}"
        )
    match = _LINES.match(lines)
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise _fail(path, where, f"{field}.lines", f"{lines!r} is not a line or a range like 650-653")
    return Citation(document, lines, str(raw["quote"]), str(raw["id"]) if raw.get("id") else None)


def _scope(path: Path, key: str, raw: Any) -> Scope:
    where = f"scope {key}"
    kind = key.split(":", 1)[0]
    if kind not in SCOPE_KINDS:
        raise _fail(
            path,
            where,
            "key",
            f"scope kind {kind!r} is not one of {', '.join(SCOPE_KINDS)} (a key is a kind, or kind:name)",
        )
    if not isinstance(raw, dict):
        raise _fail(path, where, "name_zh", "a scope must be a mapping")
    unknown = sorted(set(raw) - set(SCOPE_KEYS))
    if unknown:
        raise _fail(path, where, unknown[0], f"unknown key (allowed: {', '.join(SCOPE_KEYS)})")
    if not raw.get("name_zh"):
        raise _fail(path, where, "name_zh", "missing")
    sections = raw.get("water_sections") or ()
    if isinstance(sections, str) and sections != "assessed":
        raise _fail(path, where, "water_sections", "must be 'assessed' or a list of section codes")
    for field in ("water_rivers", "carbon_regions"):
        if not isinstance(raw.get(field) or [], list):
            raise _fail(path, where, field, "must be a list")
    return Scope(
        key=key,
        kind=kind,
        name_zh=str(raw["name_zh"]),
        air_site=raw.get("air_site"),
        water_sections=sections if isinstance(sections, str) else tuple(map(str, sections)),
        water_rivers=tuple(map(str, raw.get("water_rivers") or ())),
        carbon_regions=tuple(map(str, raw.get("carbon_regions") or ())),
        note=raw.get("note"),
    )


def _target(path: Path, raw: Any, index: int, documents: dict, scopes: dict[str, Scope]) -> Target:
    if not isinstance(raw, dict):
        raise _fail(path, f"target #{index + 1}", "id", "each target must be a mapping")
    tid = raw.get("id")
    where = f"target {tid}" if tid else f"target #{index + 1}"
    unknown = sorted(set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise _fail(
            path,
            where,
            unknown[0],
            "unknown key (allowed: " + ", ".join((*REQUIRED_KEYS, *OPTIONAL_KEYS)) + ")",
        )
    for key in REQUIRED_KEYS:
        if key not in raw or (raw[key] in (None, "") and key != "deadline"):
            raise _fail(path, where, key, "missing")
    comparator = raw["comparator"]
    if comparator not in COMPARATORS:
        raise _fail(path, where, "comparator", f"{comparator!r} is not one of {', '.join(COMPARATORS)}")
    if comparator == "assigned":
        if raw.get("value") is not None:
            raise _fail(
                path,
                where,
                "value",
                "an assigned target has no plan value: put the number the "
                "state/province assigns in assigned_value",
            )
        if "assigned_value" not in raw:
            raise _fail(path, where, "assigned_value", "missing (null until the assignment is known)")
        if raw["assigned_value"] is not None and not _number(raw["assigned_value"]):
            raise _fail(path, where, "assigned_value", f"{raw['assigned_value']!r} is not a number")
        if raw.get("assigned_direction") not in ("ge", "le"):
            raise _fail(
                path, where, "assigned_direction", "must be ge or le (how the assigned value is compared)"
            )
    else:
        for key in ("assigned_value", "assigned_direction"):
            if key in raw:
                raise _fail(path, where, key, f"only for comparator 'assigned', not {comparator!r}")
        if not _number(raw.get("value")):
            raise _fail(path, where, "value", f"{raw.get('value')!r} is not a number")
    if raw["scope"] not in scopes:
        raise _fail(
            path, where, "scope", f"{raw['scope']!r} is not defined under scopes ({', '.join(scopes)})"
        )
    if raw["methodology"] not in METHODOLOGIES:
        raise _fail(
            path,
            where,
            "methodology",
            f"unknown methodology {raw['methodology']!r} (see targets.methodologies.METHODOLOGIES)",
        )
    expected_unit = METHODOLOGIES[raw["methodology"]].unit
    if expected_unit is not None and raw["unit"] != expected_unit:
        raise _fail(
            path,
            where,
            "unit",
            f"{raw['unit']!r} differs from the unit of methodology {raw['methodology']} ({expected_unit!r})",
        )
    if raw["attribute"] not in ATTRIBUTES:
        raise _fail(path, where, "attribute", f"{raw['attribute']!r} is not one of {', '.join(ATTRIBUTES)}")
    deadline = raw["deadline"]
    if deadline is not None and not (isinstance(deadline, int) and 2000 <= deadline <= 2100):
        raise _fail(path, where, "deadline", f"{deadline!r} is not a year")
    baseline = raw.get("baseline") or {}
    if not isinstance(baseline, dict) or set(baseline) - {"value", "year"}:
        raise _fail(path, where, "baseline", "must be a mapping with value and year")
    if baseline.get("value") is not None and not _number(baseline["value"]):
        raise _fail(path, where, "baseline.value", f"{baseline['value']!r} is not a number")
    if baseline.get("year") is not None and not isinstance(baseline["year"], int):
        raise _fail(path, where, "baseline.year", f"{baseline['year']!r} is not a year")
    also = raw.get("also_cited") or []
    if not isinstance(also, list):
        raise _fail(path, where, "also_cited", "must be a list of citations")
    return Target(
        id=str(tid),
        indicator=str(raw["indicator"]),
        name_zh=str(raw["name_zh"]),
        scope=raw["scope"],
        comparator=comparator,
        value=float(raw["value"]) if raw.get("value") is not None else None,
        assigned_value=float(raw["assigned_value"]) if raw.get("assigned_value") is not None else None,
        assigned_direction=raw.get("assigned_direction"),
        assigned_by=raw.get("assigned_by"),
        unit=str(raw["unit"]),
        baseline_value=float(baseline["value"]) if baseline.get("value") is not None else None,
        baseline_year=baseline.get("year"),
        deadline=deadline,
        attribute=raw["attribute"],
        source=_citation(path, where, "source", raw["source"], documents, allow_id=False),
        also_cited=tuple(
            _citation(path, where, f"also_cited[{i}]", c, documents, allow_id=True)
            for i, c in enumerate(also)
        ),
        methodology=raw["methodology"],
        notes=raw.get("notes"),
    )


def parse_targets(data: Any, path: Path = DEFAULT_PATH) -> TargetConfig:
    """Validate the parsed YAML; raises :class:`TargetConfigError` naming target/scope and field."""
    if not isinstance(data, dict):
        raise TargetConfigError(f"{path}: the file must be a mapping with {', '.join(TOP_KEYS)}")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise TargetConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)} (allowed: {', '.join(TOP_KEYS)})"
        )
    if not isinstance(data.get("version"), int):
        raise TargetConfigError(f"{path}: field 'version': must be an integer (bump it on every edit)")
    if not isinstance(data.get("updated"), dt.date):
        raise TargetConfigError(f"{path}: field 'updated': must be a date (YYYY-MM-DD)")
    documents = data.get("documents") or {}
    if not isinstance(documents, dict) or not documents:
        raise TargetConfigError(f"{path}: field 'documents': must map document codes to file and title_zh")
    documents = {str(k): v for k, v in documents.items()}
    for code, doc in documents.items():
        if not isinstance(doc, dict) or set(doc) != set(DOCUMENT_KEYS):
            raise TargetConfigError(f"{path}: document {code}: needs exactly {', '.join(DOCUMENT_KEYS)}")
    raw_scopes = data.get("scopes")
    if not isinstance(raw_scopes, dict) or not raw_scopes:
        raise TargetConfigError(f"{path}: field 'scopes': must be a mapping of scope keys")
    scopes = {str(k): _scope(path, str(k), v) for k, v in raw_scopes.items()}
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise TargetConfigError(f"{path}: field 'targets': must be a non-empty list")
    targets = [_target(path, raw, i, documents, scopes) for i, raw in enumerate(raw_targets)]
    seen: set[str] = set()
    for target in targets:
        if target.id in seen:
            raise _fail(path, f"target {target.id}", "id", "duplicate id")
        seen.add(target.id)
    return TargetConfig(path, data["version"], data["updated"], documents, scopes, tuple(targets))


def load_targets(path: Path | str = DEFAULT_PATH) -> TargetConfig:
    """Read and validate ``config/targets.yaml`` (or another registry file)."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return parse_targets(data, path)


_COLUMNS = (
    "target_id",
    "indicator",
    "name_zh",
    "scope",
    "scope_name_zh",
    "comparator",
    "value",
    "assigned_direction",
    "assigned_by",
    "unit",
    "baseline_value",
    "baseline_year",
    "deadline",
    "attribute",
    "source_document",
    "source_title",
    "source_lines",
    "source_quote",
    "also_cited",
    "methodology",
    "notes",
    "active",
    "config_version",
    "config_updated",
)


def _row(config: TargetConfig, t: Target) -> tuple:
    return (
        t.id,
        t.indicator,
        t.name_zh,
        t.scope,
        config.scopes[t.scope].name_zh,
        t.comparator,
        t.target_value,
        t.assigned_direction,
        t.assigned_by,
        t.unit,
        t.baseline_value,
        t.baseline_year,
        t.deadline,
        t.attribute,
        t.source.document,
        config.documents[t.source.document]["title_zh"],
        t.source.lines,
        t.source.quote,
        Jsonb([c.as_json() for c in t.also_cited]),
        t.methodology,
        t.notes,
        True,
        config.version,
        config.updated,
    )


def sync_targets(conn: psycopg.Connection, config: TargetConfig) -> int:
    """Upsert every target by id; ids no longer in the file become inactive. Returns rows changed."""
    updatable = _COLUMNS[1:]
    changed = 0
    with conn.transaction(), conn.cursor() as cur:
        for target in config.targets:
            cur.execute(
                f"""INSERT INTO registry.target ({", ".join(_COLUMNS)})
                    VALUES ({", ".join("%s" for _ in _COLUMNS)})
                    ON CONFLICT (target_id) DO UPDATE SET
                        {", ".join(f"{c} = excluded.{c}" for c in updatable)},
                                                          updated_at = now()
                    WHERE ({", ".join(f"registry.target.{c}" for c in updatable)})
                          IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in updatable)})""",
                _row(config, target),
            )
            changed += cur.rowcount
        cur.execute(
            "UPDATE registry.target SET active = false, updated_at = now() "
            "WHERE active AND NOT (target_id = ANY(%s))",
            ([t.id for t in config.targets],),
        )
        changed += cur.rowcount
    return changed
