"""GB 3838-2002 surface-water classes and the 2011 evaluation method (环办〔2011〕22号).

Data plus small pure functions; vectorised (numpy/pandas, loops only over items, never over rows);
no I/O. Parameter codes are the warehouse's (``tp``, ``nh3n``, ...); class codes 1..6 stand for
I, II, III, IV, V and 劣V.

Sources (see ``/work/shared/reference/standards.md`` §3):

* GB 3838-2002 Table 1 (基本项目标准限值): the limits in :data:`LIMITS`, river and
  lake/reservoir (TP, TN "湖、库"), DO "≥", pH 6–9, the rest "≤".
* 《地表水环境质量评价办法（试行）》 环办〔2011〕22号 ("the 2011 method"):
  - 一(一)1: the 21 evaluated items (Table 1 minus water temperature, TN, fecal coliform);
  - 一(二)1: a week/10-day/month is evaluated on one result, or on the arithmetic mean of several;
  - 二(一)1: single-factor method, the section takes the worst class of its evaluated items;
    grades 优 (I–II), 良好 (III), 轻度污染 (IV), 中度污染 (V), 重度污染 (劣V);
  - 二(一)2: main pollutants when worse than class III: the three worst items, ties by
    exceedance multiple (C − S_III)/S_III; cyanide and heavy metals take priority when they exceed;
  - 二(二): rivers/basins: fewer than 5 sections → class of the mean concentrations; otherwise
    the class-proportion grading of :func:`river_grade`.

What the official data show (BRIEF; reproduced by tests/test_water_official.py): the national
automatic publication classes each 4-hourly sample on pH, DO, CODMn, NH3-N and TP
(:data:`AUTOMATIC_ITEMS`), lake/reservoir TP limits on lake sections, TN never, and publishes no
class when one of the five is missing. :func:`classify` does the same with ``required``.

Readings that are decisions (each has a test in tests/test_gb3838.py):

* Equal limits of adjacent classes (COD I = II = 15, Cu II–V = 1.0, ...) → the better class.
* DO class I is ≥ 7.5 mg/L; the "or saturation 90 %" alternative of Table 1 is not used (the
  publication and the 2011 method compare the concentration).
* pH 6–9 inclusive is class I (it constrains no class); outside → 劣V. No exceedance multiple
  for water temperature, pH or DO (2011 method 二(一)2).
* Values are taken as already validated by ingest (negative concentrations are not screened here).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from standards.gbt8170 import round_gbt8170

WaterBody = Literal["river", "lake_reservoir"]
Limits = tuple[float, float, float, float, float]

WATER_BODIES: tuple[str, ...] = ("river", "lake_reservoir")

PARAMETERS: tuple[str, ...] = (
    "water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn", "chla",
    "algae", "cod", "bod5", "cu", "zn", "fluoride", "se", "arsenic", "hg", "cd", "cr6", "pb",
    "cyanide", "volatile_phenol", "petroleum", "las", "sulfide", "fecal_coliform",
)
"""Warehouse parameter codes of surface water (automatic "9+X" items and Table 1 items)."""

NAMES_ZH: dict[str, str] = {
    "water_temp": "水温", "ph": "pH", "do": "溶解氧", "conductivity": "电导率", "turbidity": "浊度",
    "codmn": "高锰酸盐指数", "nh3n": "氨氮", "tp": "总磷", "tn": "总氮", "chla": "叶绿素a",
    "algae": "藻密度", "cod": "化学需氧量", "bod5": "五日生化需氧量", "cu": "铜", "zn": "锌",
    "fluoride": "氟化物", "se": "硒", "arsenic": "砷", "hg": "汞", "cd": "镉", "cr6": "铬(六价)",
    "pb": "铅", "cyanide": "氰化物", "volatile_phenol": "挥发酚", "petroleum": "石油类",
    "las": "阴离子表面活性剂", "sulfide": "硫化物", "fecal_coliform": "粪大肠菌群",
}
"""Chinese names as GB 3838-2002 Table 1 and the official reports write them."""

UNITS: dict[str, str] = {
    **{code: "mg/L" for code in PARAMETERS},
    "water_temp": "℃", "ph": "无量纲", "conductivity": "μS/cm", "turbidity": "NTU",
    "algae": "cells/L", "fecal_coliform": "个/L",
}

CLASS_CODES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
CLASS_LABELS: dict[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}
"""Class code → label (ASCII Roman numerals; the publication prints Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ 劣Ⅴ)."""
CLASS_LABELS_ROMAN: dict[int, str] = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ", 5: "Ⅴ", 6: "劣Ⅴ"}

PH_RANGE: tuple[float, float] = (6.0, 9.0)
"""GB 3838-2002 Table 1 item 2: pH 6–9 for every class I–V; outside the range the water is 劣V."""

_RIVER_LIMITS: dict[str, Limits] = {
    "do": (7.5, 6, 5, 3, 2),
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
    "cu": (0.01, 1.0, 1.0, 1.0, 1.0),
    "zn": (0.05, 1.0, 1.0, 2.0, 2.0),
    "fluoride": (1.0, 1.0, 1.0, 1.5, 1.5),
    "se": (0.01, 0.01, 0.01, 0.02, 0.02),
    "arsenic": (0.05, 0.05, 0.05, 0.1, 0.1),
    "hg": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "cd": (0.001, 0.005, 0.005, 0.005, 0.01),
    "cr6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "pb": (0.01, 0.01, 0.05, 0.05, 0.1),
    "cyanide": (0.005, 0.05, 0.2, 0.2, 0.2),
    "volatile_phenol": (0.002, 0.002, 0.005, 0.01, 0.1),
    "petroleum": (0.05, 0.05, 0.05, 0.5, 1.0),
    "las": (0.2, 0.2, 0.2, 0.3, 0.3),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fecal_coliform": (200, 2000, 10000, 20000, 40000),
}

LIMITS: dict[str, dict[str, Limits]] = {
    "river": dict(_RIVER_LIMITS),
    "lake_reservoir": {
        **_RIVER_LIMITS,
        "tp": (0.01, 0.025, 0.05, 0.1, 0.2),
        "tn": (0.2, 0.5, 1.0, 1.5, 2.0),
    },
}
"""GB 3838-2002 Table 1 (基本项目标准限值), class I..V limits per water body, mg/L (fecal coliform 个/L).

