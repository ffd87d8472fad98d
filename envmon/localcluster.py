"""A project-local PostgreSQL + TimescaleDB cluster: own data directory, own port, loopback only.

PostgreSQL refuses to run as root, so when we are root the server binaries run as the
``postgres`` system user and the data directory belongs to it. Every step is idempotent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

from envmon.settings import LocalCluster, local_cluster

PG_BIN = Path(os.environ.get("ENVMON_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASES = ("envmon", "airflow")


class ClusterError(RuntimeError):
    pass


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if _as_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    proc = subprocess.run(args, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ClusterError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def timescaledb_installed() -> bool:
    share = subprocess.run([str(PG_BIN / "pg_config"), "--sharedir"], capture_output=True, text=True)
    sharedir = Path(share.stdout.strip()) if share.returncode == 0 else Path("/usr/share/postgresql/15")
    return (sharedir / "extension" / "timescaledb.control").exists()


def _usable_base_dir(cluster: LocalCluster) -> LocalCluster:
    """As root, the postgres user must reach the data directory; fall back to /var/tmp if not."""
    if not _as_root():
        return cluster
    cluster.base_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(cluster.base_dir, "postgres", "postgres")
    if _run(["test", "-w", str(cluster.base_dir)], check=False).returncode == 0:
        return cluster
    digest = hashlib.sha1(str(cluster.base_dir).encode()).hexdigest()[:10]
    fallback = Path("/var/tmp") / f"envmon-pg-{digest}"
    fallback.mkdir(parents=True, exist_ok=True)
    shutil.chown(fallback, "postgres", "postgres")
    return LocalCluster(port=cluster.port, base_dir=fallback)


def resolve() -> LocalCluster:
    return _usable_base_dir(local_cluster())


def is_running(cluster: LocalCluster) -> bool:
    if not (cluster.data_dir / "PG_VERSION").exists():
        return False
    return _run([str(PG_BIN / "pg_ctl"), "status", "-D", str(cluster.data_dir)], check=False).returncode == 0


def _init(cluster: LocalCluster, superuser: str = "envmon") -> None:
    cluster.base_dir.mkdir(parents=True, exist_ok=True)
    if _as_root():
        shutil.chown(cluster.base_dir, "postgres", "postgres")
    _run([
        str(PG_BIN / "initdb"), "-D", str(cluster.data_dir), "-U", superuser,
        "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
    ])
    settings = [
        "# envmon project-local cluster",
        "listen_addresses = '127.0.0.1'",
        f"port = {cluster.port}",
        "unix_socket_directories = ''",
        "max_connections = 100",
        "shared_buffers = '256MB'",
        "work_mem = '32MB'",
        "maintenance_work_mem = '256MB'",
        "synchronous_commit = on",
        "timezone = 'UTC'",
        "log_timezone = 'UTC'",
    ]
    if timescaledb_installed():
        settings += ["shared_preload_libraries = 'timescaledb'", "timescaledb.telemetry_level = off"]
    conf = cluster.data_dir / "postgresql.auto.conf"
    text = "\n".join(settings) + "\n"
    _run(["sh", "-c", f"cat >> '{conf}' <<'EOF'\n{text}EOF"])


def _ensure_preload(cluster: LocalCluster) -> None:
    """A cluster created before TimescaleDB was built gets the preload on its next start."""
    conf = cluster.data_dir / "postgresql.auto.conf"
    if timescaledb_installed() and "shared_preload_libraries" not in conf.read_text():
        line = "shared_preload_libraries = 'timescaledb'\ntimescaledb.telemetry_level = off\n"
        _run(["sh", "-c", f"printf '%s' \"{line}\" >> '{conf}'"])
        if is_running(cluster):
            _run([str(PG_BIN / "pg_ctl"), "restart", "-w", "-D", str(cluster.data_dir), "-l", str(cluster.log_file)])


def start(cluster: LocalCluster | None = None) -> LocalCluster:
    """The project cluster (settings), or ``cluster``: another port and directory (the fault tests
    restart a throwaway cluster of their own, never the one other tests share)."""
    cluster = start_server(_usable_base_dir(cluster) if cluster else resolve())
    _create_databases(cluster)
    return cluster


def start_server(cluster: LocalCluster, superuser: str = "envmon") -> LocalCluster:
    """Initialise (``superuser`` = the bootstrap role) and start a cluster, nothing more: the
    deployment test gives a bare ``postgres`` cluster to deploy/postgres/init, as the image does."""
    cluster = _usable_base_dir(cluster)
    if not (cluster.data_dir / "PG_VERSION").exists():
        _init(cluster, superuser)
    _ensure_preload(cluster)
    if not is_running(cluster):
        _run([str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(cluster.data_dir), "-l", str(cluster.log_file)])
    _wait_ready(cluster, superuser)
    return cluster


def stop(cluster: LocalCluster | None = None) -> LocalCluster:
    cluster = _usable_base_dir(cluster) if cluster else resolve()
    if is_running(cluster):
        _run([str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(cluster.data_dir)])
    return cluster


def restart(cluster: LocalCluster | None = None) -> LocalCluster:
    """Fast restart (used by the fault tests: the server goes away in the middle of a load)."""
    cluster = _usable_base_dir(cluster) if cluster else resolve()
    _run([str(PG_BIN / "pg_ctl"), "restart", "-w", "-m", "fast", "-D", str(cluster.data_dir), "-l", str(cluster.log_file)])
    _wait_ready(cluster)
    return cluster


def _wait_ready(cluster: LocalCluster, user: str = "envmon", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(f"postgresql://{user}@127.0.0.1:{cluster.port}/postgres", connect_timeout=3):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise ClusterError(f"local cluster on port {cluster.port} not ready: {exc}") from exc
            time.sleep(0.3)


def _create_databases(cluster: LocalCluster) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        for name in DATABASES:
            if name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def create_database(name: str, cluster: LocalCluster | None = None, drop_first: bool = False) -> str:
    """A scratch database on the local cluster (tests); returns its URL."""
    cluster = cluster or resolve()
    ident = sql.Identifier(name)
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return cluster.url(name)
