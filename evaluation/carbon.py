"""Carbon and energy: load the CEADs inventories and the bureau's statistics, compute the indicators.

Loading (one file = one ``ops.load_log`` row = one transaction): a file whose checksum was
already loaded is skipped; otherwise its rejects go to ``ops.quarantine`` with file, line, field
and reason, and its rows are upserted into ``obs.carbon_emission`` / ``obs.socioeconomic``
(identical rows are not touched, so a second load changes nothing). A changed file replaces its
values, and rows an earlier version of the same file held but the new one lacks are deleted —
the file is the publisher's (or the bureau's) complete statement.

Indicators (:func:`refresh_carbon`, formulas in ``standards.carbon``): every region gets one
``derived.carbon_indicator`` row per year from its first to its last year with data (its own CO2
or statistics, or its province's CO2), so a gap year such as Leshan 2017 is a row that says
``insufficient_data`` and names what is missing — never a filled-in number. ``status`` is ``ok``
when the headline figures, CO2 and its intensity, are computed; ``missing`` lists every input a
figure of the row lacked (``co2 2017; gdp_constant 2017; population 2017; …``).
``derived.carbon_reduction`` holds the cumulative reductions over each five-year-plan period
(base year → each year up to the period's end, so the progress of a running plan is visible).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from ingest import ceads, statistics_template
from ingest.base import IngestError, file_checksum
from ingest.ceads import TableBatch
from quality import gate as quality_gate
from quality.tables import SUITES
from standards import carbon as std
from warehouse import load as wh
from warehouse.derived import stage_table, upsert_frame
from warehouse.load import LoadReport

log = logging.getLogger(__name__)

#: Input kinds the ``carbon_energy`` DAG loads: name → (dataset, file patterns under the data dir).
CARBON_INPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "city_inventory": ("carbon_city", ("carbon/**/*Chinese_Cities*.xlsx", "carbon/**/*cities_emission_vector*.csv")),
    "province_inventory": ("carbon_province", ("carbon/**/Emission_Inventories_for_*Provinces*.xlsx",
                                               "carbon/**/CEADS_province_*.csv")),
    "statistics": ("bureau_statistics", ("statistics/**/*.csv", "statistics/**/*.xlsx")),
}
#: The input files the DAG is scheduled on (Airflow Assets): name → (input kind, path under the data dir).
ASSET_FILES: dict[str, tuple[str, str]] = {
    "ceads_city_inventory": (
        "city_inventory", "carbon/The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx"),
    "ceads_province_inventory": ("province_inventory", "carbon/Emission_Inventories_for_30_Provinces_2019.xlsx"),
    "ceads_province_sichuan_csv": ("province_inventory", "carbon/CEADS_province_Sichuan_2019_sectoral.csv"),
    "bureau_statistics": ("statistics", "statistics/bureau_statistics.csv"),
}

EMISSION_KEY = ["region", "year", "sector", "fuel"]
SOCIO_KEY = ["region", "year", "indicator"]
INDICATOR_COLUMNS = ["region", "year", "co2_mt", "co2_per_capita_t", "gdp_constant_100m_yuan", "price_base_year",
                     "intensity_t_per_10k_yuan", "energy_per_gdp", "share_of_province_pct", "status", "missing"]
REDUCTION_COLUMNS = ["region", "indicator", "base_year", "year", "base_value", "value", "reduction_pct", "status",
                     "missing"]


@dataclass(frozen=True)
class CarbonRefreshReport:
    """Rows computed, rows actually (re)written, and stale rows deleted by :func:`refresh_carbon`."""

    indicator_rows: int
    indicator_written: int
    reduction_rows: int
    reduction_written: int
    removed: int


# --------------------------------------------------------------------------------------------- loading

def _remove_dropped(conn: psycopg.Connection, table: str, key: list[str], path: Path, dataset: str,
                    load_id: int) -> int:
    """Rows an earlier load of the same file stored that this version of the file no longer has."""
    schema, name = table.split(".")
    ident = sql.Identifier
    match = sql.SQL(" AND ").join(sql.SQL("s.{c} = t.{c}").format(c=ident(c)) for c in key)
    return conn.execute(sql.SQL("""
        DELETE FROM {target} t USING ops.load_log l
        WHERE t.load_id = l.load_id AND l.file_path = %s AND l.dataset = %s AND l.load_id <> %s
          AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})""").format(
        target=ident(schema, name), stage=ident(stage_table(table)), match=match),
        (str(path), dataset, load_id)).rowcount


def _quarantine_frame(batch: TableBatch) -> pd.DataFrame:
    rejects = batch.rejects.copy()
    if rejects.empty:
        return rejects
    rejects["message"] = (batch.path.name + ", line " + rejects["line_no"].astype(str) + ", field '"
                          + rejects["field"].astype(str) + "': " + rejects["message"].astype(str))
    return rejects


def _reject(conn: psycopg.Connection, batch: TableBatch, gate, load_id: int) -> LoadReport:
    """A file failing its gate is kept whole in quarantine (reason gate_failed), nothing stored."""
    failed = "; ".join(o.expectation for o in gate.failures() if o.severity == "critical")
    whole = pd.DataFrame({
        "line_no": batch.records["line_no"], "field": None, "reason_code": "gate_failed",
        "message": f"{batch.path.name}: batch failed its quality gate: {failed}",
        "raw": [json.dumps(r, ensure_ascii=False, default=str) for r in batch.records.to_dict(orient="records")],
    })
    with conn.transaction():
        wh.write_validation(conn, load_id, gate)
        quarantined = wh.write_quarantine(conn, load_id, pd.concat([whole, _quarantine_frame(batch)],
                                                                   ignore_index=True))
        wh.finish_load(conn, load_id, status="rejected", gate_passed=False, lines_read=batch.lines_read,
                       rows_read=batch.rows_read, rows_quarantined=quarantined,
                       error=f"quality gate failed: {failed}")
    return LoadReport(str(batch.path), batch.dataset, "rejected", load_id, rows_read=batch.rows_read,
                            rows_quarantined=quarantined, error=f"quality gate failed: {failed}")


def _load(conn: psycopg.Connection, path: Path | str, dataset: str, source_code: str,
          parse: Callable[[Path], TableBatch], table: str, key: list[str], columns: list[str], run_id: str,
          force: bool) -> LoadReport:
    path = Path(path)
    checksum, size = file_checksum(path)
    if not force and (previous := wh.find_loaded(conn, dataset, checksum)) is not None:
        return LoadReport(str(path), dataset, "already_loaded", previous)
    load_id = wh.begin_load(conn, dataset=dataset, source_code=source_code, file_path=str(path), checksum=checksum,
                            file_bytes=size, run_id=run_id)
    try:
        batch = parse(path)
        gate = quality_gate.run_table(dataset, batch.records, SUITES[dataset]()) if len(batch.records) else None
        if gate is not None and not gate.passed:
            return _reject(conn, batch, gate, load_id)
        with conn.transaction():
            if gate is not None:
                wh.write_validation(conn, load_id, gate)
            quarantined = wh.write_quarantine(conn, load_id, _quarantine_frame(batch))
            counts = upsert_frame(conn, table, batch.records[columns].assign(load_id=load_id), key,
                                  not_compared=("load_id",), touch=None)
            removed = _remove_dropped(conn, table, key, path, dataset, load_id)
            wh.finish_load(conn, load_id, status="loaded", gate_passed=True if gate else None,
                           lines_read=batch.lines_read, rows_read=batch.rows_read,
                           rows_stored=counts.stored, rows_quarantined=quarantined, counts=counts)
    except psycopg.OperationalError:
        raise  # the server went away: the transaction rolled back whole; let the task retry
    except Exception as exc:  # IngestError names file/line/field; anything else must not block the next file
        message = str(exc) if isinstance(exc, IngestError) else f"{path}: {type(exc).__name__}: {exc}"
        with conn.transaction():
            wh.finish_load(conn, load_id, status="failed", error=message)
        log.error("load of %s failed: %s", path, message)
        return LoadReport(str(path), dataset, "failed", load_id, error=message)
    if removed:
        log.info("%s: %d row(s) of an earlier version of the file are gone from it and were removed", path, removed)
    return LoadReport(str(path), dataset, "loaded", load_id, rows_read=batch.rows_read,
                            rows_stored=counts.stored, rows_quarantined=quarantined, rows_inserted=counts.inserted,
                            rows_revised=counts.revised, rows_removed=removed)


def load_city_inventory(conn: psycopg.Connection, path: Path | str, run_id: str,
                        force: bool = False) -> LoadReport:
    """The CEADs city workbook (or its vector CSV) into ``obs.carbon_emission``."""
    return _load(conn, path, "carbon_city", "ceads_city", ceads.read_city_inventory, "obs.carbon_emission",
                 EMISSION_KEY, ceads.EMISSION_COLUMNS, run_id, force)


def load_province_inventory(conn: psycopg.Connection, path: Path | str, run_id: str,
                            force: bool = False) -> LoadReport:
    """A CEADs provincial sector × fuel workbook (every province sheet) or one-sheet CSV."""
    return _load(conn, path, "carbon_province", "ceads_province", ceads.read_province_inventory,
                 "obs.carbon_emission", EMISSION_KEY, ceads.EMISSION_COLUMNS, run_id, force)


def known_regions(conn: psycopg.Connection) -> set[str]:
    """Region codes a statistics line may name: inventory regions, the air cities of the registry,
    their provinces and every province (see ``ingest.ceads`` for the codes)."""
    rows = conn.execute("""SELECT region FROM obs.carbon_emission GROUP BY region
                           UNION SELECT code FROM registry.site WHERE kind = 'air_city'
                           UNION SELECT province FROM registry.site WHERE province IS NOT NULL""").fetchall()
    return {r[0] for r in rows} | set(ceads.PROVINCES_ZH.values())


def load_statistics(conn: psycopg.Connection, path: Path | str, run_id: str,
                    force: bool = False) -> LoadReport:
    """A filled bureau statistics template into ``obs.socioeconomic`` (regions checked against
    :func:`known_regions`)."""
    regions = known_regions(conn)
    columns = ["region", "year", "indicator", "value", "unit", "price_base_year", "source"]
    return _load(conn, path, "bureau_statistics", "bureau_statistics",
                 lambda p: statistics_template.read(p, known_regions=regions), "obs.socioeconomic", SOCIO_KEY,
                 columns, run_id, force)


LOADERS: dict[str, Callable[..., LoadReport]] = {
    "city_inventory": load_city_inventory,
    "province_inventory": load_province_inventory,
    "statistics": load_statistics,
}


def input_files(kind: str, data_dir: Path | str) -> list[Path]:
    """Files of one input kind found under ``data_dir`` (``CARBON_INPUTS`` patterns)."""
    from pipeline.runs import files_of

    _, patterns = CARBON_INPUTS[kind]
    return sorted({p for pattern in patterns for p in files_of(data_dir, pattern)})


def load_inputs(kind: str, data_dir: Path | str, run_id: str, url: str | None = None,
                force: bool = False) -> list[dict[str, object]]:
    """Load every file of one input kind (each on its own: a failed file does not stop the next)."""
    from warehouse.db import connect

    with connect(url) as conn:
        reports = [LOADERS[kind](conn, path, run_id, force=force) for path in input_files(kind, data_dir)]
    for r in reports:
        log.info("%s: %s (load #%s) read %d, stored %d, quarantined %d, removed %d%s", r.file, r.status, r.load_id,
                 r.rows_read, r.rows_stored, r.rows_quarantined, r.rows_removed, f" — {r.error}" if r.error else "")
    return [r.as_dict() for r in reports]


def asset_uris(data_dir: Path | str) -> dict[str, str]:
    """``file://`` URIs of the files the DAG is scheduled on (``ASSET_FILES``)."""
    root = Path(data_dir).resolve()
    return {name: (root / rel).as_uri() for name, (_, rel) in ASSET_FILES.items()}


