"""Water ingestion on the real files: the automatic publication in its three forms (archive CSV,
GBK snapshots, the page's JSON), the 2021 Sichuan monthly file and the bureau's section config.
No database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from envmon.settings import CONFIG_DIR
from ingest import cnemc_water, section_config, sichuan_water_monthly
from ingest.base import RECORD_COLUMNS, REJECT_COLUMNS, IngestError
from tests.conftest import shared
from warehouse.registry import SITE_COLUMNS

BJ = "Asia/Shanghai"
FIXTURES = Path(__file__).parent / "fixtures" / "water"
JSON_FIXTURE = FIXTURES / "2022_12_31_22h52m_realdatas_constructed_from_snapshot.json"
SNAPSHOT_SUFFIX = "_国家地表水水质自动监测系统检测数据.csv"
#: Snapshot file → the sample time it holds (crawls of 2022-12-30/31, all samples of 2022).
SNAPSHOT_TIMES = {
    "2022_12_30_22h48m": "2022-12-30 20:00",
    "2022_12_31_06h49m": "2022-12-31 04:00",
    "2022_12_31_10h50m": "2022-12-31 08:00",
    "2022_12_31_14h51m": "2022-12-31 12:00",
    "2022_12_31_18h51m": "2022-12-31 16:00",
    "2022_12_31_22h52m": "2022-12-31 20:00",
}
AUTO_SECTIONS = {"姜公堰", "月波", "悦来渡口", "马边河河口", "木城镇", "李码头"}
WATER_ITEMS = ["water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn", "chla", "algae"]


def archive_path() -> Path:
    return shared("water", "cnemc_water_auto_leshan_2021-2022.csv")


def monthly_path() -> Path:
    return shared("water", "water_monthly_2021_sichuan_sections.csv")


@pytest.fixture(scope="module")
def archive():
    return cnemc_water.ARCHIVE_ADAPTER.parse(archive_path())


@pytest.fixture(scope="module")
def archive_raw():
    return pd.read_csv(archive_path(), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def monthly():
    return sichuan_water_monthly.MONTHLY_ADAPTER.parse(monthly_path())


def registry_units() -> dict[str, str]:
    with (CONFIG_DIR / "parameters.yaml").open(encoding="utf-8") as fh:
        return {p["code"]: p["unit"] for p in yaml.safe_load(fh)["water"]}


def value_of(records: pd.DataFrame, line: int, parameter: str) -> pd.Series:
    hit = records[(records["line_no"] == line) & (records["parameter"] == parameter)]
    assert len(hit) == 1, (line, parameter, hit)
    return hit.iloc[0]


def write_archive(tmp_path: Path, lines: list[dict], name: str = "archive.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(lines).to_csv(path, index=False, encoding="utf-8")
    return path


# ---------------------------------------------------------------- adapters

def test_adapters_are_declared():
    for adapter, dataset in ((cnemc_water.ARCHIVE_ADAPTER, "water_auto_archive"),
                             (cnemc_water.SNAPSHOT_ADAPTER, "water_auto_snapshot"),
                             (cnemc_water.JSON_ADAPTER, "water_auto_json")):
        assert (adapter.dataset, adapter.source_code, adapter.domain) == (dataset, "cnemc_water_auto", "water")
    monthly = sichuan_water_monthly.MONTHLY_ADAPTER
    assert (monthly.dataset, monthly.source_code, monthly.domain) == ("water_manual_monthly", "sichuan_water_monthly",
                                                                      "water")
    assert monthly.store == "water_manual"  # period values, kept apart from the 4-hourly samples


def test_units_are_the_registry_units_byte_for_byte():
    units = registry_units()
    for code, unit, _ in cnemc_water.ITEMS.values():
        assert unit.encode() == units[code].encode(), code
    for code, unit in sichuan_water_monthly.VALUE_COLUMNS.values():
        assert unit.encode() == units[code].encode(), code
    assert units[cnemc_water.CLASS_PARAMETER] == cnemc_water.CLASS_UNIT


# ---------------------------------------------------------------- the archive CSV

def test_archive_parses_every_line(archive):
    assert archive.lines_read == 6388
    assert archive.line_rejects.empty
    assert list(archive.records.columns) == RECORD_COLUMNS
    assert len(archive.records) == 6388 * 12 == archive.rows_read
    assert set(archive.records["site_code"]) == AUTO_SECTIONS
    assert set(archive.records["parameter"]) == {*WATER_ITEMS, "water_class_published"}
    assert archive.cadence == pd.Timedelta(hours=4)
    units = registry_units()
    assert (archive.records["unit"] == archive.records["parameter"].map(units)).all()
    assert str(archive.records["observed_at"].dt.tz) == BJ
    first = archive.records[archive.records["line_no"] == 2].set_index("parameter")
    assert first.loc["water_temp", "value"] == 21.8 and first.loc["tp", "value"] == 0.057
    assert first.loc["conductivity", "value"] == 287.7 and first.loc["water_temp", "field"] == "水温(℃)"
    assert first.loc["chla", "source_flag"] == "missing" and first.loc["chla", "raw_value"] == "*"
    assert (first["observed_at"] == pd.Timestamp("2021-06-17 16:00", tz=BJ)).all()


def test_archive_time_is_monitoring_time_with_the_crawl_year(archive, archive_raw):
    """Every line: 监测时间 + the year inferred from the crawl equals the archiver's monitor_datetime."""
    per_line = archive.records.drop_duplicates("line_no").set_index("line_no")["observed_at"].sort_index()
    expected = pd.to_datetime(archive_raw["monitor_datetime"]).dt.tz_localize(BJ)
    assert (per_line.to_numpy() == expected.to_numpy()).all()
    assert (per_line.dt.strftime("%m-%d %H:%M").to_numpy() == archive_raw["监测时间"].to_numpy()).all()
    crawl = pd.to_datetime(archive_raw["crawl_file"].str[:17], format="%Y_%m_%d_%Hh%Mm").dt.tz_localize(BJ)
    lag = crawl.to_numpy() - per_line.to_numpy()
    assert lag.min() == pd.Timedelta(minutes=25) and lag.max() == pd.Timedelta(hours=20, minutes=32)
    # Real month turns: a sample of the last evening of a month seen by the next month's first crawl.
    turned = archive_raw.index[archive_raw["crawl_file"].str[5:7] != archive_raw["monitor_datetime"].str[5:7]]
    assert len(turned) == 14
    line = int(turned[0]) + 2
    assert archive_raw.loc[turned[0], "crawl_file"].startswith("2021_12_01_00h11m")
    assert value_of(archive.records, line, "do")["observed_at"] == pd.Timestamp("2021-11-30 20:00", tz=BJ)
    assert archive.records.duplicated(["site_code", "parameter", "observed_at"]).sum() == 0


