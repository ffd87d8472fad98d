"""The target registry (config/targets.yaml), its methodologies and `envmon targets status`.

The acceptance test loads the real 2022 city air archive and the 2021–2022 automatic water data
into a scratch warehouse and checks that the command reports the same numbers as the derived
air and water tables.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from envmon import localcluster
from targets.methodologies import METHODOLOGIES, NOT_INGESTED, last_complete_month
from targets.refresh import compute_statuses, evaluate_target, refresh_targets
from targets.registry import TargetConfigError, load_targets, parse_targets, sync_targets
from tests.conftest import BUNDLED_DATA, REPO
from warehouse.db import connect

CONFIG = REPO / "config" / "targets.yaml"
SEEDS = REPO.parent / "shared" / "seeds"
TARGETS_MD = REPO.parent / "shared" / "reference" / "targets.md"
ENVMON = str(Path(sys.executable).parent / "envmon")
AUTOMATIC_SECTIONS = {"悦来渡口", "李码头", "姜公堰", "木城镇", "马边河河口", "月波"}


@pytest.fixture(scope="module")
def config():
    return load_targets(CONFIG)


def _raw() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def _env(url: str) -> dict[str, str]:
    # PYTHONPATH: the console script finds packages through the editable install's mapping,
    # which only lists the packages present when `pip install -e .` last ran.
    return {
        **os.environ,
        "ENVMON_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


# --- the registry ---------------------------------------------------------------------------------

EXPECTED_IDS = {
    "A1",
    "A3",
    "A4",
    "A6",
    "A10",
    "P1",
    "P2",
    "W1",
    "W2",
    "W3",
    "W4",
    "W5",
    "P3a",
    "P3b",
    "W9",
    "W10",
    "W11a",
    "W11b",
    "W12",
    "W14",
    "C1",
    "C2",
    "C5",
    "C7",
    "C8",
    "C9",
    "C10a",
    "C10b",
    "C11",
    "C12",
    "C15",
    "P4",
    "E1",
    "E3",
    "E4",
    "E12",
    "E14",
    "E15",
    "S2",
    "S3",
    "S4a",
    "S4b",
    "S5a",
    "S5b",
    "S5c",
    "S5d",
    "S5e",
    "S6",
}


def _targets_md_rows() -> dict[str, list[str]]:
    """Rows of the §1a–1f tables of targets.md: number → cells."""
    text = TARGETS_MD.read_text(encoding="utf-8")
    section = text.split("### 1a.", 1)[1].split("### 1g.", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and re.fullmatch(r"[AWCESP]\d+", cells[0]):
            rows[cells[0]] = cells
    return rows


def test_registry_holds_every_applicable_quantitative_target(config):
    ids = {t.id for t in config.targets}
    assert ids == EXPECTED_IDS
    cited = ids | {c.id for t in config.targets for c in t.also_cited if c.id}
    rows = _targets_md_rows()
    binding = {number for number, cells in rows.items() if "Binding" in cells}
    assert binding == {"A1", "A10", "W1", "W2", "C1", "C2", "C7", "C11", "C12", "E1", "E4"}
    assert binding <= ids
    for t in config.targets:
        assert re.sub(r"[a-e]$", "", t.id) in rows, f"{t.id} is not a row of targets.md"
        assert t.attribute == ("binding" if re.sub(r"[a-e]$", "", t.id) in binding else "text")
    # Restatements are citations of the target they restate, not second rows.
    assert {"A2", "P4", "P5", "P6", "P3"} <= cited


def test_the_two_good_day_targets_are_separate_entries(config):
    a1, a3 = config.target("A1"), config.target("A3")
    assert (a1.scope, a1.comparator, a1.value, a1.attribute, a1.deadline) == (
        "central_city",
        "ge",
        88,
        "binding",
        2025,
    )
    assert (a1.baseline_value, a1.baseline_year) == (87.2, 2020)
    assert (a3.scope, a3.comparator, a3.value, a3.attribute, a3.deadline) == (
        "city",
        "ge",
        89.4,
        "text",
        2025,
    )
    assert (a1.source.document, a1.source.lines) == ("000", "650-653")
    assert (a3.source.document, a3.source.lines) == ("003", "46")
    assert config.target("A4").value == 35 and config.target("A4").unit == "µg/m³"


def test_assigned_targets_start_empty(config):
    assigned = {t.id for t in config.targets if t.comparator == "assigned"}
    assert {"W1", "C1", "C2", "C11", "C12", "P2", "P3a", "P3b", "P4"} == assigned
    for tid in assigned:
        t = config.target(tid)
        assert t.target_value is None and t.assigned_direction in ("ge", "le") and t.assigned_by


def test_central_city_default_is_the_national_stations_city_value(config):
    central, city = config.scopes["central_city"], config.scopes["city"]
    assert central.air_site == city.air_site == "乐山"
    assert "默认" in central.note
    assert config.scopes["high_tech_zone"].air_site is None


def _seed_lines(document: str, config) -> list[str]:
    path = SEEDS / config.documents[document]["file"]
    assert path.exists(), f"{path} missing: tests expect ../shared/seeds beside the repository"
    return path.read_text(encoding="utf-8").split("\n")  # line numbers as grep -n counts them


def test_every_citation_is_in_its_seed_within_the_cited_lines(config):
    """Whitespace is ignored: 000 and 004 are hard-wrapped PDF text with blank lines between."""
    checked = 0
    for t in config.targets:
        for citation in (t.source, *t.also_cited):
            first, last = citation.line_range
            assert last - first <= 12, f"{t.id}: {citation.lines} is not a precise citation"
            lines = _seed_lines(citation.document, config)
            cited = re.sub(r"\s+", "", "".join(lines[first - 1 : last]))
            quote = re.sub(r"\s+", "", citation.quote)
            assert quote and quote in cited, (
                f"{t.id}: {citation.quote!r} not in {citation.document}:{citation.lines}"
            )
            checked += 1
    assert checked >= 60


def test_every_methodology_is_documented_with_the_tables_it_reads():
    assert {
        "good_day_ratio_ytd",
        "pm25_annual_mean_ytd",
        "heavy_pollution_days_ytd",
        "section_compliance_rate",
        "lie_v_section_count",
        "class_iii_share",
        "co2_intensity_reduction",
        "energy_intensity_reduction",
        "carbon_peak",
        "forest_coverage",
        "energy_production_capacity",
    } <= set(METHODOLOGIES)
    for key, method in METHODOLOGIES.items():
        assert method.doc, key
        for table in method.reads:
            assert table in method.doc, f"{key}: docstring does not name {table}"
        if key in NOT_INGESTED:
            assert method.reads == () and "no table" in method.doc


def test_last_complete_month():
    assert last_complete_month(date(2022, 12, 31)) == date(2022, 12, 1)
    assert last_complete_month(date(2022, 12, 30)) == date(2022, 11, 1)
    assert last_complete_month(date(2023, 1, 15)) == date(2022, 12, 1)


def _by_id(data: dict, tid: str) -> dict:
    return next(t for t in data["targets"] if t["id"] == tid)


def _set(*path, value):
    """Edit: set a key; a path starting with a target id edits that target, else the file's top level."""

    def mutate(data: dict) -> None:
        ids = {t["id"] for t in data["targets"]}
        node, keys = (_by_id(data, path[0]), path[1:]) if path[0] in ids else (data, path)
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


