"""Every panel of the envmon dashboards: title, kind and SQL in one place (tests run the SQL).

Panels read only the warehouse's derived tables (plus registry for names and ops/obs for data
quality). Days are Beijing days as stored in ``derived``; a day is plotted at 00:00 Asia/Shanghai
(``day::timestamp AT TIME ZONE 'Asia/Shanghai'``), never through ``$__timeGroup``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from standards import gb3095, gb3838

DATASOURCE_UID = "envmon-warehouse"
DATASOURCE_TYPE = "grafana-postgresql-datasource"

#: Dashboard uid → Chinese title.
DASHBOARDS: dict[str, str] = {
    "envmon-targets": "生态目标总览",
    "envmon-air": "空气质量",
    "envmon-water": "水环境",
    "envmon-carbon": "碳排放",
    "envmon-quality": "数据质量",
}

#: The city whose air data the dashboards show (registry.site code, kind air_city).
CITY = "乐山"

#: A Beijing calendar day (date column) as the instant it starts.
_DAY = "::timestamp AT TIME ZONE 'Asia/Shanghai'"


def _city_site(alias: str = "s") -> str:
    return f"{alias}.kind = 'air_city' AND {alias}.code = '{CITY}'"


#: registry.site.district may be empty (the bureau has not filled it): such sites form one group.
NO_DISTRICT = "未划分区县"
_DISTRICT_OF = f"coalesce(s.district, '{NO_DISTRICT}')"
#: Panel filters by the dashboard variables (Grafana quotes and joins multi-value variables).
_IN_DISTRICT = f"{_DISTRICT_OF} IN ($district)"
_IN_STATION = "s.code IN ($station)"


#: Max data points of the panels that group by Grafana's ``$__interval`` (``options["max_data_points"]``):
#: set on them by dashboards.build, used by dashboards.macros to compute the interval as Grafana does.
MAX_DATA_POINTS = 1000


@dataclass(frozen=True)
class VariableSpec:
    """A query variable on registry.site (Grafana templating)."""

    name: str
    label: str
    description: str
    sql: str
    multi: bool = True  # multi-value with "全部" (include all)


def _district_variable(kinds: str) -> VariableSpec:
    return VariableSpec(
        "district", "区县", "站点/断面所在区县（registry.site.district；未填写的归入“未划分区县”）",
        f"SELECT DISTINCT coalesce(district, '{NO_DISTRICT}') FROM registry.site "
        f"WHERE city = '{CITY}' AND kind IN ({kinds}) ORDER BY 1")


STATION_VARIABLE = VariableSpec(
    "station", "空气站点", "乐山市国控空气站点（registry.site，按所选区县）",
    "SELECT name_zh AS __text, code AS __value FROM registry.site s "
    f"WHERE s.kind = 'air_station' AND s.city = '{CITY}' AND {_IN_DISTRICT} ORDER BY s.code")
SECTION_VARIABLE = VariableSpec(
    "section", "断面", "乐山市水质断面（registry.site，按所选区县）；单项指标趋势图显示该断面",
    "SELECT s.code FROM registry.site s "
    f"WHERE s.kind = 'water_section' AND s.city = '{CITY}' AND {_IN_DISTRICT} ORDER BY s.code",
    multi=False)

#: Dashboard uid → its variables, in order (later ones may use earlier ones).
VARIABLES: dict[str, list[VariableSpec]] = {
    "envmon-air": [_district_variable("'air_station', 'air_city'"), STATION_VARIABLE],
    "envmon-water": [_district_variable("'water_section'"), SECTION_VARIABLE],
}


def gb3095_limit_sql(pollutant: str, averaging: str, day: str, grade: int = 2) -> str:
    """SQL giving the GB 3095 limit in force on the Beijing date ``day`` (a SQL date expression).

    Generated from :data:`standards.gb3095.LIMIT_SETS`, so a limit line steps where the standard
    changes (GB 3095-2026 §4.4: 2012 values before 2026-03-01, transition values to 2030-12-31).
    """
    whens = [f"WHEN {day} <= DATE '{s.valid_until.isoformat()}' THEN {s.limit(pollutant, averaging, grade):g}"
             for s in gb3095.LIMIT_SETS if s.valid_until is not None]
    last = next(s for s in gb3095.LIMIT_SETS if s.valid_until is None)
    return f"CASE {' '.join(whens)} ELSE {last.limit(pollutant, averaging, grade):g} END"


def gb3838_limit_sql(item: str, class_code: int, water_body: str = "s.water_body") -> str:
    """SQL giving the GB 3838-2002 Table 1 class limit of ``item`` (lakes/reservoirs have their own
    TP row, item 8); ``water_body`` is the registry.site column of the section."""
    river = gb3838.LIMITS["river"][item][class_code - 1]
    lake = gb3838.LIMITS["lake_reservoir"][item][class_code - 1]
    if river == lake:
        return f"{river:g}"
    return f"CASE WHEN {water_body} = 'lake_reservoir' THEN {lake:g} ELSE {river:g} END"


@dataclass(frozen=True)
class PanelSpec:
    uid: str  # unique key of the panel (tests and the builder use it)
    dashboard: str  # dashboard uid
    title: str
    kind: str  # stat | table | timeseries | barchart | statetimeline | heatmap | piechart | geomap
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

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
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
        "air_aqi_calendar", "envmon-air", f"{CITY}市日 AQI 日历（周 × 星期）", "heatmap",
        "SELECT date_trunc('week', d.day)::date" + _DAY + " AS time,\n"
        + ",\n".join(f"       max(d.aqi) FILTER (WHERE extract(isodow FROM d.day) = {i}) AS \"{name}\""
                      for i, name in enumerate(WEEKDAYS, start=1))
        + f"""
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(d.day{_DAY})
GROUP BY 1
ORDER BY 1""",
        format="time_series", width=24, height=9,
    ),
    PanelSpec(
        "air_pm25_daily", "envmon-air", "PM2.5 日均浓度与 GB 3095 二级 24 小时限值（2026-03-01 起 GB 3095-2026）",
        "timeseries",
        f"""SELECT d.day{_DAY} AS time, d.pm25_24h AS "PM2.5 日均",
       {gb3095_limit_sql("pm25", "24h", "d.day")} AS "GB 3095 二级限值"
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(d.day{_DAY})
ORDER BY 1""",
        format="time_series", unit="conμgm3", options={"limit_columns": "限值"},
    ),
    PanelSpec(
        "air_o3_daily", "envmon-air", "O₃ 日最大 8 小时平均与 GB 3095 二级限值（2026-03-01 起 GB 3095-2026）",
        "timeseries",
        f"""SELECT d.day{_DAY} AS time, d.o3_8h_max AS "O₃ 日最大8小时平均",
       {gb3095_limit_sql("o3", "8h", "d.day")} AS "GB 3095 二级限值"
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(d.day{_DAY})
ORDER BY 1""",
        format="time_series", unit="conμgm3", options={"limit_columns": "限值"},
    ),
    PanelSpec(
        "air_good_days_remaining", "envmon-air", "本年度剩余可非优良天数（负数：目标本年已无法达到）", "stat",
        f"""SELECT t.target_id || ' ≥' || ts.target_value || '%' AS "目标", ts.good_days_allowed AS "天数"
