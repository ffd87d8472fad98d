"""Property-based fuzzing of every parser in ``ingest.registry.ADAPTERS`` (issue #8, resilience).

Each adapter gets a real sample of its own format (a few lines of a bundled or shared file) that
hypothesis damages the way deliveries get damaged: arbitrary bytes, another encoding (GBK, GB18030,
UTF-16, Latin-1), dropped / extra / renamed columns, a header unit changed (mg → µg), values scaled
×1000 (a unit change), negative values, the publishers' sentinels (−999, ``--``, ``*``), text in
number cells, duplicated rows, out-of-order and far-future times; JSON formats also get wrong types
and broken structure. Whatever the damage, a parse ends in one of two ways:

* an ``IngestError`` whose message names the file (the whole file is refused and logged), or
* a batch in which every line of the file is accounted for (it gave records or a line reject with
  a reason) and, after the row rules, every record is either kept or quarantined with a reason:
  rows read = rows kept + rows quarantined.

Any other exception is a crash of the batch and fails the test. These checks are pure (no
database) for speed; ``test_fuzzed_files_through_the_real_load_path_keep_the_accounting`` runs a
few damaged files through the real load path (gate, quarantine, upsert) and checks ``ops.load_log``
against ``ops.quarantine`` and the stored rows.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envmon.settings import CONFIG_DIR
from ingest.base import RECORD_COLUMNS, IngestError
from ingest.registry import ADAPTERS
from quality.rules import RuleContext, split
from tests.conftest import BUNDLED_DATA, shared

FUZZ = settings(max_examples=100, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: What publishers write for "no value", and what a broken export writes instead of a number.
SENTINELS = ["-999", "-999.0", "-99", "--", "-", "—", "*", "", "NA", "NaN", "null", "-;", "未监测", "7", "-1"]
ODD_NUMBERS = ["1e308", "-1e308", "inf", "-inf", "nan", "0x1F", "1,5", "１２", "12mg", " 3 ", "+4", "1e-320",
               "99999999999999999999999", "0"]


# ---------------------------------------------------------------- the real samples

@dataclass
class CsvSample:
    name: str
    header: list[str]
    rows: list[list[str]]
    encoding: str
    #: time columns → strftime format, for out-of-order and far-future times.
    times: dict[str, str] = field(default_factory=dict)


@dataclass
class JsonSample:
    name: str
    document: dict


def _csv_sample(path: Path, name: str, encoding: str, times: dict[str, str], lines: slice | list[int]) -> CsvSample:
    text = path.read_bytes().decode(encoding)
    header, *rows = list(csv.reader(io.StringIO(text)))
    rows = rows[lines] if isinstance(lines, slice) else [rows[i] for i in lines]
    return CsvSample(name, header, rows, "utf-8" if encoding == "utf-8-sig" else encoding, times)


def _station_archive_sample() -> CsvSample:
    """No china_sites_*.csv is bundled: the same real values as the hourly station file, in the
    archive layout (date,hour,type,<station codes>) the adapter reads."""
    hourly = pd.read_csv(BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv", dtype=str)
    hourly = hourly[hourly["timepoint"].str[11:13].isin(["01", "02", "03"])]
    types = {"AQI": "aqi", "PM2.5": "pm2_5", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co",
             "O3": "o3_24h", "O3_8h": "o3_8h_24h"}
    stations = sorted(hourly["stationcode"].unique())
    rows = []
    for timepoint, group in hourly.groupby("timepoint"):
        by_station = group.set_index("stationcode")
        for kind, column in types.items():
            rows.append([timepoint[:10].replace("-", ""), str(int(timepoint[11:13])), kind,
                         *[by_station.loc[s, column] for s in stations]])
    return CsvSample("china_sites_20230101.csv", ["date", "hour", "type", *stations], rows, "utf-8",
                     {"date": "%Y%m%d"})


def _monthly_sample() -> CsvSample:
    """Two sections in each of the 12 month blocks of the 2021 file (block rule of the adapter)."""
    path = BUNDLED_DATA / "water" / "water_monthly_2021_sichuan_sections.csv"
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    size = len(rows) // 12
    keep = {"姜公堰", "悦来渡口"}
    picked = [r for k in range(12) for r in rows[k * size:(k + 1) * size] if r[4] in keep]
    assert len(picked) == 24
    return CsvSample(path.name, header, picked, "utf-8")


def _snapshot_sample() -> JsonSample:
    document = json.loads(shared("air", "national_station_snapshot_2017-07-07T16.json").read_text(encoding="utf-8"))
    document["features"] = document["features"][:5]
    return JsonSample("national_station_snapshot_2017-07-07T16.json", document)


def _water_json_sample() -> JsonSample:
    path = Path(__file__).parent / "fixtures" / "water" / "2022_12_31_22h52m_realdatas_constructed_from_snapshot.json"
    return JsonSample(path.name, json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def samples() -> dict[str, CsvSample | JsonSample]:
    snapshot = next((BUNDLED_DATA / "water" / "cnemc_snapshots_gbk").glob("2022_12_31_06h49m_*.csv"))
    return {
        "air_station_hourly": _csv_sample(BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv",
                                          "cnemc_station_hourly_leshan_2022-01-04T16.csv", "utf-8-sig",
                                          {"timepoint": "%Y-%m-%dT%H:%M:%S"}, slice(None)),
        "air_city_archive": _csv_sample(BUNDLED_DATA / "air" / "china_cities_leshan_2022" / "china_cities_20220101.csv",
                                        "china_cities_20220101.csv", "utf-8-sig", {"date": "%Y%m%d"}, slice(0, 30)),
        "air_station_archive": _station_archive_sample(),
        "air_station_snapshot": _snapshot_sample(),
        "water_auto_archive": _csv_sample(BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv",
                                          "cnemc_water_auto_leshan_2021-2022.csv", "utf-8-sig",
                                          {"monitor_datetime": "%Y-%m-%d %H:%M:%S", "监测时间": "%m-%d %H:%M"},
                                          slice(0, 6)),
        "water_auto_snapshot": _csv_sample(snapshot, snapshot.name, "gbk", {"监测时间": "%m-%d %H:%M"}, slice(0, 6)),
        "water_auto_json": _water_json_sample(),
        "water_manual_monthly": _monthly_sample(),
    }


def test_every_adapter_has_a_sample():
    assert set(samples()) == set(ADAPTERS)


# ---------------------------------------------------------------- damage

times = st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                     max_value=pd.Timestamp("9999-12-31").to_pydatetime())
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**6, max_value=-1).map(str),                  # negative values
    st.floats(min_value=-1e4, max_value=-1e-3).map(lambda v: f"{v:.3f}"),
)
cell_damage = st.one_of(
    st.sampled_from(SENTINELS), st.sampled_from(ODD_NUMBERS), numbers,
    st.just("×1000"),                                                      # wrong unit: mg delivered as µg
    st.text(max_size=12),
    st.text(alphabet="',;\"\\\n\r\t\x00%{}[]<>", max_size=6),
)


def _scaled(cell):
    try:
        return repr(float(cell) * 1000)
    except (TypeError, ValueError):
        return cell


@st.composite
def damaged_table(draw, sample: CsvSample) -> tuple[list[str], list[list[str]]]:
    header = list(sample.header)
    rows = [list(r) for r in sample.rows]
    for _ in range(draw(st.integers(0, 6))):
        width = len(header)
        kind = draw(st.sampled_from(["cell", "cell", "cell", "time", "dup_row", "move_row", "drop_row", "drop_col",
                                     "extra_col", "rename_col", "unit_header", "ragged_row", "blank_row"]))
        if not rows and kind not in ("drop_col", "extra_col", "rename_col", "unit_header"):
            continue
        i = draw(st.integers(0, max(len(rows) - 1, 0)))
        j = draw(st.integers(0, max(width - 1, 0)))
        if kind == "cell" and j < len(rows[i]):
            value = draw(cell_damage)
            rows[i][j] = _scaled(rows[i][j]) if value == "×1000" else value
        elif kind == "time" and sample.times:
            column = draw(st.sampled_from(sorted(sample.times)))
            if column in header:
                stamp = draw(st.one_of(times, st.sampled_from([pd.Timestamp("2262-04-11 23:00"),
                                                               pd.Timestamp("2099-01-01"), pd.Timestamp("1677-09-21")])))
                k = header.index(column)
                if k < len(rows[i]):
                    rows[i][k] = stamp.strftime(sample.times[column])
        elif kind == "dup_row":
            rows.insert(draw(st.integers(0, len(rows))), list(rows[i]))
        elif kind == "move_row":                                                # out of order
            rows.insert(draw(st.integers(0, len(rows) - 1)), rows.pop(i))
        elif kind == "drop_row":
            rows.pop(i)
        elif kind == "drop_col" and width:
            header.pop(j)
            for r in rows:
                if j < len(r):
                    r.pop(j)
        elif kind == "extra_col":
            header.insert(j, draw(st.one_of(st.text(max_size=8), st.sampled_from(header or ["x"]))))
            for r in rows:
                r.insert(min(j, len(r)), draw(st.sampled_from(["", "1", "x"])))
        elif kind == "rename_col" and width:
            header[j] = draw(st.one_of(st.text(max_size=8), st.sampled_from(header).map(lambda h: f" {h} "),
                                       st.sampled_from(header).map(str.upper)))
        elif kind == "unit_header" and width:
            header[j] = header[j].replace("mg", "µg").replace("(", "（").replace("℃", "K")
        elif kind == "ragged_row":
            rows[i] = rows[i][:j] if draw(st.booleans()) else rows[i] + ["1"] * (j + 1)
        elif kind == "blank_row":
            rows.insert(i, [])
    return header, rows


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@st.composite
def damaged_bytes(draw, data: bytes) -> bytes:
    """Byte-level damage: flipped, inserted and deleted bytes, or a truncated file."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        if not out:
            break
        k = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if kind == "flip":
            out[k] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[k:k] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del out[k]
        else:
            del out[k:]
    return bytes(out)


