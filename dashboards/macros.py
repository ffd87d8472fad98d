"""Expand the Grafana macros and variables the panels use, so their SQL runs outside Grafana
(the tests and ``dashboards.render``) exactly as Grafana's PostgreSQL datasource would send it.

Only what the panels use: ``$__timeFilter(expr)`` (→ ``expr BETWEEN 'from' AND 'to'``),
``$__interval_ms`` (the range over the panel's max data points, rounded as Grafana rounds it) and
``$name`` / ``${name}`` variables. Like Grafana's SQL datasources, a multi-value variable becomes a
comma-separated list of quoted literals, a single value is inserted as is with quotes doubled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import psycopg

from dashboards.panels import MAX_DATA_POINTS, VARIABLES

TIME_FILTER = re.compile(r"\$__timeFilter\(([^)]*)\)")
#: The range the tests and the renders use: the bundled history.
DEFAULT_RANGE = (dt.datetime(2021, 1, 1, tzinfo=dt.UTC), dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=dt.UTC))


_HOUR = 3_600_000
#: Grafana's interval rounding (rangeutil.roundInterval) from one hour up: (below, rounded to) in ms.
_ROUNDING = [(1.5 * _HOUR, None), (2.5 * _HOUR, 2 * _HOUR), (4.5 * _HOUR, 3 * _HOUR), (9 * _HOUR, 6 * _HOUR),
             (24 * _HOUR, 12 * _HOUR), (7 * 24 * _HOUR, 24 * _HOUR), (21 * 24 * _HOUR, 7 * 24 * _HOUR),
             (42 * 24 * _HOUR, 30 * 24 * _HOUR)]


def interval_ms(time_range: tuple[dt.datetime, dt.datetime], max_data_points: int = MAX_DATA_POINTS) -> int:
    """Grafana's ``$__interval_ms`` for a range: (to − from) / max data points, rounded to its steps
    (below 1.5 h the raw value: the panels never group finer than an hour)."""
    raw = (time_range[1] - time_range[0]).total_seconds() * 1000 / max_data_points
    for below, rounded in _ROUNDING:
        if raw < below:
            return int(raw if rounded is None else rounded)
    return 365 * 24 * _HOUR


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expand(sql: str, variables: Mapping[str, str | Sequence[str]] | None = None,
           time_range: tuple[dt.datetime, dt.datetime] = DEFAULT_RANGE) -> str:
    """``sql`` with macros and variables replaced; raises ValueError if a ``$`` is left over."""
    start, end = (t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in time_range)
    out = TIME_FILTER.sub(lambda m: f"{m.group(1)} BETWEEN '{start}' AND '{end}'", sql)
    out = out.replace("$__interval_ms", str(interval_ms(time_range)))
    for name in sorted(variables or {}, key=len, reverse=True):
        value = (variables or {})[name]
        if isinstance(value, str):
            text = value.replace("'", "''")
        else:  # an empty multi-value selection matches nothing (Grafana would not run the query)
            text = ",".join(_literal(v) for v in value) if value else "NULL"
        out = out.replace("${" + name + "}", text)
        out = re.sub(r"\$" + re.escape(name) + r"(?![A-Za-z0-9_])", lambda _m, t=text: t, out)
    if "$" in out:
        raise ValueError(f"unexpanded macro or variable in: {out}")
    return out


def resolve_variables(conn: psycopg.Connection, dashboard: str,
                      choose: Mapping[str, str] | None = None) -> dict[str, str | list[str]]:
    """Run the dashboard's variable queries in order, as Grafana does on load: a multi-value
    variable takes all its values ("全部"), a single one the value in ``choose`` or its first value."""
    values: dict[str, str | list[str]] = {}
    for var in VARIABLES.get(dashboard, []):
        rows = conn.execute(expand(var.sql, values)).fetchall()
        options = [str(r[-1]) for r in rows]  # (__text, __value) or a single column
        if var.multi:
            values[var.name] = options
        else:
            wanted = (choose or {}).get(var.name)
            values[var.name] = wanted if wanted in options else (options[0] if options else "")
    return values
