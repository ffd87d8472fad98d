"""Files checked one ahead in a worker process (pipeline.runs.checked_ahead, issue #8): the same
stored state as checking inline, errors still name file, line and field, and a worker that dies
costs time but never a file. Real Leshan city archives, real forkserver worker, real warehouse."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from ingest.base import ParsedBatch
from ingest.cnemc_archive import CITY_ADAPTER
from pipeline import runs
from tests.conftest import BUNDLED_DATA

CITY_DAYS = sorted((BUNDLED_DATA / "air" / "china_cities_leshan_2022").glob("china_cities_202201*.csv"))[:6]
STATE = {
    "measurements": "SELECT s.code, p.code, m.observed_at, m.value, m.source_flag FROM obs.air_measurement m "
                    "JOIN registry.site s USING (site_id) JOIN registry.parameter p USING (parameter_id) ORDER BY 1, 2, 3",
    "quarantine": "SELECT line_no, field, reason_code, message, raw::text FROM ops.quarantine ORDER BY 1, 2, 3, 4, 5",
    "loads": "SELECT file_path, status, rows_read, rows_stored, rows_quarantined, gate_passed FROM ops.load_log "
             "ORDER BY file_path",
    # ordered by every column: the freshness (warning) and far-future (error) expectations are both
    # expect_column_max_to_be_between on observed_at with the same observed maximum, and only their
    # severity and outcome tell them apart (a sort on fewer columns failed once in CI on the tie)
    "validation": "SELECT l.file_path, v.expectation, v.column_name, v.severity, v.success, v.observed::text "
                  "FROM ops.validation_result v JOIN ops.load_log l USING (load_id) ORDER BY 1, 2, 3, 4, 5, 6",
}


def _state(conn) -> dict[str, list]:
    return {name: conn.execute(query).fetchall() for name, query in STATE.items()}


def _with_a_bad_day(tmp_path: Path) -> list[Path]:
    """The six January days, the third with one damaged cell and one unknown type line."""
    files = []
    for path in CITY_DAYS:
        files.append(shutil.copy(path, tmp_path / path.name))
    lines = Path(files[2]).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    col = header.index("乐山")
    cells = lines[5].rstrip("\n").split(",")
    cells[col] = "n/a?"
    lines[5] = ",".join(cells) + "\n"
    lines.append(lines[6].replace(lines[6].split(",")[2], "PM1", 1))
    Path(files[2]).write_text("".join(lines), encoding="utf-8")
    return [Path(f) for f in files]


def _force_worker(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(runs, "CHECK_AHEAD_MIN_SECONDS", 0.0 if on else float("inf"))


def test_checking_in_the_worker_stores_exactly_what_checking_inline_stores(cluster, request, tmp_path, monkeypatch):
    from envmon import localcluster
    from warehouse.db import connect

    files = _with_a_bad_day(tmp_path)
    states = {}
    for mode in ("inline", "worker"):
        url = localcluster.create_database(f"t_check_ahead_{mode}", cluster, drop_first=True)
        runs.prepare_with_stations(BUNDLED_DATA, url)
        _force_worker(monkeypatch, mode == "worker")
        reports = runs.run_loads(CITY_ADAPTER, files, run_id="ahead", url=url)
        assert [r["status"] for r in reports] == ["loaded"] * 6
        with connect(url) as conn:
            states[mode] = _state(conn)
    assert states["worker"] == states["inline"]
    # and the state is the real one: the damaged cell and the unknown type quarantined, named
    messages = [row[3] for row in states["worker"]["quarantine"]]
    assert any("line 6, field '乐山': 'n/a?' is not a number" in m for m in messages), messages
    assert any("field 'type': type 'PM1' is not one of the archive's 15 types" in m for m in messages), messages
    assert len(states["worker"]["measurements"]) > 6 * 24 * 10


def test_a_file_that_cannot_be_parsed_fails_by_name_in_the_worker_and_the_others_load(conn, tmp_path, monkeypatch):
    files = [Path(shutil.copy(p, tmp_path / p.name)) for p in CITY_DAYS[:3]]
    files[1].write_text("date,hour\n20220102,1\n", encoding="utf-8")
    _force_worker(monkeypatch, True)
    reports = runs.load_files(conn, CITY_ADAPTER, files, run_id="ahead-bad")
    assert [r.status for r in reports] == ["loaded", "failed", "loaded"]
    assert reports[1].error == f"{files[1]}, line 1: missing column(s) type; expected date,hour,type,<sites…>"


def _parse_dies_in_worker(path: Path) -> ParsedBatch:
    """Kills the process it runs in when that is the check worker (a crash, the OOM killer)."""
    if multiprocessing.parent_process() is not None:
        os._exit(9)
    return CITY_ADAPTER.parse(path)


def _parse_with_a_defect(path: Path) -> ParsedBatch:
    if path.name.endswith("0102.csv"):
        raise ZeroDivisionError("a defect in the parser")
    return CITY_ADAPTER.parse(path)


def test_a_worker_that_dies_costs_time_not_files(conn, tmp_path, monkeypatch, caplog):
    dying = dataclasses.replace(CITY_ADAPTER, parse=_parse_dies_in_worker)
    _force_worker(monkeypatch, True)
    with caplog.at_level(logging.WARNING, logger="pipeline.runs"):
        reports = runs.load_files(conn, dying, CITY_DAYS[:3], run_id="ahead-dies")
    assert [r.status for r in reports] == ["loaded"] * 3
    assert [r.rows_read for r in reports] == [r.rows_read for r in reports[:1]] * 3 and reports[0].rows_read > 0
    assert "check worker lost while checking" in caplog.text


def test_a_defect_in_the_worker_fails_its_file_with_the_cause_and_the_next_file_loads(conn, monkeypatch):
    defective = dataclasses.replace(CITY_ADAPTER, parse=_parse_with_a_defect)
    _force_worker(monkeypatch, True)
    reports = runs.load_files(conn, defective, CITY_DAYS[:3], run_id="ahead-defect")
    assert [r.status for r in reports] == ["loaded", "failed", "loaded"]
    assert "ZeroDivisionError: a defect in the parser" in reports[1].error


@pytest.mark.parametrize(("sizes", "worker"), [
    ([50 * 2**20], False),       # one file, however large: nothing to overlap
    ([8_000, 8_000], False),     # two Leshan days: starting the worker costs more than it saves
    ([7_600] * 365, True),       # a year of Leshan city days (GX's fixed cost per file adds up)
    ([800_000] * 7, True),       # a national week of station days
])
def test_the_worker_is_used_when_checking_is_expected_to_take_longer_than_starting_it(sizes, worker):
    assert runs.worth_checking_ahead(sizes) is worker
