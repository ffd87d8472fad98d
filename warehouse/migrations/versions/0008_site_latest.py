"""Freshness per site: the time of each site's latest value, kept by the load path.

The data-quality dashboard shows the time since each station's or section's last value. Asking the
hypertables for ``max(observed_at)`` per site reads one index per chunk — and every chunk for a
site that never reported — which at national scale (1,800 stations, ten years of chunks) took
seconds. The load's upsert keeps this small table current instead (warehouse.load), so the panel
reads one row per site.

Revision ID: 0008_site_latest
Revises: 0007_revisions
Create Date: 2026-11-23
"""

from alembic import op

revision = "0008_site_latest"
down_revision = "0007_revisions"
branch_labels = None
depends_on = None

MEASUREMENT_TABLES = {"air": "obs.air_measurement", "water": "obs.water_measurement",
                      "water_manual": "obs.water_manual_measurement"}


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute("""
        CREATE TABLE ops.site_latest (
            domain           text        NOT NULL,
            site_id          integer     NOT NULL REFERENCES registry.site,
            last_observed_at timestamptz NOT NULL,
            load_id          bigint      NOT NULL REFERENCES ops.load_log,
            PRIMARY KEY (domain, site_id)
        );
        COMMENT ON TABLE ops.site_latest IS
            'time of each site''s latest non-empty value per measurement store, maintained by every load'
    """)
    for domain, table in MEASUREMENT_TABLES.items():
        conn.execute(f"""
            INSERT INTO ops.site_latest (domain, site_id, last_observed_at, load_id)
            SELECT DISTINCT ON (site_id) %s, site_id, observed_at, load_id
            FROM {table} WHERE value IS NOT NULL
            ORDER BY site_id, observed_at DESC""", (domain,))
    conn.execute("GRANT SELECT ON ops.site_latest TO envmon_reader")


def downgrade() -> None:
    op.get_bind().connection.driver_connection.execute("DROP TABLE ops.site_latest")
