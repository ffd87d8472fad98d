"""Build the envmon Grafana dashboards (grafana-foundation-sdk) and their provisioning files.

    build(out_dir) → out_dir/json/<uid>.json
                     out_dir/provisioning/dashboards/envmon.yaml
                     out_dir/provisioning/datasources/envmon.yaml
                     out_dir/provisioning/alerting/{rules,contact-points,policies}.yaml (alerts.grafana)

The default ``out_dir`` is this package's directory, which docker-compose mounts into Grafana
(``./dashboards/provisioning`` and ``./dashboards/json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from grafana_foundation_sdk.builders import (
    barchart,
    geomap,
    heatmap,
    piechart,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import geomap as geomap_model
from grafana_foundation_sdk.models import heatmap as heatmap_model
from grafana_foundation_sdk.models import piechart as piechart_model

from dashboards.panels import (
    DASHBOARDS,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    MAPPINGS,
    MAX_DATA_POINTS,
    PANELS,
    VARIABLES,
    PanelSpec,
    VariableSpec,
)

DEFAULT_OUT = Path(__file__).resolve().parent
GRAFANA_DASHBOARD_DIR = "/var/lib/grafana/dashboards"
DATASOURCE = model.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class SqlQuery(cogvariants.Dataquery):
    """A raw-SQL query of Grafana's PostgreSQL datasource (the SDK has no builder for it)."""

    def __init__(self, sql: str, fmt: str = "table", ref_id: str = "A") -> None:
        self.sql = sql
        self.fmt = fmt
        self.ref_id = ref_id

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "editorMode": "code",
            "format": self.fmt,
            "rawQuery": True,
            "rawSql": self.sql,
        }


class SqlQueryBuilder(cogbuilder.Builder[SqlQuery]):
    def __init__(self, sql: str, fmt: str = "table") -> None:
        self._internal = SqlQuery(sql, fmt)

    def build(self) -> SqlQuery:
        return self._internal


def _thresholds(steps) -> dash.ThresholdsConfig:
    return dash.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(
        [model.Threshold(value=value, color=colour) for value, colour in steps])


def _mapping(key: str) -> model.ValueMap:
    return model.ValueMap(options={
        value: model.ValueMappingResult(text=text, color=colour, index=i)
        for i, (value, (text, colour)) in enumerate(MAPPINGS[key].items())})


def _fixed_colour(colour: str) -> model.DynamicConfigValue:
    return model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})


