"""GB 3838-2002 limits and the 2011 evaluation method (standards/gb3838.py), checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from standards import gb3838 as g

NA = pd.NA


def _plain(values) -> list:
    """List with pd.NA as None, so lists compare with ==."""
    return [None if v is NA else v for v in list(values)]


def _cls(values, item, water_body="river"):
    return _plain(g.item_class(pd.Series(values, dtype="float64"), item, water_body))


# --------------------------------------------------------------------------- the table


def test_table_1_limits():
    river, lake = g.LIMITS["river"], g.LIMITS["lake_reservoir"]
    assert river["do"] == (7.5, 6, 5, 3, 2)
    assert river["codmn"] == (2, 4, 6, 10, 15)
    assert river["nh3n"] == (0.15, 0.5, 1.0, 1.5, 2.0)
    assert river["tp"] == (0.02, 0.1, 0.2, 0.3, 0.4)
    assert lake["tp"] == (0.01, 0.025, 0.05, 0.1, 0.2)
    assert lake["tn"] == (0.2, 0.5, 1.0, 1.5, 2.0)
    assert "tn" not in river  # TN is a lake/reservoir item (Table 1 item 9, "湖、库")
    assert river["cod"] == (15, 15, 20, 30, 40)
    assert river["fecal_coliform"] == (200, 2000, 10000, 20000, 40000)
    assert g.PH_RANGE == (6.0, 9.0)
    assert frozenset({"do"}) == g.HIGHER_IS_BETTER
    assert {k: v for k, v in lake.items() if k not in ("tp", "tn")} == {k: v for k, v in river.items() if k != "tp"}
    # every limit tuple is monotone in the right direction
    for item, lim in river.items():
        assert list(lim) == sorted(lim, reverse=item == "do"), item


def test_item_lists():
    assert len(g.EVALUATED_ITEMS) == 21
    assert not {"water_temp", "tn", "fecal_coliform"} & set(g.EVALUATED_ITEMS)
    assert set(g.EVALUATED_ITEMS) | {"tn", "fecal_coliform"} == set(g.ITEM_ORDER)
    assert g.AUTOMATIC_ITEMS == ("ph", "do", "codmn", "nh3n", "tp")
    assert set(g.NAMES_ZH) == set(g.PARAMETERS) and len(g.PARAMETERS) == 28
    assert g.NAMES_ZH["tp"] == "总磷" and g.NAMES_ZH["nh3n"] == "氨氮"
    assert g.NAMES_ZH["codmn"] == "高锰酸盐指数" and g.NAMES_ZH["do"] == "溶解氧"
    assert g.NAMES_ZH["ph"] == "pH" and g.NAMES_ZH["cod"] == "化学需氧量"


@pytest.mark.parametrize(
    ("item", "values", "classes"),
    [
        ("do", [7.5, 7.49, 6.0, 5.99, 5.0, 3.0, 2.0, 1.99, 0.0], [1, 2, 2, 3, 3, 4, 5, 6, 6]),
        ("codmn", [0, 2, 2.01, 4, 6, 10, 15, 15.01], [1, 1, 2, 2, 3, 4, 5, 6]),
        ("nh3n", [0.15, 0.151, 0.5, 1.0, 1.5, 2.0, 2.01], [1, 2, 2, 3, 4, 5, 6]),
        ("tp", [0.02, 0.021, 0.1, 0.2, 0.3, 0.4, 0.41], [1, 2, 2, 3, 4, 5, 6]),
        ("ph", [5.9, 5.99, 6.0, 7.5, 9.0, 9.01], [6, 6, 1, 1, 1, 6]),
        ("cod", [15, 15.01, 20, 30, 40, 40.1], [1, 3, 3, 4, 5, 6]),  # I = II = 15 → I
        ("cu", [0.01, 0.02, 1.0, 1.01], [1, 2, 2, 6]),  # II..V all 1.0 → II
        ("fluoride", [1.0, 1.2, 1.5, 1.6], [1, 4, 4, 6]),
    ],
)
def test_item_class_boundaries_river(item, values, classes):
    assert _cls(values, item) == classes


def test_lake_tp_and_tn_tables():
    assert _cls([0.01, 0.011, 0.025, 0.05, 0.1, 0.2, 0.21], "tp", "lake_reservoir") == [1, 2, 2, 3, 4, 5, 6]
    assert _cls([0.2, 0.5, 1.0, 1.5, 2.0, 2.1], "tn", "lake_reservoir") == [1, 2, 3, 4, 5, 6]
    assert _cls([0.2, 5.0], "tn", "river") == [None, None]  # no river TN limits
    assert _cls([np.nan], "tp") == [None]


# --------------------------------------------------------------------------- classify


def test_single_factor_worst_class():
    df = pd.DataFrame(
        {"ph": [7.8, 7.8], "do": [8.0, 5.5], "codmn": [3.0, 2.0], "nh3n": [0.1, 0.6], "tp": [0.05, 0.2],
         "cod": [np.nan, 25.0], "water_temp": [20.0, 20.0]},
        index=["a", "b"],
    )
    out = g.classify(df)
    assert out.index.tolist() == ["a", "b"]
    assert out["class_code"].tolist() == [2, 4]
    assert out["class_label"].tolist() == ["II", "IV"]
    assert out["decided_by"].tolist() == ["codmn;tp", "cod"]
    assert out["items_evaluated"].tolist() == ["ph;do;codmn;nh3n;tp", "ph;do;codmn;cod;nh3n;tp"]
    assert out.loc["b", ["class_do", "class_nh3n", "class_tp", "class_cod"]].tolist() == [3, 3, 3, 4]
    assert str(out["class_code"].dtype) == "Int64"
    # one class_ column per evaluated item (stable schema), exceedance for all but pH and DO
    assert [c for c in out if c.startswith("class_") and c != "class_code" and c != "class_label"] == [
        f"class_{i}" for i in g.EVALUATED_ITEMS
    ]
    assert "exceedance_ph" not in out and "exceedance_do" not in out and "exceedance_tp" in out
    assert len([c for c in out if c.startswith("exceedance_")]) == 19


def test_missing_required_item_gives_no_class():
    df = pd.DataFrame({"ph": [7.5, 7.5], "do": [8.0, 8.0], "codmn": [1.0, np.nan], "nh3n": [0.1, 0.1],
                       "tp": [0.5, 0.5]})
    out = g.classify(df)
    assert out["class_code"].tolist() == [6, NA]
    assert out["class_label"].tolist() == ["劣V", ""]
    assert out["decided_by"].tolist() == ["tp", ""]
    assert out["main_pollutants"].tolist() == ["总磷(1.50)", ""]
    assert out.loc[1, "items_evaluated"] == "ph;do;nh3n;tp"
    assert out.loc[1, "class_tp"] == 6  # the items are still classed for the analyst
    # a missing column is a missing item
    assert g.classify(df.drop(columns="ph"))["class_code"].isna().all()
    # without requirements the present items decide
    assert g.classify(df, required=())["class_code"].tolist() == [6, 6]
    # nothing measured at all → NA even without requirements
    assert g.classify(pd.DataFrame({"tp": [np.nan]}), required=())["class_code"].tolist() == [NA]


def test_do_higher_is_better_in_classify():
    df = pd.DataFrame({"ph": 7.0, "do": [7.5, 7.49], "codmn": 1.0, "nh3n": 0.1, "tp": 0.01})
    assert g.classify(df)["class_code"].tolist() == [1, 2]


def test_ph_outside_6_9_is_lie_v():
    df = pd.DataFrame({"ph": [5.9, 9.1, 6.0], "do": 8.0, "codmn": 1.0, "nh3n": 0.1, "tp": 0.01})
    out = g.classify(df)
    assert out["class_code"].tolist() == [6, 6, 1]
    assert out["main_pollutants"].tolist() == ["pH", "pH", ""]  # no multiple for pH


def test_tn_ignored_for_rivers_reported_for_lakes():
    df = pd.DataFrame({"ph": 7.5, "do": 8.0, "codmn": 1.0, "nh3n": 0.1, "tp": [0.01, 0.01], "tn": [5.0, 5.0]})
    river = g.classify(df)
    assert river["class_code"].tolist() == [1, 1]
    assert river["tn_class"].isna().all()
    lake = g.classify(df, water_body="lake_reservoir")
    assert lake["class_code"].tolist() == [1, 1]  # TN never enters the class
    assert lake["tn_class"].tolist() == [6, 6]
    assert "tn" not in lake.loc[0, "items_evaluated"]
    # per-row water body
    mixed = g.classify(df, water_body=pd.Series(["river", "lake_reservoir"]))
    assert mixed["tn_class"].tolist() == [NA, 6]


def test_lake_tp_table_in_classify():
    df = pd.DataFrame({"ph": 7.5, "do": 8.0, "codmn": 1.0, "nh3n": 0.1, "tp": [0.08, 0.08]})
    out = g.classify(df, water_body=pd.Series(["river", "lake_reservoir"]))
    assert out["class_code"].tolist() == [2, 4]
    assert out["exceedance_tp"].tolist()[0] != out["exceedance_tp"].tolist()[0]  # NaN for the river
    assert out.loc[1, "exceedance_tp"] == pytest.approx(0.6)  # (0.08 − 0.05)/0.05
    assert out.loc[1, "main_pollutants"] == "总磷(0.60)"
    with pytest.raises(ValueError):
        g.classify(df, water_body="lake")
    with pytest.raises(ValueError):
        g.classify(df, water_body=pd.Series(["river", "sea"]))


def test_exceedance_multiples_by_hand():
    ex = g.exceedance_multiple(pd.Series([0.45, 0.2, 0.15, 0.21]), "tp")
    assert ex.iloc[0] == pytest.approx(1.25)  # (0.45 − 0.2)/0.2
    assert np.isnan(ex.iloc[1]) and np.isnan(ex.iloc[2])  # at or below class III: none
    assert ex.iloc[3] == pytest.approx(0.05)
    nh3 = g.exceedance_multiple(pd.Series([1.125, 1.135, 1.234, 3.0]), "nh3n")
    # GB/T 8170 half-even at 2 decimals: 0.125 → 0.12, 0.135 → 0.14
    assert nh3.tolist() == pytest.approx([0.12, 0.14, 0.23, 2.0])
    assert g.exceedance_multiple(pd.Series([25.0]), "codmn").iloc[0] == pytest.approx(3.17)  # 19/6=3.1666…
    assert np.isnan(g.exceedance_multiple(pd.Series([1.0]), "do").iloc[0])
    assert np.isnan(g.exceedance_multiple(pd.Series([10.0]), "ph").iloc[0])


def test_main_pollutants_order_and_format():
    df = pd.DataFrame(
        {
            # worst class first; ties (劣V) by the larger multiple; at most three; DO (IV) left out
            "ph": [7.5, 7.5, 7.5, 7.5, 7.5],
            "do": [4.0, 4.0, 8.0, 4.0, 8.0],
            "codmn": [12.0, 12.0, 1.0, 1.0, 1.0],  # V, multiple 1.00
            "nh3n": [2.5, 0.9, 0.1, 0.1, 1.2],  # 劣V 1.50 / III
            "tp": [0.6, 0.6, 0.1, 0.1, 0.25],  # 劣V 2.00
            "bod5": [np.nan, 12.0, np.nan, np.nan, np.nan],  # 劣V 2.00: ties TP → Table 1 order (BOD5 first)
        }
    )
    out = g.classify(df)
    assert out["class_code"].tolist() == [6, 6, 2, 4, 4]
    assert out.loc[0, "main_pollutants"] == "总磷(2.00)、氨氮(1.50)、高锰酸盐指数(1.00)"
    assert out.loc[0, "decided_by"] == "nh3n;tp"
    assert out.loc[1, "main_pollutants"] == "五日生化需氧量(2.00)、总磷(2.00)、高锰酸盐指数(1.00)"
    assert out.loc[2, "main_pollutants"] == ""  # not worse than III
    assert out.loc[3, "main_pollutants"] == "溶解氧"  # IV by DO alone: no multiple
    # same class IV: larger multiple first (TP 0.25 → 0.25; NH3-N 1.2 → 0.20)
    assert out.loc[4, "main_pollutants"] == "总磷(0.25)、氨氮(0.20)"


def test_main_pollutants_cyanide_and_heavy_metals_first():
    df = pd.DataFrame({"ph": 7.5, "do": 8.0, "codmn": 1.0, "nh3n": 3.0, "tp": 0.6, "pb": 0.06, "zn": 1.5}, index=[0])
    out = g.classify(df)
    # Pb (IV, 0.20) ahead of the 劣V items; Zn (IV) is not a priority metal and is fourth → dropped
    assert out.loc[0, "main_pollutants"] == "铅(0.20)、氨氮(2.00)、总磷(2.00)"


def test_items_subset_and_unknown_items():
    df = pd.DataFrame({"ph": [7.5], "do": [8.0], "codmn": [1.0], "nh3n": [0.1], "tp": [0.5], "cod": [45.0]})
    auto = g.classify(df, items=g.AUTOMATIC_ITEMS)
    assert auto["class_code"].tolist() == [6] and "class_cod" not in auto
    assert g.classify(df.assign(tp=0.01), items=g.AUTOMATIC_ITEMS)["class_code"].tolist() == [1]
    assert g.classify(df.assign(tp=0.01))["class_code"].tolist() == [6]  # COD 45 in the 21 items
    with pytest.raises(ValueError):
        g.classify(df, items=("water_temp",))


def test_parse_class():
    texts = ["Ⅰ", "Ⅱ类", "Ⅲ", "Ⅳ类", "Ⅴ", "劣Ⅴ", "劣Ⅴ类", "I", "II", "III", "IV", "V", "劣V",
             "--", "-", "", "未知", None, 3, "6", 7]
    assert _plain(g.parse_class(texts)) == [1, 2, 3, 4, 5, 6, 6, 1, 2, 3, 4, 5, 6] + [None] * 5 + [3, 6, None]
    assert str(g.parse_class(pd.Series(["Ⅱ"], index=[9])).dtype) == "Int64"
    assert g.parse_class(pd.Series(["Ⅱ"], index=[9])).index.tolist() == [9]
    assert g.parse_class("劣Ⅴ类") == 6 and g.parse_class("--") is NA
    with pytest.raises(ValueError):
        g.parse_class(["VI"])
    with pytest.raises(ValueError):
        g.parse_class("good")


# --------------------------------------------------------------------------- compliance


def test_compliance():
    codes = pd.Series([1, 3, 4, NA, 6], dtype="Int64", index=list("abcde"))
    res = g.compliance(codes, 3)
    assert res.tolist() == [True, True, False, NA, False]
    assert str(res.dtype) == "boolean" and res.index.tolist() == list("abcde")
    targets = pd.Series([2, 2, 4, 3, NA], dtype="Int64", index=list("abcde"))
    assert g.compliance(codes, targets).tolist() == [True, False, True, NA, NA]
    arr = g.compliance([2, 5], [3, 3])
    assert isinstance(arr, pd.arrays.BooleanArray) and arr.tolist() == [True, False]


# --------------------------------------------------------------------------- periods


def test_period_class_means_and_insufficient_data():
    samples = pd.DataFrame(
        {
            "section": ["A", "A", "A", "B", "B"],
            "month": [1, 1, 1, 1, 1],
            "ph": [7.0, 8.0, 9.4, 7.0, 7.0],
            "do": [8.0, 6.0, np.nan, 8.0, 8.0],
            "codmn": [1.0, 3.0, 2.0, 1.0, np.nan],
            "nh3n": [0.1, 0.3, 0.2, 0.1, 0.1],
            "tp": [0.05, 0.25, 0.3, 0.01, 0.01],
            "turbidity": [10.0, 30.0, 20.0, 5.0, 5.0],
        }
    )
    out = g.period_class(samples, by=["section", "month"], min_samples=2).set_index("section")
    assert out.loc["A", "n_samples"] == 3 and out.loc["A", "n_valid"] == 2
    assert out.loc["A", "ph"] == pytest.approx(8.133333, abs=1e-6)  # arithmetic mean of pH
    assert out.loc["A", "do"] == pytest.approx(7.0)  # mean of the valid DO values
    assert out.loc["A", "tp"] == pytest.approx(0.2)
    assert out.loc["A", "turbidity"] == pytest.approx(20.0)
    assert out.loc["A", "class_code"] == 3 and out.loc["A", "status"] == "ok"
    assert out.loc["A", "decided_by"] == "tp"
    # B: one complete sample < min_samples → no class
    assert out.loc["B", "n_samples"] == 2 and out.loc["B", "n_valid"] == 1
    assert out.loc["B", "status"] == "insufficient_data"
    assert out.loc["B", "class_code"] is NA and out.loc["B", "class_label"] == ""
    # with min_samples=1 B is classed on its means
    assert g.period_class(samples, by=["section"]).set_index("section").loc["B", "class_code"] == 1


def test_period_class_water_body_per_group():
    samples = pd.DataFrame({"section": ["L", "L", "R"], "ph": 7.5, "do": 8.0, "codmn": 1.0, "nh3n": 0.1,
                            "tp": [0.04, 0.06, 0.05]})
    wb = pd.Series(["lake_reservoir", "lake_reservoir", "river"])
    out = g.period_class(samples, by=["section"], water_body=wb).set_index("section")
    assert out.loc["L", "class_code"] == 3 and out.loc["R", "class_code"] == 2
    with pytest.raises(ValueError):
        g.period_class(samples, by=["section"], water_body=pd.Series(["lake_reservoir", "river", "river"]))


# --------------------------------------------------------------------------- grades


def test_grade_of_class():
    assert g.grade_of_class(pd.Series([1, 2, 3, 4, 5, 6, NA], dtype="Int64")).tolist() == [
        "优", "优", "良好", "轻度污染", "中度污染", "重度污染", ""]


def test_river_grade_thresholds():
    s13 = [1.0, 0.9, 0.8999, 0.75, 0.7499, 0.5, 0.5, 0.5, 0.5, 0.6, 0.3]
    s6 = [0.0, 0.1, 0.0, 0.25, 0.1999, 0.2, 0.3999, 0.4, 0.5, 0.4, 0.0]
    expected = ["优", "优", "良好", "良好", "轻度污染", "中度污染", "中度污染", "重度污染", "重度污染", "重度污染",
                "轻度污染"]
    assert g.river_grade(s13, s6, 10).tolist() == expected


def test_river_grade_few_sections_use_mean_class():
    grades = g.river_grade([1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], [4, 5, 3, 2], mean_class=[4, 4, 3, NA])
    assert grades.tolist() == ["轻度污染", "优", "良好", ""]  # 5 sections: proportions
    assert g.river_grade([1.0], [0.0], [3]).tolist() == [""]  # no mean class given
    with pytest.raises(ValueError):
        g.river_grade([90.0], [0.0], [10])  # percentages, not fractions
