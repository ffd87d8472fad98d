"""Alerts on the real data: replaying the Leshan water archive and the January 2022 air archive in
time order opens and resolves exactly the incidents an independent reading of the raw files gives,
each notified once on opening and once on resolution.

Real parts: PostgreSQL/TimescaleDB, the pipeline loads, the webhook (a real HTTP server on
localhost records the POSTs). The one stand-in is the mail server — none runs here — replaced by
a minimal SMTP responder on a local socket that the real ``smtplib`` talks the SMTP protocol to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import glob
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import psycopg
import pytest

from alerts import rules as R
from alerts.evaluate import evaluate, incidents, run_rule
from alerts.notify import Channels, notify_pending
from envmon import localcluster
from pipeline import runs
from tests.conftest import BUNDLED_DATA
from warehouse.db import connect

BEIJING = "Asia/Shanghai"
WATER_FILE = BUNDLED_DATA / "water" / "cnemc_water_auto_leshan_2021-2022.csv"
WATER_RULES = tuple(r for r in R.RULES if r.domain == "water")
AIR_RULES = tuple(r for r in R.RULES if r.domain == "air")

# GB 3838-2002 Table 1, class III limits of the five automatic items (river), written out here so
# the expected incidents do not come from the code under test.
PH_RANGE, DO_MIN, CODMN_MAX, NH3N_MAX, TP_MAX = (6.0, 9.0), 5.0, 6.0, 1.0, 0.2
RAW_ITEMS = {"ph": "pH(无量纲)", "do": "溶解氧(mg/L)", "codmn": "高锰酸盐指数(mg/L)", "nh3n": "氨氮(mg/L)",
             "tp": "总磷(mg/L)"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def loaded(cluster) -> str:
    """The whole water archive and January 2022 of the city air archive, indicators computed."""
    url = localcluster.create_database("t_alerts_real", cluster, drop_first=True)
    runs.prepare_with_stations(BUNDLED_DATA, url)
    water = runs.load_source(runs.WATER_SOURCES, "auto_archive", BUNDLED_DATA, "t-alerts", url)
    air = runs.load_source(runs.AIR_SOURCES, "city_archive", BUNDLED_DATA, "t-alerts", url, "2022-01-01", "2022-01-31")
    assert len(air) == 31 and all(r["status"] == "loaded" for r in water + air)
    runs.refresh_indicators(url)
    return url


class Receiver:
    """A real HTTP server on localhost recording the webhook POSTs (``fail_first`` answer 500)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[dict] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self.send_response(500)
                else:
                    outer.posts.append(json.loads(body.decode("utf-8")))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpStandIn:
    """Minimal SMTP responder (EHLO/MAIL/RCPT/DATA/QUIT) on localhost: no mail server runs here."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 localhost ESMTP stand-in\r\n")
                while line := self.rfile.readline():
                    verb = line.strip().split(b" ")[0].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250 localhost\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) != b".\r\n":
                            data += chunk
                        outer.messages.append(data)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _reset(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM ops.alert_incident")
    conn.commit()


def _episodes(times: list[pd.Timestamp], firing) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    """(open, resolve) times of a condition evaluated at ``times``: firing(t) → True/False/None."""
    out, opened = [], None
    for t in times:
        state = firing(t)
        if state and opened is None:
            opened = t
        elif state is False and opened is not None:
            out.append((opened, t))
            opened = None
    if opened is not None:
        out.append((opened, None))
    return out


def _raw_water() -> pd.DataFrame:
    """The archive as published: time, section, the five items, judged (station normal, all five)."""
    raw = pd.read_csv(WATER_FILE, dtype=str)
    frame = pd.DataFrame({"section": raw["断面名称"],
                          "t": pd.to_datetime(raw["monitor_datetime"]).dt.tz_localize(BEIJING)})
    for item, column in RAW_ITEMS.items():
        frame[item] = pd.to_numeric(raw[column], errors="coerce")
    frame["normal"] = raw["站点情况"].eq("正常")
    frame = frame.drop_duplicates(["section", "t"], keep="last").sort_values(["section", "t"])
    frame["judged"] = frame["normal"] & frame[list(RAW_ITEMS)].notna().all(axis=1)
    frame["worse_than_iii"] = ((frame["ph"] < PH_RANGE[0]) | (frame["ph"] > PH_RANGE[1]) | (frame["do"] < DO_MIN)
                               | (frame["codmn"] > CODMN_MAX) | (frame["nh3n"] > NH3N_MAX) | (frame["tp"] > TP_MAX))
    return frame


def _stored(conn: psycopg.Connection, rule: str) -> list[tuple]:
    return [(r["subject"], pd.Timestamp(r["first_seen"]), r["resolved_at"] and pd.Timestamp(r["resolved_at"]))
            for r in sorted(incidents(conn), key=lambda r: (r["subject"], r["first_seen"])) if r["rule_code"] == rule]


def _expected(sections: dict[str, pd.DataFrame], times: list[pd.Timestamp], firing) -> list[tuple]:
    out = []
    for section, frame in sorted(sections.items()):
        out += [(section, a, b) for a, b in _episodes(times, lambda t, f=frame: firing(f, t))]
    return out


# --------------------------------------------------------------------------- water


def test_water_replay_opens_and_resolves_the_real_episodes_and_notifies_each_once(loaded):
    raw = _raw_water()
    sections = {s: f.reset_index(drop=True) for s, f in raw.groupby("section")}
    times = sorted(raw["t"].unique())

    hook, smtp = Receiver(fail_first=1), SmtpStandIn()
    channels = Channels(webhook_url=hook.url, smtp_host="127.0.0.1", smtp_port=smtp.port,
                        email_to=("duty@leshan.example",))
    try:
        with connect(loaded) as conn:
            _reset(conn)
            conn.execute("SET synchronous_commit = off")  # test speed: 1,200 small commits on a scratch db
            assert sorted(pd.Timestamp(t) for (t,) in conn.execute(
                "SELECT DISTINCT observed_at FROM derived.water_sample_class")) == times
            for t in times:  # the pipeline's order: evaluate after each load, then notify
                evaluate(conn, t.to_pydatetime(), rules=WATER_RULES)
                notify_pending(conn, channels)

            # 1. class of the latest judged sample worse than III (every section's target is III)
            def worse(frame: pd.DataFrame, t) -> bool | None:
                judged = frame[frame["judged"] & (frame["t"] <= t)]
                return None if judged.empty else bool(judged["worse_than_iii"].iloc[-1])

            expected = _expected(sections, times, worse)
            assert _stored(conn, "water_sample_class") == expected
            assert {s for s, *_ in expected} == {"姜公堰", "悦来渡口", "月波", "李码头", "马边河河口"}
            assert len(expected) == 13 and all(b is not None for *_, b in expected)
            yuelai = [(a, b) for s, a, b in expected if s == "悦来渡口"]
            assert yuelai[0][0] == pd.Timestamp("2022-07-28 04:00", tz=BEIJING)

            # 2. silent: no sample for more than 24 hours
            def silent(frame: pd.DataFrame, t) -> bool | None:
                seen = frame[frame["t"] <= t]
                return None if seen.empty else bool(t - seen["t"].iloc[-1] > pd.Timedelta(hours=24))

            assert _stored(conn, "water_silent") == _expected(sections, times, silent)

            # 3. the previous Beijing day has fewer than 3 judged samples (a day without any: 0)
            def thin(frame: pd.DataFrame, t) -> bool | None:
                if not (frame["t"] <= t).any():
                    return None
                day = (t - pd.Timedelta(days=1)).date()
                return int((frame["judged"] & (frame["t"].dt.date == day)).sum()) < 3

            assert _stored(conn, "water_day_insufficient") == _expected(sections, times, thin)

            # 4. monthly class: every judged month of the archive meets class III → no incident
            assert _stored(conn, "water_month_class") == []
            assert conn.execute("""SELECT count(*) FROM derived.water_section_month
                                   WHERE status = 'ok' AND source = 'automatic'""").fetchone()[0] > 30

            # Messages name section, class, target, deciding pollutant and multiple.
            first = next(r for r in incidents(conn) if r["rule_code"] == "water_sample_class"
                         and r["subject"] == "悦来渡口" and r["first_seen"] == yuelai[0][0])
            assert first["message_zh"].startswith("【水质超标】悦来渡口断面（岷江）2022-07-28 04:00自动监测水质为Ⅳ类，"
                                                  "劣于目标Ⅲ类；主要污染指标：高锰酸盐指数(0.11)")
            assert "水质恢复" in first["resolved_message_zh"] and "已达到目标Ⅲ类" in first["resolved_message_zh"]
            # CODMn of that sample, multiple over class III computed here: (C − 6)/6
            codmn = sections["悦来渡口"].set_index("t").loc[yuelai[0][0], "codmn"]
            assert round((codmn - CODMN_MAX) / CODMN_MAX, 2) == 0.11

            # Every open and every resolution notified exactly once on each channel, despite the
            # webhook failing once (retried on the next run) and 1,200 evaluations.
            rows = incidents(conn)
            events = [(r["incident_id"], "open") for r in rows] + \
                     [(r["incident_id"], "resolved") for r in rows if r["resolved_at"] is not None]
            posted = [(p["incident_id"], p["event"]) for p in hook.posts]
            assert sorted(posted) == sorted(events) and len(set(posted)) == len(posted)
            assert len(smtp.messages) == len(events)
            assert all(r["notified_open_at"] is not None for r in rows)
            assert any("error" in json.dumps(r["channels"]) for r in rows) is False  # retried to ok
            post = next(p for p in hook.posts if p["incident_id"] == first["incident_id"] and p["event"] == "open")
            assert post["text"] == first["message_zh"] and post["severity"] == "warning"
            assert post["details"]["main_pollutants"] == "高锰酸盐指数(0.11)"
            mails = [email.message_from_bytes(m, policy=email.policy.default) for m in smtp.messages]
            mail = next(m for m in mails if first["message_zh"] in m.get_content())
            assert mail["Subject"] == "[乐山生态环境监测][警告] 断面水质劣于目标（自动监测最新样品）：悦来渡口"

            # Repeating the last evaluation and the notifier changes nothing.
            before = conn.execute("SELECT * FROM ops.alert_incident ORDER BY incident_id").fetchall()
            report = evaluate(conn, times[-1].to_pydatetime(), rules=WATER_RULES)
            assert (report.opened, report.updated, report.resolved) == (0, 0, 0)
            assert notify_pending(conn, channels).sent == 0
            assert conn.execute("SELECT * FROM ops.alert_incident ORDER BY incident_id").fetchall() == before
            n_posts = len(hook.posts)
    finally:
        hook.close()
        smtp.close()
    assert n_posts == len(events)


def test_silent_sections_get_an_explicit_no_data_incident_and_no_channel_is_recorded(loaded):
    with connect(loaded) as conn:
        _reset(conn)
        last = conn.execute("SELECT max(observed_at) FROM derived.water_sample_class").fetchone()[0]
        evaluate(conn, last, rules=(R.WATER_SILENT,))
        assert _stored(conn, "water_silent") == [("木城镇", pd.Timestamp(last), None)]  # silent since 12-29 08:00
        later = last + dt.timedelta(hours=30)
        evaluate(conn, later, rules=(R.WATER_SILENT,))
        open_ = {r["subject"]: r for r in incidents(conn, open_only=True)}
        assert set(open_) == {"姜公堰", "悦来渡口", "月波", "木城镇", "李码头", "马边河河口"}
        assert open_["姜公堰"]["message_zh"] == \
            "【数据中断】姜公堰断面自动站自2022-12-31 20:00起无监测数据（已30小时，阈值24小时）。"
        # the manual sections (no automatic sample ever) are not reported silent
        assert "马鞍山" not in open_ and "河口渡口" not in open_
        report = notify_pending(conn, Channels())
        assert (report.sent, report.no_channel) == (0, 6)
        assert all(r["channels"] == {"open": {"none": "no channel configured"}} and r["notified_open_at"]
                   for r in incidents(conn))
        assert notify_pending(conn, Channels()).no_channel == 0


def test_an_automatic_section_that_never_reported_is_silent_and_a_manual_one_is_not(loaded):
    """config/sections.yaml says which sections have an automatic station (registry.site.monitoring):
    one that never sent a sample is silent since the city's automatic monitoring began."""
    from alerts.evaluate import message
    from warehouse.registry import upsert_sites

    with connect(loaded, autocommit=False) as conn:  # the extra sections are rolled back
        upsert_sites(conn, pd.DataFrame([
            {"code": "新站断面", "kind": "water_section", "name_zh": "新站断面", "city": "乐山", "river": "岷江",
             "water_body": "river", "target_class": 3, "monitoring": "automatic"},
            {"code": "新手工断面", "kind": "water_section", "name_zh": "新手工断面", "city": "乐山", "river": "岷江",
             "water_body": "river", "target_class": 3, "monitoring": "manual"},
            {"code": "晚建断面", "kind": "water_section", "name_zh": "晚建断面", "city": "乐山", "river": "岷江",
             "water_body": "river", "target_class": 3, "monitoring": "automatic", "active_from": dt.date(2022, 12, 31)},
        ]), config_source="test")
        first = conn.execute("SELECT min(observed_at) FROM derived.water_sample_class").fetchone()[0]
        as_of = first + dt.timedelta(hours=30)
        rows = {r["subject"]: r for r in run_rule(conn, R.WATER_SILENT, as_of)}
        assert "新手工断面" not in rows and "马鞍山" not in rows and "河口渡口" not in rows
        assert "晚建断面" not in rows  # not active yet: no silence to speak of
        new = rows["新站断面"]
        assert new["firing"] and new["data_time"] == first and new["value"] == 30.0
        assert message(R.WATER_SILENT, new) == (
            f"【数据中断】新站断面断面自动站自{first.astimezone(dt.timezone(dt.timedelta(hours=8))):%Y-%m-%d %H:%M}"
            "起无监测数据（该断面从未上报过样品）（已30小时，阈值24小时）。")
        # 20 hours into the section's active period: not yet silent for 24 hours
        late = dt.datetime(2022, 12, 31, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        rows = {r["subject"]: r for r in run_rule(conn, R.WATER_SILENT, late)}
        assert rows["晚建断面"]["firing"] is False and rows["晚建断面"]["value"] == 20.0
        assert rows["新站断面"]["firing"] is True
        conn.rollback()


# --------------------------------------------------------------------------- air


def _published_aqi() -> pd.Series:
    """乐山's published hourly AQI of January 2022 (archive hour h of a date = h:00 Beijing)."""
    frames = []
    for path in sorted(glob.glob(str(BUNDLED_DATA / "air" / "china_cities_leshan_2022" / "*202201*.csv"))):
        frame = pd.read_csv(path)
        frames.append(frame[frame["type"] == "AQI"])
    frame = pd.concat(frames)
    t = (pd.to_datetime(frame["date"].astype(str)) + pd.to_timedelta(frame["hour"], unit="h")).dt.tz_localize(BEIJING)
    return pd.Series(frame["乐山"].to_numpy(dtype=float), index=t).sort_index()


def test_air_replay_aqi_above_100_for_n_hours_and_daily_aqi(loaded):
    config = R.default_config()
    n, limit = config.air_consecutive_hours, config.air_hourly_aqi_above
    published = _published_aqi()
    assert len(published) == 744
    times = list(published.index)
    with connect(loaded) as conn:
        _reset(conn)
        for t in times:
            evaluate(conn, t.to_pydatetime(), rules=(R.AIR_AQI_HOURS, R.AIR_AQI_DAY))

        def episode(_frame, t) -> bool:
            window = published[(published.index > t - pd.Timedelta(hours=n)) & (published.index <= t)]
            return bool(len(window) == n and (window > limit).all())

        expected = _expected({"乐山": published}, times, episode)
        assert _stored(conn, "air_aqi_hours") == expected and len(expected) >= 5
        first = next(r for r in incidents(conn) if r["rule_code"] == "air_aqi_hours"
                     and pd.Timestamp(r["first_seen"]) == expected[0][1])
        assert first["message_zh"].startswith(f"【空气污染】乐山市连续{n}小时空气质量指数（AQI）超过{limit}")
        assert first["details"]["max_aqi"] == int(published[expected[0][1] - pd.Timedelta(hours=n - 1):
                                                            expected[0][1]].max())
        # January 2022 has no day above 200 (重度污染): no daily incident
        assert _stored(conn, "air_aqi_day") == []

        # With the threshold at 150 (中度污染 and worse) the days come from derived.air_city_day.
        _reset(conn)
        strict = dataclasses.replace(config, air_daily_aqi_above=150)
        for day in pd.date_range("2022-01-02", "2022-02-01", tz=BEIJING):
            evaluate(conn, day.to_pydatetime(), rules=(R.AIR_AQI_DAY,), config=strict)
        days = [d for (d,) in conn.execute("""SELECT day FROM derived.air_city_day d JOIN registry.site s
                                               USING (site_id) WHERE s.code = '乐山' AND aqi > 150 ORDER BY day""")]
        opened = sorted(pd.Timestamp(r["first_seen"]).tz_convert(BEIJING).date() - dt.timedelta(days=1)
                        for r in incidents(conn) if r["rule_code"] == "air_aqi_day")
        runs_start = [d for i, d in enumerate(days) if i == 0 or (d - days[i - 1]).days > 1]
        assert opened == runs_start and len(days) == 4
        assert all("超过150" in r["message_zh"] for r in incidents(conn))


def test_target_trajectory_alert_follows_target_status(loaded):
    with connect(loaded) as conn:
        _reset(conn)
        evaluate(conn, rules=(R.TARGET_TRAJECTORY,))
        at_risk = {t for (t, s) in conn.execute("""
            SELECT DISTINCT ON (target_id) target_id, status FROM derived.target_status
            ORDER BY target_id, as_of DESC""") if s in ("at_risk", "missed")}
        opened = {r["subject"]: r for r in incidents(conn)}
        assert set(opened) == at_risk and "A4" in at_risk  # PM2.5 of January 2022 above the 35 µg/m³ target
        assert opened["A4"]["message_zh"].startswith("【目标预警】A4 中心城区细颗粒物（PM2.5）年均浓度：截至")
        assert "目标35µg/m³" in opened["A4"]["message_zh"]


# --------------------------------------------------------------------------- Grafana


def test_grafana_rules_come_from_the_same_definitions_and_every_query_runs(loaded, tmp_path):
    import yaml

    from alerts.grafana import write_alerting
    from dashboards.panels import DATASOURCE_UID
    from tests.conftest import REPO

    written = write_alerting(tmp_path)
    committed = REPO / "dashboards" / "provisioning" / "alerting"
    for path in written:  # the committed tree is what the generator writes
        assert path.read_text(encoding="utf-8") == (committed / path.name).read_text(encoding="utf-8")
    files = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in written}
    assert all(f["apiVersion"] == 1 for f in files.values())
    rules = [rule for group in files["rules.yaml"]["groups"] for rule in group["rules"]]
    assert [r["uid"] for r in rules] == ["envmon-" + r.code.replace("_", "-") for r in R.RULES]
    when = "'2022-07-28T04:00:00+08:00'"
    with connect(loaded) as conn:
        for rule, spec in zip(rules, R.RULES, strict=True):
            assert rule["title"] == spec.title_zh and any("\u4e00" <= c <= "\u9fff" for c in rule["title"])
            assert rule["condition"] == "C" and rule["noDataState"] in ("NoData", "Alerting")
            assert rule["execErrState"] == "Error"
            query = rule["data"][0]
            assert query["datasourceUid"] == DATASOURCE_UID and query["model"]["rawQuery"] is True
            assert [d["model"]["type"] for d in rule["data"][1:]] == ["reduce", "threshold"]
            sql = query["model"]["rawSql"].replace("$__timeTo()", when)
            assert "$" not in sql
            cur = conn.execute(sql)
            assert [d.name for d in cur.description] == ["subject", "name_zh", "firing"]
            rows = cur.fetchall()
            if spec.code == "water_sample_class":  # the same answer as the pipeline at that time
                assert ("悦来渡口", "悦来渡口", 1) in rows and len(rows) == 6
                pipeline = run_rule(conn, spec, dt.datetime.fromisoformat(when.strip("'")))
                assert {(r["subject"], int(r["firing"])) for r in pipeline} == {(s, f) for s, _, f in rows}
        silent = {r["uid"]: r["noDataState"] for r in rules}
        assert silent["envmon-water-silent"] == silent["envmon-air-silent"] == "Alerting"
    receivers = files["contact-points.yaml"]["contactPoints"][0]["receivers"]
    assert {r["type"] for r in receivers} == {"webhook", "email"}
    assert receivers[0]["settings"]["url"] == "${ENVMON_ALERT_WEBHOOK_URL}"
    policy = files["policies.yaml"]["policies"][0]
    assert policy["receiver"] == files["contact-points.yaml"]["contactPoints"][0]["name"]