@st.composite
def damaged_csv_file(draw, sample: CsvSample) -> bytes:
    header, rows = draw(damaged_table(sample))
    buf = io.StringIO()
    csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    encoding = draw(st.sampled_from([sample.encoding, sample.encoding, "utf-8", "utf-8-sig", "gbk", "gb18030",
                                     "utf-16", "latin-1"]))
    data = _encode(buf.getvalue(), encoding)
    return draw(damaged_bytes(data)) if draw(st.booleans()) else data


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
              st.sampled_from(SENTINELS)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children,
                                                                               max_size=3)),
    max_leaves=6,
)


@st.composite
def damaged_snapshot(draw, sample: JsonSample) -> dict:
    document = json.loads(json.dumps(sample.document))
    features = document["features"]
    keys = sorted(features[0]["properties"])
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["value", "value", "time", "drop_key", "dup", "move", "feature", "props",
                                     "top"]))
        if not features and kind != "top":
            continue
        i = draw(st.integers(0, max(len(features) - 1, 0)))
        props = None
        if kind == "top":
            key = draw(st.sampled_from(["type", "features"]))
            document[key] = draw(json_values)
            if not isinstance(document.get("features"), list):
                break
            features = document["features"]
            continue
        props = features[i].get("properties") if isinstance(features[i], dict) else None
        if kind == "value" and isinstance(props, dict):
            key = draw(st.sampled_from(keys))
            value = draw(st.one_of(cell_damage, json_values))
            props[key] = _scaled(props.get(key, "")) if value == "×1000" else value
        elif kind == "time" and isinstance(props, dict):
            props["timepoint"] = draw(times).strftime("%Y-%m-%dT%H:%M:%S")
        elif kind == "drop_key" and isinstance(props, dict):
            props.pop(draw(st.sampled_from(keys)), None)
        elif kind == "dup":
            features.insert(draw(st.integers(0, len(features))), json.loads(json.dumps(features[i])))
        elif kind == "move":
            features.insert(draw(st.integers(0, len(features) - 1)), features.pop(i))
        elif kind == "feature":
            features[i] = draw(json_values)
        elif kind == "props" and isinstance(features[i], dict):
            features[i]["properties"] = draw(json_values)
    return document


