"""The judged frame (quality.rules.gate_columns + quality.gate.gate_frame) against the plain pandas
way of computing it: lookups by ``Series.map`` and steps by sort + groupby + shift. The judged frame
does both on categorical codes with numpy (issue #8: a third of a national file's check time); the
values must be the same for any records — unknown and missing codes, missing and repeated times."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.base import BEIJING, RECORD_COLUMNS
from quality.gate import gate_frame
from quality.rules import RuleContext, split

PARAMETERS = pd.DataFrame({
    "parameter_id": [1, 2, 3],
    "unit": ["µg/m³", "mg/m³", "µg/m³"],
    "valid_min": [0.0, 0.0, -5.0],
    "valid_max": [1000.0, 50.0, 5.0],
}, index=pd.Index(["pm25", "co", "t"], name="code"))
CTX = RuleContext(site_ids={"A": 10, "B": 11}, parameters=PARAMETERS, now=pd.Timestamp("2026-01-01", tz="UTC"))
START = pd.Timestamp("2025-03-01 00:00", tz=BEIJING)

row = st.tuples(
    st.sampled_from(["A", "B", "X", None]),              # X: not in the registry
    st.sampled_from(["pm25", "co", "t", "so3", None]),   # so3: not in the registry
    st.one_of(st.none(), st.integers(0, 12)),            # hour (None: no time), repeats likely
    st.one_of(st.none(), st.floats(-20, 2000, allow_nan=False)),
    st.sampled_from(["µg/m³", "mg/m³", None]),
)


def _records(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["site_code", "parameter", "hour", "value", "unit"])
    return pd.DataFrame({
        "line_no": np.arange(2, len(frame) + 2),
        "site_code": frame["site_code"].astype("str"),
        "parameter": frame["parameter"].astype("str"),
        "field": frame["parameter"].astype("str"),
        "observed_at": START + pd.to_timedelta(frame["hour"].astype("float64"), unit="h"),
        "value": frame["value"].astype("float64"),
        "raw_value": frame["value"].astype("str"),
        "unit": frame["unit"].astype("str"),
        "source_flag": np.where(frame["value"].isna(), "missing", "normal"),
    })[RECORD_COLUMNS]


def _reference(records: pd.DataFrame) -> pd.DataFrame:
    """The straightforward computation (what the judged frame replaced)."""
    low = records["parameter"].map(PARAMETERS["valid_min"]).astype("float64")
    high = records["parameter"].map(PARAMETERS["valid_max"]).astype("float64")
    position = (records["value"] - low) / (high - low)
    outside = ((position < 0) | (position > 1)).astype("float64").where(position.notna())
    out = records.assign(
        site_id=records["site_code"].map(CTX.site_ids).astype("float64"),
        parameter_id=records["parameter"].map(PARAMETERS["parameter_id"]).astype("float64"),
        range_position=position,
        parameter_out_of_range_share=outside.groupby(records["parameter"]).transform("mean"),
        expected_unit=records["parameter"].map(PARAMETERS["unit"]),
    )
    ordered = out.sort_values(["site_code", "parameter", "observed_at"])
    prev = ordered.groupby(["site_code", "parameter"], sort=False)["observed_at"].shift()
    step = ordered["observed_at"] - prev
    minutes = (step.dt.total_seconds() / 60).where(step.ne(pd.Timedelta(0)))
    return out.assign(step_minutes=minutes.reindex(out.index))


@settings(max_examples=300, deadline=None)
@given(st.lists(row, min_size=0, max_size=60))
def test_judged_frame_equals_the_plain_pandas_computation(rows):
    records = _records(rows)
    judged, reference = gate_frame(records, CTX), _reference(records)
    assert list(judged.index) == list(records.index)  # rows keep their order
    for column in ["site_id", "parameter_id", "range_position", "parameter_out_of_range_share", "step_minutes"]:
        np.testing.assert_array_equal(judged[column].to_numpy(dtype="float64"),
                                      reference[column].to_numpy(dtype="float64"), err_msg=column)
    for column in ["site_code", "parameter", "unit", "expected_unit", "raw_value", "source_flag"]:
        assert judged[column].astype(object).where(judged[column].notna(), None).tolist() == \
            reference[column].astype(object).where(reference[column].notna(), None).tolist(), column
    # units compare element by element (same categories), as the unit rule and GX's pair check do
    mismatch = judged["expected_unit"].notna() & judged["unit"].ne(judged["expected_unit"])
    expected_mismatch = reference["expected_unit"].notna() & reference["unit"].ne(reference["expected_unit"])
    assert mismatch.tolist() == expected_mismatch.tolist()


def test_rules_on_the_judged_frame_name_the_same_reasons_as_on_the_records():
    records = _records([
        ("A", "pm25", 0, 10.0, "µg/m³"),
        ("A", "pm25", 1, 1e5, "µg/m³"),     # out of range
        ("X", "pm25", 1, 10.0, "µg/m³"),    # unknown site
        ("B", "so3", 1, 1.0, "µg/m³"),      # unknown parameter
        ("B", "co", 2, 1.0, "µg/m³"),       # unit differs from the registry's mg/m³
        ("B", "t", 3, None, "µg/m³"),       # a missing value: stored as missing
        ("B", "t", 3, None, "µg/m³"),       # its exact repeat
    ])
    records.loc[5:6, "source_flag"] = "missing"
    records.loc[6, "line_no"] = 99
    good, bad = split(records, CTX)
    assert good["line_no"].tolist() == [2, 7]
    assert dict(zip(bad["line_no"], bad["reason_code"], strict=True)) == {
        3: "out_of_range", 4: "unknown_site", 5: "unknown_parameter", 6: "unit_mismatch", 99: "duplicate_key"}
    assert bad.set_index("line_no").loc[3, "message"] == \
        "value 100000.0 µg/m³ outside the physical range [0.0, 1000.0]"
    assert bad.set_index("line_no").loc[6, "message"] == "unit µg/m³ differs from the registry unit mg/m³"
