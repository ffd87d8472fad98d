"""Where things are and how to reach the warehouse: every setting comes from the environment.

No credential has a default here. The local development cluster trusts loopback connections
of its own project-local data directory, so its URL carries no password; deployments set
``ENVMON_DATABASE_URL`` (or the Airflow connection ``envmon_warehouse``) from a secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(os.environ.get("ENVMON_CONFIG_DIR", REPO_ROOT / "config"))

#: Airflow connection id of the warehouse (set as ``AIRFLOW_CONN_ENVMON_WAREHOUSE``).
WAREHOUSE_CONN_ID = "envmon_warehouse"


@dataclass(frozen=True)
class LocalCluster:
    """The project-local PostgreSQL cluster used for the main job and the tests."""

    port: int
    base_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgresql.log"

    def url(self, database: str = "envmon", driver: str = "postgresql") -> str:
        return f"{driver}://envmon@127.0.0.1:{self.port}/{database}"


def local_dir() -> Path:
    """Project-local state (cluster, Airflow home, outputs); never committed."""
    return Path(os.environ.get("ENVMON_LOCAL_DIR", REPO_ROOT / ".local"))


def local_cluster() -> LocalCluster:
    return LocalCluster(
        port=int(os.environ.get("ENVMON_PG_PORT", "54329")),
        base_dir=Path(os.environ.get("ENVMON_PG_DIR", local_dir() / "pg")),
    )


def database_url() -> str:
    """The warehouse URL (libpq form): ``ENVMON_DATABASE_URL`` or the local cluster."""
    return os.environ.get("ENVMON_DATABASE_URL") or local_cluster().url()


def data_dir() -> Path:
    """Input data the main job runs on: the bundled real subset unless told otherwise."""
    return Path(os.environ.get("ENVMON_DATA_DIR", REPO_ROOT / "data"))


def output_dir() -> Path:
    return Path(os.environ.get("ENVMON_OUTPUT_DIR", local_dir() / "outputs"))


def timescaledb_wanted() -> bool:
    """``ENVMON_TIMESCALEDB=off`` builds the schema on plain PostgreSQL even if the extension exists."""
    return os.environ.get("ENVMON_TIMESCALEDB", "auto").lower() not in {"off", "0", "false", "no"}