@st.composite
def damaged_water_json(draw, sample: JsonSample) -> dict:
    document = json.loads(json.dumps(sample.document))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["cell", "cell", "time", "row", "short_row", "dup", "thead", "crawl", "top"]))
        rows, thead = document.get("tbody"), document.get("thead")
        if not isinstance(rows, list) or not isinstance(thead, list) or not rows or not thead:
            break
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(thead) - 1))
        if kind == "cell" and isinstance(rows[i], list) and j < len(rows[i]):
            value = draw(st.one_of(cell_damage, json_values,
                                   cell_damage.map(lambda v: f"<span title='原始值：{v}'>{v}</span>")))
            rows[i][j] = _scaled(str(rows[i][j])) if value == "×1000" else value
        elif kind == "time" and isinstance(rows[i], list) and len(rows[i]) > 3:
            rows[i][3] = draw(times).strftime(draw(st.sampled_from(["%m-%d %H:%M", "%Y-%m-%d %H:%M"])))
        elif kind == "row":
            rows[i] = draw(json_values)
        elif kind == "short_row" and isinstance(rows[i], list):
            rows[i] = rows[i][:j]
        elif kind == "dup":
            rows.insert(draw(st.integers(0, len(rows))), json.loads(json.dumps(rows[i])))
        elif kind == "thead":
            thead[j] = draw(st.one_of(st.text(max_size=8), json_values,
                                      st.just(str(thead[j]).replace("mg", "µg"))))
        elif kind == "crawl":
            document[draw(st.sampled_from(["crawl_time", "fetched_at"]))] = draw(st.one_of(
                json_values, times.map(lambda t: t.isoformat()), st.just("2022-12-31T22:52:00+08:00")))
        elif kind == "top":
            document[draw(st.sampled_from(["thead", "tbody"]))] = draw(json_values)
    return document