FROM derived.target_status ts
JOIN registry.target t USING (target_id)
WHERE {_LATEST_AS_OF} AND t.active AND ts.good_days_allowed IS NOT NULL
ORDER BY t.target_id""",
        unit="d", thresholds=((None, "red"), (0, "orange"), (10, "green")), width=8, height=6,
        options={"rows_to_fields": True},
    ),
    PanelSpec(
        "air_primary_share", "envmon-air", "首要污染物构成（所选时段天数）", "piechart",
        f"""SELECT coalesce(replace(p.pollutant, 'O3_8h', 'O₃（8小时）'), '无（AQI≤50）') AS "首要污染物",
       count(*) AS "天数"
FROM derived.air_city_day d
JOIN registry.site s USING (site_id)
LEFT JOIN LATERAL unnest(string_to_array(nullif(d.primary_pollutant, ''), ';')) AS p(pollutant) ON true
WHERE {_city_site()} AND d.aqi IS NOT NULL AND $__timeFilter(d.day{_DAY})
GROUP BY 1
ORDER BY 2 DESC""",
        unit="d", width=8, height=6,
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
        unit="d", width=8, options={"stacked": True},
    ),
    PanelSpec(
        "air_month_good_ratio", "envmon-air", "月优良天数比例", "barchart",
        f"""SELECT to_char(m.period_start, 'YYYY-MM') AS "月份", m.good_day_ratio AS "优良天数比例"
