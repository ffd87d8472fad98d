"""``envmon``: the bureau's command line (local cluster, schema, main job, per-file tools)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import subprocess
import sys
import time
from pathlib import Path

from envmon import settings

#: DAGs the main job runs, in order, with their run configuration.
MAIN_JOB_DAGS = ("air_quality", "water_quality", "carbon_energy")


def _cmd_db_start(args: argparse.Namespace) -> int:
    from envmon import localcluster

    cluster = localcluster.start()
    print(f"local cluster running: port {cluster.port}, data {cluster.data_dir}, log {cluster.log_file}")
    return 0


def _cmd_db_stop(args: argparse.Namespace) -> int:
    from envmon import localcluster

    cluster = localcluster.stop()
    print(f"local cluster stopped ({cluster.data_dir})")
    return 0


def _cmd_db_migrate(args: argparse.Namespace) -> int:
    from pipeline.runs import prepare_warehouse

    summary = prepare_warehouse()
    print(f"schema at {summary['schema_version']}; registries synced: "
          f"{summary['parameters']} parameters, {summary['data_sources']} data sources")
    return 0


def _cmd_db_status(args: argparse.Namespace) -> int:
    from warehouse import capabilities, migrate
    from warehouse.db import connect

    url = settings.database_url()
    with connect(url) as conn:
        caps = capabilities.detect(conn)
    current, head = migrate.current_version(url), migrate.head_version()
    state = "up to date" if current == head else f"behind (head {head}); run `envmon db migrate`"
    print(f"server:        PostgreSQL {caps.server_version}")
    print(f"timescaledb:   {caps.timescaledb_version or 'not installed'}"
          + (f" (licence {caps.license})" if caps.license else ""))
    print(f"capabilities:  {caps.describe()}")
    print(f"schema:        {current or 'empty'} — {state}")
    return 0


def _run_airflow_migrate() -> None:
    """Airflow metadata lives in the local cluster (database ``airflow``), never SQLite."""
    airflow = Path(sys.executable).parent / "airflow"
    proc = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def run_dag(dag_id: str, conf: dict | None = None):
    """Run one DAG of ``dags/`` in-process with ``dag.test()``; returns the finished DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.REPO_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit("DAG import errors:\n" + "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.get_dag(dag_id).test(run_conf=conf or {})


def _cmd_run(args: argparse.Namespace) -> int:
    from envmon import airflow_env

    started = time.monotonic()
    airflow_env.apply()
    if not args.no_cluster and "ENVMON_DATABASE_URL" not in __import__("os").environ:
        _cmd_db_start(args)
    _run_airflow_migrate()
    failed = []
    for dag_id in MAIN_JOB_DAGS:
        run = run_dag(dag_id, {"data_dir": str(args.data_dir)})
        print(f"DAG {dag_id}: {run.state}")
        if str(run.state) != "success":
            failed.append(dag_id)
    from dashboards.build import build as build_dashboards
    from envmon.summary import print_summary
    from exports.run import default_out_dir, latest_complete_month

    build_dashboards(settings.output_dir() / "grafana")
    # The monthly compliance report of the last month the data cover (a re-run publishes no new version).
    month = latest_complete_month() if not failed else None
    if month:
        run = run_dag("monthly_compliance", {"month": month, "out_dir": str(default_out_dir())})
        print(f"DAG monthly_compliance ({month}): {run.state}")
        if str(run.state) != "success":
            failed.append("monthly_compliance")

    print_summary(elapsed=time.monotonic() - started, export_month=month)
    return 1 if failed else 0


def _rule_context(domain: str):
    import pandas as pd

    from quality.rules import RuleContext
    from warehouse.db import connect
    from warehouse.registry import parameters, site_ids

    with connect() as conn:
        return RuleContext(site_ids=site_ids(conn), parameters=parameters(conn, domain), now=pd.Timestamp.now(tz="UTC"))


def _require_current_schema() -> None:
    """Commands that read or write the warehouse need its schema at the code's revision."""
    import psycopg

    from warehouse import migrate

    try:
        current, head = migrate.current_version(), migrate.head_version()
    except Exception as exc:  # noqa: BLE001 — any connection failure gets the same advice
        cause = exc.__cause__ if isinstance(exc.__cause__, psycopg.Error) else exc
        raise SystemExit(f"error: cannot reach the warehouse at {settings.database_url()}: {cause}\n"
                         "start the local cluster with `envmon db start` (or `./dev run`)") from None
    if current != head:
        raise SystemExit(f"error: the warehouse schema is at {current or 'empty'}, the code expects {head}: "
                         "run `envmon db migrate`")


def _cmd_load(args: argparse.Namespace) -> int:
    import uuid

    _require_current_schema()
    from ingest.registry import adapter
    from pipeline.runs import run_loads

    reports = run_loads(adapter(args.dataset), args.files, run_id=f"cli-{uuid.uuid4().hex[:12]}", force=args.force)
    for r in reports:
        print(f"{r['file']}: {r['status']} (load #{r['load_id']}) read {r['rows_read']}, stored {r['rows_stored']}, "
              f"quarantined {r['rows_quarantined']}" + (f" — {r['error']}" if r["error"] else ""))
    return 1 if any(r["status"] == "failed" for r in reports) else 0


def _cmd_recompute(args: argparse.Namespace) -> int:
    _require_current_schema()
    from pipeline.runs import recompute

    result = recompute(args.domain or ["air", "water", "water_manual"], args.date_from, args.date_to)
    print("queued days: " + ", ".join(f"{d} {n}" for d, n in result.pop("queued_days").items()))
    print(", ".join(f"{k} {v}" for k, v in result.items()))
    return 0


def _cmd_quality_docs(args: argparse.Namespace) -> int:
    from ingest.registry import adapter
    from quality.docs import build_data_docs

    _require_current_schema()
    chosen = adapter(args.dataset)
    index = build_data_docs(chosen.parse(args.file), _rule_context(chosen.domain), args.out)
    print(f"Data Docs: {index}")
    return 0


def _parse_files(files: list[Path], domain: str):
    """Parse files of any supported format; a bad file stops the command with its message."""
    import pandas as pd

    from ingest.base import IngestError
    from ingest.registry import adapter_for

    batches = []
    for path in files:
        try:
            batches.append(adapter_for(path).parse(path))
        except IngestError as exc:
            raise SystemExit(f"error: {exc}") from None
    foreign = [str(b.path) for b in batches if b.domain != domain]
    if foreign:
        raise SystemExit(f"error: not {domain} data: {', '.join(foreign)}")
    return batches, pd.concat([b.records for b in batches], ignore_index=True)


def _air_frames(files: list[Path]):
    """Hourly wide frame of all files (any supported format) and the rounding of their AQI."""
    from evaluation.frames import hourly_wide

    batches, records = _parse_files(files, "air")
    city_level = all(b.dataset == "air_city_archive" for b in batches)
    # CNEMC publishes city AQI as the maximum IAQI rounded half up, station AQI rounded up
    # (HJ 633 §6.2); we reproduce each publication as it is made (see standards.hj633).
    return hourly_wide(records), ("half_up" if city_level else "ceil")


#: Reporting precision of CSV columns (HJ 663 Table 3): integers, CO and ratios one decimal.
_INTEGER_COLUMNS = {"aqi", "pm2_5", "pm10", "so2", "no2", "o3_8h_max", "o3_1h_max", "valid_hours", "valid_days",
                    "good_days", "heavy_pollution_days", "pm2_5_mean", "pm2_5_p95", "o3_8h_p90"}


def _csv_out(frame, columns: list[str]) -> None:
    out = frame.reindex(columns=columns)
    for column in columns:
        if column in _INTEGER_COLUMNS:
            out[column] = out[column].round().astype("Int64")
    out.to_csv(sys.stdout, index=False, lineterminator="\n", float_format="%.1f")


def _cmd_air_aqi(args: argparse.Namespace) -> int:
    from evaluation.air import hourly_aqi

    wide, rounding = _air_frames(args.files)
    out = hourly_aqi(wide, rounding=rounding)
    out["time"] = out["observed_at"].dt.tz_convert("Asia/Shanghai").map(lambda t: t.isoformat())
    _csv_out(out.sort_values(["site", "observed_at"]), ["site", "time", "aqi", "category", "primary_pollutant"])
    return 0


def _daily_frame(files: list[Path]):
    from evaluation.air import site_days

    wide, _ = _air_frames(files)
    return site_days(wide)


def _cmd_air_daily(args: argparse.Namespace) -> int:
    days = _daily_frame(args.files).rename(columns={
        "pm25_24h": "pm2_5", "pm10_24h": "pm10", "so2_24h": "so2", "no2_24h": "no2", "co_24h": "co"})
    _csv_out(days, ["site", "date", "aqi", "category", "primary_pollutant", "pm2_5", "pm10", "so2", "no2", "co",
                    "o3_8h_max", "o3_1h_max", "valid_hours"])
    return 0


def _cmd_air_summary(args: argparse.Namespace) -> int:
    import pandas as pd

    from evaluation.air import period_summary

    days = _daily_frame(args.files)
    judged = pd.to_datetime(days.loc[days["aqi"].notna(), "date"])
    start = pd.Timestamp(args.date_from) if args.date_from else judged.min()
    end = pd.Timestamp(args.date_to) if args.date_to else judged.max()
    stats = period_summary(days, start, end)
    stats["from"], stats["to"] = start.date().isoformat(), end.date().isoformat()
    stats["complete"] = stats["complete"].map({True: "true", False: "false"})
    _csv_out(stats.rename(columns={"pm25_mean": "pm2_5_mean", "pm25_p95": "pm2_5_p95"}),
             ["site", "from", "to", "valid_days", "good_days", "good_day_ratio", "heavy_pollution_days",
              "pm2_5_mean", "pm2_5_p95", "o3_8h_p90", "complete"])
    return 0


def _water_frames(files: list[Path]):
    """Samples of all water files (any supported form), their source kind, and the sections."""
    from evaluation.water import samples_wide
    from ingest.section_config import load_sections

    batches, records = _parse_files(files, "water")
    source = "manual" if all(b.dataset == "water_manual_monthly" for b in batches) else "automatic"
    sections = load_sections().rename(columns={"code": "site"})
    return samples_wide(records), source, sections


def _cmd_water_classify(args: argparse.Namespace) -> int:
    from evaluation.water import sample_classes

    samples, _, sections = _water_frames(args.files)
    out = sample_classes(samples, sections).sort_values(["site", "observed_at"])
    out["time"] = out["observed_at"].dt.tz_convert("Asia/Shanghai").map(lambda t: t.isoformat())
    out = out.rename(columns={"site": "section", "class_label": "class"})
    out.reindex(columns=["section", "time", "class", "main_pollutants", "decided_by"]).to_csv(
        sys.stdout, index=False, lineterminator="\n")
    return 0


def _cmd_water_monthly(args: argparse.Namespace) -> int:
    from evaluation.water import MEAN_COLUMNS, section_periods

    samples, source, sections = _water_frames(args.files)
    months = section_periods(samples, sections, "month", source=source)
    if args.month:
        months = months[months["period"].astype(str).str.startswith(args.month)]
    months = months.sort_values(["site", "period"])
    months["month"] = months["period"].astype(str).str[:7]
    months["class"] = months["class_label"]
    months["target_class"] = months["target_class"].map({1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"})
    months["compliant"] = months["compliant"].map({True: "true", False: "false"}).fillna("")
    means = [item for item in MEAN_COLUMNS if item in months.columns]
    columns = ["site", "month", "n_valid", *means, "class", "target_class", "compliant", "main_pollutants", "status"]
    months.reindex(columns=columns).rename(columns={"site": "section", "n_valid": "valid_samples"}).to_csv(
        sys.stdout, index=False, lineterminator="\n", float_format="%.3f")
    return 0


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _display_width(text), 0)


def _fmt_number(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _target_rows(statuses: list) -> tuple[list[list[str]], list[str]]:
    """Table cells (Chinese) and footnotes (why a value is missing, how the year is going)."""
    from targets.status import STATUS_MARKS

    symbols = {"ge": "≥", "le": "≤", "eq": "="}
    rows: list[list[str]] = []
    notes: dict[str, list[str]] = {}  # same note → one line listing the targets
    for s in statuses:
        t, a, act = s.target, s.assessment, s.actual
        unit = f" {t.unit}" if t.unit else ""
        if t.comparator == "assigned" and t.target_value is None:
            goal = f"{t.assigned_by or '上级'}下达（未录入）"
        else:
            goal = f"{symbols[t.effective_comparator]} {_fmt_number(t.target_value)}{unit}"
        actual = "—" if act.value is None else f"{_fmt_number(round(act.value, 2))}{unit}"
        gap = "—" if a.gap is None else f"{a.gap:+.2f}".rstrip("0").rstrip(".")
        scope = s.scope.name_zh + ("*" if s.scope.kind == "central_city" else "")
        rows.append([t.id, t.name_zh, scope, actual, goal, gap, STATUS_MARKS[a.status]])
        note = ""
        if act.ytd is not None and act.value is not None and t.methodology == "good_day_ratio_ytd":
            note = (f"{act.detail['year']}年至{s.evaluated_on:%m-%d}：有效 {act.ytd.valid_days} 天，"
                    f"优良 {act.ytd.good_days} 天")
            if a.good_days_allowed is not None:
                rest = act.ytd.remaining_days
                if a.projection is not None:
                    note += f"；年末预测 {_fmt_number(round(a.projection, 1))} %"
                if a.good_days_allowed >= 0:
                    note += f"；余下 {rest} 天中至多 {a.good_days_allowed} 天可非优良"
                elif rest == 0:
                    note += f"；全年比目标少 {-a.good_days_allowed} 个优良天"
                else:
                    note += f"；即使余下 {rest} 天全部优良，仍差 {-a.good_days_allowed} 个优良天"
        elif act.ytd is not None and act.value is not None and a.projection is not None:
            projection = _fmt_number(round(a.projection, 1))
            note = f"{act.detail['year']}年至{s.evaluated_on:%m-%d}；年末预测 {projection}{unit}"
        elif "n_judged" in act.detail and act.value is not None:
            note = f"已评价断面 {act.detail['n_judged']}/{act.detail['n_sections']}（{act.period}）"
            if act.detail.get("not_judged"):
                note += "，未评价：" + "、".join(n["section"] for n in act.detail["not_judged"])
        elif act.insufficient_reason:
            note = act.insufficient_reason
        if s.evaluated_on != s.as_of:
            note = f"按期限年 {s.evaluated_on} 评价" + (f"；{note}" if note else "")
        if note:
            notes.setdefault(note, []).append(t.id)
    return rows, [f"  {', '.join(ids)}: {note}" for note, ids in notes.items()]


def _cmd_targets_status(args: argparse.Namespace) -> int:
    from collections import Counter
    from zoneinfo import ZoneInfo

    from targets.refresh import refresh_targets
    from targets.registry import TargetConfigError
    from targets.status import STATUS_MARKS, STATUSES
    from warehouse.db import connect

    _require_current_schema()
    try:
        as_of = (dt.date.fromisoformat(args.as_of) if args.as_of
                 else dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
    except ValueError:
        raise SystemExit(f"error: --as-of {args.as_of!r} is not a date (YYYY-MM-DD)") from None
    try:
        with connect() as conn:
            statuses = refresh_targets(conn, as_of)
    except TargetConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    header = ["编号", "指标", "范围", "实际值", "目标", "差距", "状态"]
    rows, notes = _target_rows(statuses)
    widths = [max(_display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"乐山市规划目标进展（截至 {as_of.isoformat()}，已写入 derived.target_status）")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
    counts = Counter(s.assessment.status for s in statuses)
    print("合计：" + "，".join(f"{STATUS_MARKS[k]} {counts[k]}" for k in STATUSES if counts[k]))
    central = next((s.scope for s in statuses if s.scope.kind == "central_city"), None)
    if central is not None and central.note:
        print(f"* {central.name_zh}：{central.note}")
    if notes:
        print("说明：")
        print("\n".join(notes))
    return 0


def _cmd_dashboards_build(args: argparse.Namespace) -> int:
    from dashboards.build import build

    for path in build(args.out):
        print(path)
    return 0


def _cmd_dashboards_publish(args: argparse.Namespace) -> int:
    from dashboards.publish import PublishError, client, publish

    try:
        report = publish(client(args.url, args.token), args.tree)
    except PublishError as exc:
        print(f"envmon dashboards publish: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0


def _cmd_export_monthly(args: argparse.Namespace) -> int:
    from exports.run import export_month

    _require_current_schema()
    try:
        result = export_month(args.month, args.out)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    state = "unchanged (same tables as" if result["status"] == "unchanged" else "created"
    print(f"{result['month']}: version v{result['version']} {state}{')' if result['status'] == 'unchanged' else ''} "
          f"in {result['dir']} ({result['seconds']:.1f} s)")
    print(f"manifest: {result['manifest']}; data cut-off {result['cutoff'] or 'none'}")
    if result.get("diff"):
        print("changed since v{}:\n{}".format(result["previous_version"], result["diff"]))
    if result["missing"]:
        print(f"missing data ({len(result['missing'])}, stated in 数据说明):")
        print("\n".join(f"  {line}" for line in result["missing"]))
    return 0


def _cmd_alerts_evaluate(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from pipeline.runs import evaluate_and_notify

    _require_current_schema()
    as_of = None
    if args.as_of == "now":
        as_of = dt.datetime.now(dt.UTC)
    elif args.as_of:
        try:
            as_of = dt.datetime.fromisoformat(args.as_of)
        except ValueError:
            raise SystemExit(f"error: --as-of {args.as_of!r} is not a time (YYYY-MM-DDTHH:MM[+08:00]) or 'now'") from None
        as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    result = evaluate_and_notify(as_of=as_of)
    print(f"告警评估（数据时间 {result['as_of']}）：新开 {result['opened']}，持续 {result['updated']}，"
          f"恢复 {result['resolved']}；通知 已发送 {result['sent']}，失败 {result['failed']}，"
          f"未配置渠道 {result['no_channel']}")
    return 0


def _cmd_alerts_list(args: argparse.Namespace) -> int:
    from alerts.evaluate import BEIJING, incidents
    from warehouse.db import connect

    _require_current_schema()
    with connect() as conn:
        rows = incidents(conn, open_only=args.open)

    def when(ts) -> str:
        return ts.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if ts else "—"

    for r in rows:
        state = "进行中" if r["resolved_at"] is None else f"已恢复 {when(r['resolved_at'])}"
        print(f"#{r['incident_id']} [{r['severity']}] {r['rule_code']} {r['subject']}  "
              f"{when(r['first_seen'])} → {when(r['last_seen'])}  {state}\n    {r['message_zh']}")
    print(f"共 {len(rows)} 条" + ("进行中的告警" if args.open else "告警"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="envmon", description="Leshan environmental monitoring pipeline")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="the warehouse: local cluster, migrations, status")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("start", help="start (and create if needed) the project-local PostgreSQL + TimescaleDB cluster") \
        .set_defaults(func=_cmd_db_start)
    db_sub.add_parser("stop", help="stop the project-local cluster").set_defaults(func=_cmd_db_stop)
    db_sub.add_parser("migrate", help="apply schema migrations and sync registries from config/") \
        .set_defaults(func=_cmd_db_migrate)
    db_sub.add_parser("status", help="server version, TimescaleDB licence and capabilities, schema version") \
        .set_defaults(func=_cmd_db_status)

    load = sub.add_parser("load", help="load files of one dataset (validate, quarantine, upsert)")
    load.add_argument("dataset", help="dataset name, e.g. air_station_hourly")
    load.add_argument("files", nargs="+", type=Path)
    load.add_argument("--force", action="store_true", help="re-load files already loaded with the same checksum")
    load.set_defaults(func=_cmd_load)

    recompute = sub.add_parser("recompute", help="recompute the derived tables from stored measurements "
                               "(after a method or configuration change)")
    recompute.add_argument("--domain", action="append", choices=["air", "water", "water_manual"],
                           help="measurement store (repeatable; default all)")
    recompute.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, help="first Beijing day (YYYY-MM-DD)")
    recompute.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, help="last Beijing day (YYYY-MM-DD)")
    recompute.set_defaults(func=_cmd_recompute)

    quality = sub.add_parser("quality", help="data quality: Great Expectations Data Docs on demand")
    q_sub = quality.add_subparsers(dest="quality_command", required=True, metavar="ACTION")
    docs = q_sub.add_parser("docs", help="validate one file with its gate suite and build Data Docs (HTML)")
    docs.add_argument("dataset")
    docs.add_argument("file", type=Path)
    docs.add_argument("--out", type=Path, default=settings.output_dir() / "data_docs")
    docs.set_defaults(func=_cmd_quality_docs)

    air = sub.add_parser("air", help="air-quality indicators of files, without a database (CSV on stdout)")
    air_sub = air.add_subparsers(dest="air_command", required=True, metavar="ACTION")
    aqi = air_sub.add_parser("aqi", help="hourly AQI per site: site,time,aqi,category,primary_pollutant")
    aqi.add_argument("files", nargs="+", type=Path)
    aqi.set_defaults(func=_cmd_air_aqi)
    daily = air_sub.add_parser("daily", help="daily values and daily AQI per site and Beijing day (HJ 663 / HJ 633)")
    daily.add_argument("files", nargs="+", type=Path)
    daily.set_defaults(func=_cmd_air_daily)
    summary = air_sub.add_parser("summary", help="period statistics per site: good days, PM2.5 mean/p95, O3 p90")
    summary.add_argument("files", nargs="+", type=Path)
    summary.add_argument("--from", dest="date_from", help="first Beijing day (YYYY-MM-DD); default: first in data")
    summary.add_argument("--to", dest="date_to", help="last Beijing day (YYYY-MM-DD); default: last in data")
    summary.set_defaults(func=_cmd_air_summary)

    water = sub.add_parser("water", help="river-section classes of files, without a database (CSV on stdout)")
    water_sub = water.add_subparsers(dest="water_command", required=True, metavar="ACTION")
    classify = water_sub.add_parser("classify", help="GB 3838 class per section and time: "
                                                    "section,time,class,main_pollutants,decided_by")
    classify.add_argument("files", nargs="+", type=Path)
    classify.set_defaults(func=_cmd_water_classify)
    monthly = water_sub.add_parser("monthly", help="per section and month: valid samples, period means, class, "
                                                  "target class, compliant, main pollutants (exceedances)")
    monthly.add_argument("files", nargs="+", type=Path)
    monthly.add_argument("--month", help="only this month (YYYY-MM)")
    monthly.set_defaults(func=_cmd_water_monthly)

    targets = sub.add_parser("targets", help="the plans' targets: status of every target on a date")
    targets_sub = targets.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    status = targets_sub.add_parser("status", help="compute, store and print every target's status "
                                                  "(actual, target, gap, met / on course / at risk / missed)")
    status.add_argument("--as-of", dest="as_of", help="as-of date YYYY-MM-DD (default: today, Beijing time)")
    status.set_defaults(func=_cmd_targets_status)

    dashboards = sub.add_parser("dashboards", help="Grafana dashboards and provisioning generated from code")
    dashboards_sub = dashboards.add_subparsers(dest="dashboards_command", required=True, metavar="ACTION")
    dashboards_build = dashboards_sub.add_parser(
        "build", help="write dashboards/json/*.json and dashboards/provisioning/ (grafana-foundation-sdk)")
    dashboards_build.add_argument("--out", type=Path, default=None,
                                  help="output directory (default: the repository's dashboards/)")
    dashboards_build.set_defaults(func=_cmd_dashboards_build)
    dashboards_publish = dashboards_sub.add_parser(
        "publish", help="push folders, datasource, dashboards and alerting to a Grafana (HTTP API); idempotent")
    dashboards_publish.add_argument("--url", required=True, help="Grafana base URL, e.g. https://grafana.example")
    dashboards_publish.add_argument("--token", default=None,
                                    help="service-account token (default: $ENVMON_GRAFANA_TOKEN)")
    dashboards_publish.add_argument("--tree", type=Path, default=None,
                                    help="built tree to publish (default: the repository's dashboards/)")
    dashboards_publish.set_defaults(func=_cmd_dashboards_publish)

    alerts = sub.add_parser("alerts", help="alert conditions: evaluate (open/resolve incidents, notify) and list")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    alerts_eval = alerts_sub.add_parser("evaluate", help="evaluate every rule, update ops.alert_incident, "
                                        "send pending notifications (webhook / e-mail from the environment)")
    alerts_eval.add_argument("--as-of", default=None, help="data time to judge at: ISO time (Beijing if no "
                             "offset) or 'now' (default: each domain's latest data)")
    alerts_eval.set_defaults(func=_cmd_alerts_evaluate)
    alerts_list = alerts_sub.add_parser("list", help="incidents, newest first")
    alerts_list.add_argument("--open", action="store_true", help="only incidents not resolved")
    alerts_list.set_defaults(func=_cmd_alerts_list)

    export = sub.add_parser("export", help="reports the bureau sends up: the monthly compliance export")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="ACTION")
    export_monthly = export_sub.add_parser("monthly", help="workbook, CSVs, PDF and manifest of one month "
                                           "(a new version only when the tables changed)")
    export_monthly.add_argument("--month", required=True, help="the month, YYYY-MM")
    export_monthly.add_argument("--out", type=Path, default=settings.output_dir() / "exports",
                                help="output root; files go to OUT/YYYY-MM/vN/ (default: outputs/exports)")
    export_monthly.set_defaults(func=_cmd_export_monthly)

    run = sub.add_parser("run", help="the main job: run the pipeline DAGs on the data directory and summarise")
    run.add_argument("--data-dir", type=Path, default=settings.data_dir(), help="input data (default: bundled data/)")
    run.add_argument("--no-cluster", action="store_true", help="do not start the local cluster")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