def damaged_file(dataset: str):
    sample = samples()[dataset]
    if isinstance(sample, CsvSample):
        return damaged_csv_file(sample)
    documents = damaged_snapshot(sample) if dataset == "air_station_snapshot" else damaged_water_json(sample)

    @st.composite
    def as_bytes(draw) -> bytes:
        data = json.dumps(draw(documents), ensure_ascii=draw(st.booleans())).encode(
            draw(st.sampled_from(["utf-8", "utf-8", "gbk", "utf-16"])), errors="replace")
        return draw(damaged_bytes(data)) if draw(st.booleans()) else data

    return as_bytes()


# ---------------------------------------------------------------- the property

@lru_cache(maxsize=2)
def _parameters(domain: str) -> pd.DataFrame:
    items = yaml.safe_load((CONFIG_DIR / "parameters.yaml").read_text(encoding="utf-8"))[domain]
    frame = pd.DataFrame(items).set_index("code")
    frame["parameter_id"] = np.arange(1, len(frame) + 1)
    return frame[["parameter_id", "unit", "valid_min", "valid_max"]]


def _context(dataset: str) -> RuleContext:
    """The registries as the quality stage sees them: config/parameters.yaml and the sample's sites."""
    sample = samples()[dataset]
    if isinstance(sample, CsvSample):
        column = {"air_city_archive": None, "air_station_archive": None}.get(dataset, "")
        if column is None:
            codes = sample.header[3:]
        else:
            k = next(i for i, h in enumerate(sample.header) if h in ("stationcode", "断面名称", "断面"))
            codes = [r[k] for r in sample.rows]
    elif dataset == "air_station_snapshot":
        codes = [f["properties"]["stationcode"] for f in sample.document["features"]]
    else:
        codes = [r[2] for r in sample.document["tbody"]]
    domain = ADAPTERS[dataset].domain
    return RuleContext(site_ids={c: i for i, c in enumerate(sorted(set(codes)), start=1)},
                       parameters=_parameters(domain), now=pd.Timestamp("2026-11-23 12:00", tz="UTC"))


