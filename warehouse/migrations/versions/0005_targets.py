"""Targets: the plan-target registry (synced from config/targets.yaml) and their status per as-of date.

Revision ID: 0005_targets
Revises: 0004_carbon
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005_targets"
down_revision = "0004_carbon"
branch_labels = None
depends_on = None

DDL = """
-- Every quantitative target of the city's plans, as the bureau keeps it in config/targets.yaml
-- (targets.registry.sync_targets): criterion, scope, deadline, citation and the methodology key.
-- 'assigned' targets ("meet the state/province assignment") carry value NULL until entered.
CREATE TABLE registry.target (
    target_id          text PRIMARY KEY,
    indicator          text NOT NULL,
    name_zh            text NOT NULL,
    scope              text NOT NULL,
    scope_name_zh      text NOT NULL,
    comparator         text NOT NULL CHECK (comparator IN ('ge', 'le', 'eq', 'assigned')),
    value              double precision,
    assigned_direction text CHECK (assigned_direction IN ('ge', 'le')),
    assigned_by        text,
    unit               text NOT NULL,
    baseline_value     double precision,
    baseline_year      smallint,
    deadline           smallint,
    attribute          text NOT NULL CHECK (attribute IN ('binding', 'expected', 'text')),
    source_document    text NOT NULL,
    source_title       text NOT NULL,
    source_lines       text NOT NULL,
    source_quote       text NOT NULL,
    also_cited         jsonb NOT NULL DEFAULT '[]',
    methodology        text NOT NULL,
    notes              text,
    active             boolean NOT NULL DEFAULT true,
    config_version     integer NOT NULL,
    config_updated     date NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (comparator = 'assigned' OR value IS NOT NULL),
    CHECK ((comparator = 'assigned') = (assigned_direction IS NOT NULL))
);

-- Status of every target on an as-of date (targets.refresh): what dashboards and the monthly
-- export read. gap = actual - target; projection and good_days_allowed for annual air targets.
CREATE TABLE derived.target_status (
    target_id          text NOT NULL REFERENCES registry.target,
    as_of              date NOT NULL,
    evaluated_on       date NOT NULL,
    period             text,
    actual             double precision,
    unit               text,
    target_value       double precision,
    gap                double precision,
    status             text NOT NULL CHECK (status IN ('met', 'on_course', 'at_risk', 'missed',
                                                       'insufficient_data', 'not_set')),
    projection         double precision,
    good_days_allowed  integer,
    detail             jsonb NOT NULL DEFAULT '{}',
    methodology        text NOT NULL,
    computed_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, as_of)
);
COMMENT ON COLUMN derived.target_status.evaluated_on IS
    'day the methodology was evaluated: as_of, or 31 December of the deadline year when as_of is later';
CREATE INDEX target_status_as_of ON derived.target_status (as_of);
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    conn.execute(DDL)
    conn.execute("GRANT SELECT ON registry.target, derived.target_status TO envmon_reader")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS derived.target_status, registry.target")
