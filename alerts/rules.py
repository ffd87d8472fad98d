"""The alert conditions, as data: one definition for the pipeline evaluation and the Grafana rules.

Every :class:`Rule` holds one SQL query over the derived tables, written with placeholders:
``{as_of}`` (the evaluation time: a parameter in the pipeline, ``$__timeTo()`` in Grafana) and
the thresholds of ``config/alerts.yaml`` (parameters in the pipeline, literals in Grafana).
Every query returns one row per watched subject (section, station, city, target) with the same
leading columns:

    subject    text     what the incident is about (part of the dedupe key)
    site_id    integer  registry.site (NULL for targets)
    name_zh    text     the name users read
    firing     boolean  the condition holds at ``as_of``
    data_time  timestamptz  the data the decision rests on (sample, hour, day, status date)
    value      double precision  the deciding number (class code, AQI, hours silent, ...)
    detail     jsonb    everything the Chinese message names

A subject the query does not return is left as it is (no evidence either way): a section that
stops reporting keeps its class incident open and gets a "silent" incident besides.

Which sites are watched: those of the configured city (``registry.site.city``); the automatic
checks (silent, insufficient data) cover the sections and stations that have reported at least
once up to ``as_of``, and "silent" also every section configured as automatic
(``registry.site.monitoring``, config/sections.yaml) that never has — the manual sections
马鞍山 / 河口渡口 report monthly, not every 4 hours, and are not called silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from envmon.settings import CONFIG_DIR
from evaluation.water import MIN_VALID

DEFAULT_PATH = CONFIG_DIR / "alerts.yaml"
Mode = Literal["python", "grafana"]
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class AlertConfig:
    """Thresholds of config/alerts.yaml (see the comments there for where each comes from)."""

    city: str
    water_silent_hours: int
    water_min_valid_day: int
    air_hourly_aqi_above: int
    air_consecutive_hours: int
    air_daily_aqi_above: int
    air_silent_hours: int

    def params(self) -> dict[str, Any]:
        return {"city": self.city, "water_silent_hours": self.water_silent_hours,
                "water_min_valid_day": self.water_min_valid_day,
                "air_hourly_aqi_above": self.air_hourly_aqi_above,
                "air_consecutive_hours": self.air_consecutive_hours,
                "air_daily_aqi_above": self.air_daily_aqi_above, "air_silent_hours": self.air_silent_hours}


def _positive_int(data: dict, section: str, key: str, path: Path) -> int:
    value = (data.get(section) or {}).get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{path}: {section}.{key} must be a positive integer, got {value!r}")
    return value


def load_config(path: Path | str = DEFAULT_PATH) -> AlertConfig:
    """Read and validate config/alerts.yaml; an error names the file and the key."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    city = data.get("city")
    if not isinstance(city, str) or not re.fullmatch(r"[\w\u4e00-\u9fff]+", city):
        raise ValueError(f"{path}: city must be a plain name such as 乐山, got {city!r}")
    return AlertConfig(
        city=city,
        water_silent_hours=_positive_int(data, "water", "silent_after_hours", path),
        water_min_valid_day=MIN_VALID[("automatic", "day")],
        air_hourly_aqi_above=_positive_int(data, "air", "hourly_aqi_above", path),
        air_consecutive_hours=_positive_int(data, "air", "consecutive_hours", path),
        air_daily_aqi_above=_positive_int(data, "air", "daily_aqi_above", path),
        air_silent_hours=_positive_int(data, "air", "silent_after_hours", path),
    )


@cache
def default_config() -> AlertConfig:
    return load_config()


@dataclass(frozen=True)
class Rule:
    """One alert condition. ``sql`` uses ``{as_of}`` and ``{<config key>}`` placeholders."""

    code: str
    domain: Literal["water", "air", "targets"]
    title_zh: str
    severity: str
    sql: str
    open_zh: str
    resolved_zh: str
    why: str
    no_data_state: Literal["NoData", "Alerting", "OK"] = "NoData"
    subject_label_zh: str = "对象"
    thresholds: tuple[str, ...] = field(default_factory=tuple)

    def render(self, mode: Mode, config: AlertConfig | None = None) -> tuple[str, dict[str, Any]]:
        """The query for psycopg (``%(name)s`` parameters) or for Grafana (macros and literals)."""
        config = config or default_config()
        values = config.params()
        names = set(re.findall(r"\{(\w+)\}", self.sql))
        unknown = names - set(values) - {"as_of"}
        if unknown:
            raise KeyError(f"rule {self.code}: unknown placeholders {sorted(unknown)}")
        if mode == "python":
            subst = {n: f"%({n})s" for n in names}
            subst["as_of"] = "%(as_of)s::timestamptz"
            return self.sql.format(**subst), {n: values[n] for n in names if n != "as_of"}
        subst = {}
        for n in names - {"as_of"}:
            v = values[n]
            # Literals only from validated config: integers, and the city name (a plain word).
            subst[n] = str(int(v)) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
        subst["as_of"] = "$__timeTo()::timestamptz"
        return self.sql.format(**subst), {}


