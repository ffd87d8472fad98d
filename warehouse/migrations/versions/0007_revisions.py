"""Revised period figures: a revision counter on the monthly and yearly derived tables.

A month (or year) figure that changes after its period was over — late or corrected data for a
closed month — is counted as a revision (warehouse.derived.upsert_frame ``period_end``), so the
dashboards, alerts and the monthly export can say the figure was revised and when (computed_at).

Revision ID: 0007_revisions
Revises: 0006_alerts
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007_revisions"
down_revision = "0006_alerts"
branch_labels = None
depends_on = None

TABLES = ("air_city_month", "air_city_year", "water_section_month", "water_area_month")


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for table in TABLES:
        conn.execute(f"""
            ALTER TABLE derived.{table} ADD COLUMN revision smallint NOT NULL DEFAULT 0;
            COMMENT ON COLUMN derived.{table}.revision IS
                'times this figure changed after its period had ended (late or corrected data); computed_at = last change'
        """)


def downgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    for table in TABLES:
        conn.execute(f"ALTER TABLE derived.{table} DROP COLUMN revision")