def test_year_inference_rule():
    month = pd.Series([12, 1, 11, 12, 6])
    crawl = pd.Series(pd.to_datetime(["2023-01-01 02:00", "2023-01-01 02:00", "2021-12-01 00:11",
                                      "2022-12-31 22:52", None]))
    assert cnemc_water.infer_year(month, crawl).tolist()[:4] == [2022, 2023, 2021, 2022]
    assert pd.isna(cnemc_water.infer_year(month, crawl).iloc[4])


def test_december_sample_in_a_january_crawl_belongs_to_the_old_year(tmp_path, archive_raw):
    """Constructed from the archive's last real line (马边河河口 12-31 20:00, crawled 2022-12-31 22:52)
    as if the crawl had run after midnight; the archive itself holds no crawl across a new year."""
    last = archive_raw.iloc[-1].to_dict()
    assert (last["断面名称"], last["监测时间"]) == ("马边河河口", "12-31 20:00")
    january = "2023_01_01_02h00m" + SNAPSHOT_SUFFIX
    lines = [
        {**last, "crawl_file": january},                                      # 2: archiver right
        {**last, "crawl_file": january, "monitor_datetime": ""},              # 3: crawl only
        {**last, "crawl_file": january, "monitor_datetime": "2023-12-31 20:00:00"},  # 4: archiver took the crawl year
        {**last, "crawl_file": january, "监测时间": "01-01 00:00", "monitor_datetime": "2023-01-01 00:00:00"},  # 5
        {**last, "crawl_file": "snapshot.csv"},                               # 6: no crawl time: monitor_datetime
        {**last, "crawl_file": "2022_12_31_18h00m" + SNAPSHOT_SUFFIX},        # 7: sample after its crawl
    ]
    batch = cnemc_water.parse_archive(write_archive(tmp_path, lines))
    times = batch.records.drop_duplicates("line_no").set_index("line_no")["observed_at"]
    assert times[2] == times[3] == times[6] == pd.Timestamp("2022-12-31 20:00", tz=BJ)
    assert times[5] == pd.Timestamp("2023-01-01 00:00", tz=BJ)
    rejects = batch.line_rejects.set_index("line_no")
    assert sorted(rejects.index) == [4, 7]
    assert rejects.loc[4, "field"] == "monitor_datetime" and rejects.loc[4, "reason_code"] == "bad_time"
    assert "2023-12-31 20:00:00" in rejects.loc[4, "message"] and "2022-12-31 20:00" in rejects.loc[4, "message"]
    assert rejects.loc[7, "field"] == "监测时间" and "later than the crawl time 2022-12-31 18:00" in rejects.loc[7, "message"]
    assert value_of(batch.records, 2, "do")["value"] == 9.93
    assert batch.rows_read == len(batch.records) + 2 and batch.lines_read == 6


