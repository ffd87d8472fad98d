"""Narrow records (site, parameter, time, value) ↔ the wide frames the standards functions take."""

from __future__ import annotations

import pandas as pd

HOURLY_POLLUTANTS = ["so2", "no2", "co", "o3", "pm10", "pm25"]
#: Published moving means some rules need (HJ 633-2012: SO2 1 h > 800 → the 24-hour IAQI).
HOURLY_EXTRA = ["so2_24h"]


def hourly_wide(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (site, hour-ending time) with the 1-hour pollutants as columns.

    Only values the source flagged normal enter; missing, maintenance or suspect hours are NaN,
    which HJ 663 treats as invalid hours.
    """
    wanted = records[records["parameter"].isin(HOURLY_POLLUTANTS + HOURLY_EXTRA)]
    usable = wanted.assign(value=wanted["value"].where(wanted["source_flag"].eq("normal")))
    # Rows only for the (site, hour) pairs present in the records, not their cartesian product.
    keys = usable[["site_code", "observed_at"]].drop_duplicates()
    wide = usable.pivot_table(index=["site_code", "observed_at"], columns="parameter", values="value",
                              aggfunc="first", dropna=True)
    wide = wide.reindex(pd.MultiIndex.from_frame(keys))
    wide = wide.reindex(columns=HOURLY_POLLUTANTS + HOURLY_EXTRA)
    wide.columns.name = None
    return wide.reset_index().rename(columns={"site_code": "site"})
