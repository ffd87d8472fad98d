"""A covering index for the station hourly AQI panel: (site, time) with the AQI in the index.

The panel reads every hour of a city's stations over years. derived.air_hour_aqi is filled day by
day for every station, so one station's hours lie on as many heap pages as it has hours: on a
national year (16 M rows) the panel's 55 k heap fetches took 120–170 ms (bench/RESULTS.md). With
the AQI in the index the same read is an index-only scan of a few hundred pages.

Revision ID: 0011_hour_aqi_covering_index
Revises: 0010_measurement_references
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011_hour_aqi_covering_index"
down_revision = "0010_measurement_references"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().connection.driver_connection.execute(
        "CREATE INDEX air_hour_aqi_site_time_aqi ON derived.air_hour_aqi (site_id, observed_at) INCLUDE (aqi)")


def downgrade() -> None:
    op.get_bind().connection.driver_connection.execute("DROP INDEX derived.air_hour_aqi_site_time_aqi")
