"""The hourly AQI's primary key carries the AQI, instead of a second index on the same key.

Migration 0011 added ``(site_id, observed_at) INCLUDE (aqi)`` beside the primary key
``(site_id, observed_at)``: two B-trees on one key, both maintained by every upsert of the air
refresh. The primary key itself now includes the AQI (PostgreSQL 11+, kept by TimescaleDB on every
chunk), so the station hourly AQI panel keeps its index-only scan and the refresh maintains one
index fewer. ``ON CONFLICT (site_id, observed_at)`` is unchanged: the key columns are the same.

Revision ID: 0012_hour_aqi_key_covers_aqi
Revises: 0011_hour_aqi_covering_index
Create Date: 2026-12-08
"""

from alembic import op

revision = "0012_hour_aqi_key_covers_aqi"
down_revision = "0011_hour_aqi_covering_index"
branch_labels = None
depends_on = None


def _execute(statement: str) -> None:
    op.get_bind().connection.driver_connection.execute(statement)


def upgrade() -> None:
    _execute("DROP INDEX derived.air_hour_aqi_site_time_aqi")
    _execute("ALTER TABLE derived.air_hour_aqi DROP CONSTRAINT air_hour_aqi_pkey, "
             "ADD CONSTRAINT air_hour_aqi_pkey PRIMARY KEY (site_id, observed_at) INCLUDE (aqi)")


def downgrade() -> None:
    _execute("ALTER TABLE derived.air_hour_aqi DROP CONSTRAINT air_hour_aqi_pkey, "
             "ADD CONSTRAINT air_hour_aqi_pkey PRIMARY KEY (site_id, observed_at)")
    _execute("CREATE INDEX air_hour_aqi_site_time_aqi ON derived.air_hour_aqi (site_id, observed_at) INCLUDE (aqi)")
