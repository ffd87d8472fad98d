"""What every benchmark section shares: timing, peak memory, the machine, the table, RESULTS.md.

A section returns :class:`Figure` rows (name, value, unit, reference): the reference is printed
next to the figure and was measured in the same run on the same machine where it is a
measurement (raw COPY, to_sql), or is the issue's goal where it is a target.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float | int | str | None
    unit: str = ""
    reference: str = ""

    def cells(self) -> list[str]:
        return [self.section, self.name, fmt(self.value), self.unit, self.reference]


def fmt(value: float | int | str | None) -> str:
    """Numbers readable at a glance: thousands separated, at most three significant decimals."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


class Stopwatch:
    """Accumulates wall time over several ``with watch:`` blocks (e.g. only the COPY of each day)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds += time.perf_counter() - self._t0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    with watch:
        yield watch


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS counter (VmHWM) of this process (Linux: ``clear_refs`` 5), so
    a later :func:`peak_rss_mb` covers only what ran since. False where the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident memory of this process since start or the last :func:`reset_peak_rss`."""
    kb = _status_kb("VmHWM")
    if kb is None:  # not Linux: the process-lifetime peak
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def _descendants(root: int) -> list[int]:
    """Processes below ``root`` (the check worker and its forkserver), PostgreSQL excluded."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if not comm.startswith("postgres"):
            children.setdefault(int(rest[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def helpers_rss_mb() -> float:
    """Resident memory of this process's helper processes now (summed; shared pages count in each)."""
    pages = 0
    for pid in _descendants(os.getpid()):
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class HelpersPeakRss:
    """Peak of :func:`helpers_rss_mb` while the block runs, sampled every ``interval`` seconds by a
    thread: the check worker's memory belongs to the load's footprint (the kernel's exact peak
    counter covers one process only)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mb = 0.0

    def __enter__(self) -> HelpersPeakRss:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, helpers_rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a small sample of latencies."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def machine(url: str | None = None) -> dict[str, str]:
    """CPU, cores, memory, software versions and the date: printed with every result table."""
    import numpy
    import pandas

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    info = {
        "date (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB" if mem_kb else "unknown",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "psycopg": psycopg.__version__,
    }
    if url:
        from warehouse.capabilities import detect

        with psycopg.connect(url) as conn:
            info["PostgreSQL"] = conn.execute("SHOW server_version").fetchone()[0]
            caps = detect(conn)
            if caps.timescaledb_version:
                info["TimescaleDB"] = f"{caps.timescaledb_version} ({caps.license} licence)"
            else:  # the maintenance database has no extension: say what the scratch warehouses get
                row = conn.execute("SELECT default_version FROM pg_available_extensions "
                                   "WHERE name = 'timescaledb'").fetchone()
                licence = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()[0]
                info["TimescaleDB"] = (f"{row[0]} available ({licence or 'apache'} licence)" if row
                                       else "not installed")
    return info


def table(figures: list[Figure]) -> str:
    """A plain-text table, columns aligned (East Asian text is not in the figures)."""
    header = ["section", "figure", "value", "unit", "reference (same run)"]
    rows = [header] + [f.cells() for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown(figures: list[Figure], info: dict[str, str], command: str, notes: list[str]) -> str:
    """RESULTS.md: the machine, the command, the figures by section, and the notes of the run."""
    out = ["# Benchmark results", "",
           "Generated by `" + command + "` (bench/__main__.py); do not edit by hand — rerun it.", "",
           "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in info.items()]
    sections = list(dict.fromkeys(f.section for f in figures))
    for section in sections:
        out += ["", f"## {section}", "", "| figure | value | unit | reference (same run) |", "|---|---:|---|---|"]
        out += [f"| {f.name} | {fmt(f.value)} | {f.unit} | {f.reference} |" for f in figures if f.section == section]
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"
