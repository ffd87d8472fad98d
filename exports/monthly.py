"""The monthly compliance report as data: one frame per sheet, read from the derived tables.

Figures are the warehouse's own (HJ 663 / HJ 633 air statistics, GB 3838 water classes, carbon
indicators, target status): months and years are read from ``derived.air_city_month`` /
``derived.air_city_year`` / ``derived.water_*`` / ``derived.carbon_*`` as stored. What no table
holds — station monthly figures and a year-to-date through a month other than the stored year's
last day — is computed from the stored daily values with the same function the refresh uses
(:func:`standards.hj663.period_statistics`). Target statuses come from
:func:`targets.refresh.compute_statuses` on the month's last day (read-only; nothing is written).

No I/O besides the database reads in :func:`build`; writing the files is ``exports.workbook``,
``exports.pdf`` and ``exports.manifest``.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
import yaml

from envmon.settings import CONFIG_DIR
from standards import hj663
from standards.gb3838 import CLASS_LABELS
from standards.gbt8170 import round_gbt8170

BEIJING = ZoneInfo("Asia/Shanghai")
CONFIG_PATH = CONFIG_DIR / "exports.yaml"

#: Sheet names in workbook order, and the ASCII file name of each sheet's CSV.
SHEETS: dict[str, str] = {"概况": "overview", "空气": "air", "水": "water", "碳": "carbon", "数据说明": "notes"}

DAY_COLUMNS = list(hj663.DAILY_VALUE_COLUMNS)
POLLUTANT_ZH = {"pm25": "PM2.5", "pm10": "PM10", "o3": "O3", "so2": "SO2", "no2": "NO2", "co": "CO"}
STATUS_ZH = {"met": "达标", "on_course": "进度正常", "at_risk": "有风险", "missed": "未达标",
             "insufficient_data": "数据不足", "not_set": "未设定"}
SOURCE_ZH = {"automatic": "自动监测", "manual": "手工监测"}


@dataclass
class Sheet:
    """One table of the report: the frame, decimals per numeric column, and its row key."""

    name: str
    title: str
    frame: pd.DataFrame
    decimals: dict[str, int] = field(default_factory=dict)
    key: list[str] = field(default_factory=list)

    @property
    def csv_name(self) -> str:
        return f"{SHEETS[self.name]}.csv"


@dataclass
class MonthlyReport:
    month: date
    sheets: list[Sheet]
    cutoff: str | None
    completeness: pd.DataFrame
    missing: list[str]
    summary: str
    charts: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)


def load_config(path: Path | str = CONFIG_PATH) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def parse_month(text: str) -> date:
    """``YYYY-MM`` → the month's first day; a clear error otherwise."""
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month {text!r} is not YYYY-MM") from None