def _delete(tid: str, key: str):
    return lambda data: _by_id(data, tid).pop(key)


BAD_EDITS = [
    ("unknown key", _set("A1", "colour", value="red"), "target A1: field 'colour': unknown key"),
    (
        "unknown methodology",
        _set("A1", "methodology", value="magic"),
        "target A1: field 'methodology': unknown methodology 'magic'",
    ),
    (
        "bad comparator",
        _set("A1", "comparator", value="gt"),
        "target A1: field 'comparator': 'gt' is not one of",
    ),
    ("missing value", _delete("A4", "value"), "target A4: field 'value': None is not a number"),
    ("text value", _set("A4", "value", value="35μg/m"), "target A4: field 'value': '35μg/m' is not a number"),
    ("assigned with a value", _set("W1", "value", value=80), "target W1: field 'value': an assigned target"),
    (
        "assigned without assigned_value",
        _delete("W1", "assigned_value"),
        "target W1: field 'assigned_value': missing",
    ),
    (
        "assigned without direction",
        _delete("C2", "assigned_direction"),
        "target C2: field 'assigned_direction'",
    ),
    (
        "assigned_value on a plain target",
        _set("A1", "assigned_value", value=90),
        "target A1: field 'assigned_value'",
    ),
    ("unit differs from methodology", _set("A4", "unit", value="%"), "target A4: field 'unit': '%' differs"),
    (
        "unknown scope",
        _set("A1", "scope", value="county"),
        "target A1: field 'scope': 'county' is not defined",
    ),
    ("bad attribute", _set("A1", "attribute", value="约束性"), "target A1: field 'attribute'"),
    ("missing deadline", _delete("A3", "deadline"), "target A3: field 'deadline': missing"),
    (
        "bad deadline",
        _set("A3", "deadline", value="2025年"),
        "target A3: field 'deadline': '2025年' is not a year",
    ),
    ("reversed lines", _set("A1", "source", "lines", value="653-650"), "target A1: field 'source.lines'"),
    ("unknown document", _set("A1", "source", "document", value="005"), "target A1: field 'source.document'"),
    ("missing quote", _set("A1", "source", "quote", value=""), "target A1: field 'source.quote': missing"),
    (
        "bad also_cited",
        _set("A1", "also_cited", value=[{"document": "000", "lines": "1", "quote": "x", "page": 3}]),
        "target A1: field 'also_cited[0]': unknown key(s) page",
    ),
    (
        "bad baseline",
        _set("A1", "baseline", value={"value": "87.2%", "year": 2020}),
        "target A1: field 'baseline.value'",
    ),
    ("duplicate id", _set("A3", "id", value="A1"), "target A1: field 'id': duplicate id"),
    (
        "scope with an unknown key",
        _set("scopes", "city", "colour", value="red"),
        "scope city: field 'colour'",
    ),
    (
        "scope of an unknown kind",
        _set("scopes", "district:市中区", value={"name_zh": "市中区"}),
        "scope district:市中区: field 'key'",
    ),
    ("unknown top-level key", _set("targetz", value=[]), "unknown top-level key(s) targetz"),
    ("no version", _set("version", value="1.0"), "field 'version'"),
]


