"""Every adapter by dataset name, and the one way to tell a file's format from its name."""

from __future__ import annotations

from pathlib import Path

from ingest import cnemc_air, cnemc_archive, cnemc_snapshot
from ingest.base import Adapter, IngestError

ADAPTERS: dict[str, Adapter] = {a.dataset: a for a in (
    cnemc_air.ADAPTER, cnemc_archive.CITY_ADAPTER, cnemc_archive.SITE_ADAPTER, cnemc_snapshot.ADAPTER,
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
    if name.endswith((".json", ".geojson")):
        return cnemc_snapshot.ADAPTER
    if name.endswith(".csv"):
        return cnemc_air.ADAPTER
    raise IngestError(path, "unknown file format: expected china_cities_*.csv, china_sites_*.csv, a CNEMC hourly "
                            "station CSV or a station snapshot GeoJSON")
