"""deploy/postgres/init/01-roles.sh run for real, as the TimescaleDB image runs it: on a bare cluster
whose bootstrap superuser is ``postgres``, then the migrations as the non-superuser ``envmon``.

No Docker engine exists on these machines, so the image's entrypoint is not used; what it does is
reproduced (the script runs as POSTGRES_USER with psql, the extension is preloaded). The cluster is
a throwaway one of this test, never the shared one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess

import psycopg
import pytest

from envmon import localcluster
from envmon.settings import LocalCluster
from tests.conftest import REPO

INIT_SCRIPT = REPO / "deploy" / "postgres" / "init" / "01-roles.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_init(port: int) -> subprocess.CompletedProcess[str]:
    # random passwords, as a deployment's secrets would be (the cluster trusts loopback: not used to log in)
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(port), "POSTGRES_USER": "postgres",
           **{name: secrets.token_urlsafe(16)
              for name in ("ENVMON_DB_PASSWORD", "AIRFLOW_DB_PASSWORD", "GRAFANA_READER_PASSWORD")}}
    return subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A bare cluster, the init script run twice (it must be safe to re-run), then migrated as envmon."""
    from pipeline.runs import prepare_warehouse

    cluster = localcluster.start_server(LocalCluster(port=_free_port(), base_dir=tmp_path_factory.mktemp("deploy_pg")),
                                        superuser="postgres")
    try:
        outputs = [_run_init(cluster.port) for _ in range(2)]
        url = f"postgresql://envmon@127.0.0.1:{cluster.port}/envmon"
        prepare_warehouse(url)
        yield cluster, outputs, url
    finally:
        localcluster.stop(cluster)
        shutil.rmtree(cluster.base_dir, ignore_errors=True)


def _url(cluster: LocalCluster, user: str, database: str = "envmon") -> str:
    return f"postgresql://{user}@127.0.0.1:{cluster.port}/{database}"


def test_init_script_runs_on_a_bare_cluster_and_again(deployed):
    _cluster, outputs, _url_ = deployed
    for proc in outputs:
        assert proc.returncode == 0, proc.stderr
        assert "roles envmon, airflow, envmon_reader, envmon_ingest, grafana_reader" in proc.stdout


def test_roles_have_exactly_the_attributes_the_script_promises(deployed):
    cluster, _outputs, _ = deployed
    with psycopg.connect(_url(cluster, "postgres", "postgres")) as conn:
        roles = {r[0]: r[1:] for r in conn.execute(
            "SELECT rolname, rolsuper, rolcanlogin, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname IN ('envmon', 'airflow', 'envmon_reader', 'envmon_ingest', 'grafana_reader')")}
        owners = dict(conn.execute("SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
                                   "WHERE datname IN ('envmon', 'airflow')").fetchall())
    assert roles == {"envmon": (False, True, False, False), "airflow": (False, True, False, False),
                     "envmon_reader": (False, False, False, False), "envmon_ingest": (False, False, False, False),
                     "grafana_reader": (False, True, False, False)}
    assert owners == {"envmon": "envmon", "airflow": "airflow"}


def test_non_superuser_envmon_migrates_to_head_on_timescaledb(deployed):
    from warehouse import migrate

    cluster, _outputs, url = deployed
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        hypertables = {r[0] for r in conn.execute(
            "SELECT hypertable_schema || '.' || hypertable_name FROM timescaledb_information.hypertables")}
    assert {"obs.air_measurement", "obs.water_measurement"} <= hypertables
    assert migrate.current_version(url) == migrate.head_version()


def test_grafana_reader_reads_the_warehouse_and_cannot_write(deployed):
    cluster, _outputs, _ = deployed
    with psycopg.connect(_url(cluster, "grafana_reader")) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SELECT count(*) FROM derived.air_city_day").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM ops.site_latest").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO ops.dirty_day (domain, site_id, day) VALUES ('air', 1, '2022-01-01')")
        conn.rollback()
        conn.execute("SET default_transaction_read_only = off")  # a session may lift it; even so, no privilege
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM ops.load_log")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_url(cluster, "grafana_reader", "airflow"))


def test_ingest_role_is_granted_after_migration_and_holds_no_ddl(deployed):
    cluster, _outputs, _ = deployed
    with psycopg.connect(_url(cluster, "postgres")) as conn:
        def can(table: str, privilege: str) -> bool:
            return conn.execute("SELECT has_table_privilege('envmon_ingest', %s, %s)", (table, privilege)).fetchone()[0]

        assert can("obs.air_measurement", "INSERT") and can("ops.load_log", "UPDATE") and can("ops.site_latest", "INSERT")
        assert not can("ops.load_log", "DELETE") and not can("obs.air_measurement", "TRUNCATE")
        assert not can("registry.site", "INSERT")
        assert not conn.execute("SELECT has_schema_privilege('envmon_ingest', 'obs', 'CREATE')").fetchone()[0]
