"""Monthly compliance export on the real data: Leshan air 2022 (city archive), water 2021–2022
(automatic archive, Sichuan monthly results), the CEADs inventories.

The workbook's figures are checked against independently established values (Leshan 2022:
tests/test_air_city_2022.py) and against pandas computations written here from the stored daily
values; water classes against ``derived.water_section_month``. Reruns must be byte-identical, a
revised measurement loaded through the normal path must give a new version naming the change, an
incomplete month is exported with its gaps stated.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from envmon import localcluster
from evaluation import carbon
from exports import monthly
from exports.run import export_month, readiness
from ingest.registry import adapter
from pipeline import runs
from tests.conftest import BUNDLED_DATA, shared
from warehouse.db import connect

ENVMON = str(Path(sys.executable).parent / "envmon")
CITY_FILES = sorted((BUNDLED_DATA / "air" / "china_cities_leshan_2022").glob("china_cities_2022*.csv"))


def _leshan_day(path: Path, out_dir: Path, hours: range | None = None) -> Path:
    """A china_cities file reduced to the 乐山 column (as the bundled 2022 archive is)."""
    day = pd.read_csv(path, usecols=["date", "hour", "type", "乐山"], dtype=str)
    if hours is not None:
        day = day[day["hour"].astype(int).isin(hours)]
    target = out_dir / path.name
    day.to_csv(target, index=False)
    return target


@pytest.fixture(scope="module")
def db(cluster, tmp_path_factory) -> str:
    """One warehouse for the module: the loads take most of the time, the exports read only."""
    url = localcluster.create_database("t_export_monthly", cluster, drop_first=True)
    runs.prepare_with_stations(BUNDLED_DATA, url)
    runs.register_sections_from_data(BUNDLED_DATA, url)
    extra = tmp_path_factory.mktemp("air")
    # The 2022 archive's 365 daily files as one file of the same format (one gate run instead of
    # 365: the same adapter, gate and upsert, a fraction of the time).
    year = extra / "china_cities_leshan_2022.csv"
    pd.concat([pd.read_csv(f, dtype=str) for f in CITY_FILES]).to_csv(year, index=False)
    # 2023-01-01 whole day (Leshan column): completes 2022-12-31 24:00 and makes January 2023 a
    # month with one day of data.
    jan1 = _leshan_day(shared("air", "china_cities_20230101.csv"), extra)
    day = pd.read_csv(jan1, dtype=str)
    day.loc[(day["hour"] == "5") & (day["type"] == "PM2.5"), "乐山"] = "-40"  # one broken value: quarantined
    day.to_csv(jan1, index=False)
    reports = runs.run_loads(adapter("air_city_archive"), [year, jan1], run_id="t-export", url=url)
    assert [r["status"] for r in reports] == ["loaded", "loaded"]
    for source in ("auto_archive", "manual_monthly"):
        runs.load_source(runs.WATER_SOURCES, source, BUNDLED_DATA, "t-export", url)
    for kind in ("city_inventory", "province_inventory"):
        carbon.load_inputs(kind, BUNDLED_DATA, "t-export", url)
    carbon.refresh(url)
    runs.refresh_indicators(url)
    return url


def _round(x: float, places: int = 0) -> float:
    return float(Decimal(repr(round(float(x), 9))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _city_days(url: str) -> pd.DataFrame:
    with connect(url) as conn:
        rows = conn.execute("""SELECT d.day, d.aqi, d.pm25_24h FROM derived.air_city_day d
                               JOIN registry.site s USING (site_id) WHERE s.code = '乐山' ORDER BY 1""").fetchall()
    return pd.DataFrame(rows, columns=["day", "aqi", "pm25"]).astype({"aqi": "float64", "pm25": "float64"})


def _pandas_period(days: pd.DataFrame, first: str, last: str) -> dict:
    """Independent figures from the daily values: counts and a plain mean, GB/T 8170 rounding."""
    window = days[(pd.to_datetime(days["day"]) >= first) & (pd.to_datetime(days["day"]) <= last)]
    valid = window["aqi"].dropna()
    return {"有效天数(天)": len(valid), "优良天数(天)": int((valid <= 100).sum()),
            "优良天数比例(%)": _round(100 * (valid <= 100).sum() / len(valid), 1),
            "重污染天数(天)": int((valid > 200).sum()), "PM2.5(µg/m³)": _round(window["pm25"].dropna().mean())}


def _sheet(path: Path, name: str) -> pd.DataFrame:
    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _files(result: dict) -> dict[str, Path]:
    return {p.name: p for p in Path(result["dir"]).iterdir()}


@pytest.fixture(scope="module")
def december(db, tmp_path_factory) -> dict:
    return export_month("2022-12", tmp_path_factory.mktemp("out"), db)


@pytest.fixture(scope="module")
def june(db, tmp_path_factory) -> dict:
    return export_month("2022-06", tmp_path_factory.mktemp("out"), db)


def test_december_workbook_holds_the_2022_figures(db, december):
    assert december["status"] == "created" and december["version"] == 1
    book = _files(december)["monthly_compliance_2022-12.xlsx"]
    wb = load_workbook(book)
    assert wb.sheetnames == ["概况", "空气", "水", "碳", "数据说明"]
    assert all(wb[name].freeze_panes == "A3" for name in wb.sheetnames)  # title + header rows frozen
    air = _sheet(book, "空气").set_index(["代码", "统计期"])
    year = air.loc[("乐山", "年初至今")]
    # Leshan 2022, independently established in tests/test_air_city_2022.py.
    assert (year["有效天数(天)"], year["优良天数(天)"], year["优良天数比例(%)"], year["重污染天数(天)"],
            year["PM2.5(µg/m³)"]) == (362, 300, 82.9, 0, 40)
    assert year["统计有效性(HJ 663)"] == "有效"
    days = _city_days(db)
    month = air.loc[("乐山", "本月")]
    expected = _pandas_period(days, "2022-12-01", "2022-12-31")
    assert {k: month[k] for k in expected} == expected
    notes = _sheet(book, "数据说明").set_index("项目")
    assert "年初至今优良天数比例 82.9%，PM2.5 平均浓度 40 µg/m³，重污染 0 天" in notes.loc["摘要", "内容"]
    assert "A3 城市空气质量优良天数比例（乐山市）有风险：实际 82.9%，目标 89.4%" in notes.loc["摘要", "内容"]
    overview = _sheet(book, "概况").set_index("编号")
    assert overview.loc["A3", "实际值"] == 82.9 and overview.loc["A3", "状态"] == "有风险"
    assert overview.loc["A4", "实际值"] == 40 and overview.loc["A4", "目标值"] == 35


def test_june_month_and_year_to_date_agree_with_pandas_on_the_daily_values(db, june):
    book = _files(june)["monthly_compliance_2022-06.xlsx"]
    air = _sheet(book, "空气").set_index(["代码", "统计期"])
    days = _city_days(db)
    for period, first in (("本月", "2022-06-01"), ("年初至今", "2022-01-01")):
        expected = _pandas_period(days, first, "2022-06-30")
        assert {k: air.loc[("乐山", period), k] for k in expected} == expected, period
    # The summary paragraph is written from these numbers.
    ytd = _pandas_period(days, "2022-01-01", "2022-06-30")
    notes = _sheet(book, "数据说明")
    assert "2022-06" in set(notes["内容"])
    text = (Path(june["dir"]) / "overview.csv").read_text(encoding="utf-8-sig")
    assert f"{ytd['优良天数比例(%)']}" in text


@pytest.mark.parametrize("month", ["2021-06", "2022-06"])
def test_water_sheet_classes_are_the_derived_section_months(db, month, tmp_path, request):
    result = request.getfixturevalue("june") if month == "2022-06" else export_month(month, tmp_path, db)
    water = _sheet(_files(result)[f"monthly_compliance_{month}.xlsx"], "水")
    with connect(db) as conn:
        stored = conn.execute("""
            SELECT s.name_zh, m.source, m.class_label, m.n_valid, m.compliant FROM derived.water_section_month m
            JOIN registry.site s USING (site_id) WHERE s.city = '乐山' AND m.month = %s""", (f"{month}-01",)).fetchall()
        # 2021-06: the automatic stations began mid-month (too few samples); the manual results judge it.
        source = "manual" if month == "2021-06" else "automatic"
        city = conn.execute("""SELECT share_i_iii FROM derived.water_area_month
                               WHERE scope = 'city' AND area = '乐山' AND month = %s AND source = %s""",
                            (f"{month}-01", source)).fetchone()
    sections = water[water["类型"] == "断面"]
    shown = {(r["名称"], {"自动监测": "automatic", "手工监测": "manual"}[r["数据来源"]]):
             (_text(r["水质类别"]), r["有效样本数(个)"], {"达标": True, "不达标": False}.get(_text(r["是否达标"])))
             for _, r in sections.iterrows() if _text(r["数据来源"])}
    assert shown == {(n, s): (c, v, ok) for n, s, c, v, ok in stored}
    assert len(stored) >= 6 and ("manual" in {s for _, s in shown}) == (month == "2021-06")
    row = water[(water["类型"] == "城市") & (water["数据来源"] == monthly.SOURCE_ZH[source])].iloc[0]
    assert row["I–III类比例(%)"] == _round(100 * city[0], 1)


def test_csvs_have_a_bom_and_reruns_are_byte_identical(db, june, tmp_path):
    files = _files(june)
    for name in ("overview.csv", "air.csv", "water.csv", "carbon.csv", "notes.csv"):
        assert files[name].read_bytes().startswith(b"\xef\xbb\xbf"), name
    air = pd.read_csv(files["air.csv"], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert (air.loc[0, "名称"], air.loc[0, "统计期"], air.loc[0, "优良天数比例(%)"]) == ("乐山市", "本月", "100.0")
    again = export_month("2022-06", Path(june["dir"]).parents[1], db)
    assert (again["status"], again["version"]) == ("unchanged", 1)
    assert sorted(p.name for p in Path(june["dir"]).parent.iterdir()) == ["v1"]
    fresh = export_month("2022-06", tmp_path, db)
    for name, path in files.items():  # CSVs, workbook, PDF and manifest: the same bytes
        assert (Path(fresh["dir"]) / name).read_bytes() == path.read_bytes(), name
    manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
    assert manifest["data_cutoff"] == "2022-07-01T00:00:00+08:00" and manifest["code_version"]
    assert manifest["files"]["air.csv"]["sheet"] == "空气"


def test_pdf_renders_a4_pages_with_embedded_chinese_text(june, tmp_path):
    pdf = _files(june)["monthly_compliance_2022-06.pdf"]
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 5
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info and "Pages:           5" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "乐山市生态环境质量月度达标报告" in text and "优良天数比例" in text and "\ufffd" not in text


def test_an_incomplete_month_is_exported_with_its_gaps_stated(db, tmp_path):
    result = export_month("2023-01", tmp_path, db)
    assert result["status"] == "created"
    book = _files(result)["monthly_compliance_2023-01.xlsx"]
    air = _sheet(book, "空气").set_index(["代码", "统计期"])
    month = air.loc[("乐山", "本月")]
    assert month["有效天数(天)"] == 1 and month["统计有效性(HJ 663)"] == "有效天数不足"  # not filled
    notes = _sheet(book, "数据说明")
    city = notes[notes["项目"] == "乐山市（乐山，城市）"]["内容"].iloc[0]
    assert "有效日 1/31 天" in city and "01-02至01-31" in city
    assert any("本月无数据" in line for line in result["missing"])
    water = _sheet(book, "水")
    assert set(water.loc[water["类型"] == "断面", "评价状态"]) == {"本月无数据"}
    quarantined = notes[notes["类别"] == "隔离数据"].set_index("项目")["内容"]
    assert quarantined["air_city_archive / out_of_range"].startswith("1 行")


def test_readiness_waits_for_the_cutoff_when_data_are_missing(db):
    before = readiness("2022-06", db, now=datetime(2022, 7, 3, tzinfo=monthly.BEIJING))
    after = readiness("2022-06", db, now=datetime(2022, 7, 6, 1, tzinfo=monthly.BEIJING))
    assert (before["complete"], before["done"], after["done"]) == (False, False, True)
    assert before["cutoff"] == "2022-07-06T00:00:00+08:00"
    assert "乐山市（乐山，城市）：1 天无有效数据（06-13）" in after["waiting_for"]
    # Stations that never report are stated as missing, not waited for.
    assert "牛耳桥（2536A，站点）：本月无数据" in set(after["missing"]) - set(after["waiting_for"])


def test_monthly_compliance_dag_exports_a_historic_month(airflow_db, db, monkeypatch, tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    from envmon.settings import REPO_ROOT

    monkeypatch.setenv("AIRFLOW_CONN_ENVMON_WAREHOUSE", db)
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "monthly_compliance.py"))
    assert bag.import_errors == {}
    run = bag.get_dag("monthly_compliance").test(run_conf={"month": "2022-11", "out_dir": str(tmp_path)})
    assert str(run.state) == "success"
    manifest = json.loads((tmp_path / "2022-11" / "v1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["month"] == "2022-11" and manifest["completeness"]["missing"]
    # The sensor let the run go on (cut-off long past) and handed over what was missing.
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(XComModel.get_many(run_id=run.run_id, dag_ids="monthly_compliance",
                                                  key="return_value")).scalars().all()
        values = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    state = values["wait_for_data"]
    assert (state["month"], state["done"], state["complete"]) == ("2022-11", True, False)
    assert state["missing"] == manifest["completeness"]["missing"]
    assert values["export"]["missing_at_cutoff"] == state["missing"] and values["export"]["version"] == 1


def test_cli_exports_a_month(db, tmp_path):
    proc = subprocess.run([ENVMON, "export", "monthly", "--month", "2022-11", "--out", str(tmp_path)],
                          capture_output=True, text=True, env={**__import__("os").environ, "ENVMON_DATABASE_URL": db})
    assert proc.returncode == 0, proc.stderr
    assert "2022-11: version v1 created" in proc.stdout and (tmp_path / "2022-11" / "v1" / "air.csv").is_file()


def test_a_revised_measurement_gives_a_new_version_with_a_diff(db, june, tmp_path):
    """Runs last: it changes the module's warehouse (one day's PM2.5 revised upwards)."""
    root = Path(june["dir"]).parents[1]
    original = BUNDLED_DATA / "air" / "china_cities_leshan_2022" / "china_cities_20220615.csv"
    day = pd.read_csv(original, dtype=str)
    pm25 = day["type"] == "PM2.5"
    day.loc[pm25, "乐山"] = (day.loc[pm25, "乐山"].astype(int) + 60).astype(str)
    revised = tmp_path / original.name
    day.to_csv(revised, index=False)
    reports = runs.run_loads(adapter("air_city_archive"), [revised], run_id="t-revision", url=db)
    assert reports[0]["status"] == "loaded"
    runs.refresh_indicators(db)
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM ops.measurement_revision").fetchone()[0] >= 23
    result = export_month("2022-06", root, db)
    assert (result["status"], result["version"], result["previous_version"]) == ("created", 2, 1)
    diff = json.loads((Path(result["dir"]) / "diff_summary.json").read_text(encoding="utf-8"))
    changes = {(c["row"], c["column"]) for c in diff["sheets"]["空气"]["changes"]}
    assert ("城市 / 乐山 / 本月", "PM2.5(µg/m³)") in changes
    assert "空气" in diff["sheets_changed"] and "PM2.5(µg/m³)" in result["diff"]
    manifest = json.loads((Path(result["dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous_version"] == 1 and "空气" in manifest["diff_summary"]["sheets_changed"]
    old = pd.read_csv(Path(june["dir"]) / "air.csv", encoding="utf-8-sig", dtype=str)
    new = pd.read_csv(Path(result["dir"]) / "air.csv", encoding="utf-8-sig", dtype=str)
    assert int(new.loc[0, "PM2.5(µg/m³)"]) > int(old.loc[0, "PM2.5(µg/m³)"])
    # the notes flag the month figure as revised (it changed after June had ended)
    notes = pd.read_csv(Path(result["dir"]) / "notes.csv", encoding="utf-8-sig", dtype=str)
    revised = notes[notes["类别"] == "数据修订"]
    assert revised["项目"].tolist() == ["空气：乐山市"] and revised["内容"].str.contains("已修订 1 次").all()
    old_notes = pd.read_csv(Path(june["dir"]) / "notes.csv", encoding="utf-8-sig", dtype=str)
    assert old_notes.loc[old_notes["类别"] == "数据修订", "内容"].str.startswith("无").all()


def test_csv_cells_use_fixed_decimals():
    sheet = monthly.Sheet("空气", "t", pd.DataFrame({"a": [1.25, float("nan"), -0.0001], "b": ["x", None, "y"]}),
                          {"a": 1}, ["b"])
    from exports.workbook import csv_bytes

    assert csv_bytes(sheet) == "\ufeffa,b\n1.2,x\n,\n0.0,y\n".encode()
    assert io.BytesIO(csv_bytes(sheet)).read(3) == b"\xef\xbb\xbf"
