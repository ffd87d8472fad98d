"""Entry points the DAG, the command line and the benchmark call: export one month, check readiness."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from exports import manifest, monthly, pdf, workbook


def default_out_dir() -> Path:
    from envmon.settings import output_dir

    return output_dir() / "exports"


def previous_month(when: datetime | date) -> date:
    """The month before the one ``when`` falls in (a run on 1 July reports June)."""
    first = date(when.year, when.month, 1)
    return (first - timedelta(days=1)).replace(day=1)


def month_of_run(month: str, when: datetime | None) -> str:
    """The month a run reports: ``month`` when given (YYYY-MM), else the month before the run's
    date in Beijing time."""
    if month:
        return f"{monthly.parse_month(month):%Y-%m}"
    moment = (when or datetime.now(monthly.BEIJING)).astimezone(monthly.BEIJING)
    return f"{previous_month(moment):%Y-%m}"


def latest_complete_month(url: str | None = None) -> str | None:
    """The last calendar month the city's air days reach the end of (what the main job exports:
    the bundled data end on 2023-01-01, so 2022-12)."""
    from warehouse.db import connect

    with connect(url) as conn:
        last = conn.execute("SELECT max(day) FROM derived.air_city_day").fetchone()[0]
    if last is None:
        return None
    month = last.replace(day=1) if (last + timedelta(days=1)).day == 1 else previous_month(last)
    return f"{month:%Y-%m}"


def latest_version(month: str, out_dir: Path | str | None = None) -> Path | None:
    """Directory of the month's newest published version, if any."""
    month_dir = (Path(out_dir) if out_dir else default_out_dir()) / month
    found = manifest.versions(month_dir)
    return month_dir / f"v{found[-1]}" if found else None


def export_month(month: str | date, out_dir: Path | str | None = None, url: str | None = None) -> dict[str, Any]:
    """Build the month's report from the warehouse and publish it as a (new or unchanged) version.

    Returns the publication (status created/unchanged, version, directory, manifest, diff) with the
    seconds it took and the data still missing.
    """
    from warehouse.db import connect

    started = time.perf_counter()
    first = monthly.parse_month(month) if isinstance(month, str) else month.replace(day=1)
    out = Path(out_dir) if out_dir else default_out_dir()
    with connect(url) as conn:
        report = monthly.build(conn, first)
    stem = f"monthly_compliance_{report.label}"

    def documents(target: Path) -> None:
        workbook.write_workbook(report, target / f"{stem}.xlsx")
        pdf.write_pdf(report, target / f"{stem}.pdf")

    result = manifest.publish(report, out, lambda target: workbook.write_csvs(report, target), documents)
    result.update(seconds=round(time.perf_counter() - started, 3), missing=report.missing, cutoff=report.cutoff)
    return result


def readiness(month: str | date, url: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """:func:`exports.monthly.readiness` with a connection of its own (the DAG's sensor)."""
    from warehouse.db import connect

    first = monthly.parse_month(month) if isinstance(month, str) else month.replace(day=1)
    with connect(url) as conn:
        return monthly.readiness(conn, first, now=now)
