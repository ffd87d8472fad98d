"""Evaluate the alert rules against the warehouse at an "as of" time and keep ``ops.alert_incident``.

One incident per condition episode: it opens the first time a subject's condition holds, its
``last_seen`` and details follow later evaluations while it holds, and it is resolved the first
time the subject is evaluated and the condition no longer holds. The dedupe key
``rule|subject`` is unique among open incidents (partial unique index), so evaluating twice at
the same time — or a second pipeline run — changes nothing.

Times are data times: ``as_of`` defaults, per domain, to the latest data the warehouse holds
(water: the latest 4-hourly sample; air: the latest hourly AQI; targets: the latest status
date), so a replay or backfill of historical data is judged as it would have been at the time.
Pass ``as_of`` (e.g. now) to judge whole-domain silence against the wall clock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import psycopg

from alerts.rules import RULES, AlertConfig, Rule, default_config
from standards.gb3838 import CLASS_LABELS_ROMAN, NAMES_ZH
from standards.gbt8170 import round_gbt8170
from targets.status import STATUS_MARKS

BEIJING = dt.timezone(dt.timedelta(hours=8))
LATEST = {
    "water": "SELECT max(observed_at) FROM derived.water_sample_class",
    "air": "SELECT max(observed_at) FROM derived.air_hour_aqi",
    "targets": "SELECT (max(as_of)::timestamp AT TIME ZONE 'Asia/Shanghai') FROM derived.target_status",
}
SOURCE_ZH = {"automatic": "自动监测", "manual": "手工监测"}


@dataclass(frozen=True)
class EvaluationReport:
    as_of: dict[str, str | None]
    opened: int
    updated: int
    resolved: int

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "opened": self.opened, "updated": self.updated, "resolved": self.resolved}


def latest_data_time(conn: psycopg.Connection, domain: str) -> dt.datetime | None:
    """The time of the newest data of a domain (the default ``as_of``)."""
    return conn.execute(LATEST[domain]).fetchone()[0]


def _local(ts: Any) -> str:
    if not isinstance(ts, dt.datetime):
        return "" if ts is None else str(ts)
    return ts.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _class_zh(code: Any) -> str:
    return f"{CLASS_LABELS_ROMAN[int(code)]}类" if code is not None else "未评价"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pollutants(detail: dict[str, Any]) -> str:
    """The deciding pollutants as the 2011 method names them: ``main_pollutants`` as stored by
    evaluation.water (up to three items with the exceedance multiple over class III,
    2011 method 二(一)2), else the items that decided the class."""
    main = detail.get("main_pollutants") or ""
    if main:
        multiples = [float(m) for m in re.findall(r"\((\d+(?:\.\d+)?)\)", main)]
        text = f"主要污染指标：{main}"
        if multiples:
            text += f"（括号内为超Ⅲ类标准倍数，最大{max(multiples):.2f}倍）"
        return text
    decided = [NAMES_ZH.get(code, code) for code in (detail.get("decided_by") or "").split(";") if code]
    return "定类指标：" + ("、".join(decided) if decided else "—")


def fields(rule: Rule, row: dict[str, Any], first_seen: dt.datetime | None = None) -> dict[str, Any]:
    """Everything a message template may name, from one result row."""
    detail = dict(row["detail"] or {})
    out: dict[str, Any] = {k: ("—" if v is None else v) for k, v in detail.items()}
    out.update(subject=row["subject"], name_zh=row["name_zh"], data_time=_local(row["data_time"]),
               value_text=_number(row["value"]), first_seen=_local(first_seen) if first_seen else "")
    if "class_code" in detail:
        out["class_zh"] = _class_zh(detail.get("class_code"))
        out["target_zh"] = _class_zh(detail.get("target_class"))
        out["pollutants_text"] = _pollutants(detail)
        out["source_zh"] = SOURCE_ZH.get(detail.get("source") or "", "")
    if rule.domain == "targets":
        unit = detail.get("unit") or ""
        actual = detail.get("actual")
        out["actual_text"] = f"{_number(actual)}{unit}"
        out["target_text"] = f"{_number(detail.get('target_value'))}{unit}"
        projection = detail.get("projection")
        if projection is not None:  # reported like the actual value (GB/T 8170 rounding, same decimals)
            decimals = len(f"{actual:g}".partition(".")[2]) if isinstance(actual, float) else 1
            projection = float(round_gbt8170(projection, decimals))
        out["projection_text"] = f"按当前进度预计{_number(projection)}{unit}，" if projection is not None else ""
        scope = detail.get("scope") or ""
        out["scope_text"] = "" if not scope or scope in row["name_zh"] else f"（{scope}）"
        out["status_zh"] = STATUS_MARKS.get(detail.get("status"), detail.get("status")).split(" ", 1)[-1]
    return out


def message(rule: Rule, row: dict[str, Any], resolved: bool = False,
            first_seen: dt.datetime | None = None) -> str:
    return (rule.resolved_zh if resolved else rule.open_zh).format(**fields(rule, row, first_seen))


def run_rule(conn: psycopg.Connection, rule: Rule, as_of: dt.datetime,
             config: AlertConfig | None = None) -> list[dict[str, Any]]:
    """The rule's rows at ``as_of`` (one per subject)."""
    sql, params = rule.render("python", config)
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(sql, {**params, "as_of": as_of}).fetchall()