def test_maintenance_flags_every_value_of_the_line(archive, archive_raw):
    maintenance = archive_raw.index[archive_raw["站点情况"] == "维护"] + 2
    assert len(maintenance) == 338
    flags = archive.records.set_index("line_no")["source_flag"]
    on_lines = flags.loc[maintenance]
    assert set(on_lines) == {"maintenance", "missing"}
    assert (flags.drop(maintenance) != "maintenance").all()
    assert (archive.records["source_flag"] == "suspect").sum() == 0
    # Line 1415: 悦来渡口 03-16 20:00 under maintenance, DO '--', no class published.
    assert value_of(archive.records, 1415, "water_temp")[["value", "source_flag"]].tolist() == [20.6, "maintenance"]
    assert value_of(archive.records, 1415, "do")[["raw_value", "source_flag"]].tolist() == ["--", "missing"]
    assert value_of(archive.records, 1415, "water_class_published")["source_flag"] == "missing"
    # A classed line under maintenance: the class carries the flag too (line 864, 姜公堰 11-10 12:00, Ⅰ).
    cls = value_of(archive.records, 864, "water_class_published")
    assert (cls["value"], cls["source_flag"]) == (1.0, "maintenance")


def test_missing_markers_are_missing_not_errors(archive):
    records = archive.records
    missing = records[records["source_flag"] == "missing"]
    assert records.loc[records["source_flag"] != "missing", "value"].notna().all()
    assert missing["value"].isna().all()
    counts = missing.groupby("parameter").size().to_dict()
    assert counts == {"water_temp": 7, "ph": 5, "do": 11, "conductivity": 18, "turbidity": 15, "codmn": 158,
                      "nh3n": 144, "tp": 90, "tn": 97, "chla": 6388, "algae": 6388, "water_class_published": 256}
    assert set(missing.loc[missing["parameter"] != "water_class_published", "raw_value"]) == {"--", "*"}
    assert set(missing.loc[missing["parameter"] == "water_class_published", "raw_value"]) == {"", "-"}


def test_published_class_is_parsed(archive):
    classes = archive.published["class_code"].value_counts(dropna=False).to_dict()
    assert {k: v for k, v in classes.items() if pd.notna(k)} == {2.0: 5077, 3.0: 834, 1.0: 204, 4.0: 11, 5.0: 3,
                                                                  6.0: 3}
    assert archive.published["class_code"].isna().sum() == 256
    assert list(archive.published.columns) == ["site_code", "observed_at", "class_code"]
    assert len(archive.published) == 6388
    code, missing = cnemc_water.parse_class(pd.Series(["Ⅰ", "Ⅱ类", "劣Ⅴ", "劣Ⅴ类", "V", "3", "7", "--", "-", "", "-1", "x"]))
    assert code.tolist()[:6] == [1.0, 2.0, 6.0, 6.0, 5.0, 3.0]
    assert missing.tolist() == [False] * 6 + [True] * 5 + [False]
    assert pd.isna(code.iloc[-1])  # unreadable: NaN but not "missing", so the quality stage quarantines it


