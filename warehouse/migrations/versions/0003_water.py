"""Water: manual monthly results, the water recompute queue, derived section/city/river tables.

Revision ID: 0003_water
Revises: 0002_air_derived
Create Date: 2026-11-23
"""

from alembic import op

from warehouse.timescale import make_hypertable

revision = "0003_water"
down_revision = "0002_air_derived"
branch_labels = None
depends_on = None

DDL = """
-- Monthly results of manual monitoring (a period value per month, not a sample: kept apart from
-- the 4-hourly automatic samples so a month-start label never collides with a 00:00 sample).
CREATE TABLE obs.water_manual_measurement (LIKE obs.water_measurement INCLUDING ALL);
ALTER TABLE obs.water_manual_measurement
    ADD FOREIGN KEY (site_id) REFERENCES registry.site,
    ADD FOREIGN KEY (parameter_id) REFERENCES registry.parameter,
    ADD FOREIGN KEY (load_id) REFERENCES ops.load_log;
COMMENT ON COLUMN obs.water_manual_measurement.observed_at IS 'first day of the month, 00:00 Beijing time';

ALTER TABLE ops.dirty_day DROP CONSTRAINT dirty_day_domain_check;
ALTER TABLE ops.dirty_day ADD CONSTRAINT dirty_day_domain_check CHECK (domain IN ('air', 'water', 'water_manual'));
ALTER TABLE ops.measurement_revision DROP CONSTRAINT measurement_revision_domain_check;
ALTER TABLE ops.measurement_revision ADD CONSTRAINT measurement_revision_domain_check
    CHECK (domain IN ('air', 'water', 'water_manual'));

-- GB 3838 class of every automatic sample, judged against the section's target class.
CREATE TABLE derived.water_sample_class (
    site_id          integer NOT NULL REFERENCES registry.site,
    observed_at      timestamptz NOT NULL,
    day              date NOT NULL,
    class_code       smallint CHECK (class_code BETWEEN 1 AND 6),
    class_label      text,
    decided_by       text,
    main_pollutants  text,
    items_evaluated  text,
    target_class     smallint,
    compliant        boolean,
    published_class  smallint,
    source_flag      text NOT NULL,
    status           text NOT NULL CHECK (status IN ('ok', 'insufficient_data', 'maintenance')),
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, observed_at)
);
"""

PERIOD = """
CREATE TABLE derived.{name} (
    site_id          integer NOT NULL REFERENCES registry.site,
    {period_column}  date NOT NULL,
    source           text NOT NULL CHECK (source IN ('automatic', 'manual')),
    n_samples        integer NOT NULL,
    n_valid          integer NOT NULL,
    ph_mean real, do_mean real, codmn_mean real, nh3n_mean real, tp_mean real, tn_mean real, water_temp_mean real,
    class_code       smallint CHECK (class_code BETWEEN 1 AND 6),
    class_label      text,
    decided_by       text,
    main_pollutants  text,
    target_class     smallint,
    compliant        boolean,
    published_class  smallint,
    status           text NOT NULL CHECK (status IN ('ok', 'insufficient_data')),
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, {period_column}, source)
);
"""

AREA = """
-- Shares of judged sections per city and per river and month (2011 method), with the grade.
CREATE TABLE derived.water_area_month (
    scope            text NOT NULL CHECK (scope IN ('city', 'river')),
    area             text NOT NULL,
    month            date NOT NULL,
    source           text NOT NULL CHECK (source IN ('automatic', 'manual')),
    n_sections       integer NOT NULL,
    n_judged         integer NOT NULL,
    n_class_i_iii    integer NOT NULL,
    n_lie_v          integer NOT NULL,
    n_compliant      integer NOT NULL,
    share_i_iii      real,
    share_lie_v      real,
    share_compliant  real,
    grade            text,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, area, month, source)
);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(DDL)
    conn.execute(PERIOD.format(name="water_section_day", period_column="day"))
    conn.execute(PERIOD.format(name="water_section_month", period_column="month"))
    conn.execute(AREA)
    make_hypertable(conn, "obs.water_manual_measurement", "observed_at", "365 days")
    make_hypertable(conn, "derived.water_sample_class", "observed_at", "90 days")
    conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA derived, obs, ops TO envmon_reader")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS derived.water_area_month, derived.water_section_month, "
               "derived.water_section_day, derived.water_sample_class, obs.water_manual_measurement")
