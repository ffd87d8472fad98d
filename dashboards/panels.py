"""Every panel of the envmon dashboards: title, kind and SQL in one place (tests run the SQL).

Panels read only the warehouse's derived tables (plus registry for names and ops/obs for data
quality). Days are Beijing days as stored in ``derived``; a day is plotted at 00:00 Asia/Shanghai
(``day::timestamp AT TIME ZONE 'Asia/Shanghai'``), never through ``$__timeGroup``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATASOURCE_UID = "envmon-warehouse"
DATASOURCE_TYPE = "grafana-postgresql-datasource"

#: Dashboard uid → Chinese title.
DASHBOARDS: dict[str, str] = {
    "envmon-targets": "生态目标总览",
    "envmon-air": "空气质量",
    "envmon-water": "水环境",
    "envmon-quality": "数据质量",
}

#: The city whose air data the dashboards show (registry.site code, kind air_city).
CITY = "乐山"

#: A Beijing calendar day (date column) as the instant it starts.
_DAY = "::timestamp AT TIME ZONE 'Asia/Shanghai'"


def _city_site(alias: str = "s") -> str:
    return f"{alias}.kind = 'air_city' AND {alias}.code = '{CITY}'"


@dataclass(frozen=True)
class PanelSpec:
    uid: str  # unique key of the panel (tests and the builder use it)
    dashboard: str  # dashboard uid
    title: str
    kind: str  # stat | table | timeseries | barchart | statetimeline
    sql: str
    format: str = "table"  # table | time_series
    unit: str | None = None
    thresholds: tuple[tuple[float | None, str], ...] = ()
    mappings: str | None = None  # key of MAPPINGS
    width: int = 12
    height: int = 8
    options: dict = field(default_factory=dict)


STATUS_CODES = ["met", "on_course", "at_risk", "missed", "insufficient_data", "not_set"]
STATUS_ZH = {
    "met": ("已达标", "green"),
    "on_course": ("进度正常", "blue"),
    "at_risk": ("存在风险", "orange"),
    "missed": ("未达标", "red"),
    "insufficient_data": ("数据不足", "#8e8e8e"),
    "not_set": ("目标未设定", "#8e8e8e"),
}
WATER_CLASSES = {
    1: ("Ⅰ类", "#4FC3F7"),
    2: ("Ⅱ类", "#1E88E5"),
    3: ("Ⅲ类", "#43A047"),
    4: ("Ⅳ类", "#FDD835"),
    5: ("Ⅴ类", "#FB8C00"),
    6: ("劣Ⅴ类", "#E53935"),
}

#: Value mappings (value → (text, colour)) referenced by PanelSpec.mappings.
MAPPINGS: dict[str, dict[str, tuple[str, str]]] = {
    # target status as text (tables) and as its 1-based code (stat panels, after rowsToFields)
    "status": {code: STATUS_ZH[code] for code in STATUS_CODES},
    "status_code": {str(i + 1): STATUS_ZH[code] for i, code in enumerate(STATUS_CODES)},
    "water_class": {str(k): v for k, v in WATER_CLASSES.items()},
    "compliance": {"达标": ("达标", "green"), "超标": ("超标", "red"), "未判定": ("未判定", "#8e8e8e")},
    "load_status": {
        "loaded": ("已入库", "green"),
        "rejected": ("已拒收", "orange"),
        "failed": ("失败", "red"),
        "running": ("进行中", "blue"),
    },
}

#: HJ 633-2012 AQI categories (lower bound, colour).
AQI_THRESHOLDS = ((None, "#00E400"), (51, "#FFFF00"), (101, "#FF7E00"), (151, "#FF0000"),
                  (201, "#99004C"), (301, "#7E0023"))
GOOD_RATIO_THRESHOLDS = ((None, "red"), (88, "orange"), (89.4, "green"))  # targets A1/A10 88 %, A3 89.4 %
PM25_TARGET_THRESHOLDS = ((None, "green"), (35, "red"))  # targets A4/P1 35 µg/m³
PM25_24H_THRESHOLDS = ((None, "green"), (75, "red"))  # GB 3095-2012 grade II 24-h limit

_STATUS_CASE = "CASE ts.status " + " ".join(
    f"WHEN '{code}' THEN {i + 1}" for i, code in enumerate(STATUS_CODES)) + " END"
_LATEST_AS_OF = "ts.as_of = (SELECT max(as_of) FROM derived.target_status)"

TARGET_PANELS = [
    PanelSpec(
        "targets_status_counts", "envmon-targets", "各状态目标数（最新评估日）", "stat",
        f"""SELECT count(*) FILTER (WHERE ts.status = 'met') AS "已达标",
       count(*) FILTER (WHERE ts.status = 'on_course') AS "进度正常",
       count(*) FILTER (WHERE ts.status = 'at_risk') AS "存在风险",
       count(*) FILTER (WHERE ts.status = 'missed') AS "未达标",
       count(*) FILTER (WHERE ts.status IN ('insufficient_data', 'not_set')) AS "数据不足或未设定"