@pytest.mark.parametrize(("label", "edit", "message"), BAD_EDITS, ids=[b[0] for b in BAD_EDITS])
def test_registry_errors_name_the_target_and_the_field(label, edit, message):
    data = copy.deepcopy(_raw())
    edit(data)
    with pytest.raises(TargetConfigError) as err:
        parse_targets(data, CONFIG)
    assert message in str(err.value)
    assert str(CONFIG) in str(err.value)


def test_a_valid_edit_is_accepted():
    data = copy.deepcopy(_raw())
    _by_id(data, "W1")["assigned_value"] = 80
    config = parse_targets(data, CONFIG)
    assert config.target("W1").target_value == 80 and config.target("W1").effective_comparator == "ge"


# --- methodologies on a real (empty) warehouse ------------------------------------------------------


def test_every_target_evaluates_on_an_empty_warehouse_and_is_stored(warehouse, config):
    with connect(warehouse) as conn:
        statuses = refresh_targets(conn, date(2022, 12, 31))
        assert len(statuses) == len(config.targets)
        for s in statuses:
            assert s.assessment.status in ("insufficient_data", "not_set"), s.target.id
            if s.assessment.status == "insufficient_data":
                assert s.actual.insufficient_reason, s.target.id
        # Every methodology, every scope: never raises, whatever the as-of date.
        for method in METHODOLOGIES.values():
            for scope in config.scopes.values():
                for as_of in (date(2022, 12, 31), date(2024, 2, 29), date(2031, 1, 1)):
                    actual = method(conn, scope, as_of)
                    assert actual.value is None and actual.insufficient_reason
        assert conn.execute("SELECT count(*) FROM registry.target WHERE active").fetchone()[0] == len(
            config.targets
        )
        assert conn.execute(
            "SELECT count(*), count(DISTINCT status) FROM derived.target_status WHERE as_of = '2022-12-31'"
        ).fetchone()[0] == len(config.targets)
        row = conn.execute("""SELECT source_document, source_lines, source_title, also_cited->0->>'id',
                                     scope_name_zh
                              FROM registry.target WHERE target_id = 'A1'""").fetchone()
        assert (
            row[:2] == ("000", "650-653")
            and "十四个五年规划" in row[2]
            and row[3] == "A2"
            and row[4] == "中心城区"
        )
        assert sync_targets(conn, config) == 0  # syncing the same file again changes nothing
        # After the deadline the plan's year is judged: evaluated on 31 December 2025.
        later = refresh_targets(conn, date(2026, 3, 1))
        a1 = next(s for s in later if s.target.id == "A1")
        assert a1.evaluated_on == date(2025, 12, 31)
        e3 = next(s for s in later if s.target.id == "E3")
        assert e3.evaluated_on == date(2026, 3, 1)  # no deadline
        # A target removed from the file stays readable but inactive.
        data = _raw()
        data["targets"] = [t for t in data["targets"] if t["id"] != "S6"]
        sync_targets(conn, parse_targets(data, CONFIG))
        assert conn.execute("SELECT active FROM registry.target WHERE target_id = 'S6'").fetchone() == (
            False,
        )
        assert conn.execute(
            "SELECT has_table_privilege('envmon_reader', 'derived.target_status', 'SELECT')"
        ).fetchone() == (True,)


