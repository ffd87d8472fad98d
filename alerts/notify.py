"""Send the pending alert notifications: each incident once when it opens, once when it resolves.

Channels come from the environment only (no secrets in the repository):

    ENVMON_ALERT_WEBHOOK_URL   POST JSON {"event", "rule", "severity", "text", ...} (UTF-8)
    ENVMON_SMTP_HOST           SMTP server; with ENVMON_ALERT_EMAIL_TO (comma-separated) and
    ENVMON_SMTP_PORT           (default 25), ENVMON_SMTP_FROM (default envmon@localhost),
    ENVMON_SMTP_USER / ENVMON_SMTP_PASSWORD (optional login), ENVMON_SMTP_STARTTLS=1 (optional)

Each channel's outcome is kept per incident and event in ``ops.alert_incident.channels``: a
channel that failed is retried on the next run, one that succeeded is never sent again. With no
channel configured the event is recorded as ``no channel`` and counts as handled (so configuring
a channel later does not flood it with history).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cache
from typing import Any

import httpx
import psycopg
from psycopg import sql

from alerts.rules import BY_CODE, DOMAINS_ZH

Sender = Callable[[dict[str, Any]], str]
SEVERITY_ZH = {"critical": "严重", "warning": "警告", "info": "提示"}


@dataclass(frozen=True)
class Channels:
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "envmon@localhost"
    email_to: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Channels:
        env = os.environ if env is None else env
        return cls(
            webhook_url=env.get("ENVMON_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("ENVMON_SMTP_HOST") or None,
            smtp_port=int(env.get("ENVMON_SMTP_PORT") or 25),
            smtp_from=env.get("ENVMON_SMTP_FROM") or "envmon@localhost",
            email_to=tuple(a.strip() for a in (env.get("ENVMON_ALERT_EMAIL_TO") or "").split(",") if a.strip()),
            smtp_user=env.get("ENVMON_SMTP_USER") or None,
            smtp_password=env.get("ENVMON_SMTP_PASSWORD") or None,
            smtp_starttls=(env.get("ENVMON_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
        )

    def senders(self, client: httpx.Client | None = None) -> dict[str, Sender]:
        """The configured channels; the webhook posts through ``client`` (one per run)."""
        out: dict[str, Sender] = {}
        if self.webhook_url:
            out["webhook"] = lambda body: self._post(client or httpx.Client(timeout=10, verify=_tls()), body)
        if self.smtp_host and self.email_to:
            out["email"] = self._mail
        return out

    def _post(self, client: httpx.Client, payload: dict[str, Any]) -> str:
        response = client.post(self.webhook_url, content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                               headers={"Content-Type": "application/json; charset=utf-8"})
        response.raise_for_status()
        return f"HTTP {response.status_code}"

    def _mail(self, payload: dict[str, Any]) -> str:
        msg = EmailMessage()
        msg["Subject"] = payload["subject_line"]
        msg["From"] = self.smtp_from
        msg["To"] = ", ".join(self.email_to)
        msg.set_content(payload["text"] + "\n\n" + payload["footer"], charset="utf-8")
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=10) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(msg)
        return f"sent to {len(self.email_to)}"


@dataclass(frozen=True)
class NotifyReport:
    sent: int
    failed: int
    no_channel: int

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "no_channel": self.no_channel}


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def payload(incident: dict[str, Any], event: str) -> dict[str, Any]:
    """What every channel sends: the Chinese text first, then the fields a receiver can route on."""
    rule = BY_CODE.get(incident["rule_code"])
    text = incident["resolved_message_zh"] if event == "resolved" else incident["message_zh"]
    title = rule.title_zh if rule else incident["rule_code"]
    state = "已恢复" if event == "resolved" else SEVERITY_ZH.get(incident["severity"], incident["severity"])
    return {
        "event": event,
        "text": text,
        "subject_line": f"[乐山生态环境监测][{state}] {title}：{incident['subject'].split('/')[0]}",
        "footer": f"规则：{title}（{incident['rule_code']}）；领域：{DOMAINS_ZH.get(rule.domain, '') if rule else ''}；"
                  f"编号：{incident['incident_id']}；去重键：{incident['dedupe_key']}",
        "incident_id": incident["incident_id"],
        "rule": incident["rule_code"],
        "title": title,
        "severity": incident["severity"],
        "dedupe_key": incident["dedupe_key"],
        "subject": incident["subject"],
        "first_seen": _iso(incident["first_seen"]),
        "last_seen": _iso(incident["last_seen"]),
        "resolved_at": _iso(incident["resolved_at"]),
        "details": incident["details"],
    }


def _pending(conn: psycopg.Connection) -> list[tuple[dict[str, Any], str]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute("""
            SELECT * FROM ops.alert_incident
            WHERE notified_open_at IS NULL OR (resolved_at IS NOT NULL AND notified_resolved_at IS NULL)
            ORDER BY first_seen, incident_id""").fetchall()
    out = []
    for row in rows:
        if row["notified_open_at"] is None:
            out.append((row, "open"))
        if row["resolved_at"] is not None and row["notified_resolved_at"] is None:
            out.append((row, "resolved"))
    return out


def notify_pending(conn: psycopg.Connection, channels: Channels | None = None) -> NotifyReport:
    """Send every pending event on every configured channel; record the outcome per channel."""
    # One notifier at a time (two DAGs may finish together): the other one leaves it to this one.
    if not conn.execute("SELECT pg_try_advisory_lock(hashtext('envmon.alerts.notify'))").fetchone()[0]:
        return NotifyReport(0, 0, 0)
    try:
        pending = _pending(conn)
        if not pending:
            return NotifyReport(0, 0, 0)
        with httpx.Client(timeout=10, verify=_tls()) as client:
            return _send(conn, pending, (channels or Channels.from_env()).senders(client))
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext('envmon.alerts.notify'))")
        conn.commit()


@cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle costs ~40 ms each time)."""
    return ssl.create_default_context()


def _send(conn: psycopg.Connection, pending: list[tuple[dict[str, Any], str]],
          senders: dict[str, Sender]) -> NotifyReport:
    sent = failed = none = 0
    for incident, event in pending:
        outcomes = dict((incident["channels"] or {}).get(event, {}))
        now = dt.datetime.now(dt.UTC)
        if not senders:
            outcomes = {"none": "no channel configured"}
            none += 1
        body = payload(incident, event)
        for name, send in senders.items():
            if str(outcomes.get(name, "")).startswith("ok"):
                continue  # this channel already has it
            try:
                outcomes[name] = f"ok {send(body)} at {now.isoformat()}"
                sent += 1
            except Exception as exc:  # a channel down must not stop the others or the pipeline
                outcomes[name] = f"error {type(exc).__name__}: {exc}"[:500]
                failed += 1
        done = not senders or all(str(outcomes.get(n, "")).startswith("ok") for n in senders)
        column = sql.Identifier("notified_resolved_at" if event == "resolved" else "notified_open_at")
        with conn.transaction():
            conn.execute(sql.SQL("""UPDATE ops.alert_incident
                                    SET channels = jsonb_set(channels, ARRAY[%s], %s::jsonb),
                                        {column} = CASE WHEN %s THEN %s ELSE {column} END
                                    WHERE incident_id = %s""").format(column=column),
                         (event, json.dumps(outcomes, ensure_ascii=False), done, now, incident["incident_id"]))
    return NotifyReport(sent, failed, none)
