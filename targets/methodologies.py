"""Methodologies: how the actual value of a target is measured, one function per key.

Each methodology reads the standard-conform derived tables (never raw measurements), so a
target's value is the same number the air and water indicators show elsewhere. Each function
has the signature ``(conn, scope, as_of) -> Actual`` and its docstring names the table it reads
and the rule it applies. When it cannot measure — no data, no source in this pipeline, no site
configured for the scope — it returns ``Actual(value=None, insufficient_reason=...)`` and never
raises for missing data.

Scopes (``config/targets.yaml`` → ``scopes``) say where: the air site whose city value stands for
the scope, the water sections, the carbon region names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import psycopg

from targets.status import KINDS, YearToDate, year_to_date

#: Sections whose latest judged month is older than this (in completed months before the
#: as-of date) count as not judged: a compliance rate must not rest on last year's samples.
MAX_AGE_MONTHS = 3

#: The configuration file that defines the bureau's assessed sections (registry.site.config_source).
SECTIONS_CONFIG = "config/sections.yaml"

SCOPE_KINDS = ("central_city", "city", "high_tech_zone", "section", "river", "basin")


@dataclass(frozen=True)
class Scope:
    """Where a target applies and which sites measure it (from ``config/targets.yaml``)."""

    key: str
    kind: str
    name_zh: str
    air_site: str | None = None
    #: "assessed" = every section of config/sections.yaml, or a tuple of section codes.
    water_sections: str | tuple[str, ...] = ()
    water_rivers: tuple[str, ...] = ()
    carbon_regions: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Actual:
    """A measured value with what it covers; ``value`` None ⇔ ``insufficient_reason`` says why."""

    value: float | None
    unit: str | None
    period: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    insufficient_reason: str | None = None
    ytd: YearToDate | None = None
    complete: bool | None = None
    period_year: int | None = None


@dataclass(frozen=True)
class Methodology:
    key: str
    kind: str
    unit: str | None
    reads: tuple[str, ...]
    compute: Callable[[psycopg.Connection, Scope, date], Actual]

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.compute) or ""

    def __call__(self, conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
        return self.compute(conn, scope, as_of)


METHODOLOGIES: dict[str, Methodology] = {}


def _register(key: str, kind: str, unit: str | None, reads: tuple[str, ...]):
    if kind not in KINDS:
        raise ValueError(f"methodology {key}: unknown kind {kind!r}")

    def wrap(func: Callable[[psycopg.Connection, Scope, date], Actual]):
        if key in METHODOLOGIES:
            raise ValueError(f"methodology {key} registered twice")
        METHODOLOGIES[key] = Methodology(key, kind, unit, reads, func)
        return func

    return wrap


def _missing(unit: str | None, reason: str, period: str | None = None, **detail: Any) -> Actual:
    return Actual(None, unit, period, detail, insufficient_reason=reason)


# --- air: the city's annual statistics (HJ 663) for the as-of year so far -----------------------

_YEAR_COLUMNS = (
    "period_end",
    "days_in_period",
    "valid_days",
    "good_days",
    "good_day_ratio",
    "heavy_pollution_days",
    "pm25_mean",
    "complete",
)
_DAY_COLUMNS = ["so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h_max", "o3_1h_max"]


def _air_year_to_date(conn: psycopg.Connection, scope: Scope, as_of: date) -> dict[str, Any] | str:
    """The as-of year's statistics through ``as_of`` for the scope's air site, or why not.

    The stored year (``derived.air_city_year``) is used as is when its last day is on or before
    ``as_of``; otherwise the year is cut at ``as_of`` and recomputed from ``derived.air_city_day``
    with the same HJ 663 function the refresh uses, so both paths give the same numbers.
    """
    from standards import hj663

    if not scope.air_site:
        return f"范围“{scope.name_zh}”未配置空气站点（config/targets.yaml scopes.{scope.key}.air_site）"
    site = conn.execute(
        "SELECT site_id, name_zh FROM registry.site WHERE code = %s AND kind = 'air_city'", (scope.air_site,)
    ).fetchone()
    if site is None:
        return f"空气城市站点 {scope.air_site!r} 不在 registry.site 中"
    site_id, site_name = site
    start = date(as_of.year, 1, 1)
    row = conn.execute(
        f"SELECT {', '.join(_YEAR_COLUMNS)} FROM derived.air_city_year "
        "WHERE site_id = %s AND period_start = %s",
        (site_id, start),
    ).fetchone()
    if row is not None and row[0] <= as_of:
        stats = dict(zip(_YEAR_COLUMNS, row, strict=True))
        stats["source"] = "derived.air_city_year"
    else:
        rows = conn.execute(
            f"""SELECT day, {", ".join(_DAY_COLUMNS)}, aqi, primary_pollutant
                                FROM derived.air_city_day WHERE site_id = %s AND day BETWEEN %s AND %s""",
            (site_id, start, as_of),
        ).fetchall()
        if not rows:
            return f"derived.air_city_day 中无 {scope.air_site} {start} 至 {as_of} 的城市日数据"
        days = pd.DataFrame(rows, columns=["date", *_DAY_COLUMNS, "aqi", "primary_pollutant"]).astype(
            {c: "float64" for c in _DAY_COLUMNS}
        )
        days["aqi"] = days["aqi"].astype("Int64")
        days["primary_pollutant"] = days["primary_pollutant"].fillna("")
        days["site"], days["year"] = scope.air_site, as_of.year
        out = hj663.period_statistics(days, by=["site", "year"], daily_aqi="aqi", period="year").iloc[0]
        stats = {c: out[c] for c in _YEAR_COLUMNS}
        stats["source"] = "derived.air_city_day (year to date recomputed with standards.hj663)"
    stats.update(site=scope.air_site, site_name=site_name, year=as_of.year)
    return stats


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _air_actual(stats: dict[str, Any], column: str, unit: str, as_of: date) -> Actual:
    ytd = year_to_date(int(stats["valid_days"]), int(stats["good_days"]), as_of)
    period = f"{as_of.year}-01-01/{as_of.isoformat()}"
    detail = {
        "source": stats["source"],
        "site": stats["site"],
        "site_name": stats["site_name"],
        "year": stats["year"],
        "data_through": str(stats["period_end"]),
        "days_with_data": int(stats["days_in_period"]),
        "valid_days": int(stats["valid_days"]),
        "good_days": int(stats["good_days"]),
        "heavy_pollution_days": int(stats["heavy_pollution_days"]),
        "elapsed_days": ytd.elapsed_days,
        "days_in_year": ytd.days_in_year,
        "complete_hj663": bool(stats["complete"]),
    }
    value = _num(stats[column])
    value = None if value is None else round(value, 1)  # stored as real; HJ 663 reports ≤ 1 decimal
    reason = None if value is not None else f"{period} 无有效日，{column} 无值"
    return Actual(
        value, unit, period, detail, reason, ytd=ytd, complete=bool(stats["complete"]), period_year=as_of.year
    )


@_register("good_day_ratio_ytd", "ratio_ytd", "%", ("derived.air_city_year", "derived.air_city_day"))
def good_day_ratio_ytd(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Share of good days (AQI ≤ 100) among valid days, 1 January to ``as_of`` (HJ 663 A.5, formula A.2).

    Reads ``derived.air_city_year`` of the as-of year (the city value of the scope's air site,
    HJ 663 Table A.2), or ``derived.air_city_day`` cut at ``as_of`` while the year runs.
    """
    stats = _air_year_to_date(conn, scope, as_of)
    if isinstance(stats, str):
        return _missing("%", stats)
    return _air_actual(stats, "good_day_ratio", "%", as_of)


