"""The china_cities / china_sites daily archive: layout, and how its ``hour`` maps onto hour-ending time."""

from __future__ import annotations

import pandas as pd

from ingest import cnemc_air, cnemc_archive
from tests.conftest import BUNDLED_DATA, shared

CITY_2022 = BUNDLED_DATA / "air" / "china_cities_leshan_2022"


def test_hour_is_the_hour_ending_label_of_date():
    """``hour`` h of file D is the label D h:00 (hour 0 = 24:00 of D−1), proven against the hourly
    publication whose ``timepoint`` labels are explicit: the mean of Leshan's city stations in that
    file (2536A–2538A; 2535A is the background station, 3361A is absent from it) tracks the city
    column best at offset 0, for every pollutant; one hour either way is clearly worse."""
    stations = cnemc_air.parse(shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv")).records
    stations = stations[stations["site_code"].isin(["2536A", "2537A", "2538A"])]
    mean = stations.groupby(["parameter", "observed_at"])["value"].mean()
    city = pd.concat([
        cnemc_archive.parse_cities(CITY_2022 / "china_cities_20221231.csv").records,
        cnemc_archive.parse_cities(shared("air", "china_cities_20230101.csv")).records.query("site_code == '乐山'"),
    ])
    city = city.set_index(["parameter", "observed_at"])["value"]
    errors = {}
    for offset in (-2, -1, 0, 1, 2):
        shift = pd.Timedelta(hours=offset)
        shifted = city.rename(index=lambda t, s=shift: t + s if isinstance(t, pd.Timestamp) else t)
        joined = pd.concat([mean, shifted], axis=1, join="inner").dropna()
        errors[offset] = {p: (g.iloc[:, 0] - g.iloc[:, 1]).abs().mean()
                          for p, g in joined.groupby(level="parameter") if p in ("pm25", "pm10", "no2", "o3", "co")}
    for pollutant in ("pm25", "pm10", "no2", "o3", "co"):
        best = min(errors, key=lambda k: errors[k][pollutant])
        assert best == 0, (pollutant, errors)
    assert errors[0]["o3"] < 2 and errors[1]["o3"] > 4 and errors[-1]["o3"] > 4


def test_one_day_file_covers_hours_0_to_23_of_the_date():
    batch = cnemc_archive.parse_cities(CITY_2022 / "china_cities_20220101.csv")
    times = batch.records["observed_at"].drop_duplicates().sort_values()
    assert times.iloc[0] == pd.Timestamp("2022-01-01 00:00", tz="Asia/Shanghai")  # 24:00 of 2021-12-31
    assert times.iloc[-1] == pd.Timestamp("2022-01-01 23:00", tz="Asia/Shanghai")
    assert set(batch.records["site_code"]) == {"乐山"}
    first = batch.records[batch.records["observed_at"] == times.iloc[0]].set_index("parameter")["value"]
    assert first["aqi_published"] == 105 and first["pm25"] == 79  # the file's first two lines


def test_bad_lines_are_rejected_with_reasons(tmp_path):
    path = tmp_path / "china_cities_20220102.csv"
    path.write_text("date,hour,type,乐山\n20220102,0,PM2.5,40\n2022010X,1,PM2.5,41\n20220102,25,PM2.5,42\n"
                    "20220102,2,PM1,43\n20220102,3,PM2.5,—\n", encoding="utf-8")
    batch = cnemc_archive.parse_cities(path)
    assert batch.line_rejects[["line_no", "reason_code"]].values.tolist() == [
        [3, "bad_time"], [4, "bad_time"], [5, "unknown_type"]]
    assert batch.records[["line_no", "value", "source_flag"]].fillna(-1).values.tolist() == [
        [2, 40.0, "normal"], [6, -1, "missing"]]
    assert batch.rows_read == 5


def test_station_archive_has_the_same_layout_with_station_codes(tmp_path):
    """china_sites_YYYYMMDD.csv: the city archive's layout with station codes as columns; built here
    from the real hourly publication of 2023-01-01 (hour h ↔ the label date h:00)."""
    hourly = pd.read_csv(shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv"), dtype=str)
    hourly = hourly[hourly["timepoint"].str.startswith("2023-01-01")]
    hourly["hour"] = hourly["timepoint"].str[11:13].astype(int)
    long = hourly.melt(id_vars=["hour", "stationcode"], value_vars=["pm2_5", "aqi"], var_name="type")
    long["type"] = long["type"].map({"pm2_5": "PM2.5", "aqi": "AQI"})
    wide = long.pivot_table(index=["hour", "type"], columns="stationcode", values="value", aggfunc="first")
    wide = wide.reset_index().assign(date="20230101")[["date", "hour", "type", "2535A", "2536A", "2537A", "2538A"]]
    path = tmp_path / "china_sites_20230101.csv"
    wide.to_csv(path, index=False)

    batch = cnemc_archive.parse_sites(path)
    assert batch.dataset == "air_station_archive"
    pm = batch.records.query("parameter == 'pm25' and site_code == '2535A'").sort_values("observed_at")
    assert pm["observed_at"].iloc[0] == pd.Timestamp("2023-01-01 01:00", tz="Asia/Shanghai")
    assert pm["value"].tolist()[:3] == [56.0, 51.0, 50.0]  # the station file's first three pm2_5 values