def test_carbon_methodologies_read_the_carbon_tables(warehouse, config):
    with connect(warehouse) as conn:
        conn.execute("""INSERT INTO derived.carbon_reduction (region, indicator, base_year, year, base_value,
                                                                value,
                                                                reduction_pct, status, missing) VALUES
            ('乐山', 'co2_intensity', 2020, 2022, 1.2, 1.1, 8.333, 'ok', NULL),
            ('乐山', 'co2_intensity', 2020, 2023, 1.2, NULL, NULL, 'insufficient_data', 'gdp_constant'),
            ('乐山', 'co2_intensity', 2015, 2019, 1.5, 1.2, 20.0, 'ok', NULL)""")
        conn.execute("""INSERT INTO derived.carbon_indicator (region, year, co2_mt, status) VALUES
            ('乐山', 2017, 30.0, 'ok'), ('乐山', 2018, 32.5, 'ok'), ('乐山', 2019, 31.0, 'ok')""")
        city = config.scopes["city"]
        reduction = METHODOLOGIES["co2_intensity_reduction"](conn, city, date(2023, 6, 30))
        assert (reduction.value, reduction.period, reduction.period_year) == (8.33, "2020/2022", 2022)
        incomplete = METHODOLOGIES["co2_intensity_reduction"](conn, city, date(2024, 1, 1))
        assert incomplete.value is None and "gdp_constant" in incomplete.insufficient_reason
        # The 13th-plan row (base 2015) never stands in for the 14th plan's reduction.
        assert METHODOLOGIES["co2_intensity_reduction"](conn, city, date(2021, 12, 31)).value is None
        assert METHODOLOGIES["energy_intensity_reduction"](conn, city, date(2023, 6, 30)).value is None
        peak = METHODOLOGIES["carbon_peak"](conn, city, date(2020, 12, 31))
        assert peak.value == 2018 and peak.detail["latest_year"] == 2019
        rising = METHODOLOGIES["carbon_peak"](conn, city, date(2018, 12, 31))
        assert rising.value is None and "尚不能确认达峰" in rising.insufficient_reason
        # Once the bureau enters the assigned cut, C2 is judged against its linear pace.
        data = _raw()
        _by_id(data, "C2")["assigned_value"] = 13.5
        edited = parse_targets(data, CONFIG)
        c2 = evaluate_target(conn, edited, edited.target("C2"), date(2023, 6, 30))
        assert c2.assessment.status == "on_course" and "5.40" in c2.assessment.rule  # 13.5 × 2/5
        assert (
            evaluate_target(conn, config, config.target("C2"), date(2023, 6, 30)).assessment.status
            == "not_set"
        )


# --- acceptance: the real 2022 air archive and the 2021–2022 water data -----------------------------


@pytest.fixture(scope="module")
def loaded(cluster) -> str:
    from pipeline import runs

    url = localcluster.create_database("t_targets_acceptance", cluster, drop_first=True)
    runs.prepare_with_stations(BUNDLED_DATA, url)
    air = runs.load_source(runs.AIR_SOURCES, "city_archive", BUNDLED_DATA, "test-targets", url)
    water = runs.load_source(runs.WATER_SOURCES, "auto_archive", BUNDLED_DATA, "test-targets", url)
    assert len(air) == 365 and all(r["status"] == "loaded" for r in air + water)
    runs.refresh_indicators(url)
    return url


def _row_of(out: str, tid: str) -> str:
    return next(line for line in out.splitlines() if line.split(" ", 1)[0] == tid)


