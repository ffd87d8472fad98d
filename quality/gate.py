"""The Great Expectations gate every batch passes before anything is written.

An ephemeral context (no project directory, nothing for DAG parsing to trip over) is built once
per process. The suite of a batch is the row rules' expectations (with tolerances) plus the
batch-level checks: schema, non-empty, time continuity on the source cadence, and freshness.
Freshness is a warning: a historical backfill is old by design and must still load.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from ingest.base import RECORD_COLUMNS, ParsedBatch
from quality.rules import GATE_MOSTLY, ROW_RULES, RuleContext, gate_columns

#: Columns the gate adds to the records (continuity step, registry range and unit).
GATE_COLUMNS = ["step_minutes", "site_id", "parameter_id", "range_position", "parameter_out_of_range_share",
                "expected_unit"]

#: How old the newest value of a batch may be before the freshness warning fires.
FRESHNESS = pd.Timedelta(hours=6)


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: dict


@dataclass(frozen=True)
class GateResult:
    suite: str
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def passed(self) -> bool:
        return all(o.success for o in self.outcomes if o.severity == "critical")

    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


#: One process-wide GX context, and GX runs are not thread-safe: two threads validating at once on
#: the shared batch definition can see each other's dataframe (a concurrent-load test caught a good
#: batch judged on the other thread's rows). Validations in one process take turns.
_GX_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _context():
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("envmon").add_dataframe_asset("batch")
    return context, asset.add_batch_definition_whole_dataframe("whole")


def gate_frame(records: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """The judged frame of :func:`quality.rules.gate_columns` plus ``step_minutes``: time since the
    previous distinct time of the same site and parameter (null for a series' first value, a
    repeated time, or an unknown site/parameter/time). Rows keep their order."""
    frame = gate_columns(records, ctx)
    if "step_minutes" in frame.columns:
        return frame
    site = frame["site_code"].cat.codes.to_numpy()
    parameter = frame["parameter"].cat.codes.to_numpy()
    times = pd.to_datetime(frame["observed_at"], utc=True)
    ticks = times.array.asi8  # integer time: steps are exact, whatever the resolution
    per_minute = 60 * pd.Timedelta(seconds=1) / pd.Timedelta(1, unit=times.dt.unit)
    known = (site >= 0) & (parameter >= 0) & times.notna().to_numpy()
    order = np.lexsort((ticks, parameter, site))  # series by series, each in time order
    t, s, p, k = ticks[order], site[order], parameter[order], known[order]
    step = np.full(len(frame), np.nan)
    if len(frame) > 1:
        same_series = (s[1:] == s[:-1]) & (p[1:] == p[:-1]) & k[1:] & k[:-1]
        diff = t[1:] - t[:-1]
        step[1:] = np.where(same_series & (diff != 0), diff / per_minute, np.nan)
    step_minutes = np.empty(len(frame))
    step_minutes[order] = step
    return frame.assign(step_minutes=step_minutes)


def _json_safe(value):
    """JSON has no NaN: GX reports missing values as float NaN, stored here as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _cadence_steps(cadence: pd.Timedelta) -> list[float]:
    """Allowed steps in minutes: the cadence itself, or any calendar-month length for monthly data."""
    if cadence >= pd.Timedelta(days=28):
        return [days * 24 * 60.0 for days in (28, 29, 30, 31)]
    return [cadence.total_seconds() / 60]


def suite_for(batch: ParsedBatch, ctx: RuleContext) -> gx.ExpectationSuite:
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[*RECORD_COLUMNS, *GATE_COLUMNS], exact_match=True),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="observed_at"),
        # Continuity: consecutive values of a series sit one cadence apart (gaps allowed, not dominant).
        gxe.ExpectColumnValuesToBeInSet(column="step_minutes", value_set=_cadence_steps(batch.cadence), mostly=0.8),
        gxe.ExpectColumnMaxToBeBetween(column="observed_at", min_value=ctx.now - FRESHNESS, severity="warning"),
    ]
    for rule in ROW_RULES:
        expectations.extend(rule.expectations(ctx))
    return gx.ExpectationSuite(name=f"{batch.dataset}", expectations=expectations)


def run_table(suite_name: str, frame: pd.DataFrame, expectations: list) -> GateResult:
    """The gate for files bound for an ``obs`` table other than the measurements (carbon
    inventories, the bureau's statistics): the same ephemeral context and result shape."""
    return _validate(suite_name, frame, expectations)


def run(batch: ParsedBatch, ctx: RuleContext, judged: pd.DataFrame | None = None) -> GateResult:
    """``judged``: the batch's frame from :func:`quality.rules.gate_columns` when the caller has it."""
    frame = gate_frame(batch.records if judged is None else judged, ctx)
    shares = frame.groupby("parameter", observed=True)["parameter_out_of_range_share"].first()
    wholesale = sorted(shares[shares > 1 - GATE_MOSTLY].index)
    return _validate(batch.dataset, frame, suite_for(batch, ctx).expectations, wholesale)


def _validate(suite_name: str, frame: pd.DataFrame, expectations: list, wholesale: list[str] | None = None) -> GateResult:
    with _GX_LOCK:
        context, batch_definition = _context()
        name = f"{suite_name}-{uuid.uuid4().hex}"
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        try:
            validation = gx.ValidationDefinition(data=batch_definition, suite=suite, name=name)
            result = validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
        finally:
            context.suites.delete(name)
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        observed = {k: v for k, v in (r.result or {}).items()
                    if k in ("observed_value", "element_count", "unexpected_count", "unexpected_percent",
                             "partial_unexpected_list")}
        if cfg.kwargs.get("column") == "parameter_out_of_range_share":
            observed["parameters"] = wholesale or []
        if r.exception_info and r.exception_info.get("raised_exception"):
            observed["exception"] = r.exception_info.get("exception_message")
        condition = cfg.kwargs.get("row_condition")
        if isinstance(condition, dict):
            condition = condition.get("pass_through_filter") or json.dumps(condition, sort_keys=True)
        outcomes.append(ExpectationOutcome(
            expectation=cfg.type + (f"[{condition}]" if condition else ""),
            column=cfg.kwargs.get("column"),
            severity=str(getattr(cfg.severity, "value", cfg.severity)).lower(),
            success=bool(r.success),
            observed=_json_safe(json.loads(json.dumps(observed, default=str))),
        ))
    return GateResult(suite=suite_name, outcomes=tuple(outcomes))