def month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Hour-ending labels of Beijing days first … last: (first 00:00, last+1 00:00] in Beijing time."""
    start = datetime.combine(first, datetime.min.time(), BEIJING)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), BEIJING)
    return start, end


def _ranges(days: list[date]) -> str:
    """Dates as compact ranges: 6-10…6-12、6-15."""
    if not days:
        return "无"
    days = sorted(days)
    parts, start, prev = [], days[0], days[0]
    for d in [*days[1:], None]:
        if d is not None and d == prev + timedelta(days=1):
            prev = d
            continue
        parts.append(f"{start:%m-%d}" if start == prev else f"{start:%m-%d}至{prev:%m-%d}")
        if d is not None:
            start = prev = d
    return "、".join(parts)


def _round(value: Any, decimals: int) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return np.nan
    return float(round_gbt8170(float(value), decimals))


# --- sites ------------------------------------------------------------------------------------

def _air_sites(conn: psycopg.Connection, config: dict) -> pd.DataFrame:
    rows = conn.execute("""
        SELECT site_id, code, name_zh, kind, is_background FROM registry.site
        WHERE (kind = 'air_city' AND code = %s) OR (kind = 'air_station' AND city = %s)
        ORDER BY kind = 'air_station', code""", (config["air_city_site"], config["city"])).fetchall()
    return pd.DataFrame(rows, columns=["site_id", "code", "name_zh", "kind", "is_background"])


def _sections(conn: psycopg.Connection, config: dict) -> pd.DataFrame:
    rows = conn.execute("""
        SELECT site_id, code, name_zh, river, assessment_level, target_class, lon, lat, config_source
        FROM registry.site WHERE kind = 'water_section' AND city = %s ORDER BY river, code""",
                        (config["city"],)).fetchall()
    return pd.DataFrame(rows, columns=["site_id", "code", "name_zh", "river", "assessment_level", "target_class",
                                       "lon", "lat", "config_source"])


# --- air --------------------------------------------------------------------------------------

def _days(conn: psycopg.Connection, table: str, site_ids: list[int], first: date, last: date) -> pd.DataFrame:
    rows = conn.execute(f"""
        SELECT s.code, d.day, {", ".join("d." + c for c in DAY_COLUMNS)}, d.aqi, d.primary_pollutant, d.rules,
               d.colour, d.level
        FROM {table} d JOIN registry.site s USING (site_id)
        WHERE d.site_id = ANY(%s) AND d.day BETWEEN %s AND %s ORDER BY s.code, d.day""",
                        (site_ids, first, last)).fetchall()
    days = pd.DataFrame(rows, columns=["site", "date", *DAY_COLUMNS, "aqi", "primary_pollutant", "rules", "colour",
                                       "level"])
    days = days.astype({c: "float64" for c in DAY_COLUMNS})
    days["aqi"] = days["aqi"].astype("Int64")
    days["primary_pollutant"] = days["primary_pollutant"].fillna("")
    return days


def _stats(days: pd.DataFrame, period: str) -> pd.DataFrame:
    """HJ 663 statistics per site of the given daily rows (the function the refresh uses)."""
    if days.empty:
        return pd.DataFrame(columns=["site"])
    return hj663.period_statistics(days.assign(_p=0), by=["site", "_p"], daily_aqi="aqi", period=period)


_PERIOD_COLUMNS = ["period_start", "period_end", "valid_days", "good_days", "good_day_ratio", "heavy_pollution_days",
                   "pm25_mean", "pm10_mean", "so2_mean", "no2_mean", "co_p95", "o3_8h_p90", "composite_index",
                   "complete", "limits_version"]


def _stored_period(conn: psycopg.Connection, table: str, site_id: int, start: date) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(_PERIOD_COLUMNS)}, primary_days FROM {table} "
                       "WHERE site_id = %s AND period_start = %s", (site_id, start)).fetchone()
    if row is None:
        return None
    out = dict(zip([*_PERIOD_COLUMNS, "primary_days"], row, strict=True))
    out["primary_days"] = out["primary_days"] or {}
    return out


def _computed_period(stats: pd.DataFrame, site: str) -> dict | None:
    if stats.empty or site not in set(stats["site"]):
        return None
    row = stats[stats["site"] == site].iloc[0]
    out = {c: row[c] for c in _PERIOD_COLUMNS}
    out["primary_days"] = {k.removeprefix("primary_days_"): int(v) for k, v in row.items()
                           if k.startswith("primary_days_") and v}
    return out


AIR_COLUMNS = {  # output column → (source key, decimals or None for text/int)
    "有效天数(天)": ("valid_days", 0), "优良天数(天)": ("good_days", 0), "优良天数比例(%)": ("good_day_ratio", 1),
    "重污染天数(天)": ("heavy_pollution_days", 0), "PM2.5(µg/m³)": ("pm25_mean", 0), "PM10(µg/m³)": ("pm10_mean", 0),
    "SO2(µg/m³)": ("so2_mean", 0), "NO2(µg/m³)": ("no2_mean", 0), "CO-95per(mg/m³)": ("co_p95", 1),
    "O3-8h-90per(µg/m³)": ("o3_8h_p90", 0), "综合指数": ("composite_index", 2),
}


def _air_row(kind: str, code: str, name: str, period: str, first: date, last: date, stats: dict | None,
             source: str) -> dict:
    row: dict[str, Any] = {"对象类型": kind, "代码": code, "名称": name, "统计期": period,
                           "起始日期": first.isoformat(), "截止日期": last.isoformat(),
                           "日历天数(天)": (last - first).days + 1}
    if stats is None:
        row.update({c: np.nan for c in AIR_COLUMNS})
        row.update({"有效天数(天)": 0, "优良天数(天)": 0, "重污染天数(天)": 0, "首要污染物天数": "",
                    "数据截至": "", "统计有效性(HJ 663)": "无数据", "数据来源": source})
        return row
    for column, (key, decimals) in AIR_COLUMNS.items():
        value = stats[key]
        row[column] = int(value) if decimals == 0 and key.endswith("days") else _round(value, decimals)
    primary = stats["primary_days"]
    row["首要污染物天数"] = "；".join(f"{POLLUTANT_ZH.get(p, p)} {primary[p]}" for p in
                                 sorted(primary, key=lambda p: (-primary[p], p)))
    row["数据截至"] = str(stats["period_end"])
    row["统计有效性(HJ 663)"] = "有效" if bool(stats["complete"]) else "有效天数不足"
    row["数据来源"] = source
    return row


def air_sheet(conn: psycopg.Connection, config: dict, month: date) -> tuple[Sheet, dict[str, Any]]:
    """City and station figures of the month and the year to date (HJ 663 §5, Table 1, App. A/C)."""
    sites = _air_sites(conn, config)
    last = month_end(month)
    jan1 = date(month.year, 1, 1)
    city = sites[sites["kind"] == "air_city"]
    stations = sites[sites["kind"] == "air_station"]
    rows: list[dict] = []
    charts: dict[str, Any] = {}
    city_days = _days(conn, "derived.air_city_day", city["site_id"].tolist(), jan1, last)
    station_days = _days(conn, "derived.air_station_day", stations["site_id"].tolist(), jan1, last)
    for _, site in city.iterrows():
        stored_m = _stored_period(conn, "derived.air_city_month", int(site["site_id"]), month)
        rows.append(_air_row("城市", site["code"], site["name_zh"], "本月", month, last, stored_m,
                             "derived.air_city_month"))
        stored_y = _stored_period(conn, "derived.air_city_year", int(site["site_id"]), jan1)
        if stored_y is not None and stored_y["period_end"] <= last and month.month == 12:
            ytd, source = stored_y, "derived.air_city_year"
        else:
            mine = city_days[city_days["site"] == site["code"]]
            ytd = _computed_period(_stats(mine, "year" if month.month == 12 else "span"), site["code"])
            source = "derived.air_city_day（年初至今，standards.hj663 计算）"
        rows.append(_air_row("城市", site["code"], site["name_zh"], "年初至今", jan1, last, ytd, source))
        charts["city_days"] = city_days[city_days["site"] == site["code"]].reset_index(drop=True)
        charts["city_name"] = site["name_zh"]
        charts["city_code"] = site["code"]
        charts["city_month"] = stored_m
        charts["city_ytd"] = ytd
    in_month = pd.to_datetime(station_days["date"]) >= pd.Timestamp(month)
    month_stats = _stats(station_days[in_month.to_numpy()], "month")
    ytd_stats = _stats(station_days, "year" if month.month == 12 else "span")
    for _, site in stations.iterrows():
        kind = "站点(对照点)" if site["is_background"] else "站点"
        rows.append(_air_row(kind, site["code"], site["name_zh"], "本月", month, last,
                             _computed_period(month_stats, site["code"]), "derived.air_station_day（standards.hj663 计算）"))
        rows.append(_air_row(kind, site["code"], site["name_zh"], "年初至今", jan1, last,
                             _computed_period(ytd_stats, site["code"]), "derived.air_station_day（standards.hj663 计算）"))
    frame = pd.DataFrame(rows)
    decimals = {c: d for c, (_, d) in AIR_COLUMNS.items()}
    decimals["日历天数(天)"] = 0
    # Good-day ratio year to date at each month end (PDF chart): the same HJ 663 function.
    ratios = []
    days = charts.get("city_days", pd.DataFrame())
    for m in range(1, month.month + 1 if len(days) else 1):
        upto = days[(pd.to_datetime(days["date"]) <= pd.Timestamp(month_end(date(month.year, m, 1)))).to_numpy()] \
            if len(days) else days
        stats = _computed_period(_stats(upto, "span"), charts["city_code"]) if len(upto) else None
        ratios.append((m, None if stats is None else _round(stats["good_day_ratio"], 1)))
    charts["ytd_ratio"] = ratios
    charts["rules"] = sorted(set(city_days["rules"].dropna()) | set(station_days["rules"].dropna()))
    charts["limits"] = sorted({str(s["limits_version"]) for s in (charts.get("city_month"), charts.get("city_ytd"))
                               if s is not None})
    return Sheet("空气", f"{config['city']}市环境空气质量 {month:%Y年%m月}（月度及年初至今，HJ 663）", frame, decimals,
                 ["对象类型", "代码", "统计期"]), charts


# --- water ------------------------------------------------------------------------------------

WATER_MEANS = {"pH(无量纲)": ("ph_mean", 2), "溶解氧(mg/L)": ("do_mean", 2), "高锰酸盐指数(mg/L)": ("codmn_mean", 1),
               "氨氮(mg/L)": ("nh3n_mean", 3), "总磷(mg/L)": ("tp_mean", 3)}


def water_sheet(conn: psycopg.Connection, config: dict, month: date) -> tuple[Sheet, dict[str, Any]]:
    """Every section of the city: the month's class (GB 3838, 2011 method), target, compliance, main
    pollutants with exceedance multiples; city and river shares and grades (derived.water_*)."""
    sections = _sections(conn, config)
    rows = conn.execute(f"""
        SELECT m.site_id, m.source, m.n_samples, m.n_valid, m.class_code, m.class_label, m.target_class, m.compliant,
               m.main_pollutants, m.status, {", ".join("m." + c for c, _ in WATER_MEANS.values())}
        FROM derived.water_section_month m WHERE m.site_id = ANY(%s) AND m.month = %s""",
                        (sections["site_id"].tolist(), month)).fetchall()
    months = pd.DataFrame(rows, columns=["site_id", "source", "n_samples", "n_valid", "class_code", "class_label",
                                         "target_class", "compliant", "main_pollutants", "status",
                                         *[c for c, _ in WATER_MEANS.values()]])
    out: list[dict] = []
    for _, s in sections.iterrows():
        mine = months[months["site_id"] == s["site_id"]].sort_values("source")
        base = {"类型": "断面", "名称": s["name_zh"], "河流": s["river"] or "",
                "考核级别": {"national": "国控", "provincial": "省控", "municipal": "市控"}.get(s["assessment_level"], ""),
                "月份": f"{month:%Y-%m}"}
        if mine.empty:
            out.append({**base, "数据来源": "", "样本数(个)": 0, "有效样本数(个)": 0, "水质类别": "",
                        "目标类别": CLASS_LABELS.get(s["target_class"], ""), "是否达标": "",
                        "主要污染指标(超标倍数)": "", "评价状态": "本月无数据"})
            continue
        for _, m in mine.iterrows():
            row = {**base, "数据来源": SOURCE_ZH[m["source"]], "样本数(个)": int(m["n_samples"]),
                   "有效样本数(个)": int(m["n_valid"]), "水质类别": m["class_label"] or "",
                   "目标类别": CLASS_LABELS.get(m["target_class"], ""),
                   "是否达标": "" if m["compliant"] is None else ("达标" if m["compliant"] else "不达标"),
                   "主要污染指标(超标倍数)": m["main_pollutants"] or "",
                   "评价状态": "已评价" if m["status"] == "ok" else "有效样本不足，不评价"}
            for column, (key, decimals) in WATER_MEANS.items():
                row[column] = _round(m[key], decimals)
            out.append(row)
    rivers = sorted({r for r in sections["river"].dropna()})
    areas = conn.execute("""
        SELECT scope, area, source, n_sections, n_judged, n_class_i_iii, n_lie_v, n_compliant, share_i_iii,
               share_lie_v, share_compliant, grade
        FROM derived.water_area_month
        WHERE month = %s AND ((scope = 'city' AND area = %s) OR (scope = 'river' AND area = ANY(%s)))
        ORDER BY scope, area, source""", (month, config["city"], rivers)).fetchall()
    for scope, area, source, n, judged, n13, nlv, ncomp, s13, slv, scomp, grade in areas:
        out.append({"类型": "城市" if scope == "city" else "河流", "名称": area, "河流": area if scope == "river" else "",
                    "考核级别": "", "月份": f"{month:%Y-%m}", "数据来源": SOURCE_ZH[source],
                    "断面数(个)": int(n), "已评价断面数(个)": int(judged), "I–III类断面(个)": int(n13),
                    "劣V类断面(个)": int(nlv), "达标断面(个)": int(ncomp),
                    "I–III类比例(%)": _round(None if s13 is None else 100 * s13, 1),
                    "劣V类比例(%)": _round(None if slv is None else 100 * slv, 1),
                    "达标比例(%)": _round(None if scomp is None else 100 * scomp, 1),
                    "水质状况": grade or "", "评价状态": "已评价" if judged else "无可评价断面"})
    columns = ["类型", "名称", "河流", "考核级别", "月份", "数据来源", "样本数(个)", "有效样本数(个)", "水质类别",
               "目标类别", "是否达标", "主要污染指标(超标倍数)", *WATER_MEANS, "断面数(个)", "已评价断面数(个)",
               "I–III类断面(个)", "劣V类断面(个)", "达标断面(个)", "I–III类比例(%)", "劣V类比例(%)", "达标比例(%)",
               "水质状况", "评价状态"]
    frame = pd.DataFrame(out).reindex(columns=columns)
    for c in ("样本数(个)", "有效样本数(个)", "断面数(个)", "已评价断面数(个)", "I–III类断面(个)", "劣V类断面(个)",
              "达标断面(个)"):
        frame[c] = frame[c].astype("Int64")
    decimals = {c: d for c, (_, d) in WATER_MEANS.items()}
    decimals.update({"I–III类比例(%)": 1, "劣V类比例(%)": 1, "达标比例(%)": 1})
    charts = {"sections": frame[frame["类型"] == "断面"].merge(
        sections[["name_zh", "lon", "lat"]], left_on="名称", right_on="name_zh", how="left")}
    return Sheet("水", f"{config['city']}市地表水断面水质 {month:%Y年%m月}（GB 3838-2002，环办〔2011〕22号）", frame,
                 decimals, ["类型", "名称", "数据来源"]), charts


# --- carbon -----------------------------------------------------------------------------------

def carbon_sheet(conn: psycopg.Connection, regions: list[str], month: date) -> tuple[Sheet, dict[str, Any]]:
    """Inventory years up to the report's year (latest first) and cumulative reductions (derived.carbon_*)."""
    rows = conn.execute("""
        SELECT region, year, co2_mt, co2_per_capita_t, gdp_constant_100m_yuan, intensity_t_per_10k_yuan,
               energy_per_gdp, share_of_province_pct, status, missing
        FROM derived.carbon_indicator WHERE region = ANY(%s) AND year <= %s ORDER BY region, year DESC""",
                        (regions, month.year)).fetchall()
    out = []
    latest = max((r[1] for r in rows if r[2] is not None), default=None)
    for region, year, co2, pc, gdp, intensity, energy, share, status, missing in rows:
        out.append({"项目": "排放清单" + ("（最新清单年）" if year == latest else ""), "区域": region, "年份": int(year),
                    "基年": pd.NA, "CO2排放量(Mt)": _round(co2, 2), "人均CO2排放(t/人)": _round(pc, 2),
                    "不变价GDP(亿元)": _round(gdp, 1), "碳排放强度(t/万元)": _round(intensity, 3),
                    "单位GDP能耗(tce/万元)": _round(energy, 3), "占全省比例(%)": _round(share, 1),
                    "状态": "完整" if status == "ok" else "数据不足", "缺失数据": missing or ""})
    reductions = conn.execute("""
        SELECT region, indicator, base_year, year, base_value, value, reduction_pct, status, missing
        FROM derived.carbon_reduction WHERE region = ANY(%s) AND year <= %s
        ORDER BY region, indicator, base_year, year""", (regions, month.year)).fetchall()
    names = {"co2_intensity": "碳排放强度累计降低率", "energy_intensity": "能耗强度累计降低率",
             "co2_total": "CO2排放总量累计降低率"}
    for region, indicator, base, year, base_value, value, pct, status, missing in reductions:
        out.append({"项目": names.get(indicator, indicator), "区域": region, "年份": int(year), "基年": int(base),
                    "基年值": _round(base_value, 3), "本年值": _round(value, 3), "累计降低率(%)": _round(pct, 2),
                    "状态": "完整" if status == "ok" else "数据不足", "缺失数据": missing or ""})
    columns = ["项目", "区域", "年份", "基年", "CO2排放量(Mt)", "人均CO2排放(t/人)", "不变价GDP(亿元)",
               "碳排放强度(t/万元)", "单位GDP能耗(tce/万元)", "占全省比例(%)", "基年值", "本年值", "累计降低率(%)",
               "状态", "缺失数据"]
    frame = pd.DataFrame(out).reindex(columns=columns)
    frame["年份"] = frame["年份"].astype("Int64")
    frame["基年"] = frame["基年"].astype("Int64")
    decimals = {"CO2排放量(Mt)": 2, "人均CO2排放(t/人)": 2, "不变价GDP(亿元)": 1, "碳排放强度(t/万元)": 3,
                "单位GDP能耗(tce/万元)": 3, "占全省比例(%)": 1, "基年值": 3, "本年值": 3, "累计降低率(%)": 2}
    series = sorted((int(r[1]), float(r[2])) for r in rows if r[2] is not None)
    intensity = sorted((int(r[1]), float(r[5])) for r in rows if r[5] is not None)
    return Sheet("碳", f"碳排放与能耗（截至 {month.year} 年的最新清单）", frame, decimals, ["项目", "区域", "年份", "基年"]), \
        {"co2_series": series, "intensity_series": intensity, "latest_year": latest}


