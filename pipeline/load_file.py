"""One file through the stages: parse → row rules → GX gate → quarantine + upsert, one transaction.

The outcome of every file is logged in ``ops.load_log``; a file that cannot be parsed is logged
as failed with a message naming file, line and field, and never stops the files after it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg

from ingest.base import Adapter, IngestError, ParsedBatch, file_checksum
from quality import gate as quality_gate
from quality.rules import RuleContext, split
from warehouse import load as wh
from warehouse.load import LoadReport
from warehouse.registry import parameters, site_ids

log = logging.getLogger(__name__)

def _raw_json(batch: ParsedBatch, line_nos: pd.Series) -> pd.Series:
    """The original line of each rejected row, as JSON text (column → cell)."""
    lines = batch.raw.loc[line_nos.unique()]
    texts = pd.Series([json.dumps(r, ensure_ascii=False) for r in lines.to_dict(orient="records")], index=lines.index)
    return line_nos.map(texts)


def _quarantine_frame(batch: ParsedBatch, rejected: pd.DataFrame) -> pd.DataFrame:
    """Row-rule rejects and whole-line rejects, in the quarantine table's shape."""
    columns = ["line_no", "field", "reason_code", "message"]
    parts = [rejected[columns].astype({"field": object}), batch.line_rejects[columns]]
    frame = pd.concat([p for p in parts if not p.empty] or [parts[0]], ignore_index=True)
    frame["message"] = f"{batch.path.name}, line " + frame["line_no"].astype(str) + ", field '" + \
        frame["field"].astype(str) + "': " + frame["message"].astype(str)
    frame["raw"] = _raw_json(batch, frame["line_no"]) if len(frame) else pd.Series(dtype=str)
    return frame


def _gate_failure_frame(batch: ParsedBatch, judged: pd.DataFrame, gate: quality_gate.GateResult) -> pd.DataFrame:
    """A batch that fails its gate is quarantined whole, every row carrying the failed checks."""
    failed = "; ".join(o.expectation for o in gate.failures() if o.severity == "critical")
    return _quarantine_frame(batch, judged.assign(reason_code="gate_failed",
                                                  message=f"batch failed its quality gate: {failed}"))


@dataclass(frozen=True)
class CheckedFile:
    """A file parsed and judged by the row rules and the GX gate, with its rows to store and its
    rows to quarantine ready: everything before the database, so that it can be made for the next
    file while this one is stored (:func:`pipeline.runs.checked_ahead`). Plain frames and text only:
    it travels cheaply between processes."""

    path: Path
    parse_error: str | None = None  # the parser's message naming file, line and field
    domain: str | None = None
    gate: quality_gate.GateResult | None = None
    measurements: pd.DataFrame | None = None  # rows of the measurement table (empty when the gate failed)
    quarantine: pd.DataFrame | None = None  # rows of ops.quarantine
    lines_read: int = 0
    rows_read: int = 0
    first_time: pd.Timestamp | None = None
    last_time: pd.Timestamp | None = None


def rule_context(conn: psycopg.Connection, domain: str, now: pd.Timestamp | None = None) -> RuleContext:
    """The registry as the row rules and the gate see it (known sites and parameters)."""
    return RuleContext(site_ids=site_ids(conn), parameters=parameters(conn, domain), now=now or pd.Timestamp.now(tz="UTC"))


def check_file(path: Path, adapter: Adapter, ctx: RuleContext) -> CheckedFile:
    """Parse → row rules → GX gate → the rows to store and to quarantine, no I/O but reading the
    file. A parse error is a result (it names file, line and field); any other exception is a defect
    and propagates."""
    path = Path(path)
    try:
        batch = adapter.parse(path)
    except IngestError as exc:
        return CheckedFile(path=path, parse_error=str(exc))
    judged = quality_gate.gate_frame(batch.records, ctx)  # built once for the rules and the gate
    gate = quality_gate.run(batch, ctx, judged)
    times = batch.records["observed_at"]
    common = dict(path=path, domain=adapter.store or batch.domain, gate=gate, lines_read=batch.lines_read,
                  rows_read=batch.rows_read, first_time=times.min() if len(times) else None,
                  last_time=times.max() if len(times) else None)
    if not gate.passed:
        return CheckedFile(**common, measurements=None, quarantine=_gate_failure_frame(batch, judged, gate))
    good, rejected = split(judged, ctx)
    measurements = pd.DataFrame({
        "site_id": good["site_id"].astype("int64"),
        "parameter_id": good["parameter_id"].astype("int64"),
        "observed_at": good["observed_at"],
        "value": good["value"],
        "source_flag": good["source_flag"].astype(object),
        "status": "provisional",
    })
    return CheckedFile(**common, measurements=measurements, quarantine=_quarantine_frame(batch, rejected))