def check_parse(dataset: str, data: bytes) -> str:
    """Parse ``data`` as a file of ``dataset``; assert the outcome is a named error or full accounting.
    Returns 'error' or 'batch' (for the tests that want to see both outcomes happen)."""
    from pipeline.load_file import _quarantine_frame

    adapter = ADAPTERS[dataset]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / samples()[dataset].name
        path.write_bytes(data)
        try:
            batch = adapter.parse(path)
        except IngestError as exc:
            assert str(path) in str(exc), f"error does not name the file: {exc}"
            return "error"

        records, rejects = batch.records, batch.line_rejects
        assert list(records.columns) == RECORD_COLUMNS
        assert records["observed_at"].notna().all() and isinstance(records["observed_at"].dtype, pd.DatetimeTZDtype)
        assert rejects["reason_code"].astype(str).str.len().gt(0).all()
        assert rejects["message"].astype(str).str.len().gt(0).all()
        # Never a silent drop: every line of the file gave records or a line reject.
        accounted = set(records["line_no"].astype(int)) | set(rejects["line_no"].astype(int))
        assert set(batch.raw.index.astype(int)) <= accounted, set(batch.raw.index.astype(int)) - accounted
        assert batch.rows_read == len(records) + len(rejects)

        good, quarantined = split(records, _context(dataset))
        assert len(good) + len(quarantined) == len(records)
        assert quarantined["reason_code"].notna().all() and quarantined["message"].astype(str).str.len().gt(0).all()
        assert not good["value"].isna().any() or good.loc[good["value"].isna(), "source_flag"].eq("missing").all()
        assert np.isfinite(good["value"].dropna()).all()
        # The quarantine rows as the load path writes them (raw line as JSON, file and line named).
        frame = _quarantine_frame(batch, quarantined)
        assert len(frame) == len(quarantined) + len(rejects)
        assert frame["message"].str.startswith(f"{path.name}, line ").all()
        assert frame["raw"].notna().all()
        return "batch"


@pytest.mark.parametrize("dataset", sorted(ADAPTERS))
def test_undamaged_sample_parses_and_stores_every_row(dataset):
    """The samples are real: undamaged, every row is kept (nothing to quarantine)."""
    sample = samples()[dataset]
    if isinstance(sample, CsvSample):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([sample.header, *sample.rows])
        data = buf.getvalue().encode(sample.encoding)
    else:
        data = json.dumps(sample.document, ensure_ascii=False).encode("utf-8")
    assert check_parse(dataset, data) == "batch"


@pytest.mark.parametrize("dataset", sorted(ADAPTERS))
def test_damaged_files_end_in_rows_quarantine_or_a_named_error(dataset):
    outcomes = []

    @FUZZ
    @given(data=damaged_file(dataset))
    def run(data: bytes) -> None:
        outcomes.append(check_parse(dataset, data))

    run()
    assert "batch" in outcomes, f"no damaged {dataset} file ever parsed: the damage is too coarse to test rows"


@pytest.mark.parametrize("dataset", sorted(ADAPTERS))
def test_arbitrary_bytes_never_crash_a_parser(dataset):
    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(data=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode)))
    def run(data: bytes) -> None:
        check_parse(dataset, data)

    run()


# ---------------------------------------------------------------- the parsers outside ADAPTERS

def _table_samples() -> dict[str, CsvSample]:
    """The other parsers: CEADs inventories and the bureau's statistics template (bound for their own
    ``obs`` tables, ingest.ceads.TableBatch), and the station list (registry input)."""
    stats_header = ["region", "year", "indicator", "value", "unit", "price_base_year", "source"]
    stats_rows = [["乐山", "2015", "gdp_constant", "1000", "亿元(2015年价)", "2015", "测试值(非统计年鉴数据)"],
                  ["乐山", "2016", "gdp_constant", "1080", "亿元(2015年价)", "2015", "测试值(非统计年鉴数据)"],
                  ["乐山", "2015", "population", "300", "万人", "", "测试值(非统计年鉴数据)"]]
    return {
        "ceads_city": _csv_sample(shared("carbon", "CEADS_290cities_emission_vector_MtCO2.csv"),
                                  "CEADS_290cities_emission_vector_MtCO2.csv", "utf-8-sig", {}, slice(0, 15)),
        "ceads_province": _csv_sample(BUNDLED_DATA / "carbon" / "CEADS_province_Sichuan_2019_sectoral.csv",
                                      "CEADS_province_Sichuan_2019_sectoral.csv", "utf-8-sig", {}, slice(None)),
        "statistics_template": CsvSample("bureau_statistics.csv", stats_header, stats_rows, "utf-8"),
        "station_list": _csv_sample(BUNDLED_DATA / "air" / "stations_sichuan.csv", "stations_sichuan.csv", "utf-8-sig",
                                    {}, slice(0, 12)),
    }


