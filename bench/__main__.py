"""``python -m bench``: every benchmark, one table, bench/RESULTS.md regenerated.

Sections: ingest (end-to-end load vs raw COPY and to_sql, re-load, peak RSS), indicators (HJ 633
hourly AQI, HJ 663 daily values, GB 3838 classes, the real refresh), dashboards (p50/p95 of every
panel's SQL on ten years of national-scale derived data), export (monthly export, when
bench/export_month.py exists). ``--quick`` runs a scaled-down version in a few minutes; the last
line printed is always ``ingest/raw-COPY ratio: X.XX``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from bench import generate
from bench.dashboards import Volume
from bench.harness import Figure, machine, markdown, table

SECTIONS = ("ingest", "indicators", "dashboards", "export")
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Scale:
    plan: generate.Plan
    checkpoint_days: int  # peak RSS is read after these many days, and at the end
    to_sql_rows: int
    water_samples: int
    volume: Volume
    repeats: int


SCALES = {
    "full": Scale(generate.Plan(1800, 365), 31, 200_000, 10_000_000, Volume(10, 3641, 90, 90), 20),
    "quick": Scale(generate.Plan(1800, 7), 2, 100_000, 1_000_000, Volume(10, 500, 30, 30), 5),
    "tiny": Scale(generate.Plan(20, 2), 1, 2_000, 20_000, Volume(1, 110, 3, 3), 2),
}


def _export(quick: bool) -> tuple[list[Figure], list[str]]:
    if importlib.util.find_spec("bench.export_month") is None:
        print("monthly export: not available (bench/export_month.py missing)")
        return [Figure("export", "monthly export", "not available", "", "bench/export_month.py missing")], []
    from bench import export_month

    rows = export_month.run(quick)
    return [Figure("export", r["name"], r["value"], r.get("unit", ""), r.get("reference", "")) for r in rows], []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scaled-down run (same as --scale quick)")
    parser.add_argument("--scale", choices=sorted(SCALES), help="full (default), quick, or tiny (tests)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--stations", type=int, help="override the scale's number of stations")
    parser.add_argument("--days", type=int, help="override the scale's number of days")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (default bench/RESULTS.md)")
    parser.add_argument("--keep", action="store_true", help="keep the loaded warehouse (bench_<scale>_ingest)")
    args = parser.parse_args(argv)
    name = args.scale or ("quick" if args.quick else "full")
    scale = SCALES[name]
    if args.stations or args.days:
        plan = replace(scale.plan, stations=args.stations or scale.plan.stations, days=args.days or scale.plan.days)
        scale = replace(scale, plan=plan, checkpoint_days=min(scale.checkpoint_days, max(1, plan.days // 2)))
    wanted = args.only or list(SECTIONS)
    prefix = f"bench_{name}"  # scratch databases per scale: a tiny test run does not disturb a full run

    from bench import dashboards, indicators
    from bench import ingest as ingest_bench
    from envmon import localcluster

    cluster = localcluster.start()
    started = time.perf_counter()
    info = machine(cluster.url("postgres"))
    info["scale"] = f"{name}: {scale.plan.label()}"
    figures: list[Figure] = []
    notes = [
        "Figures from one run on a 2-core virtual machine; the load average at start is given above (a "
        "load near or above the core count means other work shared the machine and the figures are pessimistic).",
    ]
    ratio, url = None, None

    def attempt(section: str, work) -> None:
        """One section; a failure is a result (printed and in RESULTS.md), not the end of the run."""
        try:
            got, more = work()
        except Exception as exc:  # noqa: BLE001 - any defect found is reported, the other sections still run
            traceback.print_exc()
            got, more = [Figure(section, "FAILED", f"{type(exc).__name__}", "", (str(exc).splitlines() or [""])[0][:200])], []
        figures.extend(got)
        notes.extend(more)
        print(table(got), flush=True)

    def ingest_section():
        nonlocal ratio, url
        outcome = ingest_bench.run(scale.plan, scale.checkpoint_days, scale.to_sql_rows, prefix)
        ratio, url = outcome.ratio, outcome.url
        return outcome.figures, outcome.notes

    try:
        if "ingest" in wanted:
            attempt("ingest", ingest_section)
        if "indicators" in wanted:
            attempt("indicators", lambda: indicators.run(scale.plan, scale.water_samples, url))
        if "dashboards" in wanted:
            end = pd_end(scale.plan) if url else dt.date(2025, 12, 31)
            attempt("dashboards", lambda: dashboards.run(url, end, scale.volume, scale.repeats, prefix))
        if "export" in wanted:
            attempt("export", lambda: _export(quick=name != "full"))
    finally:
        if "ingest" in wanted and not args.keep:
            ingest_bench.drop(f"{prefix}_ingest")
    notes.append(f"Total wall time of the run: {time.perf_counter() - started:.0f} s.")
    command = "python -m bench" + (f" --scale {name}" if name != "full" else "") + \
        (f" --stations {args.stations}" if args.stations else "") + (f" --days {args.days}" if args.days else "") + \
        "".join(f" --only {s}" for s in args.only or [])
    args.out.write_text(markdown(figures, info, command, notes), encoding="utf-8")
    print()
    print(table(figures))
    print(f"\nresults written to {args.out}")
    print(f"ingest/raw-COPY ratio: {ratio:.2f}" if ratio is not None else "ingest/raw-COPY ratio: n/a")
    return 0


def pd_end(plan: generate.Plan) -> dt.date:
    """The last Beijing day the plan's data cover (the dashboards' synthetic history ends there)."""
    return (dt.date.fromisoformat(plan.start) + dt.timedelta(days=plan.days - 1))


if __name__ == "__main__":
    sys.exit(main())
