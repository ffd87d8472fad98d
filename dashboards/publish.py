"""Publish the built Grafana tree to a running Grafana through its HTTP API (grafana-client).

    envmon dashboards publish --url https://grafana.example --token TOKEN   (or ENVMON_GRAFANA_TOKEN)

For a Grafana that is not provisioned from files (docker-compose mounts the files instead). Pushes,
in order: the folders, the warehouse datasource (read-only role; user and password from the
environment, never from the repository), the dashboards, and — when the built tree has
``provisioning/alerting/*.yaml`` (Grafana's file-provisioning format) — contact points, alert
rules (with their group's evaluation interval) and the notification policy tree, converted to the
alerting provisioning HTTP API.

Idempotent: every object is read first (GET) and written (POST/PUT) only when what we would send
differs from what Grafana holds, comparing the fields we send (Grafana adds ids, versions, …).
Secrets cannot be compared (Grafana never returns them): a datasource whose password is already
set is not rewritten for the password alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.build import DEFAULT_OUT, provisioning_dashboards, provisioning_datasources

TOKEN_ENV = "ENVMON_GRAFANA_TOKEN"
#: The read-only database role Grafana connects as (docker-compose creates it).
READER_USER_ENV = "GRAFANA_READER_USER"
READER_PASSWORD_ENV = "GRAFANA_READER_PASSWORD"
#: host:port of the warehouse as Grafana's server reaches it (default: the docker-compose service).
READER_URL_ENV = "GRAFANA_READER_URL"
#: Folder of the dashboards: title from the file provider, a fixed uid.
DASHBOARD_FOLDER_UID = "envmon"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class PublishError(RuntimeError):
    """Something in the built tree or the environment prevents publishing."""


@dataclass
class PublishReport:
    """What publish did, per kind of object: created / updated / unchanged counts."""

    counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())

    def lines(self) -> list[str]:
        return [f"{kind}: created {c['created']}, updated {c['updated']}, unchanged {c['unchanged']}"
                for kind, c in self.counts.items()]


def contains(wanted: Any, actual: Any) -> bool:
    """True when every field of ``wanted`` is in ``actual`` with the same value (recursively;
    lists element by element). Extra fields Grafana adds (ids, versions, provenance) are ignored."""
    if isinstance(wanted, dict):
        # Grafana omits empty fields in its answers: an empty value we send matches an absent one
        return isinstance(actual, dict) and all(
            contains(v, actual[k]) if k in actual else v in ({}, [], None, False, "") for k, v in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(actual, list) and len(wanted) == len(actual)
                and all(contains(w, a) for w, a in zip(wanted, actual, strict=True)))
    if isinstance(wanted, (int, float)) and isinstance(actual, (int, float)) and not isinstance(wanted, bool):
        return float(wanted) == float(actual)
    return wanted == actual


def _expand_env(value: Any, where: str) -> Any:
    """``$VAR`` / ``${VAR}`` from the environment, as Grafana's file provisioning does."""
    if isinstance(value, dict):
        return {k: _expand_env(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, where) for v in value]
    if isinstance(value, str) and "$" in value:
        def sub(m: re.Match) -> str:
            name = m.group(1) or m.group(2)
            if name not in os.environ:
                raise PublishError(f"{where}: environment variable {name} is not set")
            return os.environ[name]
        return _ENV_REF.sub(sub, value)
    return value


def folder_uid(title: str) -> str:
    """A stable folder uid for a folder title of the provisioning files."""
    if title == provisioning_dashboards()["providers"][0]["folder"]:
        return DASHBOARD_FOLDER_UID
    return "envmon-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]


def _duration_seconds(text: str | int) -> int:
    if isinstance(text, int):
        return text
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", text))


# --------------------------------------------------------------------------------------------- reading the tree

@dataclass
class Tree:
    """What the built tree asks Grafana to hold, already in the HTTP API's shapes."""

    folders: dict[str, str]  # uid → title
    datasource: dict
    dashboards: list[dict]
    contact_points: list[dict]
    rules: list[dict]
    groups: list[dict]  # {folderUid, title, interval}
    policies: dict | None


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def read_tree(tree: Path | str | None = None) -> Tree:
    """Read ``json/*.json`` and ``provisioning/`` of a built tree (default: the committed one)."""
    root = Path(tree) if tree is not None else DEFAULT_OUT
    title = provisioning_dashboards()["providers"][0]["folder"]
    folders = {DASHBOARD_FOLDER_UID: title}
    dashboards = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "json").glob("*.json"))]
    if not dashboards:
        raise PublishError(f"no dashboards under {root / 'json'}: run `envmon dashboards build` first")

    ds = dict(provisioning_datasources()["datasources"][0])
    ds.pop("editable", None)
    ds["user"] = os.environ.get(READER_USER_ENV, ds["user"])
    ds["url"] = os.environ.get(READER_URL_ENV, ds["url"])
    password = os.environ.get(READER_PASSWORD_ENV)
    ds.pop("secureJsonData", None)
    if password:
        ds["secureJsonData"] = {"password": password}

    contact_points: list[dict] = []
    rules: list[dict] = []
    groups: list[dict] = []
    policies = None
    for path in sorted((root / "provisioning" / "alerting").glob("*.yaml")):
        doc = _read_yaml(path)
        for cp in doc.get("contactPoints", []):
            for receiver in cp.get("receivers", []):
                contact_points.append(_expand_env({
                    "uid": receiver["uid"], "name": cp["name"], "type": receiver["type"],
                    "settings": receiver.get("settings", {}),
                    "disableResolveMessage": bool(receiver.get("disableResolveMessage", False))}, str(path)))
        for group in doc.get("groups", []):
            uid = folder_uid(group["folder"])
            folders.setdefault(uid, group["folder"])
            groups.append({"folderUid": uid, "title": group["name"],
                           "interval": _duration_seconds(group.get("interval", "1m"))})
            for rule in group.get("rules", []):
                body = {
                    "uid": rule["uid"], "title": rule["title"], "condition": rule["condition"],
                    "data": rule["data"], "folderUID": uid, "ruleGroup": group["name"],
                    "for": rule.get("for", "0s"), "noDataState": rule.get("noDataState", "NoData"),
                    "execErrState": rule.get("execErrState", "Error"), "orgID": group.get("orgId", 1),
                    "labels": rule.get("labels", {}), "annotations": rule.get("annotations", {}),
                    "isPaused": bool(rule.get("isPaused", False)),
                }
                if "notification_settings" in rule:
                    body["notification_settings"] = rule["notification_settings"]
                rules.append(body)
        for policy in doc.get("policies", []):
            policies = {k: v for k, v in policy.items() if k != "orgId"}
    return Tree(folders, ds, dashboards, contact_points, rules, groups, policies)


