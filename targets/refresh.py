"""Compute the status of every target on an as-of date and store it in ``derived.target_status``.

The registry is synced from ``config/targets.yaml`` first, so the table always reflects the file
the bureau last edited. A target whose deadline year ended before the as-of date is evaluated on
31 December of its deadline year (the plan judges that year, not the current one); the stored
row keeps both dates (``as_of`` and ``evaluated_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from targets.methodologies import METHODOLOGIES, Actual, Scope
from targets.registry import DEFAULT_PATH, Target, TargetConfig, load_targets, sync_targets
from targets.status import Assessment, assess, deadline_end


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    scope: Scope
    as_of: date
    evaluated_on: date
    actual: Actual
    assessment: Assessment

    def detail(self) -> dict[str, Any]:
        """Everything needed to explain the row: methodology detail, scope, rule, citation."""
        out: dict[str, Any] = dict(self.actual.detail)
        out.update(
            scope=self.scope.key,
            scope_name_zh=self.scope.name_zh,
            rule=self.assessment.rule,
            citation=f"{self.target.source.document}:{self.target.source.lines}",
            methodology_reads=list(METHODOLOGIES[self.target.methodology].reads),
        )
        if self.scope.note:
            out["scope_note"] = self.scope.note
        if self.actual.insufficient_reason:
            out["insufficient_reason"] = self.actual.insufficient_reason
        if self.assessment.good_days_needed is not None:
            out["good_days_needed"] = self.assessment.good_days_needed
        return out


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def evaluate_target(
    conn: psycopg.Connection, config: TargetConfig, target: Target, as_of: date
) -> TargetStatus:
    """One target's actual value and status on ``as_of``."""
    scope = config.scopes[target.scope]
    evaluated_on = min(as_of, deadline_end(target.deadline)) if target.deadline else as_of
    method = METHODOLOGIES[target.methodology]
    actual = method(conn, scope, evaluated_on)
    assessment = assess(
        value=actual.value,
        target=target.target_value,
        comparator=target.effective_comparator,
        deadline=target.deadline,
        as_of=evaluated_on,
        kind=method.kind,
        ytd=actual.ytd,
        period_year=actual.period_year,
        baseline_year=target.baseline_year,
        complete=actual.complete,
    )
    return TargetStatus(target, scope, as_of, evaluated_on, actual, assessment)


def compute_statuses(conn: psycopg.Connection, as_of: date, config: TargetConfig) -> list[TargetStatus]:
    return [evaluate_target(conn, config, target, as_of) for target in config.targets]


def store_statuses(conn: psycopg.Connection, statuses: list[TargetStatus]) -> int:
    """Upsert by (target_id, as_of), leaving unchanged rows (and their computed_at) untouched."""
    rows = [
        (
            s.target.id,
            s.as_of,
            s.evaluated_on,
            s.actual.period,
            _round(s.actual.value),
            s.actual.unit,
            s.target.target_value,
            _round(s.assessment.gap),
            s.assessment.status,
            _round(s.assessment.projection),
            s.assessment.good_days_allowed,
            Jsonb(s.detail()),
            s.target.methodology,
        )
        for s in statuses
    ]
    columns = (
        "target_id",
        "as_of",
        "evaluated_on",
        "period",
        "actual",
        "unit",
        "target_value",
        "gap",
        "status",
        "projection",
        "good_days_allowed",
        "detail",
        "methodology",
    )
    with conn.cursor() as cur:
        cur.executemany(
            f"""INSERT INTO derived.target_status ({", ".join(columns)})
                VALUES ({", ".join("%s" for _ in columns)})
                ON CONFLICT (target_id, as_of) DO UPDATE SET
                    {", ".join(f"{c} = excluded.{c}" for c in columns[2:])}, computed_at = now()
                WHERE ({", ".join(f"derived.target_status.{c}" for c in columns[2:])})
                      IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in columns[2:])})""",
            rows,
        )
    return len(rows)


def refresh_targets(
    conn: psycopg.Connection, as_of: date, path: Path | str = DEFAULT_PATH
) -> list[TargetStatus]:
    """Validate and sync the registry, compute every target's status on ``as_of``, store them."""
    config = load_targets(path)
    sync_targets(conn, config)
    statuses = compute_statuses(conn, as_of, config)
    with conn.transaction():
        store_statuses(conn, statuses)
    return statuses