def _panel(spec: PanelSpec, panel_id: int):
    opts = spec.options
    if spec.kind == "stat":
        panel = (stat.Panel()
                 .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
                 .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
                 .color_mode(common.BigValueColorMode.BACKGROUND)
                 .graph_mode(common.BigValueGraphMode.NONE))
        if opts.get("rows_to_fields"):
            panel.with_transformation(model.DataTransformerConfig(id_val="rowsToFields", options={}))
        for name, colour in opts.get("colors", {}).items():
            panel.override_by_name(name, [_fixed_colour(colour)])
    elif spec.kind == "table":
        panel = table.Panel().cell_height(common.TableCellHeight.SM)
        for column, key in opts.get("column_mappings", {}).items():
            panel.override_by_name(column, [
                model.DynamicConfigValue(id_val="mappings", value=[_mapping(key)]),
                model.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})])
        for column, unit in opts.get("column_units", {}).items():
            panel.override_by_name(column, [model.DynamicConfigValue(id_val="unit", value=unit)])
        for column, steps in opts.get("column_thresholds", {}).items():
            panel.override_by_name(column, [
                model.DynamicConfigValue(id_val="thresholds", value=_thresholds(steps).build()),
                model.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"})])
    elif spec.kind == "timeseries":
        panel = (timeseries.Panel()
                 .legend(common_builders.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
                         .placement(common.LegendPlacement.BOTTOM).show_legend(True))
                 .span_nulls(False))
        if opts.get("draw_style") == "bars":
            panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80)
        if opts.get("max_data_points"):  # the $__interval its SQL groups by (dashboards.macros)
            panel.max_data_points(MAX_DATA_POINTS).interval("1h")
        if spec.thresholds:
            mode = (common.GraphTresholdsStyleMode.DASHED_AND_AREA if opts.get("thresholds_area")
                    else common.GraphTresholdsStyleMode.DASHED)
            if not opts.get("color_by_thresholds"):
                panel.thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(mode))
    elif spec.kind == "barchart":
        panel = (barchart.Panel().x_field(opts.get("x_field", "月份"))
                 .show_value(common.VisibilityMode.AUTO).x_tick_label_rotation(-45))
        if opts.get("stacked"):
            panel.stacking(common.StackingMode.NORMAL)
    elif spec.kind == "statetimeline":
        # one row per section, a month's class as a coloured cell with its label; equal months merged
        panel = (statetimeline.Panel().show_value(common.VisibilityMode.AUTO).merge_values(True)
                 .row_height(0.8).align_value("center")
                 .legend(common_builders.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
                         .placement(common.LegendPlacement.BOTTOM).show_legend(True)))
    elif spec.kind == "heatmap":
        # pre-bucketed: one numeric column per weekday → ordinal rows, one cell per Beijing day
        panel = (heatmap.Panel().calculate(False)
                 .color(heatmap.HeatmapColorOptions().mode(heatmap_model.HeatmapColorMode.SCHEME)
                        .scheme("RdYlGn").reverse(True).steps(64).min(0).max(300).exponent(0.5)
                        .fill("dark-orange"))
                 .y_axis(heatmap.YAxisConfig().reverse(True))
                 .show_tooltip()
                 .rows_frame(heatmap.RowsHeatmapOptions().value("AQI"))
                 .cell_gap(2).show_value(common.VisibilityMode.AUTO))
    elif spec.kind == "piechart":
        panel = (piechart.Panel().pie_type(piechart_model.PieChartType.PIE)
                 .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(True))
                 .display_labels([piechart_model.PieChartLabels.NAME, piechart_model.PieChartLabels.PERCENT]))
    elif spec.kind == "geomap":
        marker = {
            "showLegend": True,
            "style": {
                "size": {"fixed": 9},
                "color": {"field": opts["color_field"], "fixed": "dark-green"},
                "opacity": 0.9,
                "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                "text": {"mode": "field", "field": "断面", "fixed": ""},
                "textConfig": {"fontSize": 12, "offsetY": -14, "textAlign": "center", "textBaseline": "bottom"},
            },
        }
        panel = (geomap.Panel()
                 .view(geomap.MapViewConfig().id("coords").lat(opts["lat"]).lon(opts["lon"]).zoom(opts["zoom"]))
                 .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
                 .basemap(common_builders.MapLayerOptions().type("default").name("底图"))
                 .layers([common_builders.MapLayerOptions().type("markers").name("断面").config(marker)
                          .location(common_builders.FrameGeometrySource().mode(common.FrameGeometrySourceMode.COORDS)
                                    .latitude("纬度").longitude("经度"))
                          .tooltip(True)])
                 .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
                 .color_scheme(dash.FieldColor().mode(model.FieldColorModeId.THRESHOLDS)))
    else:  # pragma: no cover - guarded by tests
        raise ValueError(f"unknown panel kind {spec.kind!r}")

    if spec.kind in ("timeseries",) and opts.get("limit_columns"):
        # standard limits come as their own columns: dashed red lines, not data
        panel.override_by_regexp(f".*{opts['limit_columns']}.*", [
            model.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
            model.DynamicConfigValue(id_val="custom.lineInterpolation", value="stepAfter"),
            model.DynamicConfigValue(id_val="custom.fillOpacity", value=0),
            _fixed_colour("red")])
    panel.id(panel_id).title(spec.title).datasource(DATASOURCE).span(spec.width).height(spec.height)
    panel.with_target(SqlQueryBuilder(spec.sql, spec.format))
    if spec.unit:
        panel.unit(spec.unit)
    if spec.thresholds:
        panel.thresholds(_thresholds(spec.thresholds))
        if spec.kind in ("stat", "barchart") or opts.get("color_by_thresholds"):
            panel.color_scheme(dash.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
    if spec.mappings:
        panel.mappings([_mapping(spec.mappings)])
        if spec.kind == "table":
            panel.override_by_name("状态", [
                model.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})])
    return panel