# --- targets ----------------------------------------------------------------------------------

def _fmt(value: float | None, decimals: int = 3) -> str:
    if value is None:
        return "—"
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def overview_sheet(conn: psycopg.Connection, month: date) -> tuple[Sheet, list]:
    """Every target's actual, target, status on the month's last day, and the change against the
    same day a year earlier (targets.refresh.compute_statuses; the export writes nothing)."""
    from targets.refresh import compute_statuses
    from targets.registry import load_targets

    config = load_targets()
    as_of = month_end(month)
    statuses = compute_statuses(conn, as_of, config)
    try:
        before = date(as_of.year - 1, as_of.month, as_of.day)
    except ValueError:  # 29 February
        before = date(as_of.year - 1, as_of.month, 28)
    previous = {s.target.id: s for s in compute_statuses(conn, before, config)}
    symbols = {"ge": "≥", "le": "≤", "eq": "="}
    rows = []
    for s in statuses:
        t, a, act = s.target, s.assessment, s.actual
        prev = previous.get(t.id)
        prev_value = prev.actual.value if prev is not None else None
        if t.comparator == "assigned" and t.target_value is None:
            goal = f"{t.assigned_by or '上级'}下达（未录入）"
        else:
            goal = f"{symbols[t.effective_comparator]} {_fmt(t.target_value)}"
        change = None if act.value is None or prev_value is None else _round(act.value - prev_value, 3)
        rows.append({
            "编号": t.id, "指标": t.name_zh, "范围": s.scope.name_zh, "单位": t.unit or "",
            "实际值": np.nan if act.value is None else float(act.value), "目标": goal,
            "目标值": np.nan if t.target_value is None else float(t.target_value),
            "期限(年)": t.deadline if t.deadline else pd.NA, "状态": STATUS_ZH[a.status],
            "统计期": act.period or "", "差距": _round(a.gap, 3),
            "年末预测": _round(a.projection, 1),
            "去年同期实际值": np.nan if prev_value is None else float(prev_value),
            "同比变化": np.nan if change is None else change,
            "说明": act.insufficient_reason or "",
        })
    frame = pd.DataFrame(rows)
    frame["期限(年)"] = frame["期限(年)"].astype("Int64")
    # Actual values keep the precision their methodology reports (air 1 decimal, reductions 2):
    # written as they are (shortest form), not padded to a common number of decimals.
    decimals = {"年末预测": 1}
    return Sheet("概况", f"规划目标进展（截至 {as_of:%Y-%m-%d}）", frame, decimals, ["编号"]), statuses