FROM derived.target_status ts
JOIN registry.target t USING (target_id)
WHERE {_LATEST_AS_OF} AND t.active""",
        width=24, height=4,
        options={"colors": {"已达标": "green", "进度正常": "blue", "存在风险": "orange", "未达标": "red",
                            "数据不足或未设定": "#8e8e8e"}},
    ),
    PanelSpec(
        "targets_status_each", "envmon-targets", "空气与水目标状态", "stat",
        f"""SELECT t.target_id || ' ' || t.name_zh AS "目标", {_STATUS_CASE} AS "状态"
FROM derived.target_status ts
JOIN registry.target t USING (target_id)
WHERE {_LATEST_AS_OF} AND t.active
  AND (t.target_id LIKE 'A%' OR t.target_id LIKE 'W%' OR t.target_id LIKE 'P%')
ORDER BY t.target_id""",
        mappings="status_code", width=24, height=10, options={"rows_to_fields": True},
    ),
    PanelSpec(
        "targets_table", "envmon-targets", "全部目标（最新评估日）", "table",
        f"""SELECT t.target_id AS "编号", t.name_zh AS "指标", ts.actual AS "实际值",
       ts.target_value AS "目标", ts.gap AS "差距", ts.unit AS "单位", ts.status AS "状态",
       ts.period AS "评估期", ts.as_of AS "评估日"
FROM derived.target_status ts
JOIN registry.target t USING (target_id)
WHERE {_LATEST_AS_OF} AND t.active
ORDER BY t.target_id""",
        mappings="status", width=24, height=12,
    ),
    PanelSpec(
        "targets_good_ratio_ytd", "envmon-targets", "优良天数比例（年初至今）与目标 88% / 89.4%", "timeseries",
        f"""SELECT * FROM (
  SELECT d.day{_DAY} AS time,
         round((100.0 * count(*) FILTER (WHERE d.aqi <= 100) OVER w
                / nullif(count(d.aqi) OVER w, 0))::numeric, 1) AS "优良天数比例（年初至今）"
  FROM derived.air_city_day d
  JOIN registry.site s USING (site_id)
  WHERE {_city_site()}
  WINDOW w AS (PARTITION BY date_trunc('year', d.day) ORDER BY d.day)
) q
WHERE $__timeFilter(time)
ORDER BY 1""",
        format="time_series", unit="percent", thresholds=GOOD_RATIO_THRESHOLDS,
    ),
    PanelSpec(
        "targets_pm25_ytd", "envmon-targets", "PM2.5 平均浓度（年初至今）与目标 35 µg/m³", "timeseries",
        f"""SELECT * FROM (
  SELECT d.day{_DAY} AS time,
         round(avg(d.pm25_24h) OVER w::numeric, 1) AS "PM2.5 年初至今均值"
  FROM derived.air_city_day d
  JOIN registry.site s USING (site_id)
  WHERE {_city_site()} AND d.aqi IS NOT NULL
  WINDOW w AS (PARTITION BY date_trunc('year', d.day) ORDER BY d.day)
) q
WHERE $__timeFilter(time)
ORDER BY 1""",
        format="time_series", unit="conμgm3", thresholds=PM25_TARGET_THRESHOLDS,
    ),
    PanelSpec(
        "targets_year_stats", "envmon-targets", "本年度优良天数比例", "stat",
        f"""SELECT y.good_day_ratio AS "优良天数比例"
FROM derived.air_city_year y
JOIN registry.site s USING (site_id)
WHERE {_city_site()}
ORDER BY y.period_start DESC
LIMIT 1""",
        unit="percent", thresholds=GOOD_RATIO_THRESHOLDS, width=12, height=5,
    ),
    PanelSpec(
        "targets_year_pm25", "envmon-targets", "本年度 PM2.5 平均浓度", "stat",
        f"""SELECT y.pm25_mean AS "PM2.5 均值"
