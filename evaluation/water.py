"""River-section indicators composed from GB 3838-2002 and the 2011 evaluation method.

Pure (frames in, frames out). Criterion and methodology are kept apart: the section's target
class comes from the bureau's registry, the class from ``standards.gb3838``; compliance is the
comparison of the two.

How many valid samples a period needs before it is judged is a bureau policy (no national rule
exists for automatic stations): see ``MIN_VALID``. Too few → status ``insufficient_data``, no class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.frames import wide
from standards import gb3838

ITEMS = list(gb3838.PARAMETERS)
PUBLISHED = "water_class_published"
#: Minimum valid samples (all five automatic items present, station normal) to judge a period.
#: Automatic stations sample every 4 hours (6 a day, ≈180 a month): a day needs half of its
#: samples, a month a third. A manual monthly result is one value: it is judged as it is.
MIN_VALID = {("automatic", "day"): 3, ("automatic", "month"): 60, ("manual", "month"): 1}
MEAN_COLUMNS = {"ph": "ph_mean", "do": "do_mean", "codmn": "codmn_mean", "nh3n": "nh3n_mean", "tp": "tp_mean",
                "tn": "tn_mean", "water_temp": "water_temp_mean"}


def samples_wide(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (section, time) with every GB 3838 item and the published class as columns."""
    return wide(records, [*ITEMS, PUBLISHED])


def _sections_for(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """Water body and target class per row (sections unknown to the registry: river, class III)."""
    info = sections.set_index("site")[["water_body", "target_class"]]
    joined = frame[["site"]].join(info, on="site")
    return joined.assign(water_body=joined["water_body"].fillna("river"),
                         target_class=joined["target_class"].fillna(3).astype("int64"))


def sample_classes(samples: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """GB 3838 class of every sample, compliance with the section's target, and the sample status."""
    info = _sections_for(samples, sections)
    under_maintenance = samples["source_flag"].eq("maintenance").to_numpy()
    judged = samples.copy()
    judged.loc[under_maintenance, ITEMS] = np.nan  # values taken during maintenance are not judged
    classes = gb3838.classify(judged[ITEMS], water_body=info["water_body"])
    out = samples[["site", "observed_at"]].join(classes[["class_code", "class_label", "decided_by",
                                                          "items_evaluated", "main_pollutants"]])
    out["day"] = samples["observed_at"].dt.tz_convert("Asia/Shanghai").dt.date
    out["target_class"] = info["target_class"].to_numpy()
    out["compliant"] = gb3838.compliance(classes["class_code"], info["target_class"])
    out["published_class"] = samples[PUBLISHED].astype("Int64") if PUBLISHED in samples else pd.NA
    out["source_flag"] = samples["source_flag"].to_numpy()
    out["status"] = np.where(under_maintenance, "maintenance",
                             np.where(classes["class_code"].isna(), "insufficient_data", "ok"))
    return out


def section_periods(samples: pd.DataFrame, sections: pd.DataFrame, period: str, source: str = "automatic",
                    min_valid: int | None = None) -> pd.DataFrame:
    """Class of the period means per section (2011 method): ``period`` is "day" or "month"."""
    usable = samples[samples["source_flag"].ne("maintenance")].copy()
    local = usable["observed_at"].dt.tz_convert("Asia/Shanghai")
    usable["period"] = (local.dt.date if period == "day"
                        else local.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date)
    info = _sections_for(usable, sections)
    needed = min_valid if min_valid is not None else MIN_VALID[(source, period)]
    present = [c for c in ITEMS if c in usable.columns and usable[c].notna().any()]
    # Automatic stations must report all five items to be judged (as the publisher does); a
    # manual programme is judged on the items it measures (the Sichuan monthly file has no TP).
    required = gb3838.AUTOMATIC_ITEMS if source == "automatic" else \
        tuple(i for i in gb3838.AUTOMATIC_ITEMS if i in present)
    classes = gb3838.period_class(usable[["site", "period", *present]], by=["site", "period"],
                                  water_body=info["water_body"], min_samples=needed, required=required)
    targets = info.groupby(usable["site"])["target_class"].first()
    classes["target_class"] = classes["site"].map(targets).astype("int64")
    classes["compliant"] = gb3838.compliance(classes["class_code"], classes["target_class"])
    if PUBLISHED in usable:
        published = usable.groupby(["site", "period"])[PUBLISHED].agg(lambda s: s.dropna().max())
        classes["published_class"] = pd.MultiIndex.from_frame(classes[["site", "period"]]).map(
            published.to_dict()).astype("Int64") if source == "manual" else pd.NA
    classes["source"] = source
    return classes


def area_shares(section_months: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """Per city and per river and month: shares of judged sections at I–III and 劣V, compliance,
    and the 2011 river grade (mean-class grading below five sections)."""
    info = sections.set_index("site")[["city", "river"]]
    frame = section_months.join(info, on="site")
    frame["judged"] = frame["class_code"].notna()
    frame["i_iii"] = frame["class_code"].le(3).fillna(False).astype(bool)
    frame["lie_v"] = frame["class_code"].eq(6).fillna(False).astype(bool)
    frame["ok"] = frame["compliant"].fillna(False).astype(bool)
    out = []
    for scope in ("city", "river"):
        grouped = frame.groupby([scope, "month", "source"], dropna=True)
        agg = grouped.agg(n_sections=("site", "size"), n_judged=("judged", "sum"), n_class_i_iii=("i_iii", "sum"),
                          n_lie_v=("lie_v", "sum"), n_compliant=("ok", "sum"),
                          mean_class=("class_code", lambda s: s.dropna().mean())).reset_index()
        judged = agg["n_judged"].where(agg["n_judged"] > 0)
        agg["share_i_iii"] = agg["n_class_i_iii"] / judged
        agg["share_lie_v"] = agg["n_lie_v"] / judged
        agg["share_compliant"] = agg["n_compliant"] / judged
        mean_class = np.ceil(agg["mean_class"] - 1e-9).astype("Int64")
        graded = agg["n_judged"] > 0
        agg["grade"] = ""
        if graded.any():
            agg.loc[graded, "grade"] = gb3838.river_grade(
                agg.loc[graded, "share_i_iii"], agg.loc[graded, "share_lie_v"], agg.loc[graded, "n_judged"],
                mean_class=mean_class[graded]).to_numpy()
        out.append(agg.rename(columns={scope: "area"}).assign(scope=scope).drop(columns="mean_class"))
    return pd.concat(out, ignore_index=True)