def changed_inputs(data_dir: Path | str, url: str | None = None) -> list[str]:
    """Asset names whose file exists and whose current content has not been loaded yet."""
    from warehouse.db import connect

    present = {name: Path(data_dir) / rel for name, (_, rel) in ASSET_FILES.items() if (Path(data_dir) / rel).is_file()}
    with connect(url) as conn:
        try:
            return [name for name, path in present.items()
                    if wh.find_loaded(conn, CARBON_INPUTS[ASSET_FILES[name][0]][0], file_checksum(path)[0]) is None]
        except psycopg.errors.UndefinedTable:  # a warehouse not migrated yet has loaded nothing
            return list(present)


# --------------------------------------------------------------------------------------------- indicators

def _inputs_frame(conn: psycopg.Connection) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """CO2 totals, statistics (wide) and region → province."""
    co2 = pd.DataFrame(conn.execute(
        """SELECT region, region_level, year, co2_mt, row_label FROM obs.carbon_emission
           WHERE sector = 'total' AND fuel = 'total'""").fetchall(),
        columns=["region", "region_level", "year", "co2_mt", "row_label"])
    stats = pd.DataFrame(conn.execute(
        "SELECT region, year, indicator, value, price_base_year FROM obs.socioeconomic").fetchall(),
        columns=["region", "year", "indicator", "value", "price_base_year"])
    province: dict[str, str] = {}
    for region, level, label in co2[["region", "region_level", "row_label"]].drop_duplicates("region").itertuples(
            index=False):
        if level == "city" and (p := ceads.province_of(label)):
            province[region] = p
    for code, prov in conn.execute("SELECT code, province FROM registry.site WHERE kind = 'air_city' "
                                   "AND province IS NOT NULL").fetchall():
        province.setdefault(code, prov)
    return co2, stats, province


