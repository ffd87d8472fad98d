"""Golden tests: our HJ 633 AQI against the officially published values, station by station.

Files (../shared/data/air): the CNEMC hourly station archive (Leshan, 2023-01-01 and
2022-01-04T16, read by ingest.cnemc_air, whose ``o3`` record is the archive's ``o3_24h`` column —
the archive swaps them), the national station snapshot 2017-07-07T16 (ingest.cnemc_snapshot,
same swap) and the city archive of 2022 (乐山 column, city AQI rounded half up by its publisher).

Measured here (BRIEF "What the official data show", confirmed):
- station-hours with a published AQI: 92 + 4 + 1,462 = 1,558, all reproduced (100 %), primary
  pollutant 100 %, and the snapshot's category (``quality``) 100 %;
- published without AQI: 4 hours of 2538A on 2023-01-01 and 32 snapshot stations with no
  pollutant at all (we give NA too), and one station we cannot reproduce: 1792A (大庆 萨尔图区),
  whose only missing pollutant is PM2.5 and whose AQI the publisher withheld, while it published
  the AQI of 1159A and 1990A, also without PM2.5, in the same snapshot. No rule of HJ 633-2012
  explains it (§5.3.1 of 2026, withholding AQI ≤ 100 with a pollutant missing, did not exist in
  2017 and would have hidden those two as well), so it is named here as the one exception;
- the literal HJ 633-2012 §5.1.3 reading (adding the O3 8-hour and PM 24-hour moving means)
  reproduces 47/92, 0/4 and 399/1,462;
- the city archive: 8,714 of 8,714 hours of 2022 with a published AQI are reproduced with the
  maximum IAQI rounded half up; rounding each IAQI up (the standard) gives 6,774.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ingest import cnemc_air, cnemc_snapshot
from ingest.base import IngestError
from standards import hj633
from tests.conftest import shared

HOURLY_PARAMETERS = ["so2", "no2", "co", "o3", "pm10", "pm25", "so2_24h"]
SNAPSHOT = ("air", "national_station_snapshot_2017-07-07T16.json")


def wide(records: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Narrow records → one row per (site, hour) with the parameters as columns."""
    frame = records.pivot_table(index=["site_code", "observed_at"], columns="parameter", values="value",
                                aggfunc="first", dropna=False)
    frame = frame.reindex(columns=HOURLY_PARAMETERS + list(extra))
    frame.columns.name = None
    return frame.reset_index()