_LOCAL_DAY = "({as_of} AT TIME ZONE 'Asia/Shanghai')::date"

WATER_SAMPLE_CLASS = Rule(
    code="water_sample_class",
    domain="water",
    title_zh="断面水质劣于目标（自动监测最新样品）",
    severity="warning",
    subject_label_zh="断面",
    why="GB 3838-2002 Table 1 class of the latest judged 4-hourly sample (derived.water_sample_class, "
        "2011 method 二(一)1 single factor) worse than the section's target class (config/sections.yaml).",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh, (c.compliant IS FALSE) AS firing, c.observed_at AS data_time,
       c.class_code::float8 AS value,
       jsonb_build_object('river', s.river, 'class_code', c.class_code, 'target_class', c.target_class,
                          'main_pollutants', c.main_pollutants, 'decided_by', c.decided_by,
                          'period', 'sample') AS detail
FROM registry.site s
CROSS JOIN LATERAL (
    SELECT * FROM derived.water_sample_class c
    WHERE c.site_id = s.site_id AND c.status = 'ok' AND c.observed_at <= {as_of}
    ORDER BY c.observed_at DESC LIMIT 1) c
WHERE s.kind = 'water_section' AND s.city = {city}""",
    open_zh="【水质超标】{name_zh}断面（{river}）{data_time}自动监测水质为{class_zh}，劣于目标{target_zh}；"
            "{pollutants_text}。",
    resolved_zh="【水质恢复】{name_zh}断面（{river}）{data_time}自动监测水质为{class_zh}，已达到目标{target_zh}"
                "（{first_seen}起超标）。",
)

WATER_MONTH_CLASS = Rule(
    code="water_month_class",
    domain="water",
    title_zh="断面月度水质劣于目标",
    severity="critical",
    subject_label_zh="断面",
    why="Monthly class of the period means (2011 method 一(二)1, derived.water_section_month) of the latest "
        "complete month worse than the target class; automatic and manual programmes separately.",
    sql="""
SELECT s.code || '/' || m.source AS subject, s.site_id, s.name_zh, (m.compliant IS FALSE) AS firing,
       (m.month::timestamp AT TIME ZONE 'Asia/Shanghai') AS data_time, m.class_code::float8 AS value,
       jsonb_build_object('river', s.river, 'class_code', m.class_code, 'target_class', m.target_class,
                          'main_pollutants', m.main_pollutants, 'decided_by', m.decided_by,
                          'month', to_char(m.month, 'YYYY"年"MM"月"'), 'source', m.source,
                          'n_valid', m.n_valid, 'period', 'month') AS detail
FROM registry.site s
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (m.source) m.* FROM derived.water_section_month m
    WHERE m.site_id = s.site_id AND m.status = 'ok'
      AND m.month + interval '1 month' <= """ + _LOCAL_DAY + """
    ORDER BY m.source, m.month DESC) m
WHERE s.kind = 'water_section' AND s.city = {city}""",
    open_zh="【月度水质超标】{name_zh}断面（{river}）{month}水质为{class_zh}（{source_zh}，{n_valid}个有效样品），"
            "劣于目标{target_zh}；{pollutants_text}。",
    resolved_zh="【月度水质恢复】{name_zh}断面（{river}）{month}水质为{class_zh}（{source_zh}），已达到目标{target_zh}。",
)

WATER_SILENT = Rule(
    code="water_silent",
    domain="water",
    title_zh="断面自动站无数据",
    severity="warning",
    no_data_state="Alerting",
    subject_label_zh="断面",
    why="No 4-hourly sample received for water.silent_after_hours (config/alerts.yaml) before as_of. A "
        "section configured as automatic that has never sent one is silent since the city's automatic "
        "monitoring began (its first sample of any section) or the section's active_from, whichever is later.",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh,
       (coalesce(l.last_at, b.since) < {as_of} - make_interval(hours => {water_silent_hours})) AS firing,
       coalesce(l.last_at, b.since) AS data_time,
       round((extract(epoch FROM {as_of} - coalesce(l.last_at, b.since)) / 3600)::numeric, 1)::float8 AS value,
       jsonb_build_object('river', s.river, 'silent_after_hours', {water_silent_hours},
                          'silence_zh', CASE WHEN l.last_at IS NULL THEN '无监测数据（该断面从未上报过样品）'
                                             ELSE '无监测数据' END) AS detail
FROM registry.site s
CROSS JOIN LATERAL (
    SELECT max(c.observed_at) AS last_at FROM derived.water_sample_class c
    WHERE c.site_id = s.site_id AND c.observed_at <= {as_of}) l
CROSS JOIN LATERAL (
    SELECT greatest((SELECT min(c.observed_at) FROM derived.water_sample_class c
                     JOIN registry.site o USING (site_id) WHERE o.city = s.city AND c.observed_at <= {as_of}),
                    s.active_from::timestamp AT TIME ZONE 'Asia/Shanghai') AS since) b
WHERE s.kind = 'water_section' AND s.city = {city}
  AND (l.last_at IS NOT NULL OR (s.monitoring = 'automatic' AND b.since <= {as_of}))""",
    open_zh="【数据中断】{name_zh}断面自动站自{data_time}起{silence_zh}（已{value_text}小时，阈值{silent_after_hours}小时）。",
    resolved_zh="【数据恢复】{name_zh}断面自动站已恢复上报（最新样品{data_time}）。",
)