def load_file(conn: psycopg.Connection, path: Path, adapter: Adapter, run_id: str, force: bool = False,
              now: pd.Timestamp | None = None, checked: Callable[[], CheckedFile] | None = None) -> LoadReport:
    """``checked``: the file's :class:`CheckedFile` when the caller prepared it (a future's
    ``result``); by default it is made here."""
    path = Path(path)
    checksum, size = file_checksum(path)
    dataset, source = adapter.dataset, adapter.source_code
    if not force and (previous := wh.find_loaded(conn, dataset, checksum)) is not None:
        return LoadReport(file=str(path), dataset=dataset, status="already_loaded", load_id=previous)

    load_id = wh.begin_load(conn, dataset=dataset, source_code=source, file_path=str(path),
                            checksum=checksum, file_bytes=size, run_id=run_id)
    try:
        if checked is None:
            ctx = rule_context(conn, adapter.domain, now)
            result = check_file(path, adapter, ctx)
        else:
            result = checked()
        if result.parse_error is not None:
            with conn.transaction():
                wh.finish_load(conn, load_id, status="failed", error=result.parse_error)
            log.error("%s", result.parse_error)
            return LoadReport(file=str(path), dataset=dataset, status="failed", load_id=load_id,
                              error=result.parse_error)
        return _store(conn, result, load_id, dataset)
    except psycopg.OperationalError:
        raise  # the server went away: the batch rolled back whole; let the task retry
    except Exception as exc:  # a defect in one file's data must not block the others
        message = f"{path}: {type(exc).__name__}: {exc}"
        with conn.transaction():
            wh.finish_load(conn, load_id, status="failed", error=message)
        log.exception("load of %s failed", path)
        return LoadReport(file=str(path), dataset=dataset, status="failed", load_id=load_id, error=message)


def _store(conn: psycopg.Connection, checked: CheckedFile, load_id: int, dataset: str) -> LoadReport:
    path, gate, first, last = checked.path, checked.gate, checked.first_time, checked.last_time
    with conn.transaction():
        wh.write_validation(conn, load_id, gate)
        quarantined = wh.write_quarantine(conn, load_id, checked.quarantine)
        if not gate.passed:
            wh.finish_load(conn, load_id, status="rejected", gate_passed=False, lines_read=checked.lines_read,
                           rows_read=checked.rows_read, rows_quarantined=quarantined, first_time=first, last_time=last,
                           error="quality gate failed: " + "; ".join(o.expectation for o in gate.failures()))
            return LoadReport(file=str(path), dataset=dataset, status="rejected", load_id=load_id,
                              rows_read=checked.rows_read, rows_quarantined=quarantined,
                              error="quality gate failed", first_time=first, last_time=last)
        counts = wh.upsert_measurements(conn, checked.domain, checked.measurements, load_id)
        wh.finish_load(conn, load_id, status="loaded", gate_passed=True, lines_read=checked.lines_read,
                       rows_read=checked.rows_read, rows_stored=counts.stored, rows_quarantined=quarantined,
                       counts=counts, first_time=first, last_time=last)
    return LoadReport(file=str(path), dataset=dataset, status="loaded", load_id=load_id, rows_read=checked.rows_read,
                      rows_stored=counts.stored, rows_quarantined=quarantined, rows_inserted=counts.inserted,
                      rows_revised=counts.revised, first_time=first, last_time=last)
