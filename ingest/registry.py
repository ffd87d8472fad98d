"""Every adapter by dataset name: the one lookup the CLI and the DAGs use."""

from __future__ import annotations

from ingest import cnemc_air
from ingest.base import Adapter

ADAPTERS: dict[str, Adapter] = {a.dataset: a for a in (cnemc_air.ADAPTER,)}


def adapter(dataset: str) -> Adapter:
    try:
        return ADAPTERS[dataset]
    except KeyError:
        raise SystemExit(f"unknown dataset '{dataset}'; known: {', '.join(sorted(ADAPTERS))}") from None