def compare(batch) -> pd.DataFrame:
    """Our real-time report beside the published values, one row per station-hour."""
    frame = wide(batch.records)
    ours = pd.concat([frame[["site_code", "observed_at"]], hj633.realtime_report(frame)], axis=1)
    merged = ours.merge(batch.published, on=["site_code", "observed_at"], how="outer",
                        suffixes=("", "_official"), validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    merged["primary_official"] = merged["primary_pollutant_official"].map(hj633.parse_official_primary)
    merged["aqi_matches"] = (merged["aqi"].astype("float64") == merged["aqi_official"]).fillna(False) | (
        merged["aqi"].isna() & merged["aqi_official"].isna())
    merged["primary_matches"] = merged["primary_pollutant"] == merged["primary_official"]
    return merged


def test_station_day_2023_01_01_is_reproduced_exactly():
    got = compare(cnemc_air.parse(shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv")))
    assert len(got) == 96
    assert got["aqi_matches"].all() and got["primary_matches"].all()
    published = got["aqi_official"].notna()
    assert published.sum() == 92
    # the four hours without AQI have no concentration at all: 2538A at 17:00, 20:00, 21:00, 22:00
    silent = got.loc[~published]
    assert set(silent["site_code"]) == {"2538A"}
    assert silent["observed_at"].dt.hour.tolist() == [17, 20, 21, 22]
    assert silent["aqi"].isna().all()
    first = got.iloc[0]
    assert (first["site_code"], first["aqi"], first["primary_pollutant"], first["iaqi_pm25"]) == ("2535A", 77, "PM2.5", 77)
    assert got["primary_pollutant"].value_counts().to_dict() == {"PM2.5": 87, "": 7, "PM10": 2}
    assert set(got["rules"]) == {"HJ 633-2012"}


def test_station_hour_2022_01_04T16_is_reproduced_exactly():
    got = compare(cnemc_air.parse(shared("air", "cnemc_station_hourly_leshan_2022-01-04T16.csv")))
    assert got["aqi"].tolist() == [95, 108, 93, 114] == got["aqi_official"].tolist()
    assert got["primary_pollutant"].tolist() == ["PM2.5"] * 4
    assert got["category"].tolist() == ["良", "轻度污染", "良", "轻度污染"]


@pytest.fixture(scope="module")
def snapshot():
    return cnemc_snapshot.parse(shared(*SNAPSHOT))


def test_national_snapshot_is_reproduced_except_one_withheld_aqi(snapshot):
    got = compare(snapshot)
    assert len(got) == 1495
    published = got["aqi_official"].notna()
    assert published.sum() == 1462
    assert got.loc[published, "aqi_matches"].all()  # 1,462 / 1,462 = 100 %
    assert got["primary_matches"].all()  # 1,495 / 1,495
    category_matches = got["category"].astype(object).fillna("") == got["quality"].fillna("")
    assert category_matches.sum() == 1494

    unreproduced = got.loc[~got["aqi_matches"]]
    assert unreproduced["site_code"].tolist() == ["1792A"]
    assert unreproduced["aqi"].tolist() == [47] and not category_matches[unreproduced.index].any()
    # the other 32 stations without AQI have no pollutant at all
    silent = got.loc[~published & (got["site_code"] != "1792A")]
    assert len(silent) == 32 and silent["aqi"].isna().all()
    frame = wide(snapshot.records).set_index("site_code")
    assert frame.loc[silent["site_code"], ["so2", "no2", "co", "o3", "pm10", "pm25"]].isna().all().all()
    # 1792A lacks only PM2.5 — and so do 1159A and 1990A (with other gaps), whose AQI was published
    assert frame.loc["1792A", ["so2", "no2", "co", "o3", "pm10", "pm25"]].isna().tolist() == [False] * 5 + [True]
    assert np.isnan(frame.loc[["1159A", "1990A"], "pm25"]).all()
    assert got.set_index("site_code").loc[["1159A", "1990A"], "aqi_official"].tolist() == [20, 34]

    # the data's primary-pollutant spellings all parse; ties are named as the publisher names them
    spellings = got["primary_pollutant_official"].fillna("-;")
    assert set(spellings) == {"-;", "臭氧1小时", "颗粒物(PM10)", "细颗粒物(PM2.5)", "颗粒物(PM10),细颗粒物(PM2.5)",
                              "二氧化硫", "二氧化氮", "一氧化碳", "细颗粒物(PM2.5),臭氧1小时"}
    assert got["primary_pollutant"].value_counts().to_dict() == {
        "": 1018, "O3": 260, "PM10": 152, "PM2.5": 58, "PM10;PM2.5": 3, "SO2": 1, "NO2": 1, "CO": 1, "O3;PM2.5": 1}
    leshan = got[got["site_code"].isin(["2535A", "2536A", "2537A", "2538A"])]
    assert leshan["aqi"].tolist() == leshan["aqi_official"].tolist() == [134, 126, 106, 121] and set(leshan["primary_pollutant"]) == {"O3"}


def test_snapshot_ozone_columns_are_swapped(snapshot):
    """In the snapshot too, ``o3_24h`` is the 1-hour O3 and ``o3`` its 24-hour maximum (8 h alike)."""
    props = pd.DataFrame([f["properties"] for f in json.loads(shared(*SNAPSHOT).read_text("utf-8"))["features"]])
    num = props.replace("-;", np.nan).apply(pd.to_numeric, errors="coerce")
    assert ((num["o3"] > num["o3_24h"]).sum(), (num["o3"] < num["o3_24h"]).sum()) == (1007, 0)
    assert ((num["o3_8h"] > num["o3_8h_24h"]).sum(), (num["o3_8h"] < num["o3_8h_24h"]).sum()) == (230, 0)
    # 1002A: o3 179, o3_24h 160; published AQI 50 = IAQI(160) on the 1-hour table, IAQI(179) would be 74
    station = num[props["stationcode"] == "1002A"].iloc[0]
    assert (station["o3"], station["o3_24h"], station["aqi"]) == (179, 160, 50)
    assert hj633.iaqi("o3_1h", 160, "2012") == 50 and hj633.iaqi("o3_1h", 179, "2012") == 74
    # the adapter maps them so: parameter o3 comes from field o3_24h
    o3 = snapshot.records.query("parameter == 'o3'")
    assert set(o3["field"]) == {"o3_24h"}
    # and reading o3 as the 1-hour value reproduces only 853 of the 1,462 published AQIs
    frame = wide(snapshot.records, extra=("o3_1h_max24h",))
    unswapped = hj633.realtime_report(frame.assign(o3=frame["o3_1h_max24h"]))
    official = frame[["site_code", "observed_at"]].merge(snapshot.published, how="left")["aqi"]
    assert ((unswapped["aqi"].astype("float64") == official).fillna(False)).sum() == 853


def test_literal_2012_realtime_reading_does_not_match():
    """HJ 633-2012 §5.1.3 lists nine indicators (plus the O3 8-hour and PM 24-hour moving means)."""

    def literal(frame: pd.DataFrame) -> np.ndarray:
        ours = hj633.realtime_report(frame, version="2012")
        moving = [hj633.iaqi("o3_8h", hj633.round_concentration("o3", frame["o3_8h"]), "2012"),
                  hj633.iaqi("pm10_24h", frame["pm10_24h"], "2012"), hj633.iaqi("pm25_24h", frame["pm25_24h"], "2012")]
        iaqis = np.column_stack([ours.filter(like="iaqi_").drop(columns="iaqi_undefined").to_numpy(dtype=float)]
                                + [np.asarray(m, dtype=float) for m in moving])
        return np.nanmax(np.where(np.isnan(iaqis), -1, iaqis), axis=1)

    counts = []
    for parse, parts, moving_8h in [
        (cnemc_air.parse, ("air", "cnemc_station_hourly_leshan_2023-01-01.csv"), "o3_8h_max24h"),
        (cnemc_air.parse, ("air", "cnemc_station_hourly_leshan_2022-01-04T16.csv"), "o3_8h_max24h"),
        (cnemc_snapshot.parse, SNAPSHOT, "o3_8h"),
    ]:
        batch = parse(shared(*parts))
        # the hourly archive's 8-hour moving mean is its column o3_8h_24h (record o3_8h_max24h):
        # its o3_8h is the running maximum (it plateaus while o3_8h_24h falls), a second swap
        frame = wide(batch.records, extra=(moving_8h, "pm10_24h", "pm25_24h")).rename(columns={moving_8h: "o3_8h"})
        official = frame[["site_code", "observed_at"]].merge(batch.published, how="left")["aqi"].to_numpy()
        has = ~np.isnan(official)
        counts.append((int(has.sum()), int((literal(frame)[has] == official[has]).sum())))
    assert counts == [(92, 47), (4, 0), (1462, 399)]


def test_city_archive_2022_is_the_maximum_iaqi_rounded_half_up():
    files = sorted(shared("air", "china_cities_leshan_2022").glob("china_cities_2022*.csv"))
    assert len(files) == 365
    long = pd.concat([pd.read_csv(f, dtype={"date": str}) for f in files], ignore_index=True)
    city = long.pivot_table(index=["date", "hour"], columns="type", values="乐山", aggfunc="first").reset_index()
    # ``hour`` h is the hour ending at h:00; in this archive O3 is the 1-hour value (O3_24h its maximum)
    frame = pd.DataFrame({
        "observed_at": (pd.to_datetime(city["date"], format="%Y%m%d") + pd.to_timedelta(city["hour"], unit="h"))
        .dt.tz_localize("Asia/Shanghai"),
        "so2": city["SO2"], "no2": city["NO2"], "co": city["CO"], "o3": city["O3"],
        "pm10": city["PM10"], "pm25": city["PM2.5"], "so2_24h": city["SO2_24h"],
    })
    published = city["AQI"].notna()
    half_up = hj633.realtime_report(frame, rounding="half_up")["aqi"].astype("float64")
    ceil = hj633.realtime_report(frame)["aqi"].astype("float64")
    assert published.sum() == 8714
    assert (half_up[published] == city.loc[published, "AQI"]).sum() == 8714
    assert (ceil[published] == city.loc[published, "AQI"]).sum() == 6774


# ------------------------------------------------------------------ the snapshot adapter itself


def test_snapshot_adapter_records_and_line_numbers(snapshot):
    assert (snapshot.dataset, snapshot.source_code, snapshot.lines_read) == ("air_station_snapshot",
                                                                             "cnemc_air_snapshot", 1495)
    assert cnemc_snapshot.ADAPTER.parse is cnemc_snapshot.parse
    assert len(snapshot.records) == 1495 * 15 and snapshot.line_rejects.empty
    # line_no = feature index + 1: the first feature is 1001A, feature 657 is 1792A
    first = snapshot.records.query("line_no == 1")
    assert set(first["site_code"]) == {"1001A"}
    assert first.set_index("parameter").loc["pm25", "value"] == 34
    assert set(snapshot.records.query("line_no == 657")["site_code"]) == {"1792A"}
    assert set(snapshot.records["observed_at"]) == {pd.Timestamp("2017-07-07 16:00", tz="Asia/Shanghai")}
    # "-;" is this publisher's empty cell: missing, raw text kept
    empty = snapshot.records[snapshot.records["raw_value"] == "-;"]
    # 599 concentration cells, and the 33 withheld AQIs (32 stations without data, and 1792A)
    assert (empty["parameter"] != "aqi_published").sum() == 599 and (empty["parameter"] == "aqi_published").sum() == 33
    assert (empty["source_flag"] == "missing").all() and empty["value"].isna().all()
    assert (snapshot.records.loc[snapshot.records["raw_value"] != "-;", "source_flag"] == "normal").all()
    pub = snapshot.published.set_index("site_code")
    assert pub.loc["1001A", ["aqi", "primary_pollutant", "quality"]].tolist() == [55, "臭氧1小时", "良"]
    assert pd.isna(pub.loc["1002A", "primary_pollutant"]) and pd.isna(pub.loc["1792A", "quality"])


def test_snapshot_adapter_rejects_and_errors(tmp_path):
    features = [
        {"type": "Feature", "properties": {"stationcode": "1001A", "timepoint": "2017-07-07T16:00:00",
                                           **{c: "1" for c in cnemc_snapshot.VALUE_COLUMNS}, "aqi": "1"}},
        {"type": "Feature", "properties": None},
        {"type": "Feature", "properties": {"stationcode": "1002A", "timepoint": "07/07/2017 16:00",
                                           **{c: "1" for c in cnemc_snapshot.VALUE_COLUMNS}}},
        {"type": "Feature", "properties": {"stationcode": " ", "timepoint": "2017-07-07T16:00:00",
                                           **{c: "—" for c in cnemc_snapshot.VALUE_COLUMNS}}},
    ]
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    batch = cnemc_snapshot.parse(path)
    assert batch.line_rejects[["line_no", "reason_code"]].values.tolist() == [
        [2, "bad_feature"], [3, "bad_time"], [4, "missing_site"]]
    assert set(batch.records["line_no"]) == {1} and batch.rows_read == 15 + 3

    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(IngestError, match=r"bad\.json, line 1: not valid JSON"):
        cnemc_snapshot.parse(bad)
    other = tmp_path / "other.json"
    other.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(IngestError, match="not a GeoJSON FeatureCollection"):
        cnemc_snapshot.parse(other)
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"properties": {"stationcode": "1001A", "timepoint": "2017-07-07T16:00:00", "so2": "1"}}]}), encoding="utf-8")
    with pytest.raises(IngestError, match="missing properties pm2_5, pm2_5_24h"):
        cnemc_snapshot.parse(short)