def test_bad_lines_give_line_rejects_with_reasons(tmp_path, archive_raw):
    real = [archive_raw.iloc[i].to_dict() for i in (0, 1, 2, 3, 4, 5)]
    lines = [
        real[0],
        {**real[1], "监测时间": "06-18 0:00 pm", "monitor_datetime": ""},   # 3: unreadable time
        {**real[2], "断面名称": " "},                                        # 4: no section
        {**real[3], "监测时间": "02-30 04:00", "monitor_datetime": ""},      # 5: no such date
        {**real[4], "溶解氧(mg/L)": "6.5x"},                                 # 6: unreadable cell: kept, NaN
        {**real[0], "crawl_file": "x.csv", "monitor_datetime": ""},          # 7: no year anywhere
        {**real[5], "站点情况": "设备故障"},                                   # 8: unknown state: suspect
    ]
    batch = cnemc_water.parse_archive(write_archive(tmp_path, lines))
    rejects = batch.line_rejects
    assert list(rejects.columns) == REJECT_COLUMNS
    got = {r.line_no: (r.field, r.reason_code) for r in rejects.itertuples()}
    assert got == {3: ("监测时间", "bad_time"), 4: ("断面名称", "missing_site"), 5: ("监测时间", "bad_time"),
                   7: ("监测时间", "bad_time")}
    messages = rejects.set_index("line_no")["message"]
    assert "'06-18 0:00 pm' is not a time" in messages[3]
    assert "not a valid date in the inferred year 2021" in messages[5]
    assert "no year and no crawl time" in messages[7]
    unreadable = value_of(batch.records, 6, "do")
    assert pd.isna(unreadable["value"]) and unreadable["source_flag"] == "normal" and unreadable["raw_value"] == "6.5x"
    flags = batch.records.loc[batch.records["line_no"] == 8, "source_flag"]
    assert set(flags) == {"suspect", "missing"} and (flags == "suspect").sum() == 10  # chla, algae are '*'
    assert batch.lines_read == 7 and batch.rows_read == 3 * 12 + 4
    assert set(batch.raw.index) == {2, 3, 4, 5, 6, 7, 8}  # raw lines keyed by file line for the quarantine


def test_missing_columns_or_wrong_units_are_file_errors(tmp_path, archive_raw):
    frame = archive_raw.head(3)
    path = tmp_path / "no_tp.csv"
    frame.drop(columns=["总磷(mg/L)"]).to_csv(path, index=False)
    with pytest.raises(IngestError, match="missing column.*总磷"):
        cnemc_water.parse_archive(path)
    path = tmp_path / "ugL.csv"
    frame.rename(columns={"叶绿素α(mg/L)": "叶绿素α(μg/L)"}).to_csv(path, index=False)
    with pytest.raises(IngestError, match="叶绿素α\\(μg/L\\).*mg/L"):
        cnemc_water.parse_archive(path)


# ---------------------------------------------------------------- the GBK snapshots

def snapshot_files() -> list[Path]:
    files = sorted(shared("water", "cnemc_snapshots_gbk").glob("*.csv"))
    assert [f.name[:17] for f in files] == list(SNAPSHOT_TIMES)
    return files


@pytest.mark.parametrize("stem", list(SNAPSHOT_TIMES))
def test_each_gbk_snapshot_parses_with_the_year_of_its_crawl(stem, archive, archive_raw):
    path = shared("water", "cnemc_snapshots_gbk", stem + SNAPSHOT_SUFFIX)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK
    batch = cnemc_water.SNAPSHOT_ADAPTER.parse(path)
    assert batch.dataset == "water_auto_snapshot" and batch.line_rejects.empty
    assert batch.lines_read == 5 and len(batch.records) == 60
    assert set(batch.records["site_code"]) == AUTO_SECTIONS - {"木城镇"}  # 木城镇 is not in these crawls
    assert set(batch.records["observed_at"]) == {pd.Timestamp(SNAPSHOT_TIMES[stem], tz=BJ)}
    assert set(batch.records["source_flag"]) == {"normal", "missing"}
    assert batch.published["class_code"].tolist() == [2.0] * 5
    # The archive was built from these very crawls: same values, same times.
    lines = archive_raw.index[archive_raw["crawl_file"] == path.name] + 2
    assert len(lines) == 5
    from_archive = archive.records[archive.records["line_no"].isin(lines)]
    key = ["site_code", "parameter", "observed_at"]
    merged = batch.records.merge(from_archive, on=key, suffixes=("", "_archive"), validate="one_to_one")
    assert len(merged) == 60
    pd.testing.assert_series_equal(merged["value"], merged["value_archive"], check_names=False)
    assert (merged["source_flag"] == merged["source_flag_archive"]).all()


