"""Dashboards generated with grafana-foundation-sdk: JSON shape, provisioning files, and every
panel's SQL run against a real warehouse loaded with a little bundled data."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
import yaml

from dashboards import build as dbuild
from dashboards.panels import DASHBOARDS, DATASOURCE_UID, PANELS
from tests.conftest import BUNDLED_DATA

CJK = re.compile(r"[\u4e00-\u9fff]")
TIME_FILTER = re.compile(r"\$__timeFilter\(([^)]*)\)")


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
    }
    assert set(written) == expected and all(p.is_file() for p in written)


def test_dashboard_json(built):
    out, _ = built
    dashboards = _dashboards(out)
    assert set(dashboards) == {"envmon-targets", "envmon-air", "envmon-water", "envmon-quality"}
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
    assert [p["title"] for p in dashboards["envmon-air"]["panels"]][0] == "乐山市日 AQI"
    assert sum(len(d["panels"]) for d in dashboards.values()) == len(PANELS)
    # template variable of the water dashboard
    variables = dashboards["envmon-water"]["templating"]["list"]
    assert [v["name"] for v in variables] == ["section"]
    assert "water_section" in variables[0]["query"]


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
    pm25 = next(p for p in dashboards["envmon-air"]["panels"] if "PM2.5" in p["title"])
    assert [s["value"] for s in pm25["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 75]


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


def _runnable(sql: str, section: str) -> str:
    sql = TIME_FILTER.sub(r"\1 BETWEEN '2021-01-01' AND '2023-12-31'", sql)
    sql = sql.replace("$section", section)
    assert "$" not in sql, sql
    return sql


def test_every_panel_query_runs_on_real_data(warehouse):
    from pipeline import runs

    url = warehouse
    runs.load_source(runs.AIR_SOURCES, "city_archive", BUNDLED_DATA, "t", url, "2022-01-01", "2022-01-31")
    runs.load_source(runs.WATER_SOURCES, "auto_snapshot", BUNDLED_DATA, "t", url)
    # the snapshot alone holds 6 samples per section (insufficient for a month): add the archive
    runs.load_source(runs.WATER_SOURCES, "auto_archive", BUNDLED_DATA, "t", url)
    runs.refresh_indicators(url)

    with psycopg.connect(url) as conn:
        section = conn.execute("""
            SELECT s.code FROM derived.water_section_month w JOIN registry.site s USING (site_id)
            WHERE w.status = 'ok' AND s.city = '乐山' ORDER BY w.n_valid DESC LIMIT 1""").fetchone()
        assert section, "no water section month for 乐山 in the bundled snapshot"
        results = {}
        for panel in PANELS:
            cur = conn.execute(_runnable(panel.sql, section[0]))
            results[panel.uid] = ([d.name for d in cur.description], cur.fetchall())

    def rows(uid):
        return results[uid][1]

    # daily city AQI: one row per Beijing day of January 2022, plotted at 00:00 Asia/Shanghai
    jan = [r for r in rows("air_city_daily_aqi") if r[1] is not None]
    assert len(jan) == 31
    assert jan[0][0].isoformat() == "2021-12-31T16:00:00+00:00"
    assert all(0 < r[1] < 500 for r in jan)
    assert any(r[1] is not None and r[1] > 0 for r in rows("air_pm25_daily"))
    assert rows("air_station_hourly_aqi") and all(len(r) == 3 for r in rows("air_station_hourly_aqi"))
    month = [r for r in rows("air_month_good_ratio") if r[0] == "2022-01"]
    assert month and 0 <= month[0][1] <= 100
    primary = [r for r in rows("air_primary_days") if r[0] == "2022-01"]
    assert primary and sum(primary[0][1:]) > 0

    # targets: latest as_of, all targets in the table, status counts add up
    table_cols, table_rows = results["targets_table"]
    assert table_cols[:7] == ["编号", "指标", "实际值", "目标", "差距", "单位", "状态"]
    assert len(table_rows) >= 40
    statuses = {r[6] for r in table_rows}
    assert statuses <= {"met", "on_course", "at_risk", "missed", "insufficient_data", "not_set"}
    assert sum(rows("targets_status_counts")[0]) == len(table_rows)
    assert all(1 <= r[1] <= 6 for r in rows("targets_status_each"))
    ytd = [r for r in rows("targets_good_ratio_ytd") if r[1] is not None]
    assert ytd and all(0 <= r[1] <= 100 for r in ytd)
    assert any(r[1] is not None for r in rows("targets_pm25_ytd"))

    # water: latest month per section, per-parameter trend and class history
    sections = rows("water_sections_table")
    assert sections and all(1 <= r[3] <= 6 for r in sections if r[3] is not None)
    assert results["water_sections_table"][0][:8] == ["断面", "河流", "月份", "类别", "目标", "达标", "主要污染物",
                                                     "有效样本"]
    trend = rows("water_param_trend")
    assert trend and any(v is not None for r in trend for v in r[1:])
    assert rows("water_class_history")

    # data quality
    loads = {(r[0], r[1]) for r in rows("dq_loads")}
    assert ("air_city_archive", "loaded") in loads and ("water_auto_snapshot", "loaded") in loads
    fresh = rows("dq_freshness")
    assert fresh and all(r[2] is not None and r[3] > 0 for r in fresh)
    assert {r[1] for r in fresh} >= {"城市", "水质断面"}


def test_committed_provisioning_is_what_the_code_builds(tmp_path):
    """docker-compose mounts the committed dashboards/json and dashboards/provisioning: they must
    be exactly what `envmon dashboards build` writes from the current code."""
    from dashboards.build import build
    from envmon.settings import REPO_ROOT

    for path in build(tmp_path):
        committed = REPO_ROOT / "dashboards" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run `envmon dashboards build`"
