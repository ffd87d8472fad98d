"""Row-level rules: each decides, vectorised, which records are quarantined and why.

Every rule is defined once and serves two purposes: ``violations`` splits good from bad rows
(GX does not), and ``expectations`` states the same rule as Great Expectations expectations with
a tolerance (``mostly``) for the batch gate: a few bad rows are quarantined, but a batch where a
rule fails wholesale (wrong units, shifted columns, unknown station list) is stopped as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

#: Share of a batch that must satisfy a rule for the batch to pass the gate. Below it the rule
#: failed wholesale (a unit change, shifted columns, a foreign station list): the batch stops.
#: Above it, single bad values (one station of four is 25 % of an hourly file) are quarantined.
GATE_MOSTLY = 0.5


@dataclass(frozen=True)
class RuleContext:
    """What the rules need from the registries, loaded once per batch."""

    site_ids: dict[str, int]
    parameters: pd.DataFrame  # index code; columns parameter_id, unit, valid_min, valid_max
    now: pd.Timestamp
    max_future: pd.Timedelta = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    code: str
    description: str
    #: (bad mask over the records, message of each bad record: a Series indexed by the bad rows, built
    #: only for them — formatting a message for every good row was most of the cost of ``split``)
    violations: Callable[[pd.DataFrame, RuleContext], tuple[pd.Series, pd.Series]]
    expectations: Callable[[RuleContext], list]


def _unknown_site(frame: pd.DataFrame, ctx: RuleContext):
    bad = frame["site_id"].isna()
    hit = frame[bad]
    return bad, "site '" + hit["site_code"].astype(str) + "' is not in the site registry"


def _unknown_parameter(frame: pd.DataFrame, ctx: RuleContext):
    bad = frame["parameter_id"].isna()
    hit = frame[bad]
    return bad, "parameter '" + hit["parameter"].astype(str) + "' is not in the parameter registry"


def _not_a_number(frame: pd.DataFrame, ctx: RuleContext):
    bad = frame["value"].isna() & frame["source_flag"].ne("missing")
    hit = frame[bad]
    return bad, "'" + hit["raw_value"].astype(str) + "' is not a number"


def _unit_mismatch(frame: pd.DataFrame, ctx: RuleContext):
    expected = frame["expected_unit"]
    bad = expected.notna() & frame["unit"].ne(expected)
    hit = frame[bad]
    return bad, ("unit " + hit["unit"].astype(str) + " differs from the registry unit "
                 + expected[bad].astype(str))


def _out_of_range(frame: pd.DataFrame, ctx: RuleContext):
    low = pd.Series(per_parameter(frame["parameter"], ctx.parameters["valid_min"]), index=frame.index)
    high = pd.Series(per_parameter(frame["parameter"], ctx.parameters["valid_max"]), index=frame.index)
    value = frame["value"]
    bad = (value < low) | (value > high)
    hit = frame[bad]
    return bad, ("value " + value[bad].astype(str) + " " + hit["unit"].astype(str) + " outside the physical range ["
                 + low[bad].astype(str) + ", " + high[bad].astype(str) + "]")


def _future_time(records: pd.DataFrame, ctx: RuleContext):
    limit = ctx.now + ctx.max_future
    bad = records["observed_at"] > limit
    hit = records[bad]
    return bad, "time " + hit["observed_at"].astype(str) + " is in the future (after " + str(limit) + ")"


def _duplicate_key(records: pd.DataFrame, ctx: RuleContext):
    """Same (site, parameter, time) twice in one file: an exact repeat keeps the first copy;
    conflicting values keep none (which one is right cannot be known from the file)."""
    key = ["site_code", "parameter", "observed_at"]
    dup_any = records.duplicated(key, keep=False)
    if not dup_any.any():
        return dup_any, pd.Series("", index=records.index)
    subset = records.loc[dup_any, [*key, "value", "source_flag"]]
    variants = (subset.groupby(key, dropna=False, observed=True)[["value", "source_flag"]]
                .nunique(dropna=False).max(axis=1))
    conflicting_keys = variants[variants > 1].index
    conflicting = pd.Series(False, index=records.index)
    if len(conflicting_keys):
        conflicting.loc[dup_any] = pd.MultiIndex.from_frame(subset[key]).isin(conflicting_keys)
    repeat = records.duplicated(key, keep="first") & ~conflicting
    bad = repeat | conflicting
    message = np.where(conflicting, "conflicting values for the same site, parameter and time in one file",
                       "exact repeat of an earlier line (same site, parameter, time and value)")
    return bad, pd.Series(message, index=records.index)


def _range_expectations(ctx: RuleContext) -> list:
    """Every value inside its own parameter's range ⇔ its position in that range is in [0, 1];
    and no parameter may be out of range wholesale (a unit change hits one parameter's rows).
    Two expectations for all parameters instead of one per parameter: the gate stays cheap."""
    return [
        gxe.ExpectColumnValuesToBeBetween(column="range_position", min_value=0.0, max_value=1.0, mostly=GATE_MOSTLY),
        gxe.ExpectColumnValuesToBeBetween(column="parameter_out_of_range_share", max_value=1 - GATE_MOSTLY),
    ]


#: Text columns of the records held as categoricals in the judged frame (see :func:`gate_columns`).
CATEGORICAL_COLUMNS = ("site_code", "parameter", "field", "raw_value", "unit", "source_flag")


def per_parameter(parameter: pd.Series, facts: pd.Series) -> np.ndarray:
    """``facts`` (indexed by parameter code) for each row of a categorical ``parameter`` column:
    looked up once per distinct code, then taken by the codes (NaN for codes the registry lacks)."""
    categories = parameter.cat.categories
    table = np.append(pd.Series(categories, dtype=object).map(facts).to_numpy(dtype="float64"), np.nan)
    return table[parameter.cat.codes.to_numpy()]  # code -1 (a missing code) takes the trailing NaN


def gate_columns(records: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """The frame the row rules and the gate judge: the records, their text columns as categoricals
    (each distinct site or parameter is looked up once, and the GX metrics work on integer codes:
    a national day file's gate cost a third of its former time), and the registry facts the
    expectations compare against (ids are null for codes the registry does not know)."""
    if "site_id" in records.columns:  # already judged (check_file builds it once for rules and gate)
        return records
    text = {c: pd.Categorical(records[c]) for c in CATEGORICAL_COLUMNS if c != "unit"}
    parameter = pd.Series(text["parameter"], index=records.index)
    # unit and expected unit share their categories, so that they compare element by element
    registry_units = ctx.parameters["unit"].dropna().astype(str)
    unit = pd.Categorical(records["unit"])
    units = unit.categories.union(pd.Index(registry_units.unique()))
    unit = unit.set_categories(units)
    expected_codes = np.append(units.get_indexer(registry_units.reindex(parameter.cat.categories)), -1)
    expected_unit = pd.Categorical.from_codes(expected_codes[parameter.cat.codes.to_numpy()], categories=units)

    low = per_parameter(parameter, ctx.parameters["valid_min"])
    high = per_parameter(parameter, ctx.parameters["valid_max"])
    position = (records["value"].to_numpy(dtype="float64") - low) / (high - low)
    outside = np.where(np.isnan(position), np.nan, ((position < 0) | (position > 1)).astype("float64"))
    # share of out-of-range values per parameter (over the values that have a position)
    codes = parameter.cat.codes.to_numpy()
    counted = (codes >= 0) & ~np.isnan(outside)
    n_codes = len(parameter.cat.categories)
    hits = np.bincount(codes[counted], weights=outside[counted], minlength=n_codes)
    total = np.bincount(codes[counted], minlength=n_codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.append(np.where(total > 0, hits / np.maximum(total, 1), np.nan), np.nan)
    site_table = np.append(pd.Series(text["site_code"].categories, dtype=object).map(ctx.site_ids)
                           .to_numpy(dtype="float64"), np.nan)
    return records.assign(
        **text,
        unit=unit,
        site_id=site_table[text["site_code"].codes],
        parameter_id=per_parameter(parameter, ctx.parameters["parameter_id"]),
        range_position=position,
        parameter_out_of_range_share=share[codes],
        expected_unit=expected_unit,
    )


def _unit_expectations(ctx: RuleContext) -> list:
    return [gxe.ExpectColumnPairValuesToBeEqual(column_A="unit", column_B="expected_unit", mostly=GATE_MOSTLY,
                                                ignore_row_if="either_value_is_missing")]


#: Applied in this order; a record is quarantined under the first rule it breaks.
ROW_RULES: tuple[Rule, ...] = (
    Rule("unknown_site", "site code not in the registry", _unknown_site,
         lambda ctx: [gxe.ExpectColumnValuesToNotBeNull(column="site_id", mostly=GATE_MOSTLY)]),
    Rule("unknown_parameter", "parameter not in the registry", _unknown_parameter,
         lambda ctx: [gxe.ExpectColumnValuesToNotBeNull(column="parameter_id", mostly=GATE_MOSTLY)]),
    Rule("not_a_number", "cell text is neither a number nor a missing-value marker", _not_a_number,
         lambda ctx: []),
    Rule("unit_mismatch", "unit differs from the registry unit", _unit_mismatch, _unit_expectations),
    Rule("out_of_range", "value outside the parameter's physical range", _out_of_range, _range_expectations),
    Rule("future_time", "time later than now plus one hour", _future_time,
         lambda ctx: [gxe.ExpectColumnMaxToBeBetween(column="observed_at", max_value=ctx.now + pd.Timedelta(days=1))]),
    Rule("duplicate_key", "same site, parameter and time twice in one file", _duplicate_key,
         lambda ctx: [gxe.ExpectCompoundColumnsToBeUnique(column_list=["site_code", "parameter", "observed_at"],
                                                          mostly=GATE_MOSTLY)]),
)


def split(records: pd.DataFrame, ctx: RuleContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good rows, quarantined rows with reason_code and message), both rows of the judged frame
    (:func:`gate_columns`; built here unless ``records`` already is one)."""
    frame = gate_columns(records, ctx)
    reason = pd.Series(pd.NA, index=frame.index, dtype="object")
    message = pd.Series(pd.NA, index=frame.index, dtype="object")
    for rule in ROW_RULES:
        open_ = reason.isna()
        if not open_.any():
            break
        bad, text = rule.violations(frame if open_.all() else frame.loc[open_], ctx)
        bad = bad.fillna(False).astype(bool)
        hit = bad.index[bad.to_numpy()]
        reason.loc[hit] = rule.code
        message.loc[hit] = text.loc[hit]
    bad = reason.notna()
    quarantined = frame.loc[bad].assign(reason_code=reason[bad], message=message[bad])
    return frame.loc[~bad], quarantined