def test_snapshot_encodings_and_year_turn(tmp_path):
    source = shared("water", "cnemc_snapshots_gbk", "2022_12_31_22h52m" + SNAPSHOT_SUFFIX)
    text = source.read_bytes().decode("gb18030")
    utf8 = tmp_path / ("2022_12_31_22h52m" + SNAPSHOT_SUFFIX)
    utf8.write_text(text, encoding="utf-8")
    gbk = cnemc_water.parse_snapshot(source)
    pd.testing.assert_frame_equal(cnemc_water.parse_snapshot(utf8).records, gbk.records)
    # The same rows crawled just after midnight: 12-31 20:00 is still 2022.
    january = tmp_path / ("2023_01_01_02h10m" + SNAPSHOT_SUFFIX)
    shutil.copy(source, january)
    assert set(cnemc_water.parse_snapshot(january).records["observed_at"]) == {pd.Timestamp("2022-12-31 20:00", tz=BJ)}
    # No crawl time in the name: no year, every line rejected (nothing guessed, nothing dropped).
    unnamed = tmp_path / "snapshot.csv"
    shutil.copy(source, unnamed)
    batch = cnemc_water.parse_snapshot(unnamed)
    assert batch.records.empty and len(batch.line_rejects) == 5 == batch.rows_read
    assert set(batch.line_rejects["reason_code"]) == {"bad_time"}
    assert "no YYYY_MM_DD_HHhMMm crawl time" in batch.line_rejects["message"].iloc[0]


# ---------------------------------------------------------------- the page's JSON (constructed fixture)

def test_json_fixture_parses_and_prefers_the_raw_title_value():
    batch = cnemc_water.JSON_ADAPTER.parse(JSON_FIXTURE)
    assert batch.dataset == "water_auto_json" and batch.line_rejects.empty
    assert batch.lines_read == 5 and len(batch.records) == 60
    records = batch.records.set_index(["site_code", "parameter"])
    tp = records.loc[("姜公堰", "tp")]
    assert tp["value"] == 0.0342 and tp["raw_value"] == "0.0342"  # displayed 0.034
    assert batch.raw.loc[1, "总磷(mg/L)"] == "<span title='原始值：0.0342'>0.034</span>"
    assert records.loc[("月波", "water_class_published"), "source_flag"] == "missing"  # code 7
    assert records.loc[("月波", "water_class_published"), "raw_value"] == "7"
    assert records.loc[("月波", "codmn"), ["raw_value", "source_flag"]].tolist() == ["--", "missing"]
    assert records.loc[("李码头", "tn"), "source_flag"] == "missing"
    assert records.loc[("李码头", "water_class_published"), "value"] == 2.0
    assert records.loc[("马边河河口", "chla"), "source_flag"] == "missing"
    # With and without a year in 监测时间: the same 2022-12-31 20:00.
    assert set(batch.records["observed_at"]) == {pd.Timestamp("2022-12-31 20:00", tz=BJ)}
    assert batch.published.set_index("site_code")["class_code"].isna().to_dict() == {
        "姜公堰": False, "悦来渡口": False, "月波": True, "李码头": False, "马边河河口": False}
    # Every cell the fixture did not edit equals the real snapshot it was built from.
    snapshot = cnemc_water.parse_snapshot(shared("water", "cnemc_snapshots_gbk", "2022_12_31_22h52m" + SNAPSHOT_SUFFIX))
    key = ["site_code", "parameter", "observed_at"]
    merged = batch.records.merge(snapshot.records, on=key, suffixes=("", "_snap"))
    edited = {("姜公堰", "tp"), ("月波", "codmn"), ("月波", "water_class_published"), ("李码头", "tn")}
    same = ~merged.apply(lambda r: (r["site_code"], r["parameter"]) in edited, axis=1)
    assert len(merged) == 60 and same.sum() == 56
    pd.testing.assert_series_equal(merged.loc[same, "value"], merged.loc[same, "value_snap"], check_names=False)


