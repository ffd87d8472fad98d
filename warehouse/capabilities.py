"""What the connected server can do: TimescaleDB with the Timescale licence, the Apache build, or none.

``timescaledb.license = timescale`` → hypertables, continuous aggregates, compression and
retention policies (the official image used by docker-compose); ``apache`` → hypertables and
``time_bucket`` only (the locally built extension); no extension → plain PostgreSQL tables.
The schema works in all three; only optional accelerations depend on the mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from envmon.settings import timescaledb_wanted


@dataclass(frozen=True)
class Capabilities:
    server_version: str
    timescaledb_version: str | None
    license: str | None

    @property
    def mode(self) -> str:
        if self.timescaledb_version is None:
            return "postgresql"
        return "timescale" if self.license == "timescale" else "apache"

    @property
    def hypertables(self) -> bool:
        return self.timescaledb_version is not None

    @property
    def continuous_aggregates(self) -> bool:
        return self.mode == "timescale"

    @property
    def compression(self) -> bool:
        return self.mode == "timescale"

    @property
    def retention_policies(self) -> bool:
        return self.mode == "timescale"

    def describe(self) -> str:
        features = [name for name in ("hypertables", "continuous_aggregates", "compression", "retention_policies")
                    if getattr(self, name)]
        ext = f"TimescaleDB {self.timescaledb_version} (licence {self.license})" if self.hypertables else "no TimescaleDB"
        return f"{ext}; mode {self.mode}; features: {', '.join(features) or 'plain tables only'}"


def detect(conn: psycopg.Connection) -> Capabilities:
    server = conn.execute("SHOW server_version").fetchone()[0]
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row is None:
        return Capabilities(server, None, None)
    license_ = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()[0]
    return Capabilities(server, row[0], license_ or "apache")


def ensure_extension(conn: psycopg.Connection) -> Capabilities:
    """Create the extension when the server offers it (and it is not switched off); then detect."""
    installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if timescaledb_wanted() and not installed:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
        if available and _preloaded(conn):
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return detect(conn)


def _preloaded(conn: psycopg.Connection) -> bool:
    """Only a superuser (or pg_read_all_settings) may read the setting; such a deployment's
    administrator creates the extension (deploy/postgres/init), and the owner just uses it."""
    try:
        with conn.transaction():
            return "timescaledb" in (conn.execute("SHOW shared_preload_libraries").fetchone()[0] or "")
    except psycopg.errors.InsufficientPrivilege:
        return False
