"""Dashboards generated with grafana-foundation-sdk: JSON shape, variables, links, provisioning
files, and every panel's SQL run against a warehouse loaded with the real 2022 Leshan air data, the
2021–2022 water data and the CEADS carbon inventory, checked against independent figures."""

from __future__ import annotations

import datetime as dt
import json
import re

import psycopg
import pytest
import yaml

from dashboards import build as dbuild
from dashboards.macros import expand, resolve_variables
from dashboards.panels import DASHBOARDS, DATASOURCE_UID, PANELS, VARIABLES
from tests.conftest import BUNDLED_DATA, shared

CJK = re.compile(r"[\u4e00-\u9fff]")
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dashboards")
    return out, dbuild.build(out)


def _dashboards(out):
    return {uid: json.loads((out / "json" / f"{uid}.json").read_text(encoding="utf-8")) for uid in DASHBOARDS}


def test_build_writes_provisioning_tree(built):
    out, written = built
    expected = {out / "json" / f"{uid}.json" for uid in DASHBOARDS} | {
        out / "provisioning" / "dashboards" / "envmon.yaml",
        out / "provisioning" / "datasources" / "envmon.yaml",
    } | {out / "provisioning" / "alerting" / name for name in ("rules.yaml", "contact-points.yaml", "policies.yaml")}
    assert expected <= set(written) and all(p.is_file() for p in written)
    # anything else is alerting provisioning (written by the same build)
    assert all(p.parent == out / "provisioning" / "alerting" for p in set(written) - expected)


def test_dashboard_json(built):
    out, _ = built
    dashboards = _dashboards(out)
    assert set(dashboards) == {"envmon-targets", "envmon-air", "envmon-water", "envmon-carbon", "envmon-quality"}
    assert DASHBOARDS["envmon-carbon"] == "碳排放"
    for uid, d in dashboards.items():
        text = json.dumps(d, ensure_ascii=False)
        assert d["uid"] == uid and d["title"] == DASHBOARDS[uid] and CJK.search(d["title"])
        assert d["timezone"] == "Asia/Shanghai"
        assert "$__timeGroup" not in text
        assert d["panels"], uid
        for panel in d["panels"]:
            assert CJK.search(panel["title"]), panel["title"]
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID
                assert target["rawSql"].strip() and target["rawQuery"] is True
        # links: every dashboard lists the other envmon dashboards (by their common tag)
        assert "envmon" in d["tags"]
        assert [(link["type"], link["tags"], link["keepTime"]) for link in d["links"]] == [
            ("dashboards", ["envmon"], True)]
        # variables used in a panel's SQL are defined on that dashboard
        defined = {v["name"] for v in d.get("templating", {}).get("list", [])}
        used = set(re.findall(r"\$(district|station|section)\b", text))
        assert used <= defined, (uid, used - defined)
    assert [p["title"] for p in dashboards["envmon-air"]["panels"]][0] == "乐山市日 AQI"
    assert sum(len(d["panels"]) for d in dashboards.values()) == len(PANELS)

    # variables: district → station (air) / section (water), all queries on registry.site
    air_vars = dashboards["envmon-air"]["templating"]["list"]
    water_vars = dashboards["envmon-water"]["templating"]["list"]
    assert [v["name"] for v in air_vars] == ["district", "station"]
    assert [v["name"] for v in water_vars] == ["district", "section"]
    for v in air_vars + water_vars:
        assert v["type"] == "query" and "registry.site" in v["query"] and CJK.search(v["label"])
        assert v["datasource"]["uid"] == DATASOURCE_UID
    assert air_vars[1]["multi"] and air_vars[1]["includeAll"] and "$district" in air_vars[1]["query"]
    assert "water_section" in water_vars[1]["query"] and not water_vars[1].get("multi")
    assert [v.name for v in VARIABLES["envmon-water"]] == ["district", "section"]
    by_title = {p["title"]: p for d in dashboards.values() for p in d["panels"]}
    assert "$station" in by_title["各站点小时 AQI（$station）"]["targets"][0]["rawSql"]
    assert "$district" in next(p for p in dashboards["envmon-water"]["panels"]
                               if p["type"] == "geomap")["targets"][0]["rawSql"]

    # geomap: markers at the sections' registry coordinates, coloured by class vs target
    geomap = next(p for p in dashboards["envmon-water"]["panels"] if p["type"] == "geomap")
    layer = geomap["options"]["layers"][0]
    assert layer["type"] == "markers"
    assert layer["location"] == {"mode": "coords", "latitude": "纬度", "longitude": "经度"}
    assert layer["config"]["style"]["color"]["field"] == "较目标"
    assert geomap["fieldConfig"]["defaults"]["color"]["mode"] == "thresholds"
    assert "s.lat IS NOT NULL" in geomap["targets"][0]["rawSql"] or "l.lat IS NOT NULL" in \
        geomap["targets"][0]["rawSql"]
    # the AQI calendar: a heatmap of pre-bucketed cells (one column per weekday)
    calendar = next(p for p in dashboards["envmon-air"]["panels"] if p["type"] == "heatmap")
    assert calendar["options"]["calculate"] is False
    assert calendar["targets"][0]["format"] == "time_series"
    # limit columns drawn as dashed lines
    pm25 = next(p for p in dashboards["envmon-air"]["panels"] if p["title"].startswith("PM2.5 日均浓度"))
    override = pm25["fieldConfig"]["overrides"][0]
    assert override["matcher"] == {"id": "byRegexp", "options": ".*限值.*"}
    assert {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}} in override["properties"]
    assert "WHEN d.day <= DATE '2026-02-28' THEN 75" in pm25["targets"][0]["rawSql"]
    assert {p["type"] for p in dashboards["envmon-carbon"]["panels"]} == {"barchart", "table"}


