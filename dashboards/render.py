"""Render every dashboard to one PNG (matplotlib), from the same panel SQL Grafana runs.

    python -m dashboards.render --out DIR [--database-url URL] [--from 2022-01-01 --to 2022-12-31]

For the README, reviews and machines without Grafana: each panel's SQL is expanded for a fixed time
range (:mod:`dashboards.macros`, the expansion the tests use) and drawn in the dashboard's grid
layout. The drawing is a faithful summary, not a pixel copy of Grafana: the panel kinds map to
line/bar charts, tables, a calendar grid, a pie and a lon/lat scatter for the geomap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from dashboards.macros import DEFAULT_RANGE, expand, resolve_variables  # noqa: E402
from dashboards.panels import AQI_THRESHOLDS, DASHBOARDS, MAPPINGS, PANELS, PanelSpec  # noqa: E402
from envmon.fonts import cjk_family  # noqa: E402

_GRAFANA_COLOURS = {"green": "#56A64B", "orange": "#FF9830", "red": "#E02F44", "blue": "#3274D9"}
_UNIT_INCH = 0.42  # height of one Grafana grid row
_WIDTH_INCH = 22.0


def _colour(name: str) -> str:
    return _GRAFANA_COLOURS.get(name, name)


def _step_colour(value: float | None, steps: Sequence[tuple[float | None, str]]) -> str:
    colour = steps[0][1] if steps else "#8e8e8e"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "#d0d0d0"
    for low, c in steps:
        if low is None or value >= low:
            colour = c
    return _colour(colour)


def query_panels(conn: psycopg.Connection, dashboard: str,
                 time_range: tuple[dt.datetime, dt.datetime] = DEFAULT_RANGE,
                 choose: Mapping[str, str] | None = None
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, str | list[str]]]:
    """Every panel of ``dashboard`` as a frame (uid → rows), with variables resolved as on load
    (returned too)."""
    variables = resolve_variables(conn, dashboard, choose)
    frames = {}
    for spec in (p for p in PANELS if p.dashboard == dashboard):
        cur = conn.execute(expand(spec.sql, variables, time_range))
        frames[spec.uid] = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    return frames, variables


def _layout(specs: list[PanelSpec]) -> list[tuple[PanelSpec, int, int]]:
    """(spec, x, y) in Grafana's 24-column grid: left to right, wrapping, rows as tall as needed."""
    placed, x, y, row_h = [], 0, 0, 0
    for spec in specs:
        if x + spec.width > 24:
            x, y, row_h = 0, y + row_h, 0
        placed.append((spec, x, y))
        x += spec.width
        row_h = max(row_h, spec.height)
    return placed


def _numeric(frame: pd.DataFrame, skip: Sequence[str] = ()) -> list[str]:
    out = []
    for c in frame.columns:
        if c in skip:
            continue
        values = pd.to_numeric(frame[c], errors="coerce")
        if values.notna().any() and frame[c].map(lambda v: v is None or isinstance(v, (int, float))
                                                 or hasattr(v, "as_integer_ratio")).all():
            out.append(c)
    return out


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "无数据", ha="center", va="center", color="#8e8e8e", transform=ax.transAxes)
    ax.set_axis_off()