# --- completeness and data notes ----------------------------------------------------------------

def completeness(conn: psycopg.Connection, config: dict, month: date) -> pd.DataFrame:
    """Per site of the city: expected vs present hours (air) or 4-hourly samples (water) in the
    month, maintenance samples, and the days without a valid daily value / without samples.

    Expected: 24 hour-ending values a day (HJ 663 Table A.1: labels D 01:00 … D+1 00:00) and six
    samples a day at the national automatic water stations (their 4-hourly schedule). A valid day
    is a day with a daily AQI (HJ 633, from HJ 663 daily values); a water day counts when it has
    a sample taken in normal operation."""
    last = month_end(month)
    n_days = (last - month).days + 1
    start, end = _utc_bounds(month, last)
    all_days = [month + timedelta(days=i) for i in range(n_days)]
    out = []
    sites = _air_sites(conn, config)
    hours = dict(conn.execute("""
        SELECT site_id, count(DISTINCT observed_at) FROM obs.air_measurement
        WHERE site_id = ANY(%s) AND observed_at > %s AND observed_at <= %s AND source_flag = 'normal'
        GROUP BY 1""", (sites["site_id"].tolist(), start, end)).fetchall())
    valid = {}
    for table in ("derived.air_city_day", "derived.air_station_day"):
        for site_id, day in conn.execute(f"SELECT site_id, day FROM {table} WHERE site_id = ANY(%s) "
                                         "AND day BETWEEN %s AND %s AND aqi IS NOT NULL",
                                         (sites["site_id"].tolist(), month, last)).fetchall():
            valid.setdefault(site_id, set()).add(day)
    for _, s in sites.iterrows():
        ok = valid.get(s["site_id"], set())
        out.append({"domain": "air", "kind": "城市" if s["kind"] == "air_city" else "站点", "site": s["code"],
                    "name": s["name_zh"], "unit": "小时", "expected": n_days * 24,
                    "present": int(hours.get(s["site_id"], 0)), "maintenance": 0, "valid_days": len(ok),
                    "days": n_days, "missing_days": [d for d in all_days if d not in ok]})
    sections = _sections(conn, config)
    samples = conn.execute("""
        SELECT site_id, observed_at, bool_or(source_flag = 'normal'), bool_or(source_flag = 'maintenance')
        FROM obs.water_measurement WHERE site_id = ANY(%s) AND observed_at >= %s AND observed_at < %s
        GROUP BY 1, 2""", (sections["site_id"].tolist(), start, end)).fetchall()
    frame = pd.DataFrame(samples, columns=["site_id", "observed_at", "normal", "maintenance"])
    frame["day"] = pd.to_datetime(frame["observed_at"], utc=True).dt.tz_convert(BEIJING).dt.date
    for _, s in sections.iterrows():
        mine = frame[frame["site_id"] == s["site_id"]]
        ok = set(mine.loc[mine["normal"], "day"])
        out.append({"domain": "water", "kind": "断面(自动监测)", "site": s["code"], "name": s["name_zh"],
                    "unit": "样本", "expected": n_days * 6, "present": int(mine["normal"].sum()),
                    "maintenance": int(mine["maintenance"].sum()), "valid_days": len(ok), "days": n_days,
                    "missing_days": [d for d in all_days if d not in ok]})
    return pd.DataFrame(out)