def _missing_or_changed(written, parsed, path: str = "") -> list[str]:
    """Paths of ``written`` that the parsed model lost or altered (defaults it adds are fine)."""
    if isinstance(written, dict) and isinstance(parsed, dict):
        return [p for k, v in written.items()
                for p in ([f"{path}/{k} lost"] if k not in parsed else _missing_or_changed(v, parsed[k], f"{path}/{k}"))]
    if isinstance(written, list) and isinstance(parsed, list) and len(written) == len(parsed):
        return [p for i, (a, b) in enumerate(zip(written, parsed, strict=True)) for p in _missing_or_changed(a, b, f"{path}[{i}]")]
    return [] if written == parsed else [f"{path}: {written!r} != {parsed!r}"]


def test_dashboard_json_parses_into_the_sdk_models_and_back_unchanged(built):
    """The written JSON is read back with grafana-foundation-sdk's own models (its plugin registry
    gives every panel type's typed options and field config): every panel's options parse into its
    type's model, and no field is lost or altered on the way (the model may add its defaults; the SQL
    queries stay untyped: the SDK has no PostgreSQL query model)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    out, _ = built
    for uid, data in _dashboards(out).items():
        model = Dashboard.from_json(data)
        assert _missing_or_changed(data, json.loads(json.dumps(model, cls=JSONEncoder))) == [], uid
        for panel in model.panels:
            options = type(panel.options)
            assert options.__name__ == "Options" and options.__module__.endswith("." + panel.type_val.replace("-", "")), \
                (uid, panel.title, panel.type_val, options)


def test_aqi_category_colours_and_status_mapping(built):
    out, _ = built
    dashboards = _dashboards(out)
    daily = next(p for p in dashboards["envmon-air"]["panels"] if p["title"] == "乐山市日 AQI")
    steps = daily["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [
        (None, "#00E400"), (51, "#FFFF00"), (101, "#FF7E00"), (151, "#FF0000"), (201, "#99004C"),
        (301, "#7E0023")]
    table = next(p for p in dashboards["envmon-targets"]["panels"] if p["type"] == "table")
    options = table["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {k: v["color"] for k, v in options.items()} == {
        "met": "green", "on_course": "blue", "at_risk": "orange", "missed": "red",
        "insufficient_data": "#8e8e8e", "not_set": "#8e8e8e"}
    pm25 = next(p for p in dashboards["envmon-targets"]["panels"] if "PM2.5" in p["title"])
    assert [s["value"] for s in pm25["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 35]


def test_datasource_provisioning_has_no_literal_password(built):
    out, _ = built
    text = (out / "provisioning" / "datasources" / "envmon.yaml").read_text(encoding="utf-8")
    ds = yaml.safe_load(text)["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "grafana-postgresql-datasource"
    assert ds["url"] == "timescaledb:5432" and ds["user"] == "grafana_reader"
    assert ds["jsonData"]["database"] == "envmon"
    assert ds["jsonData"]["timescaledb"] is True and ds["jsonData"]["postgresVersion"] == 1500
    assert ds["secureJsonData"] == {"password": "$GRAFANA_READER_PASSWORD"}
    assert "password" not in ds and "password:" in text and text.count("password") == 1
    providers = yaml.safe_load((out / "provisioning" / "dashboards" / "envmon.yaml").read_text())["providers"]
    assert providers[0]["type"] == "file"
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_panel_uids_unique():
    assert len({p.uid for p in PANELS}) == len(PANELS)
    assert {p.dashboard for p in PANELS} == set(DASHBOARDS)


@pytest.fixture(scope="module")
def real(cluster, tmp_path_factory) -> str:
    """A warehouse with the real 2022 Leshan city archive, the 2021–2022 water data of
    ../shared/data/water and the CEADS city inventory, refreshed as the DAGs do."""
    from envmon import localcluster
    from evaluation import carbon
    from ingest.registry import adapter
    from pipeline import runs
    from warehouse.db import connect

    url = localcluster.create_database("t_dashboards_real_2022", cluster, drop_first=True)
    runs.prepare_with_stations(BUNDLED_DATA, url)
    # The 365 daily files as one file (same rows): loading them one by one takes minutes here.
    year = tmp_path_factory.mktemp("air") / "china_cities_leshan_2022_year.csv"
    lines: list[str] = []
    for i, path in enumerate(CITY_2022):
        text = path.read_text(encoding="utf-8-sig").splitlines()
        lines.extend(text if i == 0 else text[1:])
    year.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [report] = runs.run_loads(adapter("air_city_archive"), [year], "test", url)
    assert report["status"] == "loaded" and report["rows_quarantined"] == 0
    water = shared("water").parent
    runs.register_sections_from_data(water, url)
    for source in ("auto_archive", "auto_snapshot", "manual_monthly"):
        runs.load_source(runs.WATER_SOURCES, source, water, "test", url)
    carbon.load_inputs("city_inventory", BUNDLED_DATA, "test", url)
    with connect(url) as conn:
        carbon.refresh_carbon(conn)
    runs.refresh_indicators(url)
    return url


CITY_2022 = sorted((BUNDLED_DATA / "air" / "china_cities_leshan_2022").glob("china_cities_2022*.csv"))
YEAR_2022 = (dt.datetime(2022, 1, 1, tzinfo=BEIJING), dt.datetime(2022, 12, 31, 23, 59, 59, tzinfo=BEIJING))
#: Panels allowed to come back empty on this data: nothing was quarantined.
MAY_BE_EMPTY = {"dq_quarantine"}


@pytest.fixture(scope="module")
def results(real):
    """Every panel's SQL, macros and variables expanded as Grafana would (2022, section 李码头),
    run as the read-only role Grafana's datasource user is granted (envmon_reader)."""
    out = {}
    with psycopg.connect(real) as conn:
        conn.execute("SET ROLE envmon_reader")
        for uid in DASHBOARDS:
            variables = resolve_variables(conn, uid, {"section": SECTION})
            for panel in (p for p in PANELS if p.dashboard == uid):
                cur = conn.execute(expand(panel.sql, variables, YEAR_2022))
                out[panel.uid] = ([d.name for d in cur.description], cur.fetchall())
    return out


