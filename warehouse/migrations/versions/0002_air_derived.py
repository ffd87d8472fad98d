"""Air indicators: the recompute queue and the derived Beijing-day tables (HJ 633 / HJ 663).

Revision ID: 0002_air_derived
Revises: 0001_core
Create Date: 2026-11-23
"""

from alembic import op

from warehouse.timescale import make_hypertable

revision = "0002_air_derived"
down_revision = "0001_core"
branch_labels = None
depends_on = None

DDL = """
-- Days whose measurements changed and whose indicators must be recomputed (a durable queue).
CREATE TABLE ops.dirty_day (
    domain   text NOT NULL CHECK (domain IN ('air', 'water')),
    site_id  integer NOT NULL REFERENCES registry.site,
    day      date NOT NULL,
    load_id  bigint NOT NULL REFERENCES ops.load_log,
    queued_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, site_id, day)
);

-- Real-time (hourly) AQI per site and hour-ending label, HJ 633 as published by CNEMC.
CREATE TABLE derived.air_hour_aqi (
    site_id      integer NOT NULL REFERENCES registry.site,
    observed_at  timestamptz NOT NULL,
    day          date NOT NULL,
    aqi          smallint,
    level        text,
    category     text,
    colour       text,
    primary_pollutant text,
    rules        text NOT NULL,
    iaqi_so2 real, iaqi_no2 real, iaqi_co real, iaqi_o3 real, iaqi_pm10 real, iaqi_pm25 real,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, observed_at)
);
"""

DAY_TABLE = """
-- {comment}
CREATE TABLE derived.{name} (
    site_id      integer NOT NULL REFERENCES registry.site,
    day          date NOT NULL,
    so2_24h real, no2_24h real, co_24h real, pm10_24h real, pm25_24h real, o3_8h_max real, o3_1h_max real,
    valid_hours  smallint,
    aqi          smallint,
    level        text,
    category     text,
    colour       text,
    primary_pollutant text,
    rules        text NOT NULL,
    method       text NOT NULL,
    n_stations   smallint,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, day)
);
"""

PERIOD_TABLE = """
-- {comment}
CREATE TABLE derived.{name} (
    site_id               integer NOT NULL REFERENCES registry.site,
    period_start          date NOT NULL,
    period_end            date NOT NULL,
    days_in_period        smallint NOT NULL,
    valid_days            smallint NOT NULL,
    good_days             smallint NOT NULL,
    good_day_ratio        real,
    heavy_pollution_days  smallint NOT NULL,
    severe_pollution_days smallint NOT NULL,
    so2_mean real, no2_mean real, pm10_mean real, pm25_mean real,
    so2_p98 real, no2_p98 real, pm10_p95 real, pm25_p95 real, co_p95 real, o3_8h_p90 real,
    pm25_exceedance real, pm10_exceedance real, o3_8h_exceedance real,
    composite_index real,
    composite_index_max real,
    primary_days jsonb NOT NULL DEFAULT '{{}}',
    complete     boolean NOT NULL,
    completeness jsonb NOT NULL DEFAULT '{{}}',
    limits_version text NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, period_start)
);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(DDL)
    conn.execute(DAY_TABLE.format(name="air_station_day", comment="Station daily values and daily AQI (HJ 663 §4, HJ 633 daily report)."))
    conn.execute(DAY_TABLE.format(name="air_city_day", comment="City daily values: mean of the city points' station values (HJ 663 Table A.2), or of the city's own hourly series where only that is published."))
    conn.execute(PERIOD_TABLE.format(name="air_city_month", comment="City statistics per calendar month (HJ 663 §5, App. A, App. C)."))
    conn.execute(PERIOD_TABLE.format(name="air_city_year", comment="City statistics per calendar year, up to period_end (year to date while the year runs)."))
    make_hypertable(conn, "derived.air_hour_aqi", "observed_at", "30 days")
    conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA derived, ops TO envmon_reader")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS derived.air_city_year, derived.air_city_month, derived.air_city_day, "
               "derived.air_station_day, derived.air_hour_aqi, ops.dirty_day")