def _draw_timeseries(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    if {"metric", "value"} <= set(frame.columns):
        frame = frame.pivot_table(index="time", columns="metric", values="value", aggfunc="first").reset_index()
    frame = frame.set_index("time")
    limit = spec.options.get("limit_columns")
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        if limit and limit in str(column):
            ax.step(values.index, values, where="post", linestyle="--", color=_colour("red"), linewidth=1,
                    label=str(column))
        elif spec.options.get("draw_style") == "bars":
            colours = [_step_colour(v, spec.thresholds) for v in values]
            ax.bar(values.index, values.fillna(0), width=1.0, color=colours, label=str(column))
        else:
            ax.plot(values.index, values, linewidth=1, label=str(column))
    if spec.thresholds and spec.options.get("draw_style") != "bars":
        for low, colour in spec.thresholds[1:]:
            ax.axhline(low, color=_colour(colour), linestyle=":", linewidth=0.8)
    if len(frame.columns) <= 8:
        ax.legend(fontsize=7, loc="upper left", ncols=min(len(frame.columns), 4))
    ax.tick_params(labelsize=7)


def _draw_barchart(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    x = spec.options.get("x_field", "月份")
    frame = frame.set_index(x)
    columns = _numeric(frame)
    if not columns:
        _no_data(ax)
        ax.text(0.5, 0.35, "（所选时段各列均为空：见下方缺少数据说明）", ha="center", fontsize=7, color="#8e8e8e",
                transform=ax.transAxes)
        return
    data = frame[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    if len(columns) == 1 and spec.thresholds:
        ax.bar(data.index, data[columns[0]], color=[_step_colour(v, spec.thresholds) for v in data[columns[0]]])
    else:
        data.plot.bar(ax=ax, stacked=bool(spec.options.get("stacked")), width=0.8, legend=len(columns) > 1)
        if len(columns) > 1:
            ax.legend(fontsize=7, ncols=min(len(columns), 3))
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("")


def _draw_stat(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    if spec.options.get("rows_to_fields"):
        items = [(str(r[0]), r[1]) for r in frame.itertuples(index=False)]
    else:
        items = [(str(c), frame[c].iloc[0]) for c in frame.columns]
    ax.set_axis_off()
    n = max(len(items), 1)
    cols = min(n, 6 if spec.width >= 24 else 3)
    rows = math.ceil(n / cols)
    colours = spec.options.get("colors", {})
    for i, (name, value) in enumerate(items):
        cx, cy = (i % cols + 0.5) / cols, 1 - (i // cols + 0.5) / rows
        text = "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        colour = _colour(colours[name]) if name in colours else None
        if spec.mappings and str(value) in MAPPINGS[spec.mappings]:
            text, colour = MAPPINGS[spec.mappings][str(value)][0], _colour(MAPPINGS[spec.mappings][str(value)][1])
        elif colour is None and spec.thresholds:
            colour = _step_colour(float(value) if value is not None else None, spec.thresholds)
        ax.add_patch(plt.Rectangle((cx - 0.48 / cols, cy - 0.45 / rows), 0.96 / cols, 0.9 / rows,
                                   transform=ax.transAxes, color=to_rgba(colour or "#3274D9", 0.85)))
        ax.text(cx, cy + 0.12 / rows, name[:22], ha="center", va="center", fontsize=7, color="white",
                transform=ax.transAxes)
        ax.text(cx, cy - 0.15 / rows, text + (" " + _UNIT_TEXT.get(spec.unit or "", "")), ha="center",
                va="center", fontsize=11, color="white", weight="bold", transform=ax.transAxes)


_UNIT_TEXT = {"percent": "%", "conμgm3": "µg/m³", "d": "天", "conmgL": "mg/L"}


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, (str, dict, list)) and pd.isna(value)):
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:28]


def _draw_table(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    ax.set_axis_off()
    max_rows = max(spec.height * 2 - 3, 3)
    shown = frame.head(max_rows)
    cells = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    colours = [["white"] * len(frame.columns) for _ in cells]
    mapped = dict(spec.options.get("column_mappings", {}))
    if spec.mappings and "状态" in frame.columns:
        mapped["状态"] = spec.mappings
    for j, column in enumerate(frame.columns):
        key = mapped.get(column)
        for i, row in enumerate(cells):
            if key and row[j] in MAPPINGS[key]:
                text, colour = MAPPINGS[key][row[j]]
                row[j], colours[i][j] = text, to_rgba(_colour(colour), 0.55)
    table = ax.table(cellText=cells or [[""] * len(frame.columns)], colLabels=list(frame.columns),
                     cellColours=colours or None, loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(6.5)
    table.scale(1, 1.15)
    if len(frame) > max_rows:
        ax.text(1, 0, f"共 {len(frame)} 行，显示前 {max_rows} 行", ha="right", va="bottom", fontsize=6,
                color="#8e8e8e", transform=ax.transAxes)


def _draw_statetimeline(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    names = sorted(frame["metric"].unique())
    mapping = MAPPINGS[spec.mappings] if spec.mappings else {}
    for i, name in enumerate(names):
        rows = frame[frame["metric"] == name].sort_values("time")
        for t, v in zip(rows["time"], rows["value"], strict=True):
            text, colour = mapping.get(str(v), (str(v), "#8e8e8e"))
            ax.barh(i, pd.Timedelta(days=30), left=t, color=_colour(colour), edgecolor="white")
            ax.text(t + pd.Timedelta(days=15), i, text, ha="center", va="center", fontsize=6)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.tick_params(axis="x", labelsize=7)


def _draw_heatmap(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    days = [c for c in frame.columns if c != "time"]
    for x, row in enumerate(frame.itertuples(index=False)):
        for y, day in enumerate(days):
            value = getattr(row, day) if day.isidentifier() else row[frame.columns.get_loc(day)]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            ax.add_patch(plt.Rectangle((x, y), 0.92, 0.92, color=_step_colour(float(value), AQI_THRESHOLDS)))
    ax.set_xlim(0, len(frame))
    ax.set_ylim(len(days), 0)
    ax.set_yticks([i + 0.46 for i in range(len(days))], days, fontsize=7)
    months = [(i, t) for i, t in enumerate(frame["time"]) if t.day <= 7]
    ax.set_xticks([i for i, _ in months], [t.strftime("%Y-%m") for _, t in months], fontsize=7, rotation=45)
    labels = ["优", "良", "轻度", "中度", "重度", "严重"]
    for (low, colour), label in zip(AQI_THRESHOLDS, labels, strict=True):
        ax.bar(0, 0, color=colour, label=f"{label}（≥{low or 0}）")
    ax.legend(fontsize=6, ncols=6, loc="upper center", bbox_to_anchor=(0.5, -0.18))


def _draw_piechart(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    labels, values = frame.iloc[:, 0].astype(str), pd.to_numeric(frame.iloc[:, 1]).astype(float)
    ax.pie(values, labels=[f"{name} {int(v)}" for name, v in zip(labels, values, strict=True)],
           autopct="%1.0f%%", textprops={"fontsize": 7})


def _draw_geomap(ax: Axes, spec: PanelSpec, frame: pd.DataFrame) -> None:
    field = spec.options["color_field"]
    colours = [_step_colour(None if v is None else float(v), spec.thresholds) for v in frame[field]]
    ax.scatter(frame["经度"], frame["纬度"], c=colours, s=60, edgecolors="black", linewidths=0.5)
    for row in frame.itertuples(index=False):
        ax.annotate(f"{row[0]}", (row[3], row[2]), textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize=7)
    ax.set_xlabel("经度", fontsize=7)
    ax.set_ylabel("纬度", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.margins(0.25)
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)


_DRAW = {"timeseries": _draw_timeseries, "barchart": _draw_barchart, "stat": _draw_stat, "table": _draw_table,
         "statetimeline": _draw_statetimeline, "heatmap": _draw_heatmap, "piechart": _draw_piechart,
         "geomap": _draw_geomap}


def _title(title: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    for name, value in variables.items():
        title = title.replace(f"${name}", value if isinstance(value, str) else "全部")
    return title


def render_dashboard(uid: str, frames: Mapping[str, pd.DataFrame], path: Path, subtitle: str = "",
                     variables: Mapping[str, str | Sequence[str]] | None = None) -> Path:
    """Draw one dashboard's panels (frames from :func:`query_panels`) into ``path``."""
    variables = variables or {}
    # DejaVu Sans as fallback: the CJK face lacks some subscripts (O₃, NO₂)
    plt.rcParams["font.family"] = [cjk_family(), "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    placed = _layout([p for p in PANELS if p.dashboard == uid])
    total = max(y + spec.height for spec, _, y in placed)
    fig = plt.figure(figsize=(_WIDTH_INCH, total * _UNIT_INCH + 0.8), dpi=80)
    top = 1 - 0.8 / (total * _UNIT_INCH + 0.8)
    fig.suptitle(f"{DASHBOARDS[uid]}  {subtitle}", x=0.01, y=0.995, ha="left", fontsize=15, weight="bold")
    for spec, x, y in placed:
        below = 0.12 if spec.kind in ("table", "stat", "piechart") else 0.7 if spec.kind != "heatmap" else 1.3
        left = x / 24 + 0.035
        width = spec.width / 24 - 0.045
        bottom = top * (1 - (y + spec.height - below) / total)
        ax = fig.add_axes((left, bottom, width, top * (spec.height - below - 0.55) / total))
        ax.set_title(_title(spec.title, variables), fontsize=9, loc="left")
        frame = frames.get(spec.uid)
        if frame is None or frame.empty:
            _no_data(ax)
            continue
        _DRAW[spec.kind](ax, spec, frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def render(out_dir: Path | str, url: str | None = None,
           time_range: tuple[dt.datetime, dt.datetime] = DEFAULT_RANGE,
           choose: Mapping[str, str] | None = None) -> list[Path]:
    """One PNG per dashboard under ``out_dir`` (``<uid>.png``), from the warehouse at ``url``."""
    from envmon.settings import database_url

    out = Path(out_dir)
    start, end = (t.astimezone(dt.timezone(dt.timedelta(hours=8))).date() for t in time_range)
    written = []
    with psycopg.connect(url or database_url()) as conn:
        for uid in DASHBOARDS:
            frames, variables = query_panels(conn, uid, time_range, choose)
            written.append(render_dashboard(uid, frames, out / f"{uid}.png", f"{start} — {end}", variables))
    return written


def _day(text: str, end: bool = False) -> dt.datetime:
    day = dt.date.fromisoformat(text)
    moment = dt.datetime.combine(day, dt.time(23, 59, 59) if end else dt.time())
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.render", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="directory for <dashboard uid>.png")
    parser.add_argument("--database-url", default=None, help="warehouse URL (default: envmon.settings)")
    parser.add_argument("--from", dest="date_from", default=None, help="first Beijing day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", default=None, help="last Beijing day, YYYY-MM-DD")
    parser.add_argument("--section", default=None, help="water section shown in the single-section panels")
    args = parser.parse_args(argv)
    time_range = (_day(args.date_from) if args.date_from else DEFAULT_RANGE[0],
                  _day(args.date_to, end=True) if args.date_to else DEFAULT_RANGE[1])
    choose = {"section": args.section} if args.section else None
    for path in render(args.out, args.database_url, time_range, choose):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
