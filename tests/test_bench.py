"""The benchmark harness runs end to end at a tiny scale (no timing assertions: figures depend on
the machine). It loads through the real pipeline into its own scratch databases and drops them."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from tests.conftest import REPO


def test_tiny_benchmark_prints_the_ratio_and_writes_results(cluster, tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--scale", "tiny", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("ingest/raw-COPY ratio: ")
    assert float(last.rsplit(" ", 1)[1]) > 0
    text = out.read_text(encoding="utf-8")
    for heading in ("## Machine", "## ingest", "## indicators", "## dashboards", "## export", "## Notes"):
        assert heading in text
    assert "PostgreSQL" in text and "TimescaleDB" in text
    # every section ran: a failure is reported as a FAILED figure, not as an exit code
    assert "| FAILED |" not in text, [line for line in text.splitlines() if "FAILED" in line]
    assert "from the national-scale warehouse of the dashboards section" in text
    # the re-load of the same files is idempotent: nothing changed, no revision written
    assert "rows changed by the re-load | 0 |" in text
    assert "revisions written by the re-load | 0 |" in text
    # the scratch databases are gone
    with psycopg.connect(cluster.url("postgres")) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)",
                            (["bench_tiny_ingest", "bench_tiny_raw", "bench_tiny_dashboards"],)).fetchall()
    assert left == []