def test_targets_status_2022_reports_the_air_and_water_indicators(loaded):
    proc = subprocess.run(
        [ENVMON, "targets", "status", "--as-of", "2022-12-31"],
        capture_output=True,
        text=True,
        env=_env(loaded),
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    header = next(line for line in out.splitlines() if line.startswith("编号"))
    for column in ("指标", "范围", "实际值", "目标", "差距", "状态"):
        assert column in header

    with connect(loaded) as conn:
        ratio, pm25, heavy, valid, good = conn.execute("""
            SELECT y.good_day_ratio, y.pm25_mean, y.heavy_pollution_days, y.valid_days, y.good_days
            FROM derived.air_city_year y JOIN registry.site s USING (site_id)
            WHERE s.code = '乐山' AND y.period_start = '2022-01-01'""").fetchone()
        months = conn.execute("""
            SELECT s.code, m.compliant FROM derived.water_section_month m JOIN registry.site s USING (site_id)
            WHERE m.month = '2022-12-01' AND m.source = 'automatic' AND m.status = 'ok'""").fetchall()
        stored = dict(
            conn.execute(
                "SELECT target_id, actual FROM derived.target_status WHERE as_of = '2022-12-31'"
            ).fetchall()
        )
        w3 = conn.execute(
            "SELECT status, detail FROM derived.target_status WHERE as_of = '2022-12-31' AND target_id = 'W3'"
        ).fetchone()
        a1 = conn.execute(
            "SELECT status, gap, projection, good_days_allowed, detail FROM derived.target_status "
            "WHERE as_of = '2022-12-31' AND target_id = 'A1'"
        ).fetchone()

    # The earlier issues' figures: Leshan 2022 good-day ratio 82.9 % (300 of 362 valid days),
    # PM2.5 40 µg/m³, no heavy-pollution day; the six automatic sections compliant in 2022-12.
    assert (float(ratio), float(pm25), heavy, valid, good) == (82.9, 40.0, 0, 362, 300)
    assert {code for code, _ in months} == AUTOMATIC_SECTIONS and all(ok for _, ok in months)
    assert stored["A1"] == stored["A3"] == round(float(ratio), 1)
    assert stored["A4"] == stored["P1"] == float(pm25)
    assert stored["W3"] == 100.0 * sum(ok for _, ok in months) / len(months) == 100.0

    # 2022 is complete but the plans judge 2025: below the target → at risk, not missed.
    a1_row, a3_row, a4_row = _row_of(out, "A1"), _row_of(out, "A3"), _row_of(out, "A4")
    assert "82.9 %" in a1_row and "≥ 88 %" in a1_row and "⚠ 有风险" in a1_row and "中心城区" in a1_row
    assert "82.9 %" in a3_row and "≥ 89.4 %" in a3_row and "⚠ 有风险" in a3_row and "乐山市" in a3_row
    assert "40 µg/m³" in a4_row and "≤ 35 µg/m³" in a4_row and "⚠ 有风险" in a4_row
    w3_row = _row_of(out, "W3")
    assert "100 %" in w3_row and "≥ 100 %" in w3_row and "→ 进度正常" in w3_row
    assert "-5.1" in a1_row and "-6.5" in a3_row and "+5" in a4_row  # gap = actual − target
    assert (
        a1[0] == "at_risk" and a1[1] == pytest.approx(-5.1) and a1[3] == -19
    )  # ⌈0.88 × 362⌉ = 319 = 300 + 19
    assert a1[2] == pytest.approx(round(100 * 300 / 362, 3))
    assert a1[4]["valid_days"] == 362 and a1[4]["source"] == "derived.air_city_year"
    assert "全年比目标少 19 个优良天" in out
    assert "– 未设定" in _row_of(out, "W1") and "… 数据不足" in _row_of(out, "E1")

    status, detail = w3
    assert status == "on_course"
    assert {s["section"] for s in detail["sections"]} == AUTOMATIC_SECTIONS
    assert {s["month"] for s in detail["sections"]} == {"2022-12"}
    assert {s["section"] for s in detail["not_judged"]} == {"马鞍山", "河口渡口"}  # manual: no automatic data


def test_mid_year_as_of_cuts_the_year_and_projects(loaded, config):
    with connect(loaded) as conn:
        valid, good = conn.execute("""
            SELECT sum(m.valid_days), sum(m.good_days)
            FROM derived.air_city_month m JOIN registry.site s USING (site_id)
            WHERE s.code = '乐山' AND m.period_start BETWEEN '2022-01-01' AND '2022-06-01'""").fetchone()
        by_id = {s.target.id: s for s in compute_statuses(conn, date(2022, 6, 30), config)}
    a1 = by_id["A1"]
    assert a1.actual.detail["source"].startswith("derived.air_city_day")
    assert (a1.actual.ytd.valid_days, a1.actual.ytd.good_days) == (valid, good) == (180, 154)
    assert a1.actual.value == round(100 * 154 / 180, 1)
    # 184 days left; N = 364, ⌈0.88 × 364⌉ = 321 good needed → 167 more → 17 not-good days allowed.
    assert (a1.assessment.good_days_allowed, a1.assessment.status) == (17, "at_risk")
    w3 = by_id["W3"]
    assert w3.actual.period == "2022-06" and w3.actual.value == 100.0  # June has ended by 30 June
