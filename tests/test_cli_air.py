"""``envmon air aqi | daily | summary``: analysts' commands on files, no database."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import BUNDLED_DATA, shared

ENVMON = str(Path(sys.executable).parent / "envmon")


def _csv(*args: str) -> pd.DataFrame:
    proc = subprocess.run([ENVMON, "air", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)


def test_aqi_of_the_hourly_station_file_reproduces_the_published_aqi():
    path = shared("air", "cnemc_station_hourly_leshan_2022-01-04T16.csv")
    out = _csv("aqi", str(path))
    assert list(out.columns) == ["site", "time", "aqi", "category", "primary_pollutant"]
    assert out.values.tolist() == [
        ["2535A", "2022-01-04T16:00:00+08:00", "95", "良", "PM2.5"],
        ["2536A", "2022-01-04T16:00:00+08:00", "108", "轻度污染", "PM2.5"],
        ["2537A", "2022-01-04T16:00:00+08:00", "93", "良", "PM2.5"],
        ["2538A", "2022-01-04T16:00:00+08:00", "114", "轻度污染", "PM2.5"],
    ]
    published = pd.read_csv(path, dtype=str)["aqi"].tolist()
    assert out["aqi"].tolist() == published


def test_aqi_primary_pollutant_is_empty_at_or_below_50():
    out = _csv("aqi", str(shared("air", "cnemc_station_hourly_leshan_2023-01-01.csv")))
    assert len(out) == 96
    low = out[out["aqi"].ne("") & out["aqi"].map(lambda a: a != "" and int(a) <= 50)]
    assert len(low) > 0 and (low["primary_pollutant"] == "").all()


def test_daily_of_the_station_file():
    out = _csv("daily", str(BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"))
    assert list(out.columns) == ["site", "date", "aqi", "category", "primary_pollutant", "pm2_5", "pm10", "so2",
                                 "no2", "co", "o3_8h_max", "o3_1h_max", "valid_hours"]
    row = out.set_index("site").loc["2536A"]
    # 2536A published 24-hour means at 24:00: PM2.5 46, PM10 55 (the file's last line of 2536A).
    assert (row["date"], row["pm2_5"], row["pm10"], row["valid_hours"]) == ("2023-01-01", "46", "55", "24")
    # PM2.5 46 → IAQI ceil(50/40·(46−35)+50) = 64, the day's largest.
    assert (row["aqi"], row["category"], row["primary_pollutant"]) == ("64", "良", "PM2.5")


def test_summary_of_the_2022_city_archive():
    files = sorted(str(p) for p in (BUNDLED_DATA / "air" / "china_cities_leshan_2022").glob("*.csv"))
    out = _csv("summary", *files)
    assert out.to_dict(orient="records") == [{
        "site": "乐山", "from": "2022-01-01", "to": "2022-12-31", "valid_days": "362", "good_days": "300",
        "good_day_ratio": "82.9", "heavy_pollution_days": "0", "pm2_5_mean": "40", "pm2_5_p95": "90",
        "o3_8h_p90": "156", "complete": "true"}]
    july = _csv("summary", *files, "--from", "2022-07-01", "--to", "2022-07-31").iloc[0]
    assert (july["from"], july["to"], july["complete"]) == ("2022-07-01", "2022-07-31", "true")
    assert int(july["valid_days"]) <= 31


def test_unreadable_file_gives_a_clear_error_not_a_traceback(tmp_path):
    bad = tmp_path / "cnemc_bad.csv"
    bad.write_text("timepoint,stationcode\n", encoding="utf-8")
    proc = subprocess.run([ENVMON, "air", "aqi", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {bad}, line 1: missing column(s)")
    assert "Traceback" not in proc.stderr
