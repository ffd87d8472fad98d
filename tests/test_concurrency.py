"""Concurrency (issue #8, resilience): two loads of overlapping data at once end in the state of one.

Both loads are held at the door of the measurement table (another session holds a lock on it) until
each has staged its batch and is waiting to upsert; then they are let in together, so their upserts
really run at the same time on the same keys. Whatever the interleaving (one waits for the other's
rows, or the server breaks a deadlock and one batch is retried), the end state equals one load of the
union: a further load of all the data finds every value already stored and unchanged.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ingest import cnemc_air
from pipeline import runs
from pipeline.load_file import load_file
from tests.conftest import BUNDLED_DATA
from warehouse.db import connect

DAY = BUNDLED_DATA / "air" / "cnemc_station_hourly_leshan_2023-01-01.csv"
STATE = {
    "measurements": """SELECT site_id, parameter_id, observed_at, value, source_flag, status
                       FROM obs.air_measurement ORDER BY 1, 2, 3""",
    "revisions": "SELECT count(*) FROM ops.measurement_revision",
    "dirty_days": "SELECT DISTINCT domain, site_id, day FROM ops.dirty_day ORDER BY 1, 2, 3",
    "quarantine": "SELECT count(*) FROM ops.quarantine",
}


def _state(conn) -> dict[str, list]:
    return {name: conn.execute(query).fetchall() for name, query in STATE.items()}


def _at_once(url: str, files: list[Path]) -> list[dict]:
    """Load each file in its own thread and connection (``runs.run_loads``, the DAGs' path), all
    upserts released together."""
    blocker = connect(url, autocommit=False)
    blocker.execute("LOCK TABLE obs.air_measurement IN ACCESS EXCLUSIVE MODE")
    database = url.rsplit("/", 1)[1]
    results: list = [None] * len(files)

    def load(i: int) -> None:
        try:
            results[i] = runs.run_loads(cnemc_air.ADAPTER, [files[i]], run_id=f"concurrent-{i}", url=url)
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=load, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 90
        with connect(url) as watcher:
            while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = "
                                  "'Lock'", (database,)).fetchone()[0] < len(files):
                assert time.monotonic() < deadline, "the loads never reached their upserts"
                time.sleep(0.05)
    finally:
        blocker.rollback()
        blocker.close()
        for t in threads:
            t.join(timeout=120)
    for result in results:
        assert not isinstance(result, Exception), result
    return [report for result in results for report in result]


def _write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_two_overlapping_files_loaded_at_once_end_like_one_load_of_both(warehouse, tmp_path):
    header, *lines = DAY.read_text(encoding="utf-8").splitlines()
    hour = [int(line[11:13]) for line in lines]
    # Morning file 01:00–16:00 and afternoon file 09:00–24:00 (the overlap 09:00–16:00 in both, the
    # afternoon file in reverse line order so the two batches meet the shared keys from opposite ends).
    morning = _write(tmp_path / "morning.csv", header, [ln for ln, h in zip(lines, hour, strict=True) if 1 <= h <= 16])
    afternoon = _write(tmp_path / "afternoon.csv", header,
                       [ln for ln, h in zip(lines, hour, strict=True) if h >= 9 or h == 0][::-1])
    reports = _at_once(warehouse, [morning, afternoon])

    assert [r["status"] for r in reports] == ["loaded", "loaded"]
    assert sorted(r["rows_read"] for r in reports) == [4 * 16 * 15, 4 * 16 * 15]
    # Every key stored once: 24 hours × 4 stations × 15 values; the 8 shared hours were inserted by
    # whichever load came first and found unchanged by the other.
    assert sum(r["rows_inserted"] for r in reports) == 1440 and sum(r["rows_revised"] for r in reports) == 0
    with connect(warehouse) as conn:
        state = _state(conn)
        assert len(state["measurements"]) == 1440 and state["revisions"] == [(0,)]
        assert conn.execute("SELECT count(*) FROM ops.load_log WHERE status <> 'loaded'").fetchone()[0] == \
            conn.execute("SELECT count(*) FROM ops.load_log WHERE error LIKE 'interrupted%'").fetchone()[0]
        # One load of the whole day over this state: nothing new, nothing revised, nothing moved.
        whole = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="whole", force=True)
        assert (whole.rows_stored, whole.rows_inserted, whole.rows_revised) == (1440, 0, 0)
        assert _state(conn) == state


def test_the_same_file_loaded_twice_at_once_is_stored_once(warehouse):
    reports = _at_once(warehouse, [DAY, DAY])
    assert [r["status"] for r in reports] == ["loaded", "loaded"]
    assert sorted((r["rows_inserted"], r["rows_revised"], r["rows_stored"]) for r in reports) == \
        [(0, 0, 1440), (1440, 0, 1440)]
    with connect(warehouse) as conn:
        state = _state(conn)
        assert len(state["measurements"]) == 1440 and state["revisions"] == [(0,)]
        again = load_file(conn, DAY, cnemc_air.ADAPTER, run_id="third")
        assert again.status == "already_loaded"
        assert _state(conn) == state
