"""Time to export one month (workbook, CSVs, PDF, manifest) on the real data; target < 10 s.

Reads the ``envmon`` warehouse when ``./dev run`` has loaded the bundled data into it; otherwise
loads the bundled data (Leshan air 2022, water 2021–2022, CEADs inventories) into a scratch
database first (not timed). Each export writes a new version into a temporary directory, so
every timed run builds every file; the unchanged rerun (tables compared, nothing written) is
timed separately.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 10.0
MONTHS = ("2022-12", "2022-06")
SCRATCH_DB = "bench_export_month"


def _loaded(url: str) -> bool:
    from warehouse.db import connect

    try:
        with connect(url) as conn:
            row = conn.execute("""SELECT count(*) FROM derived.air_city_month m JOIN registry.site s USING (site_id)
                                  WHERE s.code = '乐山' AND m.period_start = '2022-12-01'""").fetchone()
            return bool(row[0])
    except Exception:  # noqa: BLE001 — no database, no schema: load a scratch one
        return False


def warehouse_url() -> str:
    """The loaded ``envmon`` warehouse, or a scratch database loaded with the bundled data."""
    import pandas as pd

    from envmon import localcluster
    from envmon.settings import REPO_ROOT, database_url
    from evaluation import carbon
    from ingest.registry import adapter
    from pipeline import runs

    if _loaded(database_url()):
        return database_url()
    cluster = localcluster.start()
    url = localcluster.create_database(SCRATCH_DB, cluster, drop_first=True)
    data = REPO_ROOT / "data"
    runs.prepare_with_stations(data, url)
    runs.register_sections_from_data(data, url)
    with tempfile.TemporaryDirectory() as tmp:
        year = Path(tmp) / "china_cities_leshan_2022.csv"  # the 365 daily files as one file
        files = sorted((data / "air" / "china_cities_leshan_2022").glob("china_cities_2022*.csv"))
        pd.concat([pd.read_csv(f, dtype=str) for f in files]).to_csv(year, index=False)
        runs.run_loads(adapter("air_city_archive"), [year], run_id="bench-export", url=url)
    for source in ("auto_archive", "manual_monthly"):
        runs.load_source(runs.WATER_SOURCES, source, data, "bench-export", url)
    for kind in ("city_inventory", "province_inventory"):
        carbon.load_inputs(kind, data, "bench-export", url)
    carbon.refresh(url)
    runs.refresh_indicators(url)
    return url


def run(quick: bool = False) -> list[dict]:
    """Rows of {name, value, unit, reference} for ``python -m bench`` (issue #8)."""
    from exports.run import export_month

    url = warehouse_url()
    rows = []
    months = MONTHS[:1] if quick else MONTHS
    with tempfile.TemporaryDirectory() as tmp:
        for month in months:
            started = time.perf_counter()
            result = export_month(month, tmp, url)
            seconds = time.perf_counter() - started
            rows.append({"name": f"monthly export {month} (workbook, 5 CSVs, PDF, manifest)",
                         "value": round(seconds, 2), "unit": "s", "reference": f"< {TARGET_SECONDS:.0f} s"})
            if result["status"] != "created":
                raise RuntimeError(f"expected a new version, got {result['status']}")
        started = time.perf_counter()
        again = export_month(months[0], tmp, url)
        rows.append({"name": f"monthly export {months[0]} rerun, data unchanged ({again['status']})",
                     "value": round(time.perf_counter() - started, 2), "unit": "s",
                     "reference": f"< {TARGET_SECONDS:.0f} s"})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one month only")
    args = parser.parse_args(argv)
    print("monthly compliance export on the real data (Leshan)")
    for row in run(args.quick):
        print(f"  {row['name']:<62} {row['value']:>7.2f} {row['unit']}   (target {row['reference']})")


if __name__ == "__main__":
    main()