FROM derived.air_city_month m
JOIN registry.site s USING (site_id)
WHERE {_city_site()} AND $__timeFilter(m.period_start{_DAY})
ORDER BY m.period_start""",
        unit="percent", thresholds=GOOD_RATIO_THRESHOLDS, width=24,
    ),
    PanelSpec(
        "air_station_hourly_aqi", "envmon-air", "各站点小时 AQI（$station）", "timeseries",
        # Hourly values while the range allows one point per hour; on longer ranges each point is
        # the highest hourly AQI of its interval (Grafana's $__interval, Beijing-aligned buckets):
        # a five-year range would otherwise send ~44 k points per station for a chart ~1,000 wide.
        f"""SELECT time_bucket(make_interval(secs => GREATEST($__interval_ms, 3600000) / 1000.0),
                   h.observed_at, 'Asia/Shanghai') AS time,
       s.name_zh AS metric, max(h.aqi) AS value
FROM derived.air_hour_aqi h
JOIN registry.site s USING (site_id)
WHERE s.city = '{CITY}' AND (s.kind = 'air_city' OR ({_IN_STATION} AND {_IN_DISTRICT}))
  AND $__timeFilter(h.observed_at)
GROUP BY 1, 2
ORDER BY 1, 2""",
        format="time_series", thresholds=AQI_THRESHOLDS, width=24,
        options={"thresholds_area": True, "max_data_points": True},
    ),
]

# Per section of the city (LATERAL, one index probe each), not DISTINCT ON over every section in the
# country: at 3,641 sections × 10 years the latter took ~300 ms (bench/RESULTS.md).
_LATEST_WATER = """SELECT w.*
  FROM derived.water_section_month w
  WHERE w.site_id = s.site_id AND w.status = 'ok'
  ORDER BY w.month DESC, (w.source = 'manual') DESC
  LIMIT 1"""

_WATER_ITEMS = (("tp", "总磷 TP"), ("nh3n", "氨氮 NH₃-N"), ("codmn", "高锰酸盐指数 CODMn"), ("do", "溶解氧 DO"))
_LIMIT_CLASSES = (2, 3, 4)
_SECTIONS = f"s.kind = 'water_section' AND s.city = '{CITY}'"
_LATEST_CLASS = f"""SELECT s.site_id, s.code, s.name_zh, s.river, s.lon, s.lat, s.district,
         w.month, w.class_code, coalesce(w.target_class, s.target_class) AS target_class, w.compliant,
         w.main_pollutants, w.n_valid, w.source
  FROM registry.site s
  LEFT JOIN LATERAL ({_LATEST_WATER}) w ON true
  WHERE {_SECTIONS}"""


def _water_trend(item: str, label: str) -> PanelSpec:
    limits = ",\n".join(
        f"       {gb3838_limit_sql(item, c, 'q.water_body')} AS \"{gb3838.CLASS_LABELS_ROMAN[c]}类限值\"" for c in _LIMIT_CLASSES)
    return PanelSpec(
        f"water_trend_{item}", "envmon-water", f"$section {label} 日均值与 GB 3838 类别限值", "timeseries",
        f"""SELECT time, "{label}",
{limits}
FROM (
  SELECT DISTINCT ON (w.day) w.day{_DAY} AS time, w.{item}_mean AS "{label}", s.water_body
  FROM derived.water_section_day w
  JOIN registry.site s USING (site_id)
  WHERE {_SECTIONS} AND s.code = '$section' AND w.status = 'ok' AND $__timeFilter(w.day{_DAY})
  ORDER BY w.day, (w.source = 'manual') DESC
) q
ORDER BY 1""",
        format="time_series", unit="conmgL", options={"limit_columns": "限值"},
    )


WATER_PANELS = [
    PanelSpec(
        "water_map", "envmon-water", "断面最近有效月水质类别（颜色：与目标类别比较）", "geomap",
        f"""SELECT l.name_zh AS "断面", l.river AS "河流", l.lat AS "纬度", l.lon AS "经度",
       l.class_code AS "类别", l.target_class AS "目标", l.class_code - l.target_class AS "较目标",
       to_char(l.month, 'YYYY-MM') AS "月份"