def _variable(var: VariableSpec) -> dash.QueryVariable:
    builder = (dash.QueryVariable(var.name).label(var.label).description(var.description)
               .datasource(DATASOURCE).query(var.sql)
               .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD).sort(model.VariableSort.ALPHABETICAL_ASC))
    if var.multi:
        builder.multi(True).include_all(True).current(
            model.VariableOption(selected=True, text="All", value="$__all"))
    return builder


def dashboard(uid: str) -> model.Dashboard:
    """The dashboard ``uid`` of :data:`DASHBOARDS`, built from its :data:`PANELS`."""
    builder = (dash.Dashboard(DASHBOARDS[uid]).uid(uid)
               .tags(["envmon", "乐山", "生态环境"])
               .timezone("Asia/Shanghai")
               .time("now-5y", "now")  # the bundled history (2021–2023) shows without changing the range
               .refresh("1h")
               .week_start("monday"))
    for var in VARIABLES.get(uid, []):
        builder.with_variable(_variable(var))
    # every envmon dashboard links to the others (Grafana lists the dashboards tagged "envmon")
    builder.link(dash.DashboardLink("乐山生态环境看板").type(model.DashboardLinkType.DASHBOARDS)
                 .tags(["envmon"]).as_dropdown(False).include_vars(False).keep_time(True)
                 .target_blank(False).icon("external link").tooltip(""))
    for panel_id, spec in enumerate((p for p in PANELS if p.dashboard == uid), start=1):
        builder.with_panel(_panel(spec, panel_id))
    return builder.build()


def dashboard_json(uid: str) -> str:
    return json.dumps(dashboard(uid), cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def provisioning_dashboards() -> dict:
    return {
        "apiVersion": 1,
        "providers": [{
            "name": "envmon",
            "orgId": 1,
            "folder": "乐山生态环境",
            "type": "file",
            "disableDeletion": True,
            "allowUiUpdates": False,
            "updateIntervalSeconds": 60,
            "options": {"path": GRAFANA_DASHBOARD_DIR, "foldersFromFilesStructure": False},
        }],
    }


def provisioning_datasources() -> dict:
    return {
        "apiVersion": 1,
        "datasources": [{
            "name": "乐山生态环境数据仓库",
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "url": "timescaledb:5432",
            "user": "grafana_reader",
            "isDefault": True,
            "editable": False,
            "jsonData": {
                "database": "envmon",
                "sslmode": "disable",
                "postgresVersion": 1500,
                "timescaledb": True,
                "timeInterval": "1h",
                "maxOpenConns": 10,
            },
            # Grafana expands $VAR in provisioning files from its environment (docker-compose).
            "secureJsonData": {"password": "$GRAFANA_READER_PASSWORD"},
        }],
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _yaml(data: dict) -> str:
    return ("# Generated by `envmon dashboards build` (dashboards/build.py); do not edit.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def build(out_dir: Path | str | None = None) -> list[Path]:
    """Write every dashboard and the provisioning files under ``out_dir``; return the paths."""
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    written = [_write(out / "json" / f"{uid}.json", dashboard_json(uid)) for uid in DASHBOARDS]
    written.append(_write(out / "provisioning" / "dashboards" / "envmon.yaml", _yaml(provisioning_dashboards())))
    written.append(_write(out / "provisioning" / "datasources" / "envmon.yaml", _yaml(provisioning_datasources())))
    from alerts.grafana import write_alerting  # alert rules, contact points, policies (alerts/rules.py)

    written += write_alerting(out / "provisioning" / "alerting")
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in build():
        print(p)
