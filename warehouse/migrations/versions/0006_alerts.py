"""Alerts: the incidents the in-pipeline evaluation opens and resolves, and their notifications.

Revision ID: 0006_alerts
Revises: 0005_targets
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006_alerts"
down_revision = "0005_targets"
branch_labels = None
depends_on = None

DDL = """
-- One row per alert episode (alerts.evaluate): opened when a rule's condition first holds for a
-- subject, last_seen while it holds, resolved_at when it no longer does. Times are data times
-- (the evaluation's as_of). Notifications (alerts.notify) are sent once on opening and once on
-- resolution; channels keeps each channel's outcome so a failed channel is retried alone.
CREATE TABLE ops.alert_incident (
    incident_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_code            text NOT NULL,
    dedupe_key           text NOT NULL,
    subject              text NOT NULL,
    site_id              integer REFERENCES registry.site,
    severity             text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    first_seen           timestamptz NOT NULL,
    last_seen            timestamptz NOT NULL,
    resolved_at          timestamptz,
    data_time            timestamptz,
    resolved_data_time   timestamptz,
    value                double precision,
    details              jsonb NOT NULL DEFAULT '{}',
    message_zh           text NOT NULL,
    resolved_message_zh  text,
    notified_open_at     timestamptz,
    notified_resolved_at timestamptz,
    channels             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (last_seen >= first_seen),
    CHECK (resolved_at IS NULL OR resolved_at >= last_seen),
    CHECK ((resolved_at IS NULL) = (resolved_message_zh IS NULL))
);
COMMENT ON COLUMN ops.alert_incident.dedupe_key IS 'rule_code|subject: unique among open incidents';
CREATE UNIQUE INDEX alert_incident_open_key ON ops.alert_incident (dedupe_key) WHERE resolved_at IS NULL;
CREATE INDEX alert_incident_key_time ON ops.alert_incident (dedupe_key, first_seen);
CREATE INDEX alert_incident_unnotified ON ops.alert_incident (incident_id)
    WHERE notified_open_at IS NULL OR (resolved_at IS NOT NULL AND notified_resolved_at IS NULL);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(DDL)
    conn.execute("GRANT SELECT ON ops.alert_incident TO envmon_reader")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ops.alert_incident")