def cutoff(conn: psycopg.Connection, month: date) -> str | None:
    """The latest measurement time the month's figures include (Beijing time, ISO 8601)."""
    start, end = _utc_bounds(month, month_end(month))
    row = conn.execute("""
        SELECT max(t) FROM (
            SELECT max(observed_at) AS t FROM obs.air_measurement WHERE observed_at > %s AND observed_at <= %s
            UNION ALL
            SELECT max(observed_at) FROM obs.water_measurement WHERE observed_at >= %s AND observed_at < %s
            UNION ALL
            SELECT max(observed_at) FROM obs.water_manual_measurement WHERE observed_at >= %s AND observed_at < %s
        ) x""", (start, end, start, end, start, end)).fetchone()
    return None if row[0] is None else row[0].astimezone(BEIJING).isoformat()


def missing_list(comp: pd.DataFrame) -> list[str]:
    """One line per site with gaps: what is missing in the month (stated, never filled)."""
    lines = []
    for _, r in comp.iterrows():
        if r["present"] == 0:
            lines.append(f"{r['name']}（{r['site']}，{r['kind']}）：本月无数据")
        elif r["missing_days"]:
            lines.append(f"{r['name']}（{r['site']}，{r['kind']}）：{len(r['missing_days'])} 天无有效数据"
                         f"（{_ranges(r['missing_days'])}）")
    return lines


