"""Core warehouse: registries, measurement hypertables, load log, quarantine, validation, revisions.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from warehouse.capabilities import ensure_extension
from warehouse.timescale import add_retention_policy, make_hypertable

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

SOURCE_FLAGS = "('normal', 'maintenance', 'missing', 'suspect')"

DDL = """
CREATE SCHEMA IF NOT EXISTS registry;
CREATE SCHEMA IF NOT EXISTS obs;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS derived;

-- Publishers and archive formats the pipeline reads.
CREATE TABLE registry.data_source (
    source_id    smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name_zh      text NOT NULL,
    publisher    text NOT NULL,
    domain       text NOT NULL CHECK (domain IN ('air', 'water', 'carbon', 'statistics')),
    format       text NOT NULL,
    cadence      text NOT NULL,
    url          text,
    notes        text
);

-- Measured quantities with their unit and the physically possible range (outside → quarantine).
CREATE TABLE registry.parameter (
    parameter_id smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    domain       text NOT NULL CHECK (domain IN ('air', 'water', 'carbon')),
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    unit         text NOT NULL,
    averaging    text NOT NULL,
    valid_min    double precision,
    valid_max    double precision,
    decimals     smallint,
    notes        text,
    CHECK (valid_min IS NULL OR valid_max IS NULL OR valid_min < valid_max)
);

-- Air stations, city aggregates and river sections in one registry.
CREATE TABLE registry.site (
    site_id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             text NOT NULL UNIQUE,
    kind             text NOT NULL CHECK (kind IN ('air_station', 'air_city', 'water_section')),
    name_zh          text NOT NULL,
    province         text,
    city             text,
    district         text,
    river            text,
    basin            text,
    water_body       text CHECK (water_body IN ('river', 'lake_reservoir')),
    role             text,
    lon              double precision CHECK (lon BETWEEN -180 AND 180),
    lat              double precision CHECK (lat BETWEEN -90 AND 90),
    is_background    boolean NOT NULL DEFAULT false,
    target_class     smallint CHECK (target_class BETWEEN 1 AND 6),
    assessment_level text CHECK (assessment_level IN ('national', 'provincial', 'municipal')),
    active_from      date,
    active_to        date,
    config_source    text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (active_to IS NULL OR active_from IS NULL OR active_from <= active_to)
);
CREATE INDEX site_kind_city ON registry.site (kind, city);

-- One row per file (or API request) the pipeline looked at.
CREATE TABLE ops.load_log (
    load_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset              text NOT NULL,
    source_code          text NOT NULL REFERENCES registry.data_source (code),
    file_path            text NOT NULL,
    checksum_sha256      text,
    file_bytes           bigint,
    run_id               text NOT NULL,
    status               text NOT NULL DEFAULT 'running'
                         CHECK (status IN ('running', 'loaded', 'rejected', 'failed')),
    gate_passed          boolean,
    lines_read           integer NOT NULL DEFAULT 0,
    rows_read            integer NOT NULL DEFAULT 0,
    rows_stored          integer NOT NULL DEFAULT 0,
    rows_quarantined     integer NOT NULL DEFAULT 0,
    rows_inserted        integer NOT NULL DEFAULT 0,
    rows_revised         integer NOT NULL DEFAULT 0,
    rows_unchanged       integer NOT NULL DEFAULT 0,
    first_time           timestamptz,
    last_time            timestamptz,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    error                text,
    CHECK (status <> 'loaded' OR rows_read = rows_stored + rows_quarantined)
);
CREATE INDEX load_log_checksum ON ops.load_log (dataset, checksum_sha256);
CREATE INDEX load_log_file ON ops.load_log (file_path);

-- Every rejected input row, with the raw row, the field at fault and a reason code.
CREATE TABLE ops.quarantine (
    quarantine_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    load_id        bigint NOT NULL REFERENCES ops.load_log ON DELETE CASCADE,
    line_no        integer,
    field          text,
    reason_code    text NOT NULL,
    message        text NOT NULL,
    raw            jsonb NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_load ON ops.quarantine (load_id);
CREATE INDEX quarantine_reason ON ops.quarantine (reason_code);

-- Great Expectations results of the batch gate, one row per expectation.
CREATE TABLE ops.validation_result (
    load_id        bigint NOT NULL REFERENCES ops.load_log ON DELETE CASCADE,
    validated_at   timestamptz NOT NULL DEFAULT now(),
    suite          text NOT NULL,
    expectation    text NOT NULL,
    column_name    text,
    severity       text NOT NULL,
    success        boolean NOT NULL,
    observed       jsonb
);
CREATE INDEX validation_result_load ON ops.validation_result (load_id);

-- A changed value for an existing key: the old value is kept here, the new one replaces it.
CREATE TABLE ops.measurement_revision (
    revision_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain         text NOT NULL CHECK (domain IN ('air', 'water')),
    site_id        integer NOT NULL,
    parameter_id   smallint NOT NULL,
    observed_at    timestamptz NOT NULL,
    old_value      double precision,
    new_value      double precision,
    old_flag       text NOT NULL,
    new_flag       text NOT NULL,
    old_load_id    bigint NOT NULL,
    new_load_id    bigint NOT NULL REFERENCES ops.load_log,
    revised_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX measurement_revision_key ON ops.measurement_revision (domain, site_id, parameter_id, observed_at);
"""

MEASUREMENT_TABLE = """
CREATE TABLE obs.{name} (
    site_id      integer  NOT NULL REFERENCES registry.site,
    parameter_id smallint NOT NULL REFERENCES registry.parameter,
    observed_at  timestamptz NOT NULL,
    value        double precision,
    source_flag  text NOT NULL CHECK (source_flag IN {flags}),
    status       text NOT NULL DEFAULT 'provisional' CHECK (status IN ('provisional', 'verified')),
    load_id      bigint NOT NULL REFERENCES ops.load_log,
    PRIMARY KEY (site_id, parameter_id, observed_at),
    CHECK (value IS NOT NULL OR source_flag = 'missing')
);
COMMENT ON COLUMN obs.{name}.observed_at IS {time_comment};
"""

READER_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_reader') THEN
        CREATE ROLE envmon_reader NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA registry, obs, ops, derived TO envmon_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA registry, obs, ops, derived TO envmon_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA registry, obs, ops, derived GRANT SELECT ON TABLES TO envmon_reader;
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    caps = ensure_extension(conn)
    conn.execute(DDL)
    for name, comment in (
        ("air_measurement", "end of the averaging hour (CNEMC labels are hour-ending), stored in UTC"),
        ("water_measurement", "sampling time of the automatic or manual sample, stored in UTC"),
    ):
        conn.execute(MEASUREMENT_TABLE.format(name=name, flags=SOURCE_FLAGS, time_comment="'" + comment + "'"))
    make_hypertable(conn, "obs.air_measurement", "observed_at", "7 days",
                    segment_by=("site_id", "parameter_id"), compress_after="60 days", caps=caps)
    make_hypertable(conn, "obs.water_measurement", "observed_at", "90 days",
                    segment_by=("site_id", "parameter_id"), compress_after="180 days", caps=caps)
    make_hypertable(conn, "ops.validation_result", "validated_at", "30 days", caps=caps)
    add_retention_policy(conn, "ops.validation_result", "3 years", caps=caps)
    conn.execute(READER_ROLE)


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS derived, obs, ops, registry CASCADE")