def _wide(co2: pd.DataFrame, stats: pd.DataFrame, province: dict[str, str]) -> pd.DataFrame:
    """One row per region and year of its span, with every input (NaN where missing)."""
    provinces = set(ceads.PROVINCES_ZH.values()) | set(co2.loc[co2["region_level"] == "province", "region"])
    years: dict[str, set[int]] = {}
    for frame in (co2, stats):
        for region, year in frame[["region", "year"]].itertuples(index=False):
            years.setdefault(region, set()).add(int(year))
    keys = []
    for region, own in years.items():
        span = set(own) | (years.get(province.get(region, ""), set()) if region not in provinces else set())
        keys += [(region, y) for y in range(min(span), max(span) + 1)]
    wide = pd.DataFrame(keys, columns=["region", "year"])
    if wide.empty:
        return wide
    wide["is_province"] = wide["region"].isin(provinces)
    wide["province"] = wide["region"].map(province).where(~wide["is_province"])
    totals = co2.groupby(["region", "year"])["co2_mt"].first()
    wide["co2_mt"] = pd.Series(list(zip(wide["region"], wide["year"], strict=True))).map(totals).astype("float64")
    wide["province_co2"] = pd.Series(list(zip(wide["province"], wide["year"], strict=True))).map(totals) \
        .astype("float64")
    for indicator in statistics_template.UNITS:
        part = stats[stats["indicator"] == indicator].set_index(["region", "year"])
        keys_index = pd.MultiIndex.from_frame(wide[["region", "year"]])
        wide[indicator] = part["value"].reindex(keys_index).to_numpy(dtype="float64")
        if indicator in statistics_template.PRICE_BASED:
            wide[f"{indicator}_base"] = part["price_base_year"].reindex(keys_index).to_numpy(dtype="float64")
    return wide


