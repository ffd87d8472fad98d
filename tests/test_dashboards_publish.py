"""``envmon dashboards publish`` against a STAND-IN for Grafana's HTTP API.

No Grafana server exists on this machine (and none may be downloaded), so these tests run a small
in-memory imitation of the endpoints publish uses (http.server in a thread). It is a mock of a
remote service, nothing more: it checks each request's method, path, bearer token and body shape
against Grafana's documented HTTP API — folders (POST /api/folders needs ``title``), data sources
(POST /api/datasources needs ``name``, ``type``, ``access``; secrets only in ``secureJsonData``,
never returned), dashboards (POST /api/dashboards/db with ``dashboard``, ``folderUid``,
``overwrite``), and the alerting provisioning API (alert rules need ``title``, ``condition``,
``data``, ``folderUID``, ``ruleGroup``, ``for``, ``noDataState``, ``execErrState``, ``orgID``;
contact points need ``type`` and ``settings``; the policy tree needs a known ``receiver``).
What a real Grafana does beyond that (evaluating rules, rendering) is not imitated.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import pytest

from dashboards import build as dbuild
from dashboards import publish as dpublish

TOKEN = "test-token"
RULE_FIELDS = {"title", "condition", "data", "folderUID", "ruleGroup", "for", "noDataState", "execErrState",
               "orgID"}
NO_DATA_STATES = {"OK", "Alerting", "NoData", "KeepLast"}
EXEC_ERR_STATES = {"OK", "Alerting", "Error", "KeepLast"}


class FakeGrafana:
    """In-memory state of the stand-in and the log of every request it received."""

    def __init__(self) -> None:
        self.folders: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {}
        self.passwords: dict[str, str] = {}
        self.dashboards: dict[str, dict] = {}
        self.contact_points: dict[str, dict] = {}
        self.rules: dict[str, dict] = {}
        self.intervals: dict[tuple[str, str], int] = {}
        self.policies: dict = {"receiver": "grafana-default-email", "group_by": ["grafana_folder", "alertname"]}
        self.log: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._next_id = 1

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def writes(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if entry[0] != "GET"]


def _check(fake: FakeGrafana, ok: bool, message: str) -> None:
    if not ok:
        fake.errors.append(message)
        raise ValueError(message)


def _handler(fake: FakeGrafana):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            _check(fake, self.headers.get("Content-Type", "").startswith("application/json"),
                   f"{self.command} {self.path}: Content-Type is not JSON")
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self) -> None:
            path = unquote(urlparse(self.path).path)
            fake.log.append((self.command, path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                fake.errors.append(f"{self.command} {path}: missing or wrong bearer token")
                return self._send(401, {"message": "Unauthorized"})
            try:
                status, body = route(fake, self.command, path, self._body() if self.command in ("POST", "PUT")
                                     else None)
            except ValueError as exc:
                status, body = 400, {"message": str(exc)}
            except KeyError as exc:
                status, body = 404, {"message": f"not found: {exc}"}
            self._send(status, body)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


def route(fake: FakeGrafana, method: str, path: str, body: dict | None) -> tuple[int, object]:
    parts = path.strip("/").split("/")
    where = f"{method} {path}"
    # ---- folders: GET /api/folders/:uid, POST /api/folders, PUT /api/folders/:uid
    if parts[:2] == ["api", "folders"]:
        if method == "POST" and len(parts) == 2:
            _check(fake, isinstance(body.get("title"), str) and body["title"], f"{where}: folder needs a title")
            _check(fake, body.get("uid") not in fake.folders, f"{where}: folder exists")
            fake.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": fake.new_id()}
            return 200, fake.folders[body["uid"]]
        if method == "GET" and len(parts) == 3:
            return 200, fake.folders[parts[2]]
        if method == "PUT" and len(parts) == 3:
            _check(fake, "title" in body and ("version" in body or body.get("overwrite")), f"{where}: body")
            fake.folders[parts[2]]["title"] = body["title"]
            return 200, fake.folders[parts[2]]
    # ---- data sources: GET/PUT /api/datasources/uid/:uid, POST /api/datasources
    if parts[:2] == ["api", "datasources"]:
        if method in ("POST", "PUT"):
            _check(fake, {"name", "type", "access"} <= set(body), f"{where}: name, type and access are required")
            _check(fake, "password" not in body and "basicAuthPassword" not in body,
                   f"{where}: a password outside secureJsonData")
            _check(fake, isinstance(body.get("jsonData", {}), dict), f"{where}: jsonData is an object")
        if method == "POST" and len(parts) == 2:
            _check(fake, body.get("uid") not in fake.datasources, f"{where}: data source exists")
            return 200, _store_datasource(fake, body)
        if len(parts) == 4 and parts[2] == "uid":
            if method == "GET":
                stored = fake.datasources[parts[3]]
                return 200, {**stored, "secureJsonFields": {"password": parts[3] in fake.passwords}}
            if method == "PUT":
                _check(fake, parts[3] in fake.datasources and body.get("uid", parts[3]) == parts[3],
                       f"{where}: unknown data source")
                return 200, {"datasource": _store_datasource(fake, body)}
    # ---- dashboards: GET /api/dashboards/uid/:uid, POST /api/dashboards/db
    if parts[:3] == ["api", "dashboards", "uid"] and method == "GET" and len(parts) == 4:
        return 200, fake.dashboards[parts[3]]
    if parts == ["api", "dashboards", "db"] and method == "POST":
        dashboard = body.get("dashboard")
        _check(fake, isinstance(dashboard, dict) and dashboard.get("title") and dashboard.get("uid"),
               f"{where}: dashboard with title and uid required")
        _check(fake, body.get("folderUid") in fake.folders, f"{where}: folderUid of an existing folder")
        _check(fake, isinstance(body.get("overwrite"), bool), f"{where}: overwrite is a boolean")
        old = fake.dashboards.get(dashboard["uid"])
        version = (old["dashboard"]["version"] + 1) if old else 1
        stored = {**dashboard, "id": old["dashboard"]["id"] if old else fake.new_id(), "version": version}
        fake.dashboards[dashboard["uid"]] = {"dashboard": stored, "meta": {"folderUid": body["folderUid"]}}
        return 200, {"id": stored["id"], "uid": stored["uid"], "status": "success", "version": version,
                     "url": f"/d/{stored['uid']}"}
    # ---- alerting provisioning
    if parts[:3] == ["api", "v1", "provisioning"]:
        return _provisioning(fake, method, parts[3:], body, where)
    raise KeyError(where)


def _store_datasource(fake: FakeGrafana, body: dict) -> dict:
    body = dict(body)
    secure = body.pop("secureJsonData", None) or {}
    if "password" in secure:
        fake.passwords[body["uid"]] = secure["password"]
    old = fake.datasources.get(body["uid"])
    fake.datasources[body["uid"]] = {**body, "id": old["id"] if old else fake.new_id(), "readOnly": False}
    return fake.datasources[body["uid"]]


def _provisioning(fake: FakeGrafana, method: str, rest: list[str], body: dict | None, where: str):
    if rest[0] == "contact-points":
        if method == "GET" and len(rest) == 1:
            return 200, list(fake.contact_points.values())
        if method in ("POST", "PUT"):
            _check(fake, isinstance(body.get("type"), str) and isinstance(body.get("settings"), dict),
                   f"{where}: contact point needs type and settings")
            _check(fake, all("$" not in str(v) for v in body["settings"].values()),
                   f"{where}: unexpanded ${{VAR}} in settings")
            uid = body.get("uid") if method == "POST" else rest[1]
            _check(fake, (uid in fake.contact_points) == (method == "PUT"), f"{where}: create vs update")
            fake.contact_points[uid] = {**body, "uid": uid}
            return (202 if method == "POST" else 202), fake.contact_points[uid]
    if rest[0] == "alert-rules":
        if method == "GET" and len(rest) == 2:
            return 200, fake.rules[rest[1]]
        if method in ("POST", "PUT"):
            missing = RULE_FIELDS - set(body)
            _check(fake, not missing, f"{where}: alert rule lacks {sorted(missing)}")
            _check(fake, body["folderUID"] in fake.folders, f"{where}: folderUID of an existing folder")
            _check(fake, body["noDataState"] in NO_DATA_STATES and body["execErrState"] in EXEC_ERR_STATES,
                   f"{where}: state enums")
            _check(fake, isinstance(body["data"], list) and body["data"] and all(
                {"refId", "datasourceUid", "model", "relativeTimeRange"} <= set(q) for q in body["data"]),
                f"{where}: data queries")
            _check(fake, any(q["refId"] == body["condition"] for q in body["data"]), f"{where}: condition refId")
            uid = body.get("uid") if method == "POST" else rest[1]
            _check(fake, (uid in fake.rules) == (method == "PUT"), f"{where}: create vs update")
            fake.rules[uid] = {**body, "uid": uid, "id": fake.new_id(), "provenance": "api",
                               "updated": "2026-01-01T00:00:00Z"}
            fake.intervals.setdefault((body["folderUID"], body["ruleGroup"]), 60)
            return (201 if method == "POST" else 200), fake.rules[uid]
    if rest[0] == "folder" and len(rest) == 4 and rest[2] == "rule-groups":
        key = (rest[1], rest[3])
        if method == "GET":
            rules = [r for r in fake.rules.values() if (r["folderUID"], r["ruleGroup"]) == key]
            if not rules:
                raise KeyError(where)
            return 200, {"title": rest[3], "folderUid": rest[1], "interval": fake.intervals[key], "rules": rules}
        if method == "PUT":
            _check(fake, isinstance(body.get("interval"), int) and body["interval"] > 0 and body["interval"] % 10 == 0,
                   f"{where}: interval in seconds, a multiple of 10")
            _check(fake, body.get("title") == rest[3] and body.get("folderUid") == rest[1] and body.get("rules"),
                   f"{where}: group body")
            fake.intervals[key] = body["interval"]
            return 200, body
    if rest == ["policies"]:
        if method == "GET":
            return 200, fake.policies
        if method == "PUT":
            names = {cp.get("name") for cp in fake.contact_points.values()}

            def receivers(route: dict):
                yield route.get("receiver")
                for sub in route.get("routes", []):
                    yield from receivers(sub)
            _check(fake, body.get("receiver") and set(receivers(body)) <= names, f"{where}: unknown receiver")
            fake.policies = body
            return 202, {"message": "policies updated"}
    raise KeyError(where)


@pytest.fixture
def grafana():
    fake = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAFANA_READER_PASSWORD", "reader-secret")
    monkeypatch.setenv("ENVMON_ALERT_WEBHOOK_URL", "https://hooks.example/envmon")
    monkeypatch.setenv("ENVMON_ALERT_EMAIL_TO", "duty@example.org")
    dbuild.build(tmp_path)
    return tmp_path


def test_publish_creates_everything_then_changes_nothing(grafana, tree):
    fake, url = grafana
    expected = dpublish.read_tree(tree)
    api = dpublish.client(url, TOKEN)

    first = dpublish.publish(api, tree)
    assert fake.errors == []
    assert first.total("unchanged") == 0
    assert first.counts["dashboards"]["created"] == 5 == len(fake.dashboards)
    assert first.counts["datasources"]["created"] == 1
    assert set(fake.folders) == set(expected.folders) and "envmon" in fake.folders
    assert {d["meta"]["folderUid"] for d in fake.dashboards.values()} == {"envmon"}
    # the datasource: the read-only role, the password from the environment in secureJsonData only
    ds = fake.datasources["envmon-warehouse"]
    assert ds["user"] == "grafana_reader" and ds["type"] == "grafana-postgresql-datasource"
    assert fake.passwords == {"envmon-warehouse": "reader-secret"}
    # alerting, when the built tree has it: every rule, contact point and the policy tree
    assert len(fake.rules) == len(expected.rules) and expected.rules
    assert first.counts["alert rules"]["created"] == len(expected.rules)
    assert {cp["settings"].get("url") for cp in fake.contact_points.values()} >= {"https://hooks.example/envmon"}
    assert fake.policies["receiver"] == expected.policies["receiver"]
    assert all(fake.intervals[(g["folderUid"], g["title"])] == g["interval"] for g in expected.groups)

    writes_before = len(fake.writes())
    second = dpublish.publish(api, tree)
    assert fake.errors == []
    assert len(fake.writes()) == writes_before  # GETs only
    assert second.total("created") == 0 and second.total("updated") == 0
    assert second.total("unchanged") == first.total("created") + first.total("updated")


def test_a_modified_dashboard_is_the_one_update(grafana, tree):
    fake, url = grafana
    api = dpublish.client(url, TOKEN)
    dpublish.publish(api, tree)
    path = tree / "json" / "envmon-water.json"
    board = json.loads(path.read_text(encoding="utf-8"))
    board["panels"][0]["title"] = "断面水质类别地图（已修改）"
    path.write_text(json.dumps(board, ensure_ascii=False), encoding="utf-8")

    writes_before = len(fake.writes())
    report = dpublish.publish(api, tree)
    assert fake.errors == []
    assert fake.writes()[writes_before:] == [("POST", "/api/dashboards/db")]
    assert report.counts["dashboards"]["updated"] == 1 and report.total("updated") == 1
    assert report.total("created") == 0
    assert fake.dashboards["envmon-water"]["dashboard"]["panels"][0]["title"] == "断面水质类别地图（已修改）"
    assert fake.dashboards["envmon-water"]["dashboard"]["version"] == 2


def test_cli_takes_the_token_from_the_environment(grafana, tree, monkeypatch, capsys):
    from envmon.cli import main

    fake, url = grafana
    monkeypatch.setenv("ENVMON_GRAFANA_TOKEN", TOKEN)
    assert main(["dashboards", "publish", "--url", url, "--tree", str(tree)]) == 0
    assert fake.errors == [] and len(fake.dashboards) == 5
    assert "dashboards: created 5, updated 0, unchanged 0" in capsys.readouterr().out


def test_no_token_no_request(grafana, tree, monkeypatch):
    fake, url = grafana
    monkeypatch.delenv("ENVMON_GRAFANA_TOKEN", raising=False)
    with pytest.raises(dpublish.PublishError, match="ENVMON_GRAFANA_TOKEN"):
        dpublish.client(url)
    assert fake.log == []


def test_missing_environment_for_a_contact_point_is_an_error(tree, monkeypatch):
    monkeypatch.delenv("ENVMON_ALERT_WEBHOOK_URL")
    with pytest.raises(dpublish.PublishError, match="ENVMON_ALERT_WEBHOOK_URL"):
        dpublish.read_tree(tree)
