"""The short account the main job ends with: what was loaded, what was quarantined, where things are."""

from __future__ import annotations

from envmon import settings
from warehouse import capabilities
from warehouse.db import connect


def collect(url: str | None = None) -> dict[str, object]:
    with connect(url) as conn:
        caps = capabilities.detect(conn)
        loads = conn.execute("""
            SELECT dataset, status, count(*), sum(rows_read), sum(rows_stored), sum(rows_quarantined),
                   min(first_time), max(last_time)
            FROM ops.load_log GROUP BY dataset, status ORDER BY dataset, status""").fetchall()
        tables = {}
        for table in ("obs.air_measurement", "obs.water_measurement"):
            tables[table] = conn.execute(
                f"SELECT count(*), count(DISTINCT site_id), min(observed_at), max(observed_at) FROM {table}").fetchone()
        reasons = conn.execute(
            "SELECT reason_code, count(*) FROM ops.quarantine GROUP BY 1 ORDER BY 2 DESC").fetchall()
        sites = conn.execute("SELECT kind, count(*) FROM registry.site GROUP BY 1 ORDER BY 1").fetchall()
        years = conn.execute("""
            SELECT s.name_zh, y.period_start, y.period_end, y.valid_days, y.good_days, y.good_day_ratio,
                   y.heavy_pollution_days, y.pm25_mean, y.o3_8h_p90, y.composite_index, y.complete
            FROM derived.air_city_year y JOIN registry.site s USING (site_id)
            WHERE y.valid_days > 0 ORDER BY 1, 2""").fetchall()
        derived = {t: conn.execute(f"SELECT count(*) FROM derived.{t}").fetchone()[0]
                   for t in ("air_hour_aqi", "air_station_day", "air_city_day", "air_city_month", "air_city_year",
                             "water_sample_class", "water_section_day", "water_section_month", "water_area_month")}
        carbon = conn.execute("""
            SELECT year, co2_mt, intensity_t_per_10k_yuan, status, missing FROM derived.carbon_indicator
            WHERE region = '乐山' AND co2_mt IS NOT NULL ORDER BY year DESC LIMIT 1""").fetchone()
        year_end = conn.execute("""SELECT max(as_of) FROM derived.target_status
                                    WHERE extract(month FROM as_of) = 12 AND extract(day FROM as_of) = 31""").fetchone()[0]
        targets = conn.execute("""
            SELECT t.target_id, t.name_zh, s.actual, s.unit, s.target_value, s.status
            FROM derived.target_status s JOIN registry.target t USING (target_id)
            WHERE s.as_of = %s AND s.status NOT IN ('insufficient_data', 'not_set')
            ORDER BY t.target_id""", (year_end,)).fetchall() if year_end else []
        sections = conn.execute("""
            SELECT s.name_zh, s.target_class, m.month, m.class_label, m.compliant, m.n_valid, m.main_pollutants,
                   m.source, EXISTS (SELECT 1 FROM derived.water_section_month x WHERE x.site_id = s.site_id)
            FROM registry.site s
            LEFT JOIN LATERAL (SELECT * FROM derived.water_section_month m
                               WHERE m.site_id = s.site_id AND m.status = 'ok'
                               ORDER BY m.month DESC, (m.source = 'manual') DESC LIMIT 1) m ON true
            WHERE s.kind = 'water_section' AND s.config_source = 'config/sections.yaml'
            ORDER BY s.name_zh""").fetchall()
    return {"caps": caps, "loads": loads, "tables": tables, "reasons": reasons, "sites": sites, "years": years,
            "derived": derived, "sections": sections, "year_end": year_end, "targets": targets, "carbon": carbon}


def print_summary(url: str | None = None, elapsed: float | None = None, export_month: str | None = None) -> None:
    info = collect(url)
    print()
    print("=== envmon main job summary ===")
    print(f"warehouse: {settings.database_url()}  ({info['caps'].describe()})")
    print("registry: " + ", ".join(f"{n} {k}" for k, n in info["sites"]))
    print("loads (dataset / status / files / rows read / stored / quarantined / time span, Beijing time):")
    for dataset, status, files, read, stored, quarantined, first, last in info["loads"]:
        span = ""
        if first is not None:
            span = f"{first.astimezone(_bj()):%Y-%m-%d %H:%M} … {last.astimezone(_bj()):%Y-%m-%d %H:%M}"
        print(f"  {dataset:24s} {status:9s} {files:5d} {read or 0:9d} {stored or 0:9d} {quarantined or 0:7d}  {span}")
    for table, (rows, sites, first, last) in info["tables"].items():
        span = f", {first.astimezone(_bj()):%Y-%m-%d} … {last.astimezone(_bj()):%Y-%m-%d}" if rows else ""
        print(f"{table}: {rows} rows, {sites} sites{span}")
    if info["reasons"]:
        print("quarantine by reason: " + ", ".join(f"{r} {n}" for r, n in info["reasons"]))
    print("derived tables: " + ", ".join(f"derived.{t} {n}" for t, n in info["derived"].items()))
    for name, start, end, valid, good, ratio, heavy, pm25, o3, index, complete in info["years"]:
        print(f"  {name} {start:%Y} (through {end:%m-%d}): good days {good}/{valid} = {_fmt(ratio, '.1f')} %, "
              f"heavy-pollution days {heavy}, PM2.5 {_fmt(pm25, '.0f')} µg/m³, O3-8h p90 {_fmt(o3, '.0f')}, "
              f"composite index {_fmt(index, '.2f')}{'' if complete else ' (incomplete year)'}")
    print("river sections (latest month judged, manual results before automatic samples of the same month; "
          "target class III unless configured):")
    for name, target, month, label, compliant, n_valid, pollutants, source, any_month in info["sections"]:
        if month is None:
            print(f"  {name}: " + ("no month with enough valid samples to judge" if any_month
                                   else "no data loaded for this section"))
            continue
        verdict = "meets" if compliant else "MISSES"
        basis = f"{n_valid} valid samples" if source == "automatic" else "manual monitoring"
        print(f"  {name} {month:%Y-%m}: class {label} ({basis}), {verdict} target "
              f"{_CLASS[target]}{'; ' + pollutants if pollutants else ''}")
    if info["carbon"]:
        year, co2, intensity, status, missing = info["carbon"]
        print(f"carbon: Leshan CO2 {year} {co2:.2f} Mt (CEADs); intensity "
              + (f"{intensity:.2f} t/万元" if intensity is not None else f"not computed — missing {missing}"))
    if info["targets"]:
        print(f"targets of the plans as of {info['year_end']} (all: envmon targets status --as-of {info['year_end']}):")
        for target_id, name, actual, unit, value, status in info["targets"]:
            print(f"  {target_id:4s} {name}: {_fmt(actual, 'g')} {unit or ''} vs {_fmt(value, 'g')} — {status}")
    print(f"outputs: Grafana provisioning (dashboards JSON, datasource, alerting) in {settings.output_dir() / 'grafana'} "
          f"(the same as the committed dashboards/ that docker-compose mounts)")
    if export_month:
        from exports.run import latest_version

        version = latest_version(export_month)
        print(f"monthly compliance report {export_month}: {version if version else 'not written'}"
              + (" (workbook, CSVs, PDF, manifest.json)" if version else ""))
    if elapsed is not None:
        print(f"elapsed: {elapsed:.1f} s")


_CLASS = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _bj():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")