def test_json_crawl_time_from_a_top_level_key_and_without_any(tmp_path):
    document = json.loads(JSON_FIXTURE.read_text(encoding="utf-8"))
    keyed = tmp_path / "realdatas.json"
    keyed.write_text(json.dumps({**document, "crawl_time": "2023-01-01T02:10:00+08:00"}, ensure_ascii=False),
                     encoding="utf-8")
    batch = cnemc_water.parse_json(keyed)
    assert batch.line_rejects.empty
    assert set(batch.records["observed_at"]) == {pd.Timestamp("2022-12-31 20:00", tz=BJ)}
    bare = tmp_path / "answer.json"
    bare.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    batch = cnemc_water.parse_json(bare)
    # Only 悦来渡口 carries its year; the others cannot be placed and are rejected.
    assert set(batch.records["site_code"]) == {"悦来渡口"}
    assert batch.line_rejects["line_no"].tolist() == [1, 3, 4, 5]
    assert set(batch.line_rejects["field"]) == {"监测时间"}


def test_json_rows_that_do_not_match_thead_are_rejected(tmp_path):
    document = json.loads(JSON_FIXTURE.read_text(encoding="utf-8"))
    document["tbody"][1] = document["tbody"][1][:-2]
    path = tmp_path / ("2022_12_31_22h52m" + ".json")
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    batch = cnemc_water.parse_json(path)
    assert batch.line_rejects[["line_no", "field", "reason_code"]].values.tolist() == [[2, "tbody", "bad_row"]]
    assert "row has 15 cells, thead has 17" in batch.line_rejects["message"].iloc[0]
    assert "悦来渡口" in batch.raw.loc[2].iloc[0]  # the original row is kept for the quarantine
    assert batch.rows_read == 4 * 12 + 1
    broken = tmp_path / "broken.json"
    broken.write_text('{"thead": [], "tbody": 3}', encoding="utf-8")
    with pytest.raises(IngestError, match="thead"):
        cnemc_water.parse_json(broken)


# ---------------------------------------------------------------- the 2021 Sichuan monthly file

def test_monthly_file_parses_with_the_month_rule(monthly):
    assert monthly.lines_read == 1140 and monthly.line_rejects.empty
    assert len(monthly.records) == 1140 * 7
    months = monthly.records["observed_at"].drop_duplicates().sort_values()
    assert months.tolist() == [pd.Timestamp(f"2021-{m:02d}-01", tz=BJ) for m in range(1, 13)]
    mabian = monthly.records.query("site_code == '马边河河口' and parameter == 'water_temp'").sort_values("observed_at")
    assert mabian["value"].tolist() == [10.22, 12.57, 14.3, 16.85, 19.74, 22.29, 24.25, 23.07, 21.42, 20.88, 15.53,
                                        13.69]
    assert mabian["line_no"].tolist() == [21, 142, 240, 326, 413, 571, 628, 711, 800, 920, 1029, 1058]
    classes = monthly.published["class_code"].value_counts(dropna=False)
    assert classes[1.0] == 704 and classes[2.0] == 298 and classes[3.0] == 64 and classes[4.0] == 2
    assert classes[6.0] == 1 and monthly.published["class_code"].isna().sum() == 71  # 未知
    unknown = monthly.records[(monthly.records["parameter"] == "water_class_published")
                              & (monthly.records["raw_value"] == "未知")]
    assert len(unknown) == 71 and (unknown["source_flag"] == "missing").all()
    units = registry_units()
    assert (monthly.records["unit"] == monthly.records["parameter"].map(units)).all()
    assert set(monthly.records["parameter"]) == {"do", "water_temp", "turbidity", "nh3n", "codmn", "ph",
                                                  "water_class_published"}