SECTION = "李码头"


def test_variables_query_registry_sites(real):
    with psycopg.connect(real) as conn:
        air = resolve_variables(conn, "envmon-air")
        water = resolve_variables(conn, "envmon-water", {"section": SECTION})
        codes = {r[0] for r in conn.execute("SELECT code FROM registry.site WHERE kind = 'air_station' "
                                            "AND city = '乐山'")}
    assert air["district"] == ["未划分区县"]  # registry.site.district is not filled in yet
    assert set(air["station"]) == codes and len(codes) == 5
    assert water == {"district": ["未划分区县"], "section": SECTION}


def test_every_panel_query_returns_rows(results):
    empty = {uid for uid, (_, rows) in results.items() if not rows}
    assert empty <= MAY_BE_EMPTY, empty
    assert set(results) == {p.uid for p in PANELS}


def _days(results, uid):
    return [r for r in results[uid][1] if r[1] is not None]


def test_air_panels_against_the_independent_2022_figures(results):
    """Leshan 2022 (tests/test_air_city_2022.py, independent calculation): 300 good days of 362
    valid, ratio 82.9 %, PM2.5 annual mean 40 µg/m³."""
    daily = _days(results, "air_city_daily_aqi")
    assert len(daily) == 362 and sum(r[1] <= 100 for r in daily) == 300
    assert daily[0][0].isoformat() == "2021-12-31T16:00:00+00:00"  # 2022-01-01 00:00 Beijing
    assert results["targets_year_stats"][1] == [(82.9,)]
    assert results["targets_year_pm25"][1] == [(40.0,)]
    ytd = _days(results, "targets_good_ratio_ytd")
    assert float(ytd[-1][1]) == 82.9

    # calendar: every valid day in exactly one cell (week × weekday), the same 300 good days
    cells = [v for r in results["air_aqi_calendar"][1] for v in r[1:] if v is not None]
    assert len(cells) == 362 and sum(v <= 100 for v in cells) == 300
    assert results["air_aqi_calendar"][0] == ["time", "周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    first_week = results["air_aqi_calendar"][1][0]  # 2022-01-01 is a Saturday
    assert first_week[0].isoformat() == "2021-12-26T16:00:00+00:00" and first_week[1:6] == (None,) * 5

    # monthly good-day ratio = the daily panel's good/valid per month, rounded (GB/T 8170)
    from standards.gbt8170 import round_gbt8170

    by_month: dict[str, list[int]] = {}
    for time, aqi in daily:
        by_month.setdefault((time + dt.timedelta(hours=8)).strftime("%Y-%m"), []).append(aqi)
    monthly = dict(results["air_month_good_ratio"][1])
    for month, values in by_month.items():
        expected = float(round_gbt8170(100 * sum(v <= 100 for v in values) / len(values), 1))
        assert monthly[month] == pytest.approx(expected), month

    # primary pollutant shares: one count per primary pollutant named on a valid day
    pie = dict(results["air_primary_share"][1])
    assert pie["无（AQI≤50）"] == sum(r[1] <= 50 for r in daily)
    assert set(pie) <= {"无（AQI≤50）", "PM2.5", "PM10", "O₃（8小时）", "NO2", "SO2", "CO"}

    # the GB 3095 limit column: grade II, 2012 values throughout 2022
    assert {r[2] for r in results["air_pm25_daily"][1]} == {75}
    assert {r[2] for r in results["air_o3_daily"][1]} == {160}
    # good days still allowed: at 2022-12-31 every day is over; 300 of 362 → 19 / 24 short of 88 / 89.4 %
    assert dict(results["air_good_days_remaining"][1]) == {"A1 ≥88%": -19, "A3 ≥89.4%": -24}
    # station filter: the city and the five stations
    assert {r[1] for r in results["air_station_hourly_aqi"][1]} >= {"乐山市"}


def test_gb3095_limit_steps_on_2026_03_01(real):
    """GB 3095-2026 §4.4: 2012 values before 2026-03-01, transition values from that day;
    PM2.5 24 h grade II 75 → 60 µg/m³, O3 8 h 160 unchanged, PM2.5 final (2031) 50."""
    from dashboards.panels import gb3095_limit_sql

    days = "(VALUES (DATE '2026-02-28'), (DATE '2026-03-01'), (DATE '2030-12-31'), (DATE '2031-01-01')) v(d)"
    with psycopg.connect(real) as conn:
        pm25 = [r[0] for r in conn.execute(f"SELECT {gb3095_limit_sql('pm25', '24h', 'd')} FROM {days}")]
        o3 = [r[0] for r in conn.execute(f"SELECT {gb3095_limit_sql('o3', '8h', 'd')} FROM {days}")]
    assert pm25 == [75, 60, 60, 50] and o3 == [160, 160, 160, 160]
    air = next(p for p in PANELS if p.uid == "air_pm25_daily")
    assert gb3095_limit_sql("pm25", "24h", "d.day") in air.sql


def test_water_panels(results, real):
    cols, table = results["water_sections_table"]
    assert cols == ["断面", "河流", "月份", "类别", "目标", "达标", "主要污染物（超标倍数）", "有效样本", "来源",
                    "最近采样时间"]
    with psycopg.connect(real) as conn:
        sections = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT name_zh, lon, lat FROM registry.site WHERE kind = 'water_section' AND city = '乐山'")}
        # the section's monthly class in the history panel = derived.water_section_month
        months = dict(conn.execute("""
            SELECT DISTINCT ON (w.month) to_char(w.month, 'YYYY-MM'), w.class_code
            FROM derived.water_section_month w JOIN registry.site s USING (site_id)
            WHERE s.code = %s AND w.status = 'ok' AND w.month BETWEEN '2022-01-01' AND '2022-12-31'
            ORDER BY w.month, (w.source = 'manual') DESC""", (SECTION,)).fetchall())
        last_sample = conn.execute("""
            SELECT max(observed_at) FROM obs.water_measurement m JOIN registry.site s USING (site_id)
            WHERE s.code = %s AND m.value IS NOT NULL""", (SECTION,)).fetchone()[0]
    # every section appears in the table; mapped ∪ unmapped = all sections, none dropped
    assert {r[0] for r in table} == set(sections) and len(sections) == 8
    mapped = {r[0] for r in results["water_map"][1]}
    unmapped = {r[0] for r in results["water_unmapped"][1]}
    assert mapped == {n for n, (lon, lat) in sections.items() if lon is not None and lat is not None}
    assert unmapped == set(sections) - mapped and mapped and unmapped
    for name, _river, lat, lon, cls, target, diff, _month in results["water_map"][1]:
        assert (lon, lat) == sections[name] and (diff is None or diff == cls - target)
    history = {(r[0] + dt.timedelta(hours=8)).strftime("%Y-%m"): r[2]
               for r in results["water_class_history"][1] if r[1] == SECTION}
    assert history == months and months
    row = next(r for r in table if r[0] == SECTION)
    assert row[2] == max(months) and row[3] == months[max(months)]
    assert row[9] == last_sample
    # per-parameter trends carry GB 3838-2002 Table 1 river limits, classes II / III / IV
    limits = {"tp": (0.1, 0.2, 0.3), "nh3n": (0.5, 1.0, 1.5), "codmn": (4, 6, 10), "do": (6, 5, 3)}
    for item, expected in limits.items():
        cols, rows = results[f"water_trend_{item}"]
        assert cols[2:] == ["Ⅱ类限值", "Ⅲ类限值", "Ⅳ类限值"]
        assert rows and {tuple(float(v) for v in r[2:]) for r in rows} == {expected}
        assert any(r[1] is not None for r in rows)


def test_carbon_panels(results):
    """CEADS city inventory (tests/test_carbon.py): Leshan 2018 CO2 30.81 Mt; the 13th FYP base
    2015 → 2018 total reduction (1 − 30.813799 / 35.395570) × 100 = 12.94 %."""
    emissions = dict(results["carbon_emissions"][1])
    assert round(emissions["2018"], 2) == 30.81 and emissions["2017"] is None
    cols, rows = results["carbon_reductions"]
    total = next(r for r in rows if r[0] == "二氧化碳排放总量" and (r[1], r[2]) == (2015, 2018))
    assert total[5] == 12.94 and total[9] == "已计算"
    # intensity needs GDP, which no bundled file has: shown as insufficient, naming what is missing
    intensity = next(r for r in rows if r[0] == "单位GDP二氧化碳排放" and (r[1], r[2]) == (2015, 2018))
    assert intensity[5] is None and intensity[9] == "数据不足" and "gdp_constant" in intensity[10]
    targets = {r[0] for r in results["carbon_targets"][1]}
    assert {"C1", "C2", "C5"} <= targets and all(t.startswith("C") for t in targets)
    years = [r[0] for r in results["carbon_indicator_table"][1]]
    assert 2018 in years and years == sorted(years, reverse=True)


def test_targets_and_quality_panels(results, real):
    table_cols, table_rows = results["targets_table"]
    assert table_cols[:7] == ["编号", "指标", "实际值", "目标", "差距", "单位", "状态"]
    assert len(table_rows) >= 40
    assert {r[6] for r in table_rows} <= {"met", "on_course", "at_risk", "missed", "insufficient_data", "not_set"}
    assert sum(results["targets_status_counts"][1][0]) == len(table_rows)
    assert all(1 <= r[1] <= 6 for r in results["targets_status_each"][1])
    a3 = next(r for r in table_rows if r[0] == "A3")
    assert (a3[2], a3[3], a3[6]) == (82.9, 89.4, "at_risk")
    loads = {(r[0], r[1]) for r in results["dq_loads"][1]}
    assert ("air_city_archive", "loaded") in loads and ("water_auto_archive", "loaded") in loads
    fresh = results["dq_freshness"][1]
    assert fresh and all(r[2] is not None and r[3] > 0 for r in fresh)
    # the load-maintained latest time (ops.site_latest) equals asking the hypertables directly
    with psycopg.connect(real) as conn:
        direct = dict(conn.execute("""
            SELECT s.name_zh, max(m.observed_at) FROM (
              SELECT site_id, observed_at FROM obs.air_measurement WHERE value IS NOT NULL
              UNION ALL SELECT site_id, observed_at FROM obs.water_measurement WHERE value IS NOT NULL
              UNION ALL SELECT site_id, observed_at FROM obs.water_manual_measurement WHERE value IS NOT NULL
            ) m JOIN registry.site s USING (site_id) GROUP BY s.site_id, s.name_zh""").fetchall())
    assert {r[0]: r[2] for r in fresh} == direct
    assert {r[1] for r in fresh} >= {"城市", "水质断面"}


def test_render_writes_one_png_per_dashboard(real, tmp_path):
    from dashboards import render

    written = render.render(tmp_path, real, YEAR_2022, {"section": SECTION})
    assert [p.name for p in written] == [f"{uid}.png" for uid in DASHBOARDS]
    for path in written:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000, path


def test_macro_expansion_quotes_like_grafana():
    sql = "SELECT 1 WHERE $__timeFilter(t) AND s IN ($station) AND c = '$section' AND d IN (${district})"
    out = expand(sql, {"station": ["a", "b'c"], "section": "李码头", "district": ["x"]}, YEAR_2022)
    assert out == ("SELECT 1 WHERE t BETWEEN '2021-12-31T16:00:00Z' AND '2022-12-31T15:59:59Z' "
                   "AND s IN ('a','b''c') AND c = '李码头' AND d IN ('x')")
    with pytest.raises(ValueError):
        expand("SELECT $unknown", {})


def test_committed_provisioning_is_what_the_code_builds(tmp_path):
    """docker-compose mounts the committed dashboards/json and dashboards/provisioning: they must
    be exactly what `envmon dashboards build` writes from the current code."""
    from dashboards.build import build
    from envmon.settings import REPO_ROOT

    for path in build(tmp_path):
        committed = REPO_ROOT / "dashboards" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run `envmon dashboards build`"


@pytest.mark.parametrize(("days", "expected_ms"), [
    (2, 2 * 86_400_000 // 1000),     # 2.9 min: finer than an hour (the SQL never groups below 1 h)
    (365, 6 * 3_600_000),            # 8.76 h → Grafana's 6 h step
    (5 * 365, 24 * 3_600_000),       # 43.8 h → 24 h (the dashboards' default range, now-5y)
])
def test_interval_is_the_range_over_max_data_points_rounded_like_grafana(days, expected_ms):
    from dashboards.macros import interval_ms

    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    assert interval_ms((start, start + dt.timedelta(days=days))) == expected_ms


def test_station_hourly_panel_is_hourly_on_short_ranges_and_the_interval_maximum_on_long_ones(real):
    """Each point is the highest hourly AQI of its Beijing-aligned interval: on a two-day range the
    hourly series itself, on the year (6 h interval) the maximum of each 6 h block, both computed here
    from derived.air_hour_aqi."""
    import pandas as pd

    from dashboards.panels import PANELS
    from warehouse.db import connect

    panel = next(p for p in PANELS if p.uid == "air_station_hourly_aqi")
    with connect(real) as conn:
        variables = resolve_variables(conn, "envmon-air")
        hourly = pd.DataFrame(conn.execute("""
            SELECT h.observed_at, s.name_zh, h.aqi FROM derived.air_hour_aqi h JOIN registry.site s USING (site_id)
            WHERE s.code = '乐山'""").fetchall(), columns=["time", "metric", "value"])
        two_days = (dt.datetime(2022, 7, 1, tzinfo=BEIJING), dt.datetime(2022, 7, 2, 23, 59, 59, tzinfo=BEIJING))
        short = conn.execute(expand(panel.sql, variables, two_days)).fetchall()
        year = conn.execute(expand(panel.sql, variables, YEAR_2022)).fetchall()
    hourly["time"] = pd.to_datetime(hourly["time"], utc=True).dt.tz_convert(BEIJING)
    in_short = hourly[(hourly["time"] >= two_days[0]) & (hourly["time"] <= two_days[1])].sort_values("time")
    assert len(in_short) >= 40
    assert [(pd.Timestamp(t), m, v) for t, m, v in short if m == "乐山市"] == \
        [(t, m, v) for t, m, v in in_short.itertuples(index=False)]
    in_year = hourly[(hourly["time"] >= YEAR_2022[0]) & (hourly["time"] <= YEAR_2022[1])]
    blocks = in_year.groupby(in_year["time"].dt.floor("6h"))["value"].max()  # Beijing 00/06/12/18 h
    ours = {pd.Timestamp(t): v for t, m, v in year if m == "乐山市"}
    assert len(ours) == len(blocks) > 1400
    assert ours == {t: v for t, v in blocks.items()}