def _missing(wide: pd.DataFrame, column: str, label: str) -> pd.Series:
    return pd.Series(np.where(wide[column].isna(), label + " " + wide["year"].astype(str), ""), index=wide.index)


def _join(parts: list[pd.Series]) -> pd.Series:
    joined = pd.Series("", index=parts[0].index) if parts else pd.Series(dtype=str)
    for part in parts:
        joined = joined.where(part.eq(""), joined.where(joined.eq(""), joined + "; ") + part)
    return joined.where(joined.ne(""), None)


def indicators(wide: pd.DataFrame) -> pd.DataFrame:
    """``derived.carbon_indicator`` rows (plus full-precision intensities for the reductions)."""
    intensity = std.carbon_intensity(wide["co2_mt"], wide["gdp_constant"], decimals=None).value
    computed_energy = std.energy_per_gdp(wide["energy_total"], wide["gdp_constant"], decimals=None).value
    published = wide["energy_per_gdp"].notna()
    energy = wide["energy_per_gdp"].where(published, computed_energy)
    # The price base of a computed energy intensity is the GDP's.
    energy_base = wide["energy_per_gdp_base"].where(published, wide["gdp_constant_base"].where(computed_energy.notna()))
    share = std.share_pct(wide["co2_mt"], wide["province_co2"]).value.where(~wide["is_province"])
    missing = [
        _missing(wide, "co2_mt", "co2"),
        _missing(wide, "gdp_constant", "gdp_constant"),
        _missing(wide, "population", "population"),
        pd.Series(np.where(energy.isna(), "energy_per_gdp " + wide["year"].astype(str), ""), index=wide.index),
        pd.Series(np.where(~wide["is_province"] & wide["province"].isna(), "province of the region unknown",
                           np.where(~wide["is_province"] & wide["province_co2"].isna(),
                                    wide["province"].fillna("") + " co2 " + wide["year"].astype(str), "")),
                  index=wide.index),
    ]
    out = pd.DataFrame({
        "region": wide["region"],
        "year": wide["year"].astype("int64"),
        "co2_mt": wide["co2_mt"],
        "co2_per_capita_t": std.co2_per_capita(wide["co2_mt"], wide["population"]).value,
        "gdp_constant_100m_yuan": wide["gdp_constant"],
        "price_base_year": wide["gdp_constant_base"].astype("Int64"),
        "intensity_t_per_10k_yuan": std.carbon_intensity(wide["co2_mt"], wide["gdp_constant"]).value,
        "energy_per_gdp": std.round_gbt8170(energy, std.DECIMALS["energy_per_gdp"]),
        "share_of_province_pct": share,
        "status": np.where(wide["co2_mt"].notna() & intensity.notna(), "ok", "insufficient_data"),
        "missing": _join(missing),
    })
    out["_intensity"] = intensity
    out["_energy"] = energy
    out["_energy_base"] = energy_base
    return out


