"""Carbon and energy: CEADs inventories with provenance, the bureau's statistics, derived indicators.

Revision ID: 0004_carbon
Revises: 0003_water
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004_carbon"
down_revision = "0003_water"
branch_labels = None
depends_on = None

DDL = """
-- CO2 inventories (Mt CO2). sector/fuel 'total' for city totals; the provincial IPCC-sector ×
-- fuel tables keep both. Every value points back to its workbook sheet and row.
CREATE TABLE obs.carbon_emission (
    region        text NOT NULL,
    region_level  text NOT NULL CHECK (region_level IN ('city', 'province')),
    year          smallint NOT NULL CHECK (year BETWEEN 1950 AND 2100),
    sector        text NOT NULL DEFAULT 'total',
    fuel          text NOT NULL DEFAULT 'total',
    co2_mt        double precision,
    source_code   text NOT NULL REFERENCES registry.data_source (code),
    sheet         text NOT NULL,
    row_label     text,
    cell          text,
    load_id       bigint NOT NULL REFERENCES ops.load_log,
    PRIMARY KEY (region, year, sector, fuel)
);

-- Bureau-maintained statistics (statistical yearbook): GDP at current and constant prices,
-- energy, population. No public machine-readable source exists for Leshan.
CREATE TABLE obs.socioeconomic (
    region          text NOT NULL,
    year            smallint NOT NULL CHECK (year BETWEEN 1950 AND 2100),
    indicator       text NOT NULL CHECK (indicator IN ('gdp_current', 'gdp_constant', 'energy_total',
                                                        'energy_per_gdp', 'population')),
    value           double precision NOT NULL,
    unit            text NOT NULL,
    price_base_year smallint,
    source          text NOT NULL,
    load_id         bigint NOT NULL REFERENCES ops.load_log,
    PRIMARY KEY (region, year, indicator)
);

-- Carbon indicators per region and year; 'insufficient_data' names what is missing.
CREATE TABLE derived.carbon_indicator (
    region                   text NOT NULL,
    year                     smallint NOT NULL,
    co2_mt                   double precision,
    co2_per_capita_t         double precision,
    gdp_constant_100m_yuan   double precision,
    price_base_year          smallint,
    intensity_t_per_10k_yuan double precision,
    energy_per_gdp           double precision,
    share_of_province_pct    double precision,
    status                   text NOT NULL CHECK (status IN ('ok', 'insufficient_data')),
    missing                  text,
    computed_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, year)
);

-- Cumulative reduction of an intensity between a base year and a later year (e.g. 2020 → 2025).
CREATE TABLE derived.carbon_reduction (
    region        text NOT NULL,
    indicator     text NOT NULL CHECK (indicator IN ('co2_intensity', 'energy_intensity', 'co2_total')),
    base_year     smallint NOT NULL,
    year          smallint NOT NULL,
    base_value    double precision,
    value         double precision,
    reduction_pct double precision,
    status        text NOT NULL CHECK (status IN ('ok', 'insufficient_data')),
    missing       text,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, indicator, base_year, year)
);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(DDL)
    conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA derived, obs TO envmon_reader")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS derived.carbon_reduction, derived.carbon_indicator, obs.socioeconomic, "
               "obs.carbon_emission")