FROM derived.air_city_year y
JOIN registry.site s USING (site_id)
WHERE {_city_site()}
ORDER BY y.period_start DESC
LIMIT 1""",
        unit="conμgm3", thresholds=PM25_TARGET_THRESHOLDS, width=12, height=5,
    ),
]

_PRIMARY = (("pm25", "PM2.5"), ("pm10", "PM10"), ("o3", "O₃"), ("no2", "NO₂"), ("so2", "SO₂"), ("co", "CO"))

AIR_PANELS = [
    PanelSpec(
        "air_city_daily_aqi", "envmon-air", f"{CITY}市日 AQI", "timeseries",
        f"""SELECT d.day{_DAY} AS time, d.aqi AS "日AQI"
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(d.day{_DAY})
ORDER BY 1""",
        format="time_series", thresholds=AQI_THRESHOLDS, width=24,
        options={"draw_style": "bars", "color_by_thresholds": True},
    ),
    PanelSpec(
        "air_station_hourly_aqi", "envmon-air", "各站点小时 AQI", "timeseries",
        f"""SELECT h.observed_at AS time, s.name_zh AS metric, h.aqi AS value
FROM derived.air_hour_aqi h
JOIN registry.site s USING (site_id)
WHERE s.city = '{CITY}' AND s.kind IN ('air_station', 'air_city') AND $__timeFilter(h.observed_at)
ORDER BY 1, 2""",
        format="time_series", thresholds=AQI_THRESHOLDS, width=24, options={"thresholds_area": True},
    ),
    PanelSpec(
        "air_pm25_daily", "envmon-air", "PM2.5 日均浓度（GB 3095-2012 二级 24 小时限值 75）", "timeseries",
        f"""SELECT d.day{_DAY} AS time, d.pm25_24h AS "PM2.5 日均"
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(d.day{_DAY})
ORDER BY 1""",
        format="time_series", unit="conμgm3", thresholds=PM25_24H_THRESHOLDS,
    ),
    PanelSpec(
        "air_month_good_ratio", "envmon-air", "月优良天数比例", "barchart",
        f"""SELECT to_char(m.period_start, 'YYYY-MM') AS "月份", m.good_day_ratio AS "优良天数比例"
FROM derived.air_city_month m
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(m.period_start{_DAY})
ORDER BY m.period_start""",
        unit="percent", thresholds=GOOD_RATIO_THRESHOLDS,
    ),
    PanelSpec(
        "air_primary_days", "envmon-air", "首要污染物天数（按月）", "barchart",
        "SELECT to_char(m.period_start, 'YYYY-MM') AS \"月份\",\n"
        + ",\n".join(f"       coalesce((m.primary_days ->> '{k}')::int, 0) AS \"{label}\"" for k, label in _PRIMARY)
        + f"""
FROM derived.air_city_month m
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(m.period_start{_DAY})
ORDER BY m.period_start""",
        unit="d", width=24, options={"stacked": True},
    ),
]

_LATEST_WATER = """SELECT DISTINCT ON (w.site_id) w.*
  FROM derived.water_section_month w
  WHERE w.status = 'ok'
  ORDER BY w.site_id, w.month DESC, (w.source = 'manual') DESC"""

WATER_PANELS = [
    PanelSpec(
        "water_sections_table", "envmon-water", "断面水质（各断面最近有效月）", "table",
        f"""SELECT s.name_zh AS "断面", s.river AS "河流", to_char(w.month, 'YYYY-MM') AS "月份",
       w.class_code AS "类别", w.target_class AS "目标",
       CASE WHEN w.compliant THEN '达标' WHEN NOT w.compliant THEN '超标' ELSE '未判定' END AS "达标",
       coalesce(w.main_pollutants, '') AS "主要污染物", w.n_valid AS "有效样本",
       CASE w.source WHEN 'manual' THEN '手工监测' ELSE '自动监测' END AS "来源"
FROM ({_LATEST_WATER}) w
JOIN registry.site s ON s.site_id = w.site_id AND s.kind = 'water_section'
ORDER BY s.river, s.name_zh""",
        width=24, height=10,
        options={"column_mappings": {"类别": "water_class", "目标": "water_class", "达标": "compliance"}},
    ),
    PanelSpec(
        "water_param_trend", "envmon-water", "$section 主要指标月均值", "timeseries",
        f"""SELECT DISTINCT ON (w.month) w.month{_DAY} AS time,
       w.tp_mean AS "总磷 TP", w.nh3n_mean AS "氨氮 NH3-N",
       w.codmn_mean AS "高锰酸盐指数 CODMn", w.do_mean AS "溶解氧 DO"