def _table_parse(name: str, path: Path):
    from ingest import ceads, station_list, statistics_template

    return {"ceads_city": ceads.read_city_inventory, "ceads_province": ceads.read_province_inventory,
            "statistics_template": statistics_template.read, "station_list": station_list.parse}[name](path)


@pytest.mark.parametrize("name", ["ceads_city", "ceads_province", "statistics_template", "station_list"])
def test_damaged_table_files_end_in_rows_rejects_or_a_named_error(name):
    """The same damage as above. A table batch accounts for every data row (records or rejects with a
    reason, ingest.ceads.TableBatch); the station list is all or nothing (an error names the file)."""
    sample = _table_samples()[name]
    outcomes = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=damaged_csv_file(sample))
    def run(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / sample.name
            path.write_bytes(data)
            try:
                result = _table_parse(name, path)
            except IngestError as exc:
                assert str(path) in str(exc)
                outcomes.append("error")
                return
        outcomes.append("batch")
        if name == "station_list":
            assert {"code", "kind", "is_background"} <= set(result.columns)
            return
        assert result.rows_read == len(result.records) + len(result.rejects)
        assert result.rejects["reason_code"].astype(str).str.len().gt(0).all()
        assert result.rejects["message"].astype(str).str.len().gt(0).all()
        if name != "ceads_province":  # province rows are cells (sector × fuel), not lines
            lines = set(result.records["line_no"].astype(int)) | set(result.rejects["line_no"].astype(int))
            assert len(lines) == len(result.records) + len(result.rejects)

    run()
    assert "batch" in outcomes


# ---------------------------------------------------------------- what the fuzzing found (regressions)

def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_column_repeated_once_blanks_are_stripped_is_a_named_error(tmp_path):
    """Found: ``timepoint`` and `` timepoint `` became two columns of one name and the parser crashed
    (AttributeError). Now the file is refused naming the column, for every CSV format."""
    hourly = (BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv").read_text(encoding="utf-8")
    path = _write(tmp_path, "hourly.csv", hourly.replace(",longitude,", ", timepoint ,", 1))
    with pytest.raises(IngestError, match=r"hourly\.csv, line 1, field 'timepoint': column 'timepoint' appears twice"):
        ADAPTERS["air_station_hourly"].parse(path)
    archive = (BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv").read_text(encoding="utf-8-sig")
    path = _write(tmp_path, "cnemc_water_auto_x.csv", archive.replace("monitor_datetime,", " crawl_file ,", 1))
    with pytest.raises(IngestError, match="column 'crawl_file' appears twice"):
        ADAPTERS["water_auto_archive"].parse(path)


def test_water_columns_naming_one_item_twice_are_a_named_error(tmp_path):
    """``pH`` and ``PH`` are both read as pH: one of the two columns would silently be ignored."""
    archive = (BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv").read_text(encoding="utf-8-sig")
    header, *rows = archive.splitlines()
    path = _write(tmp_path, "cnemc_water_auto_x.csv",
                  "\n".join([header + ",PH(无量纲)", *(r + ",9.9" for r in rows[:3])]) + "\n")
    with pytest.raises(IngestError, match=r"field 'PH\(无量纲\)': column 'PH\(无量纲\)' repeats pH"):
        ADAPTERS["water_auto_archive"].parse(path)


def test_archive_hour_that_is_not_a_whole_hour_is_a_line_reject(tmp_path):
    """Found: hour ``1e308`` overflowed the time arithmetic and crashed the batch; ``2.5`` was read
    as 02:30, a time the hour-ending archive cannot hold. Both are line rejects now."""
    text = "date,hour,type,乐山\n20220101,1e308,AQI,105\n20220101,2.5,PM2.5,79\n20220101,0,PM10,104\n"
    batch = ADAPTERS["air_city_archive"].parse(_write(tmp_path, "china_cities_20220101.csv", text))
    assert batch.line_rejects[["line_no", "field", "reason_code"]].values.tolist() == [
        [2, "hour", "bad_time"], [3, "hour", "bad_time"]]
    assert batch.records["observed_at"].tolist() == [pd.Timestamp("2022-01-01 00:00", tz="Asia/Shanghai")]


def test_sentinel_in_monitor_datetime_is_a_line_reject_not_year_minus_999(tmp_path):
    """Found: ISO 8601 parsing read ``-999`` as the year −999, which then overflowed and crashed."""
    archive = (BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv").read_text(encoding="utf-8-sig")
    header, first, second, *_ = archive.splitlines()
    path = _write(tmp_path, "cnemc_water_auto_x.csv",
                  "\n".join([header, "-999" + first[first.index(","):], second]) + "\n")
    batch = ADAPTERS["water_auto_archive"].parse(path)
    assert batch.line_rejects[["line_no", "field", "reason_code"]].values.tolist() == [
        [2, "monitor_datetime", "bad_time"]]
    assert set(batch.records["line_no"]) == {3}


def test_blank_lines_do_not_shift_the_line_numbers_of_later_rejects(tmp_path):
    """Found: the air CSVs skipped blank lines while reading, so a reject after one named the line
    above the real one. Blank lines are now dropped after numbering (as the water adapters do)."""
    header, first, second, *_ = (BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2022-01-04T16.csv").read_text(
        encoding="utf-8").splitlines()
    broken = second.replace("2022-01-04T16:00:00", "2022-13-04T16:00:00")
    path = _write(tmp_path, "hourly.csv", "\n".join([header, first, "", " ", broken]) + "\n")
    batch = ADAPTERS["air_station_hourly"].parse(path)
    assert batch.line_rejects[["line_no", "field"]].values.tolist() == [[5, "timepoint"]]
    assert set(batch.records["line_no"]) == {2}
    text = "date,hour,type,乐山\n\n20220101,0,AQI,105\n\n20220101,x,PM2.5,79\n"
    batch = ADAPTERS["air_city_archive"].parse(_write(tmp_path, "china_cities_20220101.csv", text))
    assert batch.line_rejects[["line_no", "field"]].values.tolist() == [[5, "hour"]]
    assert batch.records["line_no"].tolist() == [3]


# ---------------------------------------------------------------- the real load path

@pytest.mark.parametrize("dataset", ["air_station_hourly", "air_city_archive", "water_auto_archive"])
def test_fuzzed_files_through_the_real_load_path_keep_the_accounting(conn, dataset):
    """Damaged files through parse → rules → GX gate → quarantine + upsert: the load log's rows read
    equal rows stored plus rows quarantined, ``ops.quarantine`` holds exactly the quarantined rows
    (each with a reason naming file and line), and a file refused whole is logged as failed with
    its name in the error. A handful of examples: the gate makes each load take a second."""
    from pipeline.load_file import load_file

    adapter = ADAPTERS[dataset]
    outcomes = []

    @settings(max_examples=6, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=damaged_file(dataset))
    def run(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / samples()[dataset].name
            path.write_bytes(data)
            report = load_file(conn, path, adapter, run_id="fuzz", force=True)
        outcomes.append(report.status)
        status, read, stored, quarantined, error = conn.execute(
            "SELECT status, rows_read, rows_stored, rows_quarantined, error FROM ops.load_log WHERE load_id = %s",
            (report.load_id,)).fetchone()
        assert status == report.status
        if status == "failed":
            assert path.name in error
            return
        assert status in ("loaded", "rejected")
        assert read == stored + quarantined == report.rows_read
        logged, unexplained = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE reason_code = '' OR message NOT LIKE %s) "
            "FROM ops.quarantine WHERE load_id = %s", (f"{path.name}, line %", report.load_id)).fetchone()
        assert (logged, unexplained) == (quarantined, 0)

    run()
    assert "loaded" in outcomes
