"""The Airflow environment of the local set-up: metadata in the local cluster, DAGs from ``dags/``.

Set before Airflow is imported (Airflow reads its configuration at import). Values already in
the environment win, so a deployment's own settings are never overridden.
"""

from __future__ import annotations

import os

from envmon.settings import REPO_ROOT, WAREHOUSE_CONN_ID, database_url, local_cluster, local_dir


def airflow_environment() -> dict[str, str]:
    cluster = local_cluster()
    metadata = cluster.url("airflow", driver="postgresql+psycopg")
    return {
        "AIRFLOW_HOME": str(local_dir() / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace("+psycopg://", "+psycopg_async://"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": database_url(),
    }


def apply() -> None:
    for key, value in airflow_environment().items():
        os.environ.setdefault(key, value)