@_register("pm25_annual_mean_ytd", "mean_ytd", "µg/m³", ("derived.air_city_year", "derived.air_city_day"))
def pm25_annual_mean_ytd(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """PM2.5 annual mean = mean of the daily 24-hour values, 1 January to ``as_of`` (HJ 663 Table A.2).

    Reads ``derived.air_city_year`` (or ``derived.air_city_day`` cut at ``as_of``); compared with
    35 µg/m³, the GB 3095-2012 grade II annual limit. Valid as an annual statistic only with
    ≥ 324 valid days (GB 3095 Table 4): ``complete`` says so.
    """
    stats = _air_year_to_date(conn, scope, as_of)
    if isinstance(stats, str):
        return _missing("µg/m³", stats)
    return _air_actual(stats, "pm25_mean", "µg/m³", as_of)


@_register("heavy_pollution_days_ytd", "count_ytd", "天", ("derived.air_city_year", "derived.air_city_day"))
def heavy_pollution_days_ytd(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Number of heavy-pollution days (daily AQI > 200, HJ 633 levels 5–6), 1 January to ``as_of``.

    Reads ``derived.air_city_year`` (or ``derived.air_city_day`` cut at ``as_of``).
    """
    stats = _air_year_to_date(conn, scope, as_of)
    if isinstance(stats, str):
        return _missing("天", stats)
    return _air_actual(stats, "heavy_pollution_days", "天", as_of)


# --- water: the assessed sections' latest judged month (GB 3838, 2011 evaluation method) --------


def _months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def last_complete_month(as_of: date) -> date:
    """First day of the latest calendar month that has ended on or before ``as_of``."""
    nxt = date.fromordinal(as_of.toordinal() + 1)
    return _months_back(date(nxt.year, nxt.month, 1), 1)


def _section_months(
    conn: psycopg.Connection, scope: Scope, as_of: date
) -> tuple[list[dict], list[dict]] | str:
    """(judged, not judged) sections of the scope with their latest judged automatic month.

    Judged = a month of ``derived.water_section_month`` with source 'automatic' and status 'ok'
    (months with too few valid samples are ignored), that has ended by ``as_of`` and is at most
    ``MAX_AGE_MONTHS`` months old.
    """
    if scope.water_sections == "assessed":
        where, params = (
            "s.config_source = %s AND s.assessment_level IN ('national', 'provincial')",
            [SECTIONS_CONFIG],
        )
    elif scope.water_sections:
        where, params = "s.code = ANY(%s)", [list(scope.water_sections)]
    else:
        return f"范围“{scope.name_zh}”未配置水质断面（config/targets.yaml scopes.{scope.key}.water_sections）"
    if scope.water_rivers:
        where += " AND s.river = ANY(%s)"
        params.append(list(scope.water_rivers))
    newest = last_complete_month(as_of)
    oldest = _months_back(newest, MAX_AGE_MONTHS - 1)
    rows = conn.execute(
        f"""
        SELECT s.code, s.river, s.assessment_level, s.target_class, m.month, m.class_code, m.class_label,
               m.compliant, m.n_valid
        FROM registry.site s
        LEFT JOIN LATERAL (
            SELECT month, class_code, class_label, compliant, n_valid FROM derived.water_section_month
            WHERE site_id = s.site_id AND source = 'automatic' AND status = 'ok'
              AND class_code IS NOT NULL AND month BETWEEN %s AND %s
            ORDER BY month DESC LIMIT 1) m ON true
        WHERE s.kind = 'water_section' AND {where}
        ORDER BY s.code""",
        [oldest, newest, *params],
    ).fetchall()
    if not rows:
        return f"registry.site 中没有属于范围“{scope.name_zh}”的断面"
    judged, not_judged = [], []
    for code, river, level, target_class, month, class_code, label, compliant, n_valid in rows:
        if month is None:
            not_judged.append({"section": code, "river": river, "assessment_level": level})
        else:
            judged.append(
                {
                    "section": code,
                    "river": river,
                    "assessment_level": level,
                    "month": str(month)[:7],
                    "class": label,
                    "class_code": int(class_code),
                    "target_class": target_class,
                    "compliant": compliant,
                    "n_valid": int(n_valid),
                }
            )
    return judged, not_judged


def _water_actual(
    conn: psycopg.Connection, scope: Scope, as_of: date, unit: str, measure: Callable[[list[dict]], float]
) -> Actual:
    found = _section_months(conn, scope, as_of)
    if isinstance(found, str):
        return _missing(unit, found)
    judged, not_judged = found
    newest = last_complete_month(as_of)
    window = f"{_months_back(newest, MAX_AGE_MONTHS - 1):%Y-%m}/{newest:%Y-%m}"
    detail = {
        "source": "derived.water_section_month (automatic, status ok)",
        "window": window,
        "n_sections": len(judged) + len(not_judged),
        "n_judged": len(judged),
        "sections": judged,
        "not_judged": not_judged,
    }
    if not judged:
        return Actual(
            None, unit, window, detail, f"范围“{scope.name_zh}”的断面在 {window} 均无可评价的自动监测月数据"
        )
    months = sorted({j["month"] for j in judged})
    period = months[-1] if len(months) == 1 else f"{months[0]}/{months[-1]}"
    return Actual(round(measure(judged), 1), unit, period, detail, period_year=int(months[-1][:4]))


@_register("section_compliance_rate", "snapshot", "%", ("derived.water_section_month", "registry.site"))
def section_compliance_rate(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Share (%) of the scope's assessed sections whose latest judged month meets its target class.

    Sections: ``registry.site`` rows of config/sections.yaml (national/provincial assessment),
    filtered by the scope's rivers. Reads ``derived.water_section_month`` (automatic monitoring,
    GB 3838-2002 single-factor class of the monthly means, compliant = class ≤ the section's
    target class): per section the latest month that ended by ``as_of`` with status ok,
    at most ``MAX_AGE_MONTHS`` old; sections without one are listed as not judged and left out.
    """
    return _water_actual(
        conn, scope, as_of, "%", lambda js: 100.0 * sum(bool(j["compliant"]) for j in js) / len(js)
    )


@_register("class_iii_share", "snapshot", "%", ("derived.water_section_month", "registry.site"))
def class_iii_share(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Share (%) of the scope's assessed sections at class III or better (优良, GB 3838 I–III).

    Reads ``registry.site`` and ``derived.water_section_month`` like ``section_compliance_rate``
    (latest judged automatic month per section, ended by ``as_of``).
    """
    return _water_actual(
        conn, scope, as_of, "%", lambda js: 100.0 * sum(j["class_code"] <= 3 for j in js) / len(js)
    )


@_register("lie_v_section_count", "snapshot", "个", ("derived.water_section_month", "registry.site"))
def lie_v_section_count(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Number of the scope's assessed sections worse than class V (劣V, GB 3838) in their latest judged month.

    Reads ``registry.site`` and ``derived.water_section_month`` like ``section_compliance_rate``.
    """
    return _water_actual(conn, scope, as_of, "个", lambda js: float(sum(j["class_code"] == 6 for j in js)))


@_register("lie_v_section_share", "snapshot", "%", ("derived.water_section_month", "registry.site"))
def lie_v_section_share(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Share (%) of the scope's assessed sections worse than class V (劣V类断面比率), latest judged month.

    Reads ``registry.site`` and ``derived.water_section_month`` like ``section_compliance_rate``.
    """
    return _water_actual(
        conn, scope, as_of, "%", lambda js: 100.0 * sum(j["class_code"] == 6 for j in js) / len(js)
    )


# --- carbon and energy: read what the carbon refresh stored ---------------------------------------


def fyp_base_year(year: int) -> int:
    """Base year of the five-year plan containing ``year`` (2021–2025 → 2020, 2026–2030 → 2025)."""
    return (year - 1) // 5 * 5


def _carbon_reduction(conn: psycopg.Connection, scope: Scope, as_of: date, indicator: str) -> Actual:
    if not scope.carbon_regions:
        return _missing(
            "%", f"范围“{scope.name_zh}”未配置碳排放核算区域（scopes.{scope.key}.carbon_regions）"
        )
    base = fyp_base_year(as_of.year)
    rows = conn.execute(
        """
        SELECT region, year, base_value, value, reduction_pct, status, missing FROM derived.carbon_reduction
        WHERE region = ANY(%s) AND indicator = %s AND base_year = %s AND year > base_year
          AND make_date(year::int, 12, 31) <= %s
        ORDER BY year DESC, status = 'ok' DESC LIMIT 1""",
        (list(scope.carbon_regions), indicator, base, as_of),
    ).fetchall()
    if not rows:
        return _missing(
            "%",
            f"derived.carbon_reduction 中无 {'/'.join(scope.carbon_regions)} 以{base}年为基年、"
            f"截至 {as_of} 的 {indicator} 数据",
            base_year=base,
        )
    region, year, base_value, value, pct, status, missing = rows[0]
    detail = {
        "source": "derived.carbon_reduction",
        "region": region,
        "indicator": indicator,
        "base_year": base,
        "year": int(year),
        "base_value": _num(base_value),
        "value": _num(value),
    }
    period = f"{base}/{year}"
    if status != "ok" or pct is None:
        return Actual(
            None,
            "%",
            period,
            detail,
            f"{indicator} {base}→{year} 数据不全（缺 {missing}）",
            period_year=int(year),
        )
    return Actual(round(float(pct), 2), "%", period, detail, period_year=int(year))


@_register("co2_intensity_reduction", "cumulative", "%", ("derived.carbon_reduction",))
def co2_intensity_reduction(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Cumulative cut (%) of CO2 per unit of constant-price GDP since the five-year plan's base year.

    Reads ``derived.carbon_reduction`` (indicator co2_intensity, base year = the FYP base of
    ``as_of``, the latest year whose 31 December is ≤ ``as_of``).
    """
    return _carbon_reduction(conn, scope, as_of, "co2_intensity")


@_register("energy_intensity_reduction", "cumulative", "%", ("derived.carbon_reduction",))
def energy_intensity_reduction(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Cumulative cut (%) of energy use per unit of constant-price GDP since the FYP base year.

    Reads ``derived.carbon_reduction`` (indicator energy_intensity), like co2_intensity_reduction.
    """
    return _carbon_reduction(conn, scope, as_of, "energy_intensity")


@_register("carbon_peak", "event_year", "年", ("derived.carbon_indicator",))
def carbon_peak(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
    """Year of the highest annual CO2 total so far, once emissions have fallen after it (碳达峰).

    Reads ``derived.carbon_indicator`` (co2_mt, status ok, years whose 31 December is ≤
    ``as_of``). While the latest year is itself the highest, the peak cannot be dated yet: that
    is reported as insufficient data, with the series in the detail.
    """
    if not scope.carbon_regions:
        return _missing(
            "年", f"范围“{scope.name_zh}”未配置碳排放核算区域（scopes.{scope.key}.carbon_regions）"
        )
    rows = conn.execute(
        """
        SELECT region, year, co2_mt FROM derived.carbon_indicator
        WHERE region = ANY(%s) AND status = 'ok' AND co2_mt IS NOT NULL AND make_date(year::int, 12, 31) <= %s
        ORDER BY region, year""",
        (list(scope.carbon_regions), as_of),
    ).fetchall()
    if not rows:
        return _missing(
            "年",
            f"derived.carbon_indicator 中无 {'/'.join(scope.carbon_regions)} 截至 {as_of} 的二氧化碳排放总量",
        )
    region = rows[0][0]
    series = {int(y): float(v) for r, y, v in rows if r == region}
    peak = max(series, key=lambda y: series[y])
    latest = max(series)
    detail = {
        "source": "derived.carbon_indicator",
        "region": region,
        "peak_year": peak,
        "peak_co2_mt": series[peak],
        "latest_year": latest,
        "latest_co2_mt": series[latest],
        "series_mt": {str(y): v for y, v in sorted(series.items())},
    }
    period = f"{min(series)}/{latest}"
    if peak == latest:
        return Actual(
            None,
            "年",
            period,
            detail,
            f"最新年份 {latest} 排放即为最高值，尚不能确认达峰",
            period_year=latest,
        )
    return Actual(float(peak), "年", period, detail, period_year=latest)


# --- indicators with no data source in this pipeline ----------------------------------------------

#: key → (what is measured, who holds the figures, unit). Each becomes a methodology that
#: reports insufficient data until a source is ingested; the target stays visible meanwhile.
NOT_INGESTED: dict[str, tuple[str, str, str | None]] = {
    "forest_coverage": ("森林覆盖率", "林业部门（林长制年度数据、森林资源监测）", "%"),
    "forest_stock": ("森林蓄积量", "林业部门（森林资源监测）", "万立方米"),
    "energy_production_capacity": (
        "能源综合生产能力（煤炭、石油、天然气、非化石能源）",
        "发展改革/能源部门、统计年鉴",
        "万吨标准煤",
    ),
    "hydropower_capacity": ("水电装机容量", "能源部门、电网企业", "万千瓦"),
    "coal_capacity": ("煤炭产能", "能源/应急管理部门", "万吨/年"),
    "gas_supply": ("天然气输气能力、LNG加气站", "能源部门、燃气企业", None),
    "rural_grid_capacity": ("农网户均配变容量", "电网企业", "千伏安"),
    "sewage_treatment_rate": ("生活污水处理率（建制镇、行政村）", "住建/生态环境部门年报", "%"),
    "rural_water_supply": ("农村饮水自来水普及率、规模化供水率", "水利部门", "%"),
    "urban_water_supply_capacity": ("中心城区供水设施规模", "住建部门、供水企业", "万立方米/日"),
    "waste_recycling_rate": ("城市生活垃圾回收利用率", "住建/城管部门", "%"),
    "rural_sanitation": ("农村生活垃圾治理、卫生厕所普及率", "农业农村部门", "%"),
    "agricultural_waste_utilisation": ("农业废弃物资源化利用率", "农业农村部门", "%"),
    "soil_survey": ("耕地土壤环境质量详查面积", "生态环境/农业农村部门", "万亩"),
    "sponge_city_share": ("达到海绵城市要求的建成区面积比例", "住建部门", "%"),
    "livable_village_share": ("“美丽四川·宜居乡村”达标村占比", "农业农村部门", "%"),
    "eod_projects": ("市级EOD项目数量", "生态环境部门", "个"),
    "pollutant_emission_reduction": ("主要污染物总量减排", "生态环境部门（总量减排核算）", "%"),
}


def _not_ingested(key: str, what: str, holder: str, unit: str | None) -> None:
    def compute(conn: psycopg.Connection, scope: Scope, as_of: date) -> Actual:
        return _missing(unit, f"无数据源：{what}未接入本系统（数据由{holder}掌握）", holder=holder)

    compute.__name__ = key
    compute.__doc__ = (
        f"{what}: no table — the pipeline has no source for it (held by {holder}).\n\n"
        "Always insufficient data until a source is ingested; the target stays in the registry."
    )
    _register(key, "snapshot", unit, ())(compute)


for _key, (_what, _holder, _unit) in NOT_INGESTED.items():
    _not_ingested(_key, _what, _holder, _unit)

__all__ = ["METHODOLOGIES", "SCOPE_KINDS", "Actual", "Methodology", "Scope", "last_complete_month"]