def _quarantine(conn: psycopg.Connection, month: date) -> list[tuple]:
    start, end = _utc_bounds(month, month_end(month))
    return conn.execute("""
        SELECT l.dataset, q.reason_code, count(*) FROM ops.quarantine q JOIN ops.load_log l USING (load_id)
        WHERE l.first_time <= %s AND l.last_time >= %s AND l.dataset NOT LIKE 'carbon%%'
        GROUP BY 1, 2 ORDER BY 1, 2""", (end, start)).fetchall()


def _sources(conn: psycopg.Connection, month: date) -> list[tuple]:
    """Data sources with loads covering the month (carbon/statistics: all loaded), with names."""
    start, end = _utc_bounds(month, month_end(month))
    return conn.execute("""
        SELECT DISTINCT d.code, d.name_zh FROM ops.load_log l JOIN registry.data_source d ON d.code = l.source_code
        WHERE l.status = 'loaded' AND ((l.first_time <= %s AND l.last_time >= %s) OR d.domain IN ('carbon', 'statistics'))
        ORDER BY 1""", (end, start)).fetchall()


def _revised(conn: psycopg.Connection, month: date, city: str) -> list[tuple]:
    """Month figures that changed after the month had ended (``revision`` > 0, migration 0007)."""
    return conn.execute("""
        SELECT '空气', s.name_zh, m.revision, (m.computed_at AT TIME ZONE 'Asia/Shanghai')::date
        FROM derived.air_city_month m JOIN registry.site s USING (site_id)
        WHERE m.period_start = %(month)s AND m.revision > 0 AND s.city = %(city)s
        UNION ALL
        SELECT '水', s.name_zh || CASE m.source WHEN 'manual' THEN '（手工）' ELSE '（自动）' END, m.revision,
               (m.computed_at AT TIME ZONE 'Asia/Shanghai')::date
        FROM derived.water_section_month m JOIN registry.site s USING (site_id)
        WHERE m.month = %(month)s AND m.revision > 0 AND s.city = %(city)s
        ORDER BY 1, 2""", {"month": month, "city": city}).fetchall()