def _period_years(periods: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    return sorted({(base, year) for base, final in periods for year in range(base + 1, final + 1)})


def reductions(table: pd.DataFrame, periods: Iterable[tuple[int, int]] = std.FYP_PERIODS) -> pd.DataFrame:
    """``derived.carbon_reduction`` rows: per region, for each period (base, final) in which the region
    has a year, the cumulative reduction from the base year to every year up to the final one."""
    if table.empty:
        return pd.DataFrame(columns=REDUCTION_COLUMNS)
    spans = table.groupby("region")["year"].agg(["min", "max"])
    pairs = _period_years(periods)
    rows = pd.DataFrame([(region, base, year) for region, (lo, hi) in spans.iterrows() for base, year in pairs
                         if base <= hi and year >= lo], columns=["region", "base_year", "year"])
    if rows.empty:
        return pd.DataFrame(columns=REDUCTION_COLUMNS)
    by_key = table.set_index(["region", "year"])
    at_base = by_key.reindex(pd.MultiIndex.from_frame(rows[["region", "base_year"]]))
    at_year = by_key.reindex(pd.MultiIndex.from_frame(rows[["region", "year"]]))
    by, yr = rows["base_year"].astype(str), rows["year"].astype(str)
    parts = []
    specs = {
        "co2_intensity": ("_intensity", "price_base_year", ["co2_mt", "gdp_constant_100m_yuan"],
                          ["co2", "gdp_constant"], std.DECIMALS["intensity"]),
        "energy_intensity": ("_energy", "_energy_base", ["_energy"], ["energy_per_gdp"], std.DECIMALS["energy_per_gdp"]),
        "co2_total": ("co2_mt", None, ["co2_mt"], ["co2"], None),
    }
    for indicator, (column, base_column, needs, labels, decimals) in specs.items():
        base_value = pd.Series(at_base[column].to_numpy(dtype="float64"), index=rows.index)
        value = pd.Series(at_year[column].to_numpy(dtype="float64"), index=rows.index)
        missing = []
        for need, label in zip(needs, labels, strict=True):
            missing.append(pd.Series(np.where(at_base[need].isna().to_numpy(), label + " " + by, ""), index=rows.index))
            missing.append(pd.Series(np.where(at_year[need].isna().to_numpy(), label + " " + yr, ""), index=rows.index))
        if base_column is not None:
            b0 = pd.Series(at_base[base_column].to_numpy(dtype="float64"), index=rows.index)
            b1 = pd.Series(at_year[base_column].to_numpy(dtype="float64"), index=rows.index)
            differ = b0.notna() & b1.notna() & b0.ne(b1)
            text = ("price base differs: " + by + " at " + b0.fillna(0).astype(int).astype(str) + " prices, "
                    + yr + " at " + b1.fillna(0).astype(int).astype(str) + " prices")
            missing.append(pd.Series(np.where(differ, text, ""), index=rows.index))
            value = value.where(~differ)
        reduction = std.cumulative_reduction(base_value, value)
        joined = _join(missing)
        joined = joined.where(joined.notna() | reduction.reason.isna(), reduction.reason)
        parts.append(pd.DataFrame({
            "region": rows["region"], "indicator": indicator, "base_year": rows["base_year"].astype("int64"),
            "year": rows["year"].astype("int64"),
            "base_value": base_value if decimals is None else std.round_gbt8170(base_value, decimals),
            "value": value if decimals is None else std.round_gbt8170(value, decimals),
            "reduction_pct": reduction.value,
            "status": np.where(reduction.value.notna(), "ok", "insufficient_data"),
            "missing": joined.where(reduction.value.isna(), None),
        }))
    return pd.concat(parts, ignore_index=True)[REDUCTION_COLUMNS]


def _replace(conn: psycopg.Connection, table: str, frame: pd.DataFrame, key: list[str]) -> tuple[int, int]:
    """Upsert ``frame`` and delete the table's rows whose key is not in it (an input that went away)."""
    counts = upsert_frame(conn, table, frame, key)
    written = counts.inserted + counts.revised
    schema, name = table.split(".")
    ident = sql.Identifier
    types = {"region": "text", "indicator": "text", "year": "int", "base_year": "int"}
    unnest = sql.SQL("unnest({})").format(sql.SQL(", ").join(
        sql.SQL("{}::{}[]").format(sql.Placeholder(), sql.SQL(types[k])) for k in key))
    removed = conn.execute(sql.SQL("""DELETE FROM {t} t WHERE NOT EXISTS (
            SELECT 1 FROM {unnest} AS k({cols}) WHERE {match})""").format(
        t=ident(schema, name), unnest=unnest, cols=sql.SQL(", ").join(map(ident, key)),
        match=sql.SQL(" AND ").join(sql.SQL("k.{c} = t.{c}").format(c=ident(k)) for k in key)),
        [frame[k].tolist() for k in key]).rowcount
    return written, removed


def refresh_carbon(conn: psycopg.Connection,
                   periods: Iterable[tuple[int, int]] = std.FYP_PERIODS) -> CarbonRefreshReport:
    """Recompute ``derived.carbon_indicator`` and ``derived.carbon_reduction`` from the obs tables.

    The inputs are small (a few thousand region-years), so everything is recomputed; unchanged
    rows are not rewritten, and rows whose inputs are gone are deleted. One transaction.
    """
    with conn.transaction():
        co2, stats, province = _inputs_frame(conn)
        wide = _wide(co2, stats, province)
        if wide.empty:
            table = pd.DataFrame(columns=[*INDICATOR_COLUMNS, "_intensity", "_energy", "_energy_base"])
        else:
            table = indicators(wide)
        reduction = reductions(table, periods)
        ind_written, ind_removed = _replace(conn, "derived.carbon_indicator", table[INDICATOR_COLUMNS],
                                            ["region", "year"])
        red_written, red_removed = _replace(conn, "derived.carbon_reduction", reduction,
                                            ["region", "indicator", "base_year", "year"])
    return CarbonRefreshReport(len(table), ind_written, len(reduction), red_written, ind_removed + red_removed)


def refresh(url: str | None = None, periods: Iterable[tuple[int, int]] = std.FYP_PERIODS) -> dict[str, int]:
    """:func:`refresh_carbon` on a new connection (for the DAG and the command line)."""
    from warehouse.db import connect

    with connect(url) as conn:
        return asdict(refresh_carbon(conn, periods))


# --------------------------------------------------------------------------------------------- trends

def co2_series(conn: psycopg.Connection, region: str) -> pd.DataFrame:
    """A region's CO2 by year (every year of its indicator rows, NaN where missing) and the
    year-on-year change with its reason."""
    frame = pd.DataFrame(conn.execute(
        "SELECT year, co2_mt FROM derived.carbon_indicator WHERE region = %s ORDER BY year", (region,)).fetchall(),
        columns=["year", "co2_mt"]).astype({"co2_mt": "float64"})
    yoy = std.year_on_year(frame["year"], frame["co2_mt"])
    return frame.assign(yoy_pct=yoy.value, yoy_missing=yoy.reason)


def carbon_peaks(conn: psycopg.Connection, regions: Iterable[str] | None = None) -> pd.DataFrame:
    """Peak detection (``standards.carbon.detect_peak``) on each region's CO2 series."""
    rows = conn.execute("SELECT region, year, co2_mt FROM derived.carbon_indicator WHERE co2_mt IS NOT NULL "
                        "ORDER BY region, year").fetchall()
    frame = pd.DataFrame(rows, columns=["region", "year", "co2_mt"])
    if regions is not None:
        frame = frame[frame["region"].isin(list(regions))]
    out = []
    for region, series in frame.groupby("region", sort=True):
        peak = std.detect_peak(series["year"], series["co2_mt"].astype("float64"))
        out.append({"region": region, **asdict(peak)})
    return pd.DataFrame(out, columns=["region", *std.Peak.__dataclass_fields__])