def test_month_rule_evidence(monthly, archive):
    """Why block k is month k: the file is 12 blocks of 95 lines each holding every section once
    (so the block rule and 'k-th line of a section' agree), the water temperature follows the
    seasons, and for Leshan's sections it matches the automatic archive's monthly means at this
    alignment and not one month either way."""
    raw = pd.read_csv(monthly_path(), dtype=str, keep_default_na=False)
    assert raw["断面"].nunique() == 95 and (raw.groupby("断面").size() == 12).all()
    block = pd.Series(range(len(raw))) // 95 + 1
    kth = raw.groupby("断面").cumcount() + 1
    assert (block == kth).all()
    temp = pd.to_numeric(raw["温度"], errors="coerce").groupby(block).mean()
    assert temp.idxmin() == 1 and temp.idxmax() in (7, 8) and temp[7] > 24 and temp[12] < temp[10]

    auto = archive.records[(archive.records["parameter"] == "water_temp") & archive.records["value"].notna()]
    auto = auto.assign(month=auto["observed_at"].dt.tz_localize(None).dt.to_period("M"))
    auto = auto.groupby(["site_code", "month"])["value"].mean()
    manual = monthly.records[(monthly.records["parameter"] == "water_temp")
                             & monthly.records["site_code"].isin(AUTO_SECTIONS)]
    manual = manual.assign(month=manual["observed_at"].dt.tz_localize(None).dt.to_period("M"))
    manual = manual.set_index(["site_code", "month"])["value"]
    error = {}
    for shift in (-1, 0, 1):
        moved = manual.copy()
        moved.index = moved.index.set_levels(moved.index.levels[1] + shift, level=1)
        joined = pd.concat([auto, moved], axis=1, join="inner").dropna()
        error[shift] = (joined.iloc[:, 0] - joined.iloc[:, 1]).abs().mean()
    assert error[0] < 1.0 and error[-1] > 2.0 and error[1] > 2.0


def test_monthly_year_comes_from_the_name_or_the_caller(tmp_path):
    unnamed = tmp_path / "sichuan_sections.csv"
    shutil.copy(monthly_path(), unnamed)
    with pytest.raises(IngestError, match="no year"):
        sichuan_water_monthly.parse(unnamed)
    batch = sichuan_water_monthly.parse(unnamed, year=2022)
    assert batch.records["observed_at"].min() == pd.Timestamp("2022-01-01", tz=BJ)
    with pytest.raises(IngestError, match="year 2020 given, but the file name says 2021"):
        sichuan_water_monthly.parse(monthly_path(), year=2020)


def test_monthly_layout_that_breaks_the_rule_is_refused(tmp_path):
    lines = monthly_path().read_text(encoding="utf-8").splitlines(keepends=True)
    short = tmp_path / "water_monthly_2021_short.csv"
    short.write_text("".join(lines[:500] + lines[501:]), encoding="utf-8")  # one line lost
    with pytest.raises(IngestError, match="1139 data lines is not 12 blocks"):
        sichuan_water_monthly.parse(short)
    doubled = tmp_path / "water_monthly_2021_doubled.csv"
    swapped = lines.copy()
    swapped[2] = lines[1]  # line 3 repeats line 2's section inside block 1
    doubled.write_text("".join(swapped), encoding="utf-8")
    with pytest.raises(IngestError, match="appears twice in block 1") as info:
        sichuan_water_monthly.parse(doubled)
    assert info.value.line == 3 and info.value.field == "断面"
    blank = tmp_path / "water_monthly_2021_blank.csv"
    cut = lines.copy()
    cut[20] = cut[20].replace(",马边河河口,", ",,")  # file line 21
    blank.write_text("".join(cut), encoding="utf-8")
    batch = sichuan_water_monthly.parse(blank)
    assert batch.line_rejects[["line_no", "field", "reason_code"]].values.tolist() == [[21, "断面", "missing_site"]]
    assert batch.rows_read == 1139 * 7 + 1
    # The block rule keeps the other months of that section in place.
    mabian = batch.records.query("site_code == '马边河河口' and parameter == 'water_temp'")
    assert mabian["observed_at"].min() == pd.Timestamp("2021-02-01", tz=BJ) and len(mabian) == 11


