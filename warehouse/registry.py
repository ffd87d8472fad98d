"""Registries of sites, parameters and data sources: synced from the versioned files in ``config/``.

Upserts are keyed by code, so syncing twice changes nothing, and an edited config file updates
the registry in place (surrogate ids stay stable, so measurements keep pointing at their site).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg
import yaml

from envmon.settings import CONFIG_DIR

SITE_COLUMNS = (
    "code", "kind", "name_zh", "province", "city", "district", "river", "basin", "water_body", "role",
    "lon", "lat", "is_background", "target_class", "assessment_level", "active_from", "active_to", "monitoring",
)


def _load_yaml(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _upsert_by_code(conn: psycopg.Connection, table: str, cols: tuple[str, ...], rows: list[dict]) -> int:
    """Insert or update rows keyed by ``code`` (the first column), touching only changed rows."""
    with conn.cursor() as cur:
        cur.executemany(
            f"""INSERT INTO {table} ({", ".join(cols)})
                VALUES ({", ".join("%s" for _ in cols)})
                ON CONFLICT (code) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in cols[1:])}
                WHERE ({", ".join(f"{table}.{c}" for c in cols[1:])})
                      IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in cols[1:])})""",
            [tuple(r.get(c) for c in cols) for r in rows],
        )
    return len(rows)


def sync_parameters(conn: psycopg.Connection, path: Path = CONFIG_DIR / "parameters.yaml") -> int:
    rows = [dict(p, domain=domain) for domain, items in _load_yaml(path).items() for p in items]
    cols = ("code", "domain", "name_zh", "name_en", "unit", "averaging", "valid_min", "valid_max", "decimals", "notes")
    return _upsert_by_code(conn, "registry.parameter", cols, rows)


def sync_data_sources(conn: psycopg.Connection, path: Path = CONFIG_DIR / "data_sources.yaml") -> int:
    cols = ("code", "name_zh", "publisher", "domain", "format", "cadence", "url", "notes")
    return _upsert_by_code(conn, "registry.data_source", cols, _load_yaml(path))


def upsert_sites(conn: psycopg.Connection, sites: pd.DataFrame, config_source: str) -> int:
    """Insert or update sites by code; returns the number of rows that actually changed."""
    frame = sites.reindex(columns=list(SITE_COLUMNS))
    frame["is_background"] = frame["is_background"].fillna(False).astype(bool)
    frame = frame.astype(object).where(frame.notna(), None)
    cols = (*SITE_COLUMNS, "config_source")
    updatable = cols[1:]
    changed = 0
    with conn.cursor() as cur:
        for row in frame.itertuples(index=False):
            cur.execute(
                f"""INSERT INTO registry.site ({", ".join(cols)})
                    VALUES ({", ".join("%s" for _ in cols)})
                    ON CONFLICT (code) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in updatable)},
                                                     updated_at = now()
                    WHERE ({", ".join(f"registry.site.{c}" for c in updatable)})
                          IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in updatable)})""",
                (*row, config_source),
            )
            changed += cur.rowcount
    return changed


def insert_missing_sites(conn: psycopg.Connection, sites: pd.DataFrame, config_source: str) -> int:
    """Register sites a data file names but the registry lacks; never overwrite a known site
    (the bureau's configuration stays authoritative, and re-running changes nothing)."""
    known = set(site_ids(conn))
    new = sites[~sites["code"].isin(known)]
    return upsert_sites(conn, new, config_source) if len(new) else 0


def sync_all(conn: psycopg.Connection) -> dict[str, int]:
    """Everything the bureau configures in files: run after every migration."""
    return {
        "parameters": sync_parameters(conn),
        "data_sources": sync_data_sources(conn),
    }


def site_ids(conn: psycopg.Connection, kind: str | None = None) -> dict[str, int]:
    sql = "SELECT code, site_id FROM registry.site" + (" WHERE kind = %s" if kind else "")
    return dict(conn.execute(sql, (kind,) if kind else ()).fetchall())


def parameters(conn: psycopg.Connection, domain: str) -> pd.DataFrame:
    """code → id, unit and physical range, as the quality rules need them."""
    cur = conn.execute(
        "SELECT code, parameter_id, unit, valid_min, valid_max FROM registry.parameter WHERE domain = %s",
        (domain,))
    return pd.DataFrame(cur.fetchall(), columns=["code", "parameter_id", "unit", "valid_min", "valid_max"]).set_index("code")