WATER_INSUFFICIENT = Rule(
    code="water_day_insufficient",
    domain="water",
    title_zh="断面日有效数据不足",
    severity="info",
    subject_label_zh="断面",
    why="The latest complete day has fewer valid samples (all five automatic items, station normal) than "
        "evaluation.water.MIN_VALID[('automatic', 'day')]; a day without any sample counts as 0.",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh, (coalesce(d.n_valid, 0) < {water_min_valid_day}) AS firing,
       ((""" + _LOCAL_DAY + """ - 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS data_time,
       coalesce(d.n_valid, 0)::float8 AS value,
       jsonb_build_object('river', s.river, 'day', to_char(""" + _LOCAL_DAY + """ - 1, 'YYYY-MM-DD'),
                          'n_samples', coalesce(d.n_samples, 0), 'n_valid', coalesce(d.n_valid, 0),
                          'min_valid', {water_min_valid_day}) AS detail
FROM registry.site s
LEFT JOIN derived.water_section_day d ON d.site_id = s.site_id AND d.source = 'automatic'
     AND d.day = """ + _LOCAL_DAY + """ - 1
WHERE s.kind = 'water_section' AND s.city = {city}
  AND EXISTS (SELECT 1 FROM derived.water_sample_class c WHERE c.site_id = s.site_id AND c.observed_at <= {as_of})""",
    open_zh="【数据不足】{name_zh}断面{day}有效样品{n_valid}个（共{n_samples}个），少于评价所需{min_valid}个，当日不评价水质类别。",
    resolved_zh="【数据恢复】{name_zh}断面{day}有效样品{n_valid}个，已满足评价要求。",
)

_AIR_SITES = "s.kind IN ('air_station', 'air_city') AND s.city = {city}"

AIR_AQI_HOURS = Rule(
    code="air_aqi_hours",
    domain="air",
    title_zh="空气质量指数连续超标",
    severity="warning",
    subject_label_zh="站点",
    why="HJ 633-2012 hourly AQI (derived.air_hour_aqi) above air.hourly_aqi_above in each of the last "
        "air.consecutive_hours hours up to as_of (config/alerts.yaml).",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh,
       (count(*) FILTER (WHERE h.aqi > {air_hourly_aqi_above}) = {air_consecutive_hours}) AS firing,
       max(h.observed_at) AS data_time, max(h.aqi)::float8 AS value,
       jsonb_build_object('max_aqi', max(h.aqi), 'hours', {air_consecutive_hours},
                          'threshold', {air_hourly_aqi_above},
                          'last_aqi', (array_agg(h.aqi ORDER BY h.observed_at DESC))[1],
                          'primary_pollutant', (array_agg(h.primary_pollutant ORDER BY h.observed_at DESC))[1],
                          'category', (array_agg(h.category ORDER BY h.observed_at DESC))[1]) AS detail
FROM registry.site s
JOIN derived.air_hour_aqi h ON h.site_id = s.site_id
     AND h.observed_at > {as_of} - make_interval(hours => {air_consecutive_hours}) AND h.observed_at <= {as_of}
WHERE """ + _AIR_SITES + """
GROUP BY s.code, s.site_id, s.name_zh""",
    open_zh="【空气污染】{name_zh}连续{hours}小时空气质量指数（AQI）超过{threshold}，截至{data_time}最高{max_aqi}，"
            "最新{last_aqi}（{category}），首要污染物{primary_pollutant}。",
    resolved_zh="【空气好转】{name_zh}{data_time}空气质量指数（AQI）{last_aqi}，连续超标已结束（{first_seen}起）。",
)

AIR_AQI_DAY = Rule(
    code="air_aqi_day",
    domain="air",
    title_zh="日空气质量指数重度污染",
    severity="critical",
    subject_label_zh="站点",
    why="HJ 633-2012 daily AQI of the latest complete day (derived.air_station_day / air_city_day) above "
        "air.daily_aqi_above (200: Table 2 重度污染 or worse, the heavy-pollution day of target A6).",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh, (d.aqi > {air_daily_aqi_above}) AS firing,
       (d.day::timestamp AT TIME ZONE 'Asia/Shanghai') AS data_time, d.aqi::float8 AS value,
       jsonb_build_object('day', to_char(d.day, 'YYYY-MM-DD'), 'aqi', d.aqi, 'category', d.category,
                          'primary_pollutant', d.primary_pollutant, 'threshold', {air_daily_aqi_above}) AS detail
FROM registry.site s
CROSS JOIN LATERAL (
    SELECT day, aqi, category, primary_pollutant FROM derived.air_station_day x
    WHERE x.site_id = s.site_id AND x.aqi IS NOT NULL AND x.day < """ + _LOCAL_DAY + """
    UNION ALL
    SELECT day, aqi, category, primary_pollutant FROM derived.air_city_day x
    WHERE x.site_id = s.site_id AND x.aqi IS NOT NULL AND x.day < """ + _LOCAL_DAY + """
    ORDER BY day DESC LIMIT 1) d
WHERE """ + _AIR_SITES,
    open_zh="【重污染天】{name_zh}{day}日空气质量指数（AQI）为{aqi}（{category}），超过{threshold}，首要污染物{primary_pollutant}。",
    resolved_zh="【重污染结束】{name_zh}{day}日空气质量指数（AQI）为{aqi}（{category}），不再超过{threshold}。",
)

AIR_SILENT = Rule(
    code="air_silent",
    domain="air",
    title_zh="空气站点无数据",
    severity="warning",
    no_data_state="Alerting",
    subject_label_zh="站点",
    why="No hourly AQI for air.silent_after_hours (config/alerts.yaml) before as_of.",
    sql="""
SELECT s.code AS subject, s.site_id, s.name_zh,
       (l.last_at < {as_of} - make_interval(hours => {air_silent_hours})) AS firing, l.last_at AS data_time,
       round((extract(epoch FROM {as_of} - l.last_at) / 3600)::numeric, 1)::float8 AS value,
       jsonb_build_object('silent_after_hours', {air_silent_hours}) AS detail
FROM registry.site s
CROSS JOIN LATERAL (
    SELECT max(h.observed_at) AS last_at FROM derived.air_hour_aqi h
    WHERE h.site_id = s.site_id AND h.observed_at <= {as_of}) l
WHERE """ + _AIR_SITES + " AND l.last_at IS NOT NULL",
    open_zh="【数据中断】{name_zh}自{data_time}起无空气质量小时数据（已{value_text}小时，阈值{silent_after_hours}小时）。",
    resolved_zh="【数据恢复】{name_zh}空气质量小时数据已恢复（最新{data_time}）。",
)

TARGET_TRAJECTORY = Rule(
    code="target_trajectory",
    domain="targets",
    title_zh="规划目标进度预警",
    severity="warning",
    subject_label_zh="目标",
    why="derived.target_status (targets.status: year-to-date projection against the plan target) of the "
        "latest status date up to as_of is at_risk or missed.",
    sql="""
SELECT t.target_id AS subject, NULL::integer AS site_id, t.name_zh, (st.status IN ('at_risk', 'missed')) AS firing,
       (st.as_of::timestamp AT TIME ZONE 'Asia/Shanghai') AS data_time, st.actual AS value,
       jsonb_build_object('target_id', t.target_id, 'scope', t.scope_name_zh, 'status', st.status,
                          'actual', st.actual, 'target_value', st.target_value, 'projection', st.projection,
                          'unit', st.unit, 'as_of', to_char(st.as_of, 'YYYY-MM-DD'), 'period', st.period) AS detail
FROM registry.target t
CROSS JOIN LATERAL (
    SELECT * FROM derived.target_status x
    WHERE x.target_id = t.target_id AND x.as_of <= """ + _LOCAL_DAY + """
    ORDER BY x.as_of DESC LIMIT 1) st
WHERE t.active""",
    open_zh="【目标预警】{subject} {name_zh}{scope_text}：截至{as_of}实际{actual_text}，{projection_text}目标{target_text}，"
            "状态：{status_zh}。",
    resolved_zh="【目标预警解除】{subject} {name_zh}{scope_text}：截至{as_of}状态为{status_zh}。",
)

RULES: tuple[Rule, ...] = (WATER_SAMPLE_CLASS, WATER_MONTH_CLASS, WATER_SILENT, WATER_INSUFFICIENT,
                           AIR_AQI_HOURS, AIR_AQI_DAY, AIR_SILENT, TARGET_TRAJECTORY)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}

DOMAINS_ZH = {"water": "地表水", "air": "环境空气", "targets": "规划目标"}
