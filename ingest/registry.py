"""Every adapter by dataset name, and the one way to tell a file's format from its name."""

from __future__ import annotations

from pathlib import Path

from ingest import cnemc_air, cnemc_archive, cnemc_snapshot, cnemc_water, sichuan_water_monthly
from ingest.base import Adapter, IngestError

ADAPTERS: dict[str, Adapter] = {a.dataset: a for a in (
    cnemc_air.ADAPTER, cnemc_archive.CITY_ADAPTER, cnemc_archive.SITE_ADAPTER, cnemc_snapshot.ADAPTER,
    cnemc_water.ARCHIVE_ADAPTER, cnemc_water.SNAPSHOT_ADAPTER, cnemc_water.JSON_ADAPTER,
    sichuan_water_monthly.MONTHLY_ADAPTER,
)}


def adapter(dataset: str) -> Adapter:
    try:
        return ADAPTERS[dataset]
    except KeyError:
        raise SystemExit(f"unknown dataset '{dataset}'; known: {', '.join(sorted(ADAPTERS))}") from None


def adapter_for(path: Path) -> Adapter:
    """By file name, as the archives name their files."""
    name = Path(path).name
    if name.startswith("china_cities_"):
        return cnemc_archive.CITY_ADAPTER
    if name.startswith("china_sites_"):
        return cnemc_archive.SITE_ADAPTER
    if name.startswith("cnemc_water_auto"):
        return cnemc_water.ARCHIVE_ADAPTER
    if "国家地表水水质自动监测系统检测数据" in name:
        return cnemc_water.SNAPSHOT_ADAPTER
    if name.startswith("water_monthly_"):
        return sichuan_water_monthly.MONTHLY_ADAPTER
    if name.endswith(".json") and "realdatas" in name:
        return cnemc_water.JSON_ADAPTER
    if name.endswith((".json", ".geojson")):
        return cnemc_snapshot.ADAPTER
    if name.endswith(".csv"):
        return cnemc_air.ADAPTER
    raise IngestError(path, "unknown file format: expected an air file (china_cities_*.csv, china_sites_*.csv, a "
                            "CNEMC hourly station CSV, a station snapshot GeoJSON) or a water file "
                            "(cnemc_water_auto_*.csv, a saved 国家地表水水质自动监测系统检测数据 snapshot, a "
                            "*realdatas*.json answer, water_monthly_*.csv)")
