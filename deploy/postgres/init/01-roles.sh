#!/usr/bin/env bash
# Leshan envmon: databases and roles for a fresh TimescaleDB cluster.
#
# The official postgres/timescaledb entrypoint runs this once, on an empty data
# directory, after the image's own 000_install_timescaledb.sh and
# 001_timescaledb_tune.sh, as the POSTGRES_USER superuser over the local socket.
# It is mounted as a single file so that those image scripts stay in place.
#
# Creates:
#   envmon          LOGIN, owner of database envmon (the warehouse; runs the migrations)
#   airflow         LOGIN, owner of database airflow (Airflow metadata)
#   envmon_reader   NOLOGIN group role; the schema migration grants it SELECT
#   envmon_ingest   NOLOGIN group role for loaders: write measurements and load records, no DDL
#                   (warehouse/roles.py grants it after every migration; grant it to a loader login)
#   grafana_reader  LOGIN, member of envmon_reader, read-only sessions
# and the timescaledb extension in envmon (it is not a trusted extension, so the
# non-superuser envmon role cannot create it itself).
#
# Secrets come only from the environment and reach SQL as psql variables
# (-v name=value, used as :'name'), which psql quotes as literals.
# Re-running it against an existing cluster is safe: it creates what is
# missing and resets the three passwords.
set -euo pipefail

: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${ENVMON_DB_PASSWORD:?ENVMON_DB_PASSWORD is not set}"
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set}"
: "${GRAFANA_READER_PASSWORD:?GRAFANA_READER_PASSWORD is not set}"

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "$POSTGRES_USER" --dbname postgres \
    -v envmon_password="$ENVMON_DB_PASSWORD" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" \
    -v grafana_reader_password="$GRAFANA_READER_PASSWORD" \
    <<'EOSQL'
-- Roles: create when missing (\gexec runs the generated statement), then set
-- attributes and passwords unconditionally.
SELECT 'CREATE ROLE envmon'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon') \gexec
SELECT 'CREATE ROLE airflow'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'airflow') \gexec
SELECT 'CREATE ROLE envmon_reader NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_reader') \gexec
SELECT 'CREATE ROLE envmon_ingest NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_ingest') \gexec
SELECT 'CREATE ROLE grafana_reader'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') \gexec

ALTER ROLE envmon WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'envmon_password';
ALTER ROLE airflow WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'airflow_password';
ALTER ROLE grafana_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'grafana_reader_password';
GRANT envmon_reader TO grafana_reader;
-- Grafana only ever reads; keep runaway dashboard queries bounded.
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '60s';

-- Databases. envmon comes from template1 (which already carries timescaledb);
-- airflow comes from template0 so the metadata database has no extension.
SELECT 'CREATE DATABASE envmon OWNER envmon'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'envmon') \gexec
SELECT 'CREATE DATABASE airflow OWNER airflow TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'airflow') \gexec

-- Nobody but the owners connects by default; the readers reach envmon only.
REVOKE ALL ON DATABASE envmon FROM PUBLIC;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
GRANT CONNECT ON DATABASE envmon TO envmon_reader;
GRANT CONNECT, TEMPORARY ON DATABASE envmon TO envmon_ingest;

\connect envmon
CREATE EXTENSION IF NOT EXISTS timescaledb;
EOSQL

echo "01-roles.sh: roles envmon, airflow, envmon_reader, envmon_ingest, grafana_reader and databases envmon, airflow are ready"
