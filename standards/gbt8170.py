"""GB/T 8170-2008 rounding of reported values (数值修约规则): round half to even, on the decimal value.

The one rounding function of the project: HJ 633-2026 §4.2.2, HJ 663-2013 Table 3 and the water
and carbon reports all round this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def round_gbt8170(values: Any, decimals: int = 0) -> Any:
    """Round per GB/T 8170 §3.3 (round half to even: "四舍六入五成双") to ``decimals`` places.

    Halves are judged on the DECIMAL value the float stands for, not its binary approximation:
    0.25 → 0.2, 0.35 → 0.4, 2.5 → 2, 3.5 → 4, 2.675 → 2.68 (2 decimals) although the binary 0.35
    is 0.34999… and the binary 2.675 is 2.67499…. The scaled value is snapped to 9 decimals first,
    which removes representation and summation noise (~1e-15 relative) and keeps every real digit
    of a concentration. Negative values round symmetrically (−2.5 → −2).

    Accepts a scalar, sequence, ndarray, Series or DataFrame (NaN / pd.NA stay missing) and
    returns the same kind (scalar → float, Series/DataFrame keep their index; values become float64).
    """
    if isinstance(values, pd.DataFrame):
        return values.apply(lambda col: round_gbt8170(col, decimals))
    if isinstance(values, pd.Series):
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(_round_array(arr, decimals), index=values.index, name=values.name)
    if values is None or values is pd.NA:
        return np.nan
    if np.ndim(values) == 0:
        return float(_round_array(np.asarray([values], dtype="float64"), decimals)[0])
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):  # pd.NA or None inside
        flat = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce")
        arr = flat.to_numpy(dtype="float64", na_value=np.nan).reshape(np.shape(values))
    return _round_array(arr, decimals)


def _round_array(arr: np.ndarray, decimals: int) -> np.ndarray:
    scale = 10.0 ** decimals
    scaled = arr * scale
    with np.errstate(invalid="ignore"):
        snapped = np.where(np.abs(scaled) < 1e6, np.round(scaled, 9), scaled)
    return np.rint(snapped) / scale  # np.rint rounds half to even
