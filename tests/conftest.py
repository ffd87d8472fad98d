"""Test fixtures: a real PostgreSQL + TimescaleDB (the project-local cluster), one scratch database per use.

Airflow's environment is applied before anything imports Airflow, so DAG tests use the same
metadata database in the local cluster as the main job.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envmon import airflow_env

airflow_env.apply()

from envmon import localcluster  # noqa: E402
from warehouse.db import connect  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
BUNDLED_DATA = REPO / "data"


@pytest.fixture(scope="session")
def cluster():
    return localcluster.start()


@pytest.fixture(scope="session")
def airflow_db(cluster):
    from envmon.cli import _run_airflow_migrate

    _run_airflow_migrate()


def _db_name(request) -> str:
    return "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]


@pytest.fixture
def empty_db(cluster, request) -> str:
    """URL of a brand-new, empty database (dropped first if an earlier run left it)."""
    return localcluster.create_database(_db_name(request), cluster, drop_first=True)


@pytest.fixture
def warehouse(empty_db) -> str:
    """URL of a migrated warehouse with registries and the Sichuan station list loaded."""
    from pipeline import runs

    runs.prepare_with_stations(BUNDLED_DATA, empty_db)
    return empty_db


@pytest.fixture
def conn(warehouse):
    with connect(warehouse) as c:
        yield c


def shared(*parts: str) -> Path:
    """A file of ../shared/data; tests that need it fail loudly if the workspace lacks it."""
    path = SHARED_DATA.joinpath(*parts)
    assert path.exists(), f"{path} missing: tests expect ../shared beside the repository"
    return path