def test_monthly_sections_in_registry_shape():
    sections = sichuan_water_monthly.sections(monthly_path())
    assert list(sections.columns) == list(SITE_COLUMNS) and len(sections) == 95
    assert sections["code"].is_unique and (sections["kind"] == "water_section").all()
    leshan = sections[sections["city"] == "乐山"].set_index("code")
    assert set(leshan.index) == AUTO_SECTIONS - {"月波"}
    assert sections.set_index("code").loc["月波", "city"] == "宜宾"
    assert leshan.loc["李码头", ["river", "basin", "lon", "lat"]].tolist() == ["大渡河", "长江流域", 103.755595, 29.556038]
    assert leshan.loc["悦来渡口", "lon"] > 107  # the published, wrong coordinate (see config/sections.yaml)


# ---------------------------------------------------------------- config/sections.yaml

def test_bureau_sections_default():
    sections = section_config.load_sections()
    assert list(sections.columns) == list(SITE_COLUMNS)
    by = sections.set_index("code")
    assert list(by.index) == ["悦来渡口", "李码头", "姜公堰", "木城镇", "马边河河口", "月波", "马鞍山", "河口渡口"]
    assert (sections["code"] == sections["name_zh"]).all() and (sections["kind"] == "water_section").all()
    assert (sections["target_class"] == 3).all() and (sections["city"] == "乐山").all()
    assert (sections["water_body"] == "river").all() and (sections["basin"] == "长江流域").all()
    automatic = by[by["monitoring"] == "automatic"]
    assert set(automatic.index) == AUTO_SECTIONS and (automatic["assessment_level"] == "national").all()
    assert (by.loc[["马鞍山", "河口渡口"], "assessment_level"] == "provincial").all()
    assert by.loc["悦来渡口", "role"] == "entry" and by.loc["木城镇", "role"] == "entry"
    assert by.loc["马鞍山", "role"] == "exit" and by.loc["马边河河口", "role"] == "mouth"
    # Known-wrong published coordinates are left empty, the others are the monthly file's.
    assert by.loc[["悦来渡口", "姜公堰", "马鞍山", "河口渡口"], ["lon", "lat"]].isna().all().all()
    published = sichuan_water_monthly.sections(monthly_path()).set_index("code")
    for name in ("李码头", "木城镇", "马边河河口", "月波"):
        assert by.loc[name, ["lon", "lat"]].tolist() == published.loc[name, ["lon", "lat"]].tolist()
    for name in AUTO_SECTIONS:
        assert by.loc[name, "river"] == published.loc[name, "river"]
    with (CONFIG_DIR / "sections.yaml").open(encoding="utf-8") as fh:
        header = yaml.safe_load(fh)
    assert header["version"] and header["updated"]


def _config(tmp_path: Path, edit) -> Path:
    with (CONFIG_DIR / "sections.yaml").open(encoding="utf-8") as fh:
        document = yaml.safe_load(fh)
    edit(document)
    path = tmp_path / "sections.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "section", "field", "text"), [
    (lambda d: d["sections"][2].update(colour="blue"), "姜公堰", "colour", "unknown key"),
    (lambda d: d["sections"][0].update(target_class=7), "悦来渡口", "target_class", "integer 1–6"),
    (lambda d: d["sections"][0].update(target_class="III"), "悦来渡口", "target_class", "integer 1–6"),
    (lambda d: d["sections"][1].update(water_body="lake"), "李码头", "water_body", "river, lake_reservoir"),
    (lambda d: d["sections"][3].update(role="outlet"), "木城镇", "role", "entry, exit, control, mouth"),
    (lambda d: d["sections"][4].pop("river"), "马边河河口", "river", "required"),
    (lambda d: d["sections"][5].update(lat=None), "月波", "lat", "together"),
    (lambda d: d["sections"].append(dict(d["sections"][6])), "马鞍山", "name_zh", "duplicate"),
    (lambda d: d.update(owner="me"), None, "owner", "unknown top-level key"),
    (lambda d: d.pop("version"), None, "version", "needs a 'version'"),
])
def test_section_config_errors_name_section_and_field(tmp_path, edit, section, field, text):
    path = _config(tmp_path, edit)
    with pytest.raises(section_config.SectionConfigError) as info:
        section_config.load_sections(path)
    error = info.value
    assert (error.section, error.field) == (section, field)
    assert text in str(error) and str(path) in str(error)
    if section:
        assert f"section '{section}'" in str(error)