FROM ({_LATEST_CLASS}) l
JOIN registry.site s ON s.site_id = l.site_id
WHERE l.lat IS NOT NULL AND l.lon IS NOT NULL AND {_IN_DISTRICT}
ORDER BY l.river, l.name_zh""",
        thresholds=((None, "green"), (1, "orange"), (2, "red")), width=14, height=12,
        options={"color_field": "较目标", "lat": 29.45, "lon": 103.8, "zoom": 9},
    ),
    PanelSpec(
        "water_unmapped", "envmon-water", "无坐标断面（地图未显示，请在 config/sections.yaml 补充经纬度）", "table",
        f"""SELECT l.name_zh AS "断面", l.river AS "河流", l.class_code AS "类别", l.target_class AS "目标",
       to_char(l.month, 'YYYY-MM') AS "月份"
FROM ({_LATEST_CLASS}) l
JOIN registry.site s ON s.site_id = l.site_id
WHERE (l.lat IS NULL OR l.lon IS NULL) AND {_IN_DISTRICT}
ORDER BY l.river, l.name_zh""",
        width=10, height=12, options={"column_mappings": {"类别": "water_class", "目标": "water_class"}},
    ),
    PanelSpec(
        "water_sections_table", "envmon-water", "断面水质（各断面最近有效月）", "table",
        f"""SELECT l.name_zh AS "断面", l.river AS "河流", to_char(l.month, 'YYYY-MM') AS "月份",
       l.class_code AS "类别", l.target_class AS "目标",
       CASE WHEN l.compliant THEN '达标' WHEN NOT l.compliant THEN '超标' ELSE '未判定' END AS "达标",
       coalesce(l.main_pollutants, '') AS "主要污染物（超标倍数）", l.n_valid AS "有效样本",
       CASE l.source WHEN 'manual' THEN '手工监测' WHEN 'automatic' THEN '自动监测' END AS "来源",
       (SELECT max(f.last_observed_at) FROM ops.site_latest f
         WHERE f.site_id = l.site_id AND f.domain IN ('water', 'water_manual')) AS "最近采样时间"
FROM ({_LATEST_CLASS}) l
JOIN registry.site s ON s.site_id = l.site_id
WHERE {_IN_DISTRICT}
ORDER BY l.river, l.name_zh""",
        width=24, height=10,
        options={"column_mappings": {"类别": "water_class", "目标": "water_class", "达标": "compliance"}},
    ),
    *[_water_trend(item, label) for item, label in _WATER_ITEMS],
    PanelSpec(
        "water_class_history", "envmon-water", "各断面月水质类别", "statetimeline",
        f"""SELECT time, metric, value FROM (
  SELECT DISTINCT ON (w.site_id, w.month) w.month{_DAY} AS time, s.name_zh AS metric,
         w.class_code AS value, w.source
  FROM derived.water_section_month w
  JOIN registry.site s USING (site_id)
  WHERE {_SECTIONS} AND {_IN_DISTRICT} AND w.status = 'ok' AND $__timeFilter(w.month{_DAY})
  ORDER BY w.site_id, w.month, (w.source = 'manual') DESC
) q
ORDER BY 1, 2""",
        format="time_series", mappings="water_class", width=24, height=10,
    ),
]

_CITY_REGION = f"region = '{CITY}'"
_REDUCTION_ZH = {"co2_intensity": "单位GDP二氧化碳排放", "energy_intensity": "单位GDP能源消耗", "co2_total": "二氧化碳排放总量"}
_REDUCTION_CASE = "CASE r.indicator " + " ".join(
    f"WHEN '{k}' THEN '{v}'" for k, v in _REDUCTION_ZH.items()) + " END"

CARBON_PANELS = [
    PanelSpec(
        "carbon_emissions", "envmon-carbon", f"{CITY}市二氧化碳排放总量（CEADS，百万吨）", "barchart",
        f"""SELECT c.year::text AS "年份", c.co2_mt AS "CO₂ 排放量"
