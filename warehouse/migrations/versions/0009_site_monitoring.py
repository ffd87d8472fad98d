"""How a river section is monitored (config/sections.yaml ``monitoring``), kept in the registry.

The alerts need it: an automatic section that never sends a sample is silent, not merely
unknown, while a manual section reports monthly and must not be called silent every four hours.

Revision ID: 0009_site_monitoring
Revises: 0008_site_latest
Create Date: 2026-11-23
"""

from alembic import op

revision = "0009_site_monitoring"
down_revision = "0008_site_latest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().connection.driver_connection.execute("""
        ALTER TABLE registry.site ADD COLUMN monitoring text CHECK (monitoring IN ('automatic', 'manual'));
        COMMENT ON COLUMN registry.site.monitoring IS
            'automatic (4-hourly station) or manual (monthly sampling); from config/sections.yaml, NULL when unknown'
    """)


def downgrade() -> None:
    op.get_bind().connection.driver_connection.execute("ALTER TABLE registry.site DROP COLUMN monitoring")
