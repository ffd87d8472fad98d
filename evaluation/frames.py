"""Narrow records (site, parameter, time, value) ↔ the wide frames the standards functions take."""

from __future__ import annotations

import numpy as np
import pandas as pd

HOURLY_POLLUTANTS = ["so2", "no2", "co", "o3", "pm10", "pm25"]
#: Published moving means some rules need (HJ 633-2012: SO2 1 h > 800 → the 24-hour IAQI).
HOURLY_EXTRA = ["so2_24h"]


def wide(records: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One row per (site, time) present in the records, one column per parameter in ``columns``.

    Only values the source flagged normal enter; missing, maintenance or suspect values are NaN
    (invalid for the standards). ``source_flag`` of the row is the worst flag among its values
    (maintenance > suspect > normal; ``missing`` only when every value is missing), so a row
    under maintenance stays recognisable and a row with some empty cells is still normal.
    """
    wanted = records[records["parameter"].isin(columns)]
    usable = wanted.assign(value=wanted["value"].where(wanted["source_flag"].eq("normal")))
    keys = wanted[["site_code", "observed_at"]].drop_duplicates()
    frame = usable.pivot_table(index=["site_code", "observed_at"], columns="parameter", values="value",
                               aggfunc="first", dropna=True)
    frame = frame.reindex(pd.MultiIndex.from_frame(keys)).reindex(columns=columns)
    rank = wanted["source_flag"].map(_FLAG_RANK).fillna(0)
    worst = rank.groupby([wanted["site_code"], wanted["observed_at"]]).max()
    frame["source_flag"] = np.asarray(_FLAGS, dtype=object)[worst.reindex(frame.index).fillna(0).astype(int) + 1]
    frame.columns.name = None
    return frame.reset_index().rename(columns={"site_code": "site"})


_FLAGS = ["missing", "normal", "suspect", "maintenance"]
_FLAG_RANK = {flag: i - 1 for i, flag in enumerate(_FLAGS)}


def hourly_wide(records: pd.DataFrame) -> pd.DataFrame:
    """Air: one row per (site, hour-ending label) with the 1-hour pollutants as columns."""
    return wide(records, HOURLY_POLLUTANTS + HOURLY_EXTRA).drop(columns="source_flag")