Every item is "≤ limit" except ``do`` ("≥ limit", :data:`HIGHER_IS_BETTER`). TP has its own
lake/reservoir row (item 8, "湖、库 0.01 … 0.2"); TN (item 9) is defined for lakes and reservoirs
only, so the river table has no ``tn``. pH is a range, not class limits: :data:`PH_RANGE`.
Water temperature (item 1) limits a man-made change (weekly mean +1 / −2 ℃), not a
concentration, so it has no class.
"""

HIGHER_IS_BETTER: frozenset[str] = frozenset({"do"})
"""Table 1 item 3: DO is the one item whose limit is a minimum (≥)."""

ITEM_ORDER: tuple[str, ...] = (
    "ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "cu", "zn", "fluoride", "se", "arsenic",
    "hg", "cd", "cr6", "pb", "cyanide", "volatile_phenol", "petroleum", "las", "sulfide",
    "fecal_coliform",
)
"""Classifiable Table 1 items in the table's order: the fixed order of ``decided_by`` and ties."""

EVALUATED_ITEMS: tuple[str, ...] = tuple(i for i in ITEM_ORDER if i not in ("tn", "fecal_coliform"))
"""2011 method 一(一)1: Table 1 minus water temperature, TN and fecal coliform — 21 items."""

AUTOMATIC_ITEMS: tuple[str, ...] = ("ph", "do", "codmn", "nh3n", "tp")
"""The five items the national automatic publication classes a sample on (BRIEF, measured)."""

NO_EXCEEDANCE: frozenset[str] = frozenset({"water_temp", "ph", "do"})
"""2011 method 二(一)2: no exceedance multiple for water temperature, pH and DO."""

PRIORITY_POLLUTANTS: tuple[str, ...] = ("cyanide", "hg", "cd", "cr6", "pb", "arsenic")
"""2011 method 二(一)2: "当氰化物或铅、铬等重金属超标时，优先作为主要污染指标".

Read as cyanide plus the five heavy metals of China's heavy-metal control (Hg, Cd, Cr, Pb, As);
Cu and Zn are not given priority. A decision, documented here and tested.
"""