def notes_sheet(conn: psycopg.Connection, config: dict, month: date, comp: pd.DataFrame, cut: str | None,
                air_charts: dict, target_version: str, summary: str) -> Sheet:
    rows: list[tuple[str, str, str]] = [
        ("报告", "月份", f"{month:%Y-%m}"),
        ("报告", "摘要", summary),
        ("报告", "数据截止（纳入本月统计的最晚数据时间，北京时间）", cut or "本月无监测数据"),
    ]
    for _, r in comp.iterrows():
        text = (f"应有 {r['expected']} {r['unit']}，有数据 {r['present']} {r['unit']}"
                + (f"（维护 {r['maintenance']}）" if r["maintenance"] else "")
                + f"；有效日 {r['valid_days']}/{r['days']} 天；无有效数据的日期：{_ranges(r['missing_days'])}")
        rows.append(("数据完整性", f"{r['name']}（{r['site']}，{r['kind']}）", text))
    manual = conn.execute("""SELECT count(DISTINCT site_id) FROM derived.water_section_month m
                             JOIN registry.site s USING (site_id)
                             WHERE m.month = %s AND m.source = 'manual' AND s.city = %s""",
                          (month, config["city"])).fetchone()[0]
    rows.append(("数据完整性", "断面手工监测月报", f"本月 {manual} 个断面有手工监测结果" if manual
                 else "本月无手工监测结果（未收到四川省月度监测结果）"))
    rows.append(("数据完整性", "处理原则", "缺失数据如实列出，不插补、不估算；有效天数/有效样本不足的统计按标准标注"))
    quarantined = _quarantine(conn, month)
    for dataset, reason, n in quarantined:
        rows.append(("隔离数据", f"{dataset} / {reason}", f"{n} 行（未入库，保存在 ops.quarantine）"))
    if not quarantined:
        rows.append(("隔离数据", "本月相关文件", "0 行"))
    revised = _revised(conn, month, config["city"])
    for kind, name, revision, changed in revised:
        rows.append(("数据修订", f"{kind}：{name}", f"本月统计已修订 {revision} 次（月份结束后收到迟到或更正数据），"
                                                 f"最近一次 {changed:%Y-%m-%d}"))
    if not revised:
        rows.append(("数据修订", "本月统计", "无（月份结束后未收到迟到或更正数据）"))
    status = config.get("data_status", {})
    for code, name in _sources(conn, month):
        info = status.get(code, {"status": "provisional", "note": "未在 config/exports.yaml 中登记，按未审核处理"})
        label = "已审核（verified）" if info["status"] == "verified" else "未审核，临时数据（provisional）"
        rows.append(("数据状态", f"{name}（{code}）", f"{label}：{info['note']}"))
    rules = "、".join(air_charts.get("rules", [])) or "—"
    limits = "、".join(air_charts.get("limits", [])) or "—"
    rows += [
        ("方法", "空气质量指数（日AQI）", f"{rules}（本月日报所用规则；HJ 633-2026 自 2026-03-01 起按日期适用）"),
        ("方法", "空气质量评价统计", "HJ 663-2013：日均值、月/年均值、百分位数、优良天数比例、有效性（GB 3095 表4）；"
                             "HJ 663-2026 文本未获取，未采用"),
        ("方法", "浓度限值", f"{limits}（二级）；综合指数按《城市环境空气质量排名技术规定》"),
        ("方法", "城市值", "城市点位日均值的算术平均（HJ 663 附录A 表A.2）；仅有城市小时序列时按该序列计算"),
        ("方法", "地表水", "GB 3838-2002 表1；《地表水环境质量评价办法（试行）》环办〔2011〕22号：月均值单因子评价，"
                        "主要污染指标及超标倍数，河流水质状况分级；自动监测按 pH、溶解氧、高锰酸盐指数、氨氮、总磷评价"),
        ("方法", "碳排放", "CEADs 城市及省级排放清单（表观排放核算）；强度为不变价GDP，降低率以五年规划基年计"),
        ("方法", "数值修约", "GB/T 8170-2008（四舍六入五成双）"),
        ("方法", "规划目标", f"config/targets.yaml（版本 {target_version}）；状态规则见 targets/status.py"),
    ]
    frame = pd.DataFrame(rows, columns=["类别", "项目", "内容"])
    return Sheet("数据说明", f"数据说明 {month:%Y年%m月}", frame, {}, ["类别", "项目"])


# --- summary ----------------------------------------------------------------------------------