FROM derived.carbon_indicator c
WHERE c.{_CITY_REGION}
ORDER BY c.year""",
        unit="none", options={"x_field": "年份"},
    ),
    PanelSpec(
        "carbon_intensity", "envmon-carbon", "碳排放强度（吨/万元）与单位GDP能耗（吨标准煤/万元）", "barchart",
        f"""SELECT c.year::text AS "年份", c.intensity_t_per_10k_yuan AS "碳排放强度",
       c.energy_per_gdp AS "单位GDP能耗", c.co2_per_capita_t AS "人均排放（吨）"
FROM derived.carbon_indicator c
WHERE c.{_CITY_REGION}
ORDER BY c.year""",
        options={"x_field": "年份"},
    ),
    PanelSpec(
        "carbon_reductions", "envmon-carbon", "较基准年降低（五年规划期）与目标", "table",
        f"""SELECT {_REDUCTION_CASE} AS "指标", r.base_year AS "基准年", r.year AS "年份",
       r.base_value AS "基准年值", r.value AS "当年值", r.reduction_pct AS "降低率",
       t.target_id AS "目标编号", t.value AS "目标降低率", t.deadline AS "目标年",
       CASE r.status WHEN 'ok' THEN '已计算' ELSE '数据不足' END AS "计算状态",
       coalesce(r.missing, '') AS "缺少数据"
FROM derived.carbon_reduction r
LEFT JOIN registry.target t
  ON t.indicator = r.indicator || '_reduction' AND t.scope = 'city' AND t.active
 AND t.baseline_year = r.base_year
WHERE r.{_CITY_REGION}
ORDER BY r.indicator, r.base_year, r.year""",
        width=24, height=10, options={"column_units": {"降低率": "percent", "目标降低率": "percent"}},
    ),
    PanelSpec(
        "carbon_targets", "envmon-carbon", "碳排放与能源目标（最新评估日）", "table",
        f"""SELECT t.target_id AS "编号", t.name_zh AS "指标", t.baseline_year AS "基准年",
       coalesce(ts.target_value, t.value) AS "目标", ts.actual AS "实际值", ts.unit AS "单位",
       ts.status AS "状态", t.deadline AS "目标年", coalesce(ts.detail ->> 'insufficient_reason', '') AS "说明"
FROM derived.target_status ts
JOIN registry.target t USING (target_id)
WHERE {_LATEST_AS_OF} AND t.active AND t.target_id LIKE 'C%'
ORDER BY t.target_id""",
        mappings="status", width=24, height=10,
    ),
    PanelSpec(
        "carbon_indicator_table", "envmon-carbon", "碳排放指标逐年（含缺失数据说明）", "table",
        f"""SELECT c.year AS "年份", round(c.co2_mt::numeric, 2) AS "CO₂（百万吨）",
       c.gdp_constant_100m_yuan AS "GDP（亿元，可比价）", c.price_base_year AS "价格基年",
       c.intensity_t_per_10k_yuan AS "碳排放强度", c.co2_per_capita_t AS "人均排放（吨）",
       c.share_of_province_pct AS "占全省比例",
       CASE c.status WHEN 'ok' THEN '完整' ELSE '数据不足' END AS "状态", coalesce(c.missing, '') AS "缺少数据"
FROM derived.carbon_indicator c
WHERE c.{_CITY_REGION}
ORDER BY c.year DESC""",
        width=24, height=9, options={"column_units": {"占全省比例": "percent"}},
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
         max(f.last_observed_at) AS "最近数据时间"
  FROM ops.site_latest f
  JOIN registry.site s USING (site_id)
  GROUP BY s.site_id, s.name_zh, s.kind
) q
ORDER BY "最近数据时间" ASC""",
        width=24, height=10, options={"column_units": {"距今": "dtdurations"},
                                       "column_thresholds": {"距今": ((None, "green"), (86400, "orange"),
                                                                      (3 * 86400, "red"))}},
    ),
]

PANELS: list[PanelSpec] = TARGET_PANELS + AIR_PANELS + WATER_PANELS + CARBON_PANELS + QUALITY_PANELS