FROM derived.water_section_month w
JOIN registry.site s USING (site_id)
WHERE s.kind = 'water_section' AND s.code = '$section' AND w.status = 'ok'
  AND $__timeFilter(w.month{_DAY})
ORDER BY w.month, (w.source = 'manual') DESC""",
        format="time_series", unit="conmgL", width=24,
    ),
    PanelSpec(
        "water_class_history", "envmon-water", "各断面月水质类别", "statetimeline",
        f"""SELECT time, metric, value FROM (
  SELECT DISTINCT ON (w.site_id, w.month) w.month{_DAY} AS time, s.name_zh AS metric,
         w.class_code AS value, w.source
  FROM derived.water_section_month w
  JOIN registry.site s USING (site_id)
  WHERE s.kind = 'water_section' AND w.status = 'ok' AND $__timeFilter(w.month{_DAY})
  ORDER BY w.site_id, w.month, (w.source = 'manual') DESC
) q
ORDER BY 1, 2""",
        format="time_series", mappings="water_class", width=24, height=10,
    ),
]

QUALITY_PANELS = [
    PanelSpec(
        "dq_loads", "envmon-quality", "各数据集入库批次", "table",
        """SELECT l.dataset AS "数据集", l.status AS "状态", count(*) AS "批次数",
       sum(l.rows_stored) AS "入库行数", sum(l.rows_quarantined) AS "隔离行数",
       max(l.finished_at) AS "最近完成时间"
FROM ops.load_log l
GROUP BY 1, 2
ORDER BY 1, 2""",
        mappings="load_status", width=24,
    ),
    PanelSpec(
        "dq_quarantine", "envmon-quality", "隔离行（按原因）", "table",
        """SELECT l.dataset AS "数据集", q.reason_code AS "原因", count(*) AS "行数",
       max(q.quarantined_at) AS "最近隔离时间"
FROM ops.quarantine q
JOIN ops.load_log l USING (load_id)
GROUP BY 1, 2
ORDER BY 3 DESC""",
    ),
    PanelSpec(
        "dq_failed_expectations", "envmon-quality", "未通过的校验（最近 200 条）", "table",
        """SELECT v.validated_at AS "校验时间", l.dataset AS "数据集", v.suite AS "校验集",
       v.expectation AS "规则", v.column_name AS "字段", v.severity AS "级别",
       v.observed::text AS "观测结果"
FROM ops.validation_result v
JOIN ops.load_log l USING (load_id)
WHERE NOT v.success
ORDER BY v.validated_at DESC
LIMIT 200""",
    ),
    PanelSpec(
        "dq_freshness", "envmon-quality", "数据新鲜度（各站点/断面最近一条数据）", "table",
        """SELECT *, extract(epoch FROM now() - "最近数据时间")::bigint AS "距今" FROM (
  SELECT s.name_zh AS "站点/断面",
         CASE s.kind WHEN 'water_section' THEN '水质断面' WHEN 'air_city' THEN '城市' ELSE '空气站点' END AS "类型",
         CASE WHEN s.kind = 'water_section'
              THEN (SELECT max(m.observed_at) FROM obs.water_measurement m WHERE m.site_id = s.site_id)
              ELSE (SELECT max(m.observed_at) FROM obs.air_measurement m WHERE m.site_id = s.site_id)
         END AS "最近数据时间"
  FROM registry.site s
) q
WHERE "最近数据时间" IS NOT NULL
ORDER BY "最近数据时间" ASC""",
        width=24, height=10, options={"column_units": {"距今": "dtdurations"},
                                       "column_thresholds": {"距今": ((None, "green"), (86400, "orange"),
                                                                      (3 * 86400, "red"))}},
    ),
]

PANELS: list[PanelSpec] = TARGET_PANELS + AIR_PANELS + WATER_PANELS + QUALITY_PANELS

#: Template variable of the water dashboard: the sections (registry codes) of the city.
SECTION_VARIABLE_SQL = (f"SELECT code FROM registry.site WHERE kind = 'water_section' AND city = '{CITY}' "
                        "ORDER BY code")