GRADES: dict[int, str] = {1: "优", 2: "优", 3: "良好", 4: "轻度污染", 5: "中度污染", 6: "重度污染"}
"""2011 method 二(一)1 表1: section class → qualitative grade (I–II 优, III 良好, ... 劣V 重度污染)."""

MAIN_POLLUTANT_SEPARATOR = "、"

_ROMAN = str.maketrans({"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "ⅰ": "I",
                        "ⅱ": "II", "ⅲ": "III", "ⅳ": "IV", "ⅴ": "V"})
_LABEL_TO_CODE: dict[str, int] = {label: code for code, label in CLASS_LABELS.items()}
_MISSING_TEXT = frozenset({"", "-", "--", "—", "未知", "*", "nan", "NaN", "None", "NA", "<NA>"})


# --------------------------------------------------------------------------- parsing


def _parse_one(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.NA
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 1 <= int(value) <= 6:
            return int(value)
        if int(value) in (7, -1):
            return pd.NA
        raise ValueError(f"not a GB 3838 class code: {value!r}")
    text = str(value).strip()
    if text in _MISSING_TEXT:
        return pd.NA
    if re.fullmatch(r"-?\d+(\.0+)?", text):
        return _parse_one(int(float(text)))
    norm = text.translate(_ROMAN).replace(" ", "").replace("类", "").replace("水质", "")
    norm = norm.replace("Ｖ", "V").replace("Ｉ", "I").upper()
    if norm in _LABEL_TO_CODE:
        return _LABEL_TO_CODE[norm]
    raise ValueError(f"not a GB 3838 class: {value!r}")


def parse_class(text: Any) -> Any:
    """Class code (Int64) of class text as the publications print it.

    Accepts "I".."V", "劣V", the Roman-numeral characters "Ⅰ".."Ⅴ", "劣Ⅴ", with or without "类"
    ("Ⅱ类"), and the publication's codes 1–6. Not classified → NA: "--", "-", "", "未知", the
    JSON code 7 (not monitored) and −1 (no data, standards.md §4b). Anything else raises
    ``ValueError`` so unexpected text is never silently taken as missing.

    A scalar gives ``int`` or ``pd.NA``; a sequence/array/Series gives an Int64 Series (a Series
    keeps its index).
    """
    if isinstance(text, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        ser = text if isinstance(text, pd.Series) else pd.Series(list(text))
        uniques = pd.unique(ser.astype(object).to_numpy())
        mapping = {u: _parse_one(u) for u in uniques if not _is_na(u)}
        out = ser.astype(object).map(lambda v: pd.NA if _is_na(v) else mapping[v])
        return out.astype("Int64")
    return _parse_one(text)


def _is_na(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def class_label(class_code: Any) -> pd.Series:
    """Labels "I".."劣V" of class codes ("" for NA), for tables and reports."""
    codes = pd.Series(class_code).astype("Int64")
    return codes.map(CLASS_LABELS).fillna("").astype(str)


# --------------------------------------------------------------------------- classes


def _lake_mask(water_body: str | pd.Series, index: pd.Index) -> np.ndarray:
    if isinstance(water_body, pd.Series):
        wb = water_body.reindex(index) if not water_body.index.equals(index) else water_body
        bad = ~wb.isin(WATER_BODIES)
        if bad.any():
            raise ValueError(f"water_body must be one of {WATER_BODIES}: {sorted(set(wb[bad].astype(str)))}")
        return (wb == "lake_reservoir").to_numpy(dtype=bool)
    if water_body not in WATER_BODIES:
        raise ValueError(f"water_body must be one of {WATER_BODIES}, got {water_body!r}")
    return np.full(len(index), water_body == "lake_reservoir")


def _limit_matrix(item: str, lake: np.ndarray) -> np.ndarray:
    """(n, 5) class I..V limits of ``item`` per row; NaN where the table has no row (TN in rivers)."""
    nan5 = np.full(5, np.nan)
    river = np.asarray(LIMITS["river"].get(item, nan5), dtype="float64")
    lakes = np.asarray(LIMITS["lake_reservoir"].get(item, nan5), dtype="float64")
    return np.where(lake[:, None], lakes[None, :], river[None, :])


def _item_class(values: np.ndarray, item: str, lake: np.ndarray) -> np.ndarray:
    """Float array of class codes 1..6 (NaN = not measured / no limit for this water body).

    GB 3838-2002 Table 1: a value meets class k when ≤ its limit (≥ for DO); the class is the best
    class met, so equal limits give the better class; a value meeting no class is 劣V (6).
    """
    v = _snap(values)
    if item == "ph":
        inside = (v >= PH_RANGE[0]) & (v <= PH_RANGE[1])
        return np.where(np.isnan(v), np.nan, np.where(inside, 1.0, 6.0))
    lim = _limit_matrix(item, lake)
    with np.errstate(invalid="ignore"):
        # count the classes the value fails; DO fails a class when below its limit
        fails = lim > v[:, None] if item in HIGHER_IS_BETTER else lim < v[:, None]
    worse = fails.sum(axis=1)
    cls = 1.0 + worse
    return np.where(np.isnan(v) | np.isnan(lim[:, 0]), np.nan, cls)


def item_class(values: Any, item: str, water_body: str | pd.Series = "river") -> pd.Series:
    """Class (Int64, NA when not measured) of one item's values on GB 3838-2002 Table 1."""
    ser = pd.Series(values) if not isinstance(values, pd.Series) else values
    _check_items([item])
    lake = _lake_mask(water_body, ser.index)
    arr = pd.to_numeric(ser).to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(_item_class(arr, item, lake), index=ser.index, name=f"class_{item}").astype("Int64")


def exceedance_multiple(values: Any, item: str, water_body: str | pd.Series = "river") -> pd.Series:
    """Exceedance multiple (C − S_III)/S_III, 2 decimals (GB/T 8170), NaN when not above class III.

    2011 method 二(一)2 (standards.md §3.2): measured against the class III limit of the item's
    table (lake/reservoir TP for lakes); none for water temperature, pH and DO.
    """
    ser = pd.Series(values) if not isinstance(values, pd.Series) else values
    _check_items([item])
    lake = _lake_mask(water_body, ser.index)
    arr = pd.to_numeric(ser).to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(_exceedance(arr, item, lake), index=ser.index, name=f"exceedance_{item}")


def _snap(values: Any) -> np.ndarray:
    """Values rounded to 10 decimals before any comparison with a limit.

    Removes binary noise (the mean of 0.05, 0.25 and 0.3 is 0.20000000000000004, which must be
    class III like 0.2); 1e-10 is far below every limit's resolution (Hg 0.00005 mg/L).
    """
    return np.round(np.asarray(values, dtype="float64"), 10)


def _exceedance_raw(values: np.ndarray, item: str, lake: np.ndarray) -> np.ndarray:
    v = _snap(values)
    if item in NO_EXCEEDANCE:
        return np.full(len(v), np.nan)
    s3 = _limit_matrix(item, lake)[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v > s3, (v - s3) / s3, np.nan)


def _exceedance(v: np.ndarray, item: str, lake: np.ndarray) -> np.ndarray:
    return np.asarray(round_gbt8170(_exceedance_raw(v, item, lake), 2), dtype="float64")


def _check_items(items: Sequence[str]) -> None:
    unknown = [i for i in items if i not in ITEM_ORDER]
    if unknown:
        raise ValueError(f"no GB 3838 class for {unknown}; classifiable items: {ITEM_ORDER}")


def _join_codes(masks: dict[str, np.ndarray], n: int, sep: str = ";") -> np.ndarray:
    """';'-joined codes whose mask is true, per row (rows → bit patterns → one string per pattern)."""
    codes = list(masks)
    if not codes:
        return np.full(n, "", dtype=object)
    bits = np.zeros(n, dtype="int64")
    for pos, code in enumerate(codes):
        bits |= np.asarray(masks[code], dtype=bool).astype("int64") << pos
    patterns, inverse = np.unique(bits, return_inverse=True)
    text = np.array([sep.join(c for pos, c in enumerate(codes) if p >> pos & 1) for p in patterns], dtype=object)
    return text[inverse.reshape(-1)]


def classify(
    samples: pd.DataFrame,
    water_body: str | pd.Series = "river",
    items: Sequence[str] | None = None,
    required: Sequence[str] = AUTOMATIC_ITEMS,
) -> pd.DataFrame:
    """Single-factor class of each row (2011 method 二(一)1) on GB 3838-2002 Table 1.

    ``samples`` holds one column per parameter code (numeric; NaN = not measured, skipped).
    ``water_body`` is "river", "lake_reservoir" or a Series of those aligned with the rows (lake
    TP and TN limits). ``items`` are the items evaluated (default :data:`EVALUATED_ITEMS`, the
    2011 method's 21); columns absent from ``samples`` count as not measured. A row lacking any
    ``required`` item gets no class (NA) — the publisher's rule (BRIEF); pass ``required=()`` to
    class on whatever is present.

    Returns a DataFrame on the same index with ``class_code`` (Int64), ``class_label`` ("" for
    NA), ``decided_by`` (';'-joined items at the worst class, Table 1 order), ``items_evaluated``
    (';'-joined items present), ``main_pollutants`` (worse than III only: up to three, e.g.
    "总磷(0.50)、氨氮(0.20)"), ``tn_class`` (TN on the lake table, lakes/reservoirs only; TN never
    enters the class), then ``class_<item>`` (Int64) and ``exceedance_<item>`` (float, NaN unless
    above class III; none for pH and DO) for every evaluated item.
    """
    items = tuple(EVALUATED_ITEMS if items is None else items)
    _check_items(items)
    _check_items(required)
    index = samples.index
    n = len(index)
    lake = _lake_mask(water_body, index)
    ordered = [i for i in ITEM_ORDER if i in items]

    def values(code: str) -> np.ndarray:
        if code not in samples.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(samples[code]).to_numpy(dtype="float64", na_value=np.nan)

    classes = {i: _item_class(values(i), i, lake) for i in ordered}
    raw_mult = {i: _exceedance_raw(values(i), i, lake) for i in ordered}

    cls_matrix = np.column_stack([classes[i] for i in ordered]) if ordered else np.full((n, 0), np.nan)
    present = ~np.isnan(cls_matrix)
    any_present = present.any(axis=1)
    worst = np.where(any_present, np.nanmax(np.where(present, cls_matrix, -np.inf), axis=1), np.nan)

    complete = np.ones(n, dtype=bool)
    for code in required:
        complete &= ~np.isnan(values(code))
    final = np.where(complete & any_present, worst, np.nan)
    class_code = pd.array(np.where(np.isnan(final), 0, final).astype("int64"), dtype="Int64")
    class_code[np.isnan(final)] = pd.NA

    decided = _join_codes({i: classes[i] == final for i in ordered}, n)
    evaluated = _join_codes({i: ~np.isnan(classes[i]) for i in ordered}, n)
    main = _main_pollutants(ordered, cls_matrix, raw_mult, final)

    tn = _item_class(values("tn"), "tn", lake)
    tn = np.where(lake, tn, np.nan)

    out = pd.DataFrame(index=index)
    out["class_code"] = class_code
    out["class_label"] = pd.Series(class_code, index=index).map(CLASS_LABELS).fillna("").astype(str)
    out["decided_by"] = pd.Series(decided, index=index, dtype=str)
    out["items_evaluated"] = pd.Series(evaluated, index=index, dtype=str)
    out["main_pollutants"] = pd.Series(main, index=index, dtype=str)
    out["tn_class"] = pd.Series(tn, index=index).astype("Int64")
    for i in ordered:
        out[f"class_{i}"] = pd.Series(classes[i], index=index).astype("Int64")
    for i in ordered:
        if i not in NO_EXCEEDANCE:
            out[f"exceedance_{i}"] = np.asarray(round_gbt8170(raw_mult[i], 2), dtype="float64")
    return out


def _main_pollutants(
    ordered: list[str], cls: np.ndarray, raw_mult: dict[str, np.ndarray], final: np.ndarray
) -> np.ndarray:
    """2011 method 二(一)2: up to three items above class III when the section is worse than III.

    Order: cyanide/heavy metals exceeding first (:data:`PRIORITY_POLLUTANTS`), then worse class
    first, then larger exceedance multiple (unrounded; pH/DO have none and come after items
    with one), then Table 1 order. Written "name(multiple)" with 2 decimals, or the bare name for
    pH and DO, joined by "、".
    """
    n_all, k = cls.shape
    result = np.full(n_all, "", dtype=object)
    rows = np.flatnonzero(final > 3)  # usually few: work on those rows only
    if k == 0 or rows.size == 0:
        return result
    cls = cls[rows]
    n = rows.size
    out = np.full(n, "", dtype=object)
    cand = cls > 3
    mult = np.column_stack([raw_mult[i][rows] for i in ordered])
    prio = np.array([i in PRIORITY_POLLUTANTS for i in ordered])[None, :] & cand
    keys = [  # least significant first; all sorted descending, stable
        np.where(np.isnan(mult), -1.0, mult),
        np.where(cand, cls, -1.0),
        prio.astype(float),
        cand.astype(float),
    ]
    order = np.broadcast_to(np.arange(k), (n, k)).copy()
    for key in keys:
        ranked = np.take_along_axis(key, order, axis=1)
        order = np.take_along_axis(order, np.argsort(-ranked, axis=1, kind="stable"), axis=1)
    names = np.array([NAMES_ZH[i] for i in ordered], dtype=object)
    rounded = np.asarray(round_gbt8170(mult, 2), dtype="float64")
    for pos in range(min(3, k)):
        col = order[:, pos]
        take = np.take_along_axis(cand, col[:, None], axis=1)[:, 0]
        m = np.take_along_axis(rounded, col[:, None], axis=1)[:, 0]
        text = names[col] + np.where(
            np.isnan(m), "", "(" + np.char.mod("%.2f", np.nan_to_num(m)).astype(object) + ")"
        )
        glue = np.where((out != "") & take, MAIN_POLLUTANT_SEPARATOR, "")
        out = out + glue + np.where(take, text, "")
    result[rows] = out
    return result


def compliance(class_code: Any, target_class: Any) -> pd.Series | pd.arrays.BooleanArray:
    """Whether a class meets its target class: class_code ≤ target (I best); NA when either is NA.

    The target (the section's assessment class, configuration) is the criterion; GB 3838 classes
    are the methodology. A Series input returns a boolean Series on its index, otherwise a
    ``BooleanArray``.
    """
    codes = (class_code if isinstance(class_code, pd.Series) else pd.Series(class_code)).astype("Int64")
    if isinstance(target_class, pd.Series):
        target = target_class if target_class.index.equals(codes.index) else target_class.reindex(codes.index)
        target = target.astype("Int64")
    elif np.ndim(target_class) == 0:
        target = pd.Series(pd.array([target_class] * len(codes), dtype="Int64"), index=codes.index)
    else:
        target = pd.Series(pd.array(list(target_class), dtype="Int64"), index=codes.index)
    result = (codes <= target).astype("boolean")
    if isinstance(class_code, pd.Series):
        return result
    return result.array


def _mean_items(samples: pd.DataFrame) -> list[str]:
    return [c for c in PARAMETERS if c in samples.columns]


def period_class(
    samples: pd.DataFrame,
    by: list[str],
    water_body: str | pd.Series = "river",
    min_samples: int = 1,
    required: Sequence[str] = AUTOMATIC_ITEMS,
    items: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Class of period means per group (2011 method 一(二)1: several results → arithmetic mean).

    For each group of ``by`` (e.g. section and month) every parameter column present is averaged
    over its valid (non-missing) values — pH included: the 2011 method averages every item
    arithmetically and gives pH no exception, so pH is the arithmetic mean of the pH values
    (not of H+ activity). ``n_samples`` counts rows, ``n_valid`` the rows having every
    ``required`` item. With ``n_valid < min_samples`` the status is "insufficient_data" and the
    class is NA; otherwise "ok" and the means are classed by :func:`classify` (same ``required``
    and ``items``). Screening rows (maintenance flags, quarantined values) is the caller's job.
    Groups with NaN keys are kept. ``water_body`` (str or a Series aligned with ``samples``) must
    be constant within a group.
    """
    if min_samples < 0:
        raise ValueError("min_samples must be ≥ 0")
    _check_items(required)
    cols = _mean_items(samples)
    frame = samples[list(by) + cols].copy()
    for c in cols:
        frame[c] = pd.to_numeric(frame[c]).astype("float64")
    complete = np.ones(len(frame), dtype=bool)
    for code in required:
        complete &= frame[code].notna().to_numpy() if code in frame.columns else False
    frame["_valid"] = complete
    wb_series = isinstance(water_body, pd.Series)
    if wb_series:
        frame["_wb"] = water_body.reindex(samples.index) if not water_body.index.equals(samples.index) else water_body
    grouped = frame.groupby(list(by), dropna=False, sort=True)
    means = grouped[cols].mean()
    means["n_samples"] = grouped.size()
    means["n_valid"] = grouped["_valid"].sum().astype("int64")
    if wb_series:
        n_wb = grouped["_wb"].nunique(dropna=False)
        if (n_wb > 1).any():
            raise ValueError("water_body differs within a group")
        wb: str | pd.Series = grouped["_wb"].first()
    else:
        wb = water_body
    means = means.reset_index()
    if wb_series:
        wb = pd.Series(np.asarray(wb), index=means.index)
    result = classify(means[cols], water_body=wb, items=items, required=required)
    ok = means["n_valid"].to_numpy() >= min_samples
    result.loc[~ok, "class_code"] = pd.NA
    result.loc[~ok, ["class_label", "decided_by", "main_pollutants"]] = ""
    status = pd.Series(np.where(ok, "ok", "insufficient_data"), index=means.index, dtype=str)
    return pd.concat([means, result, status.rename("status")], axis=1)


# --------------------------------------------------------------------------- grades


def grade_of_class(class_code: Any) -> pd.Series:
    """Qualitative grade of a section class (2011 method 二(一)1 表1); "" when the class is NA.

    I–II 优, III 良好, IV 轻度污染, V 中度污染, 劣V 重度污染.
    """
    codes = pd.Series(class_code) if not isinstance(class_code, pd.Series) else class_code
    return codes.astype("Int64").map(GRADES).fillna("").astype(str)


def river_grade(
    share_i_iii: Any, share_lie_v: Any, n_sections: Any, mean_class: Any = None
) -> pd.Series:
    """Grade of a river, basin or region (2011 method 二(二), standards.md §3.2).

    Shares are fractions 0–1 of the evaluated sections. With 5 or more sections, the
    class-proportion method: I–III ≥ 90 % 优; 75 % ≤ I–III < 90 % 良好; I–III < 75 % and 劣V < 20 %
    轻度污染; I–III < 75 % and 20 % ≤ 劣V < 40 % 中度污染; I–III < 75 % and 劣V ≥ 40 % 重度污染
    (I–III + 劣V ≤ 100 % makes "I–III < 60 %" implied in the last case, except exactly 60/40).
    Exactly 5 sections use proportions (the text has "少于5个" for the other method).

    With fewer than 5 sections the method classes the mean concentrations over the sections
    (single-factor) and grades that class: pass it as ``mean_class`` (e.g. from
    :func:`period_class` over the sections' means); without it those rows are "".
    """
    s13 = np.asarray(share_i_iii, dtype="float64")
    s6 = np.asarray(share_lie_v, dtype="float64")
    ns = np.asarray(n_sections, dtype="float64")
    s13, s6, ns = np.broadcast_arrays(s13, s6, ns)
    if np.nanmax(np.concatenate([s13.ravel(), s6.ravel(), [0.0]])) > 1 + 1e-9:
        raise ValueError("shares must be fractions in 0..1, not percentages")
    with np.errstate(invalid="ignore"):
        grade = np.select(
            [s13 >= 0.9, s13 >= 0.75, s6 < 0.2, s6 < 0.4, s6 >= 0.4],
            ["优", "良好", "轻度污染", "中度污染", "重度污染"],
            default="",
        ).astype(object)
    grade = np.where(np.isnan(s13) | np.isnan(s6), "", grade)
    few = ns < 5
    if mean_class is not None:
        mc = np.broadcast_to(np.asarray(grade_of_class(pd.Series(np.atleast_1d(mean_class))), dtype=object),
                             grade.shape)
    else:
        mc = np.full(grade.shape, "", dtype=object)
    grade = np.where(few, mc, grade)
    grade = np.where(np.isnan(ns), "", grade)
    index = share_i_iii.index if isinstance(share_i_iii, pd.Series) else None
    return pd.Series(np.atleast_1d(grade), index=index, dtype=str, name="grade")