def _apply(conn: psycopg.Connection, rule: Rule, rows: list[dict[str, Any]], as_of: dt.datetime) -> tuple[int, ...]:
    opened = updated = resolved = 0
    open_rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT dedupe_key, incident_id, last_seen, first_seen FROM ops.alert_incident "
        "WHERE rule_code = %s AND resolved_at IS NULL", (rule.code,)).fetchall()}
    for row in rows:
        key = f"{rule.code}|{row['subject']}"
        current = open_rows.get(key)
        detail = json.dumps(row["detail"] or {}, ensure_ascii=False, default=str)
        if current is not None and current[1] > as_of:
            continue  # an evaluation older than what the incident already saw: leave it
        if row["firing"]:
            if current is None:
                covered = conn.execute(
                    "SELECT 1 FROM ops.alert_incident WHERE dedupe_key = %s AND first_seen <= %s "
                    "AND resolved_at > %s", (key, as_of, as_of)).fetchone()
                if covered:
                    continue  # a re-evaluation of history an earlier incident already covers
                conn.execute("""
                    INSERT INTO ops.alert_incident (rule_code, dedupe_key, subject, site_id, severity, first_seen,
                        last_seen, data_time, value, details, message_zh)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)""",
                    (rule.code, key, row["subject"], row["site_id"], rule.severity, as_of, as_of,
                     row["data_time"], row["value"], detail, message(rule, row)))
                opened += 1
            elif current[1] < as_of:
                conn.execute("""UPDATE ops.alert_incident SET last_seen = %s, data_time = %s, value = %s,
                                details = %s::jsonb, updated_at = now() WHERE incident_id = %s""",
                             (as_of, row["data_time"], row["value"], detail, current[0]))
                updated += 1
        elif current is not None:
            conn.execute("""UPDATE ops.alert_incident SET resolved_at = %s, resolved_data_time = %s,
                            resolved_message_zh = %s, updated_at = now() WHERE incident_id = %s""",
                         (as_of, row["data_time"], message(rule, row, resolved=True, first_seen=current[2]),
                          current[0]))
            resolved += 1
    return opened, updated, resolved


def evaluate(conn: psycopg.Connection, as_of: dt.datetime | None = None, rules: tuple[Rule, ...] = RULES,
             config: AlertConfig | None = None) -> EvaluationReport:
    """Run ``rules`` at ``as_of`` (default: each domain's latest data time) and update the incidents."""
    config = config or default_config()
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    totals = [0, 0, 0]
    times: dict[str, str | None] = {}
    with conn.transaction():
        conn.execute("LOCK TABLE ops.alert_incident IN SHARE ROW EXCLUSIVE MODE")  # one evaluator at a time
        for domain in dict.fromkeys(r.domain for r in rules):
            when = as_of or latest_data_time(conn, domain)
            times[domain] = when.isoformat() if when else None
            if when is None:
                continue  # no data of this domain yet: nothing to judge
            for rule in (r for r in rules if r.domain == domain):
                counts = _apply(conn, rule, run_rule(conn, rule, when, config), when)
                totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return EvaluationReport(times, *totals)


def incidents(conn: psycopg.Connection, open_only: bool = False) -> list[dict[str, Any]]:
    """Incidents, newest first (for the command line and tests)."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT * FROM ops.alert_incident" + (" WHERE resolved_at IS NULL" if open_only else "")
            + " ORDER BY first_seen DESC, incident_id DESC").fetchall()
