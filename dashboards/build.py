"""Build the envmon Grafana dashboards (grafana-foundation-sdk) and their provisioning files.

    build(out_dir) → out_dir/json/<uid>.json
                     out_dir/provisioning/dashboards/envmon.yaml
                     out_dir/provisioning/datasources/envmon.yaml

The default ``out_dir`` is this package's directory, which docker-compose mounts into Grafana
(``./dashboards/provisioning`` and ``./dashboards/json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from grafana_foundation_sdk.builders import barchart, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    DASHBOARDS,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    MAPPINGS,
    PANELS,
    SECTION_VARIABLE_SQL,
    PanelSpec,
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
        panel = statetimeline.Panel()
    else:  # pragma: no cover - guarded by tests
        raise ValueError(f"unknown panel kind {spec.kind!r}")

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


def dashboard(uid: str) -> model.Dashboard:
    """The dashboard ``uid`` of :data:`DASHBOARDS`, built from its :data:`PANELS`."""
    builder = (dash.Dashboard(DASHBOARDS[uid]).uid(uid)
               .tags(["envmon", "乐山", "生态环境"])
               .timezone("Asia/Shanghai")
               .time("now-5y", "now")  # the bundled history (2021–2023) shows without changing the range
               .refresh("1h")
               .week_start("monday"))
    if uid == "envmon-water":
        builder.with_variable(
            dash.QueryVariable("section").label("断面").description("乐山市水质断面（registry.site）")
            .datasource(DATASOURCE).query(SECTION_VARIABLE_SQL)
            .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD).sort(model.VariableSort.ALPHABETICAL_ASC))
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
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in build():
        print(p)