def summary_text(month: date, city: str, statuses: list, air_charts: dict, water: Sheet, missing: list[str]) -> str:
    """One paragraph written from the numbers: targets at risk or missed, with values and why."""
    parts = [f"{month.year}年{month.month}月，"]
    m, y = air_charts.get("city_month"), air_charts.get("city_ytd")
    if m is not None:
        parts.append(f"{city}市环境空气优良天数比例为 {_fmt(_round(m['good_day_ratio'], 1), 1)}%（有效 {m['valid_days']} 天，"
                     f"优良 {m['good_days']} 天），PM2.5 月均浓度 {_fmt(_round(m['pm25_mean'], 0), 0)} µg/m³；")
    else:
        parts.append(f"{city}市本月无环境空气城市统计；")
    if y is not None:
        parts.append(f"年初至今优良天数比例 {_fmt(_round(y['good_day_ratio'], 1), 1)}%，PM2.5 平均浓度 "
                     f"{_fmt(_round(y['pm25_mean'], 0), 0)} µg/m³，重污染 {y['heavy_pollution_days']} 天。")
    sections = water.frame[(water.frame["类型"] == "断面") & (water.frame["评价状态"] == "已评价")]
    auto = sections[sections["数据来源"] == "自动监测"]
    if len(auto):
        bad = auto[auto["是否达标"] == "不达标"]
        parts.append(f"地表水自动监测已评价断面 {len(auto)} 个，" + (
            "全部达到考核目标。" if bad.empty else
            f"未达标 {len(bad)} 个（" + "、".join(f"{r['名称']} {r['水质类别']}类，{r['主要污染指标(超标倍数)']}"
                                         for _, r in bad.iterrows()) + "）。"))
    else:
        parts.append("本月无可评价的地表水自动监测断面。")
    risky = [s for s in statuses if s.assessment.status in ("at_risk", "missed")]
    if risky:
        texts = []
        for s in risky:
            t, a = s.target, s.assessment
            why = f"实际 {_fmt(s.actual.value)}{t.unit}，目标 {_fmt(t.target_value)}{t.unit}"
            if a.projection is not None:
                why += f"，年末预测 {_fmt(_round(a.projection, 1))}{t.unit}"
            if a.good_days_allowed is not None and a.good_days_allowed < 0:
                why += f"，即使余下各天全部优良仍差 {-a.good_days_allowed} 个优良天"
            elif a.good_days_allowed is not None:
                why += f"，余下各天至多 {a.good_days_allowed} 天可非优良"
            texts.append(f"{t.id} {t.name_zh}（{s.scope.name_zh}）{STATUS_ZH[a.status]}：{why}")
        parts.append("存在风险的目标：" + "；".join(texts) + "。")
    else:
        parts.append("无处于风险或未达标状态的目标。")
    n_insufficient = sum(s.assessment.status == "insufficient_data" for s in statuses)
    if n_insufficient:
        parts.append(f"另有 {n_insufficient} 项目标因缺少数据源或数据不足无法评价。")
    if missing:
        parts.append(f"数据缺失：{len(missing)} 个点位/断面本月数据不完整（详见“数据说明”），已如实列出，未插补。")
    return "".join(parts)


# --- the report -------------------------------------------------------------------------------

def build(conn: psycopg.Connection, month: date, config: dict | None = None) -> MonthlyReport:
    """Everything the month's report shows, read from the warehouse."""
    from targets.registry import load_targets

    config = config or load_config()
    overview, statuses = overview_sheet(conn, month)
    air, air_charts = air_sheet(conn, config, month)
    water, water_charts = water_sheet(conn, config, month)
    regions = list(load_targets().scopes["city"].carbon_regions) or [config["city"]]
    carbon, carbon_charts = carbon_sheet(conn, regions, month)
    comp = completeness(conn, config, month)
    cut = cutoff(conn, month)
    missing = missing_list(comp)
    version = str(load_targets().version)
    summary = summary_text(month, config["city"], statuses, air_charts, water, missing)
    notes = notes_sheet(conn, config, month, comp, cut, air_charts, version, summary)
    targets = [(s.target.id, s.target.name_zh, s.target.target_value, s.target.methodology) for s in statuses]
    charts = {**air_charts, **water_charts, **carbon_charts, "targets": targets, "overview": overview.frame}
    return MonthlyReport(month, [overview, air, water, carbon, notes], cut, comp, missing, summary, charts)


def readiness(conn: psycopg.Connection, month: date, now: datetime | None = None,
              config: dict | None = None) -> dict[str, Any]:
    """Whether the month can be exported: its data are complete, or the cut-off has passed.

    Complete = every site of the city that reported in the month or the month before has a valid
    day (air) / a normal sample (water) on every day of the month. The cut-off is
    ``cutoff_days_after_month_end`` days after the month's end (config/exports.yaml). Returns
    ``done``, ``complete``, ``cutoff`` (ISO), ``waiting_for`` (gaps of the reporting sites, what
    completeness waits for) and ``missing`` (every gap of the month, one line each, as the export
    states them; sites that never report are missing but not waited for).
    """
    config = config or load_config()
    now = now or datetime.now(BEIJING)
    comp = completeness(conn, config, month)
    previous = completeness(conn, config, (month - timedelta(days=1)).replace(day=1))
    reporting = set(comp.loc[comp["present"] > 0, "site"]) | set(previous.loc[previous["present"] > 0, "site"])
    expected = comp[comp["site"].isin(reporting)]
    complete = bool(len(expected)) and all(not days for days in expected["missing_days"])
    deadline = datetime.combine(month_end(month) + timedelta(days=1 + int(config["cutoff_days_after_month_end"])),
                                datetime.min.time(), BEIJING)
    return {"month": f"{month:%Y-%m}", "complete": complete, "cutoff": deadline.isoformat(),
            "done": complete or now >= deadline, "waiting_for": missing_list(expected), "missing": missing_list(comp)}


def json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(type(value))


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=json_default) + "\n"
