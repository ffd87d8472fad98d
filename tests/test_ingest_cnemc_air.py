"""The CNEMC hourly station archive: hour-ending labels, the ozone swap, errors that name the place."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest import cnemc_air, station_list
from ingest.base import IngestError
from tests.conftest import BUNDLED_DATA, shared

DAY = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"


def test_one_natural_day_is_labelled_01_00_to_24_00():
    """Hour-ending labels: the file of 2023-01-01 runs 01:00 … 00:00 of the next date (= 24:00)."""
    batch = cnemc_air.parse(DAY)
    times = batch.records["observed_at"].drop_duplicates().sort_values()
    assert len(times) == 24
    assert times.iloc[0] == pd.Timestamp("2023-01-01 01:00", tz="Asia/Shanghai")
    assert times.iloc[-1] == pd.Timestamp("2023-01-02 00:00", tz="Asia/Shanghai")
    # Shifting each label to the start of its hour puts all 24 in the Beijing calendar day 2023-01-01.
    days = (times - pd.Timedelta(hours=1)).dt.date.unique()
    assert list(days) == [pd.Timestamp("2023-01-01").date()]


def test_ozone_columns_are_swapped_in_this_archive():
    """``o3_24h`` carries the 1-hour value, ``o3`` the maximum 1-hour value of the past 24 hours."""
    raw = pd.read_csv(DAY)
    for _, station in raw.groupby("stationcode"):
        one_hour, max_24h = station["o3_24h"], station["o3"]
        # A 24-hour maximum can never be below the hour it covers, and it is never below any
        # value of the day so far; the other reading (o3_24h as the maximum) breaks at once.
        present = one_hour.notna()
        assert (max_24h[present] >= one_hour[present]).all()
        assert (one_hour < max_24h).any()
        assert one_hour.nunique() > max_24h.nunique()  # hourly values move, the maximum plateaus
    complete = raw[raw["stationcode"] == "2536A"]
    assert (complete["o3"].iloc[:23] >= complete["o3_24h"].iloc[:23].cummax()).all()
    assert complete["o3"].tolist()[14:16] == [41, 43] and complete["o3_24h"].tolist()[15] == 43
    # The 8-hour pair is swapped the same way: o3_8h is the plateauing maximum of o3_8h_24h.
    both = raw[["o3_8h", "o3_8h_24h"]].dropna()
    assert (both["o3_8h"] >= both["o3_8h_24h"]).all()
    assert raw.groupby("stationcode")["o3_8h_24h"].nunique().gt(raw.groupby("stationcode")["o3_8h"].nunique()).all()
    batch = cnemc_air.parse(DAY)
    mean8 = batch.records.query("parameter == 'o3_8h' and site_code == '2536A'").sort_values("observed_at")
    assert set(mean8["field"]) == {"o3_8h_24h"}
    assert mean8["value"].tolist()[5:9] == [15.0, 14.0, 12.0, 12.0]
    o3 = batch.records.query("parameter == 'o3' and site_code == '2535A'").sort_values("observed_at")
    assert o3["value"].head(3).tolist() == [30.0, 21.0, 19.0]
    assert set(o3["field"]) == {"o3_24h"}


def test_national_file_and_bundled_copy_parse_identically():
    shared_batch = cnemc_air.parse(shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv"))
    bundled = cnemc_air.parse(DAY)
    pd.testing.assert_frame_equal(shared_batch.records, bundled.records)
    assert shared_batch.published["aqi"].tolist()[:3] == [77.0, 70.0, 69.0]


def test_missing_column_is_named_with_file_and_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("timepoint,stationcode,pm2_5\n2023-01-01T01:00:00,2535A,5\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        cnemc_air.parse(path)
    assert str(err.value).startswith(f"{path}, line 1: missing column(s) pm2_5_24h, pm10")


def test_gbk_bytes_are_reported_not_crashed_on(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(DAY.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(IngestError, match="not UTF-8 text"):
        cnemc_air.parse(path)


def test_station_list_reads_utf8_and_gb18030_alike(tmp_path):
    utf8 = station_list.parse(BUNDLED_DATA / "air" / "stations_sichuan.csv")
    gb = tmp_path / "stations_gb18030.csv"
    gb.write_bytes((BUNDLED_DATA / "air" / "stations_sichuan.csv").read_text(encoding="utf-8").encode("gb18030"))
    pd.testing.assert_frame_equal(utf8, station_list.parse(gb))
    leshan = utf8[utf8["city"] == "乐山"].set_index("code")
    assert sorted(leshan.index) == ["2535A", "2536A", "2537A", "2538A", "3361A"]
    assert leshan["is_background"].to_dict() == {"2535A": True, "2536A": False, "2537A": False,
                                                 "2538A": False, "3361A": False}