# --------------------------------------------------------------------------------------------- publishing

def _get(call, *args) -> Any | None:
    """GET through grafana-client; None when Grafana answers 404."""
    try:
        return call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def client(url: str, token: str | None = None) -> GrafanaApi:
    """A grafana-client API object for ``url`` with a service-account token (or ENVMON_GRAFANA_TOKEN)."""
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise PublishError(f"no Grafana token: pass --token or set {TOKEN_ENV}")
    return GrafanaApi.from_url(url, credential=token)


def publish(api: GrafanaApi, tree: Path | str | None = None) -> PublishReport:
    """Make Grafana hold what the built tree describes; write only what differs."""
    t = read_tree(tree)
    report = PublishReport()

    for uid, title in t.folders.items():
        current = _get(api.folder.get_folder, uid)
        if current is None:
            api.folder.create_folder(title, uid=uid)
            report.add("folders", "created")
        elif current.get("title") != title:
            api.folder.update_folder(uid, title=title, overwrite=True)
            report.add("folders", "updated")
        else:
            report.add("folders", "unchanged")

    ds = t.datasource
    current = _get(api.datasource.get_datasource_by_uid, ds["uid"])
    comparable = {k: v for k, v in ds.items() if k != "secureJsonData"}
    password_set = bool(current and (current.get("secureJsonFields") or {}).get("password"))
    if current is None:
        api.datasource.create_datasource(ds)
        report.add("datasources", "created")
    elif not contains(comparable, current) or ("secureJsonData" in ds and not password_set):
        api.datasource.update_datasource_by_uid(ds["uid"], ds)
        report.add("datasources", "updated")
    else:
        report.add("datasources", "unchanged")

    for dashboard in t.dashboards:
        current = _get(api.dashboard.get_dashboard, dashboard["uid"])
        in_folder = current is not None and current.get("meta", {}).get("folderUid") == DASHBOARD_FOLDER_UID
        wanted = {k: v for k, v in dashboard.items() if k not in ("id", "version")}
        if current is not None and in_folder and contains(wanted, current.get("dashboard", {})):
            report.add("dashboards", "unchanged")
            continue
        api.dashboard.update_dashboard({"dashboard": {**wanted, "id": None}, "folderUid": DASHBOARD_FOLDER_UID,
                                        "overwrite": True, "message": "envmon dashboards publish"})
        report.add("dashboards", "created" if current is None else "updated")

    if t.contact_points:
        existing = {cp.get("uid"): cp for cp in api.alertingprovisioning.get_contactpoints() or []}
        for cp in t.contact_points:
            current = existing.get(cp["uid"])
            if current is None:
                api.alertingprovisioning.create_contactpoint(cp)
                report.add("contact points", "created")
            elif not contains(cp, current):
                api.alertingprovisioning.update_contactpoint(cp["uid"], cp)
                report.add("contact points", "updated")
            else:
                report.add("contact points", "unchanged")

    for rule in t.rules:
        current = _get(api.alertingprovisioning.get_alertrule, rule["uid"])
        if current is None:
            api.alertingprovisioning.create_alertrule(rule)
            report.add("alert rules", "created")
        elif not contains(rule, current):
            api.alertingprovisioning.update_alertrule(rule["uid"], rule)
            report.add("alert rules", "updated")
        else:
            report.add("alert rules", "unchanged")

    for group in t.groups:
        current = _get(api.alertingprovisioning.get_rule_group, group["folderUid"], group["title"])
        if current is not None and current.get("interval") == group["interval"]:
            report.add("rule groups", "unchanged")
            continue
        # the rule-group endpoint sets the evaluation interval; it carries the group's rules as they are
        rules = [r for r in t.rules if r["folderUID"] == group["folderUid"] and r["ruleGroup"] == group["title"]]
        body = {**group, "rules": (current or {}).get("rules") or rules}
        api.alertingprovisioning.update_rule_group(group["folderUid"], group["title"], body)
        report.add("rule groups", "updated")

    if t.policies is not None:
        current = api.alertingprovisioning.get_notification_policy_tree()
        if contains(t.policies, current):
            report.add("notification policies", "unchanged")
        else:
            api.alertingprovisioning.set_notification_policy_tree(t.policies)
            report.add("notification policies", "updated")
    return report
