"""The monthly report as a PDF: A4 pages, Chinese text in an embedded CJK TrueType/OpenType font.

matplotlib's PDF backend with ``pdf.fonttype = 42`` embeds the font itself (Type 3 would draw
glyphs as paths and ``pdftotext`` could not read the text). The creation date is left out of the
metadata, so the same report gives the same bytes.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import string
import unicodedata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from exports.monthly import MonthlyReport  # noqa: E402

A4 = (8.27, 11.69)  # inches
FONT_CACHE_SIZE = 24  # cut-down fonts kept in .local/cache/fonts
PM25_LIMIT = 35  # GB 3095-2012 grade II annual limit, µg/m³
CLASS_COLOURS = {"I": "#CCFFFF", "II": "#00CCFF", "III": "#00FF00", "IV": "#FFFF00", "V": "#FF9B00", "劣V": "#FF0000"}
AQI_LEVELS = [("优", "#00E400"), ("良", "#FFFF00"), ("轻度污染", "#FF7E00"), ("中度污染", "#FF0000"),
              ("重度污染", "#99004C"), ("严重污染", "#7E0023"), ("无有效数据", "#DDDDDD")]


def _face_index(path: Path) -> int:
    """The Simplified-Chinese face of a font collection (Noto CJK .ttc), else 0."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        for i, face in enumerate(collection.fonts):
            if face["name"].getDebugName(1).endswith(" SC"):
                return i
    return 0


def _to_truetype(font) -> None:
    """CFF outlines → TrueType (quadratic) outlines, in place (fontTools' otf2ttf recipe), so the
    PDF embeds a real TrueType font (Type 42): every viewer and poppler read it without complaint."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    maxp.compile(font)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    font.sfntVersion = "\x00\x01\x00\x00"


def _report_text(report: MonthlyReport) -> str:
    """Every character the PDF can draw: the report's tables and texts and this module's literals."""
    from exports.workbook import formatted

    parts = [report.summary, report.cutoff or "", *report.missing, Path(__file__).read_text(encoding="utf-8")]
    for sheet in report.sheets:
        parts += [sheet.title, *sheet.frame.columns]
        parts += ["".join(formatted(sheet)[c]) for c in sheet.frame.columns]
    parts.append(string.printable)
    return "".join(parts)


def font_family(text: str) -> str:
    """A CJK family holding just the glyphs of ``text``, cut from the project's font
    (:func:`envmon.fonts.cjk_font`, Simplified-Chinese face) and cached by character set.

    matplotlib subsets the embedded font itself, but from the whole 20 MB Noto CJK collection, once
    per 256 characters (≈1.6 s each); cutting the face down once first keeps an export fast.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from envmon.fonts import cjk_font
    from envmon.settings import local_dir

    source = cjk_font()
    chars = "".join(sorted(set(text) - {"\n", "\r", "\t"}))
    key = hashlib.sha1(f"{source}\n{chars}".encode()).hexdigest()[:12]
    family = f"Envmon CJK {key}"
    path = local_dir() / "cache" / "fonts" / f"cjk-{key}.ttf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        options = subset.Options(layout_features=[], name_IDs=["*"], name_languages=["*"])
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx"]
        font = TTFont(str(source), fontNumber=_face_index(source), lazy=True)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        for record in font["name"].names:
            if record.nameID in (1, 16):
                record.string = family
            elif record.nameID in (4,):
                record.string = family + " Regular"
        if "CFF " in font:
            _to_truetype(font)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(partial))
        partial.replace(path)
        cached = sorted(path.parent.glob("cjk-*.*"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in cached[FONT_CACHE_SIZE:]:  # ≈ 120 kB each; keep the recent ones
            old.unlink(missing_ok=True)
    if family not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    return family


def _cell(value: object) -> str:
    """A table cell: missing (None, NaN/NA or empty) shows as a dash, never as 'nan' or a crash."""
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _wrap(text: str, width: int) -> list[str]:
    """Break text into lines of at most ``width`` columns (CJK characters count two)."""
    lines, line, used = [], "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += w
    if line:
        lines.append(line)
    return lines


def _page(pdf: PdfPages, title: str, report: MonthlyReport, number: int):
    fig = plt.figure(figsize=A4)
    fig.text(0.5, 0.965, title, ha="center", va="top", fontsize=15)
    fig.text(0.5, 0.02, f"乐山市生态环境局 · {report.label} 月度达标报告 · 第 {number} 页", ha="center", fontsize=8,
             color="#555555")
    return fig


def _summary_page(pdf: PdfPages, report: MonthlyReport) -> None:
    fig = _page(pdf, f"乐山市生态环境质量月度达标报告（{report.month.year}年{report.month.month}月）", report, 1)
    y = 0.92
    fig.text(0.07, y, "摘要", fontsize=12)
    y -= 0.025
    for line in _wrap(report.summary, 84):
        fig.text(0.07, y, line, fontsize=9.5, va="top")
        y -= 0.019
    y -= 0.02
    fig.text(0.07, y, "规划目标进展（有实测值或存在风险的目标）", fontsize=12)
    frame = report.sheet("概况").frame
    shown = frame[frame["实际值"].notna() | frame["状态"].isin(["有风险", "未达标"])]
    cells = [[r["编号"], "\n".join(_wrap(r["指标"], 36)), r["范围"],
              "—" if pd.isna(r["实际值"]) else f"{r['实际值']:g} {r['单位']}", "\n".join(_wrap(r["目标"], 12)), r["状态"],
              "—" if pd.isna(r["同比变化"]) else f"{r['同比变化']:+g}"] for _, r in shown.iterrows()]
    if cells:
        ax = fig.add_axes([0.06, 0.06, 0.88, y - 0.075])
        ax.axis("off")
        table = ax.table(cellText=cells, colLabels=["编号", "指标", "范围", "实际值", "目标", "状态", "同比变化"],
                         colWidths=[0.06, 0.4, 0.1, 0.12, 0.13, 0.09, 0.1], loc="upper center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1, 2.2)
        for (row, _col), cell in table.get_celld().items():
            if row == 0:
                cell.set_facecolor("#DDEBF7")
            elif cells[row - 1][5] in ("有风险", "未达标"):
                cell.set_facecolor("#FFE5E5")
    pdf.savefig(fig)
    plt.close(fig)


def _air_page(pdf: PdfPages, report: MonthlyReport) -> None:
    charts = report.charts
    city = charts.get("city_name", "城市")
    fig = _page(pdf, f"{city}环境空气质量（{report.month.year}年1–{report.month.month}月）", report, 2)
    days = charts.get("city_days", pd.DataFrame())
    # 1. Daily AQI calendar: one row per month so far, one column per day, HJ 633 level colours.
    ax = fig.add_axes([0.09, 0.58, 0.86, 0.33])
    colour = {pd.Timestamp(d).date(): c for d, c in zip(days.get("date", []), days.get("colour", []), strict=False)}
    aqi = {pd.Timestamp(d).date(): a for d, a in zip(days.get("date", []), days.get("aqi", []), strict=False)}
    months = report.month.month
    for m in range(1, months + 1):
        for d in range(1, calendar.monthrange(report.month.year, m)[1] + 1):
            day = pd.Timestamp(report.month.year, m, d).date()
            c = colour.get(day) if aqi.get(day) is not None and not pd.isna(aqi.get(day)) else None
            ax.add_patch(Rectangle((d - 0.5, m - 0.5), 0.92, 0.88, facecolor=c or "#DDDDDD", edgecolor="white"))
            if m == months and c:
                ax.text(d - 0.04, m + 0.02, f"{int(aqi[day])}", ha="center", va="center", fontsize=4.5)
    ax.set_xlim(0.3, 31.7)
    ax.set_ylim(months + 0.6, 0.4)
    ax.set_xticks(range(1, 32))
    ax.set_xticklabels([str(i) for i in range(1, 32)], fontsize=6)
    ax.set_yticks(range(1, months + 1))
    ax.set_yticklabels([f"{m}月" for m in range(1, months + 1)], fontsize=7)
    ax.set_title("逐日空气质量指数（AQI）日历，本月标注AQI数值", fontsize=10)
    ax.legend(handles=[Patch(facecolor=c, label=label) for label, c in AQI_LEVELS], loc="upper center",
              bbox_to_anchor=(0.5, -0.06), ncol=7, fontsize=7, frameon=False)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    # 2. PM2.5: daily values, monthly means, year-to-date mean against the annual limit.
    ax = fig.add_axes([0.09, 0.1, 0.86, 0.36])
    if len(days):
        dates = pd.to_datetime(days["date"])
        ax.plot(dates, days["pm25_24h"], color="#9DB7D5", linewidth=0.8, label="日均值")
        monthly = days.assign(m=dates.dt.to_period("M")).groupby("m")["pm25_24h"].mean()
        ax.step([p.start_time for p in monthly.index], monthly.to_numpy(), where="post", color="#1F4E79",
                linewidth=1.6, label="月均值")
        ytd = days["pm25_24h"].expanding().mean()
        ax.plot(dates, ytd, color="#C00000", linewidth=1.4, label="年初至今均值")
    ax.axhline(PM25_LIMIT, color="black", linestyle="--", linewidth=1, label=f"年均限值/目标 {PM25_LIMIT} µg/m³")
    ax.set_ylabel("PM2.5（µg/m³）", fontsize=8)
    ax.set_title("PM2.5 浓度趋势与 35 µg/m³", fontsize=10)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper right")
    pdf.savefig(fig)
    plt.close(fig)


def _ratio_carbon_page(pdf: PdfPages, report: MonthlyReport) -> None:
    charts = report.charts
    fig = _page(pdf, "优良天数比例与碳排放", report, 3)
    ax = fig.add_axes([0.1, 0.56, 0.85, 0.34])
    ratios = [(m, r) for m, r in charts.get("ytd_ratio", []) if r is not None]
    if ratios:
        ax.plot([m for m, _ in ratios], [r for _, r in ratios], marker="o", color="#1F4E79", label="年初至今优良天数比例")
        for m, r in ratios:
            ax.annotate(f"{r:.1f}", (m, r), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    goals = sorted({(value, f"{tid} {name}") for tid, name, value, method in charts.get("targets", [])
                    if method == "good_day_ratio_ytd" and value is not None})
    styles = ["--", ":", "-."]
    for i, (value, label) in enumerate(goals):
        ax.axhline(value, color="#C00000", linestyle=styles[i % 3], linewidth=1,
                   label=f"目标 {value:g}%（{''.join(_wrap(label, 30)[:1])}）")
    values = [r for _, r in ratios] + [value for value, _ in goals]
    if values:
        ax.set_ylim(max(0, min(values) - 5), min(100, max(values) + 3))
    ax.set_xlim(0.5, 12.5)
    ax.set_xticks(range(1, 13))
    ax.set_xticklabels([f"{m}月" for m in range(1, 13)], fontsize=7)
    ax.set_ylabel("%", fontsize=8)
    ax.set_title(f"{report.month.year}年优良天数比例（年初至各月末）与目标", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.tick_params(labelsize=7)
    ax = fig.add_axes([0.1, 0.1, 0.85, 0.34])
    series = charts.get("co2_series", [])
    if series:
        years = [y for y, _ in series]
        ax.bar(years, [v for _, v in series], color="#7F7F7F")
        ax.set_ylabel("CO2 排放量（Mt）", fontsize=8)
        latest = charts.get("latest_year")
        ax.set_title(f"乐山市二氧化碳排放量（CEADs 清单，最新清单年 {latest}）", fontsize=10)
        intensity = charts.get("intensity_series", [])
        if intensity:
            twin = ax.twinx()
            twin.plot([y for y, _ in intensity], [v for _, v in intensity], color="#C00000", marker="o")
            twin.set_ylabel("碳排放强度（t/万元）", fontsize=8)
    else:
        ax.text(0.5, 0.5, "无碳排放清单数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("乐山市二氧化碳排放量", fontsize=10)
    ax.tick_params(labelsize=7)
    pdf.savefig(fig)
    plt.close(fig)


def _water_page(pdf: PdfPages, report: MonthlyReport) -> None:
    sections = report.charts.get("sections", pd.DataFrame())
    fig = _page(pdf, f"地表水考核断面水质（{report.month.year}年{report.month.month}月）", report, 4)
    cells = [[_cell(r["名称"]), _cell(r["河流"]), _cell(r["数据来源"]), _cell(r["有效样本数(个)"]),
              _cell(r["水质类别"]), _cell(r["目标类别"]), _cell(r["是否达标"]),
              "\n".join(_wrap(_cell(r["主要污染指标(超标倍数)"]), 24))] for _, r in sections.iterrows()]
    ax = fig.add_axes([0.05, 0.5, 0.9, 0.42])
    ax.axis("off")
    if cells:
        table = ax.table(cellText=cells, colLabels=["断面", "河流", "来源", "有效样本", "水质类别", "目标", "达标",
                                                    "主要污染指标(超标倍数)"],
                         colWidths=[0.14, 0.1, 0.1, 0.1, 0.1, 0.08, 0.1, 0.28], loc="upper center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.8)
        for (row, col), cell in table.get_celld().items():
            if row == 0:
                cell.set_facecolor("#DDEBF7")
            elif col == 4 and cells[row - 1][4] in CLASS_COLOURS:
                cell.set_facecolor(CLASS_COLOURS[cells[row - 1][4]])
    ax = fig.add_axes([0.12, 0.08, 0.76, 0.36])
    located = sections.dropna(subset=["lon", "lat"]) if len(sections) else sections
    if len(located):
        for _, r in located.iterrows():
            ax.scatter(r["lon"], r["lat"], s=120, color=CLASS_COLOURS.get(r["水质类别"], "#DDDDDD"),
                       edgecolor="black", zorder=3)
            ax.annotate(f"{r['名称']}（{r['水质类别'] or '未评价'}）", (r["lon"], r["lat"]), textcoords="offset points",
                        xytext=(6, 4), fontsize=7)
        ax.set_xlabel("经度", fontsize=8)
        ax.set_ylabel("纬度", fontsize=8)
        ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.25)
    else:
        ax.text(0.5, 0.5, "断面无坐标", ha="center", va="center", transform=ax.transAxes)
    missing = len(sections) - len(located)
    ax.set_title("断面位置与水质类别" + (f"（另有 {missing} 个断面无坐标，未绘出）" if missing else ""), fontsize=10)
    ax.tick_params(labelsize=7)
    ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=f"{k}类") for k, c in CLASS_COLOURS.items()],
              fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    pdf.savefig(fig)
    plt.close(fig)


def _notes_page(pdf: PdfPages, report: MonthlyReport) -> None:
    fig = _page(pdf, "数据说明", report, 5)
    notes = report.sheet("数据说明").frame
    y = 0.92
    lines: list[tuple[str, bool]] = []
    lines.append((f"数据截止：{report.cutoff or '本月无监测数据'}", False))
    lines.append(("缺失数据（如实列出，未插补）：" if report.missing else "缺失数据：无", True))
    lines += [("· " + m, False) for m in report.missing]
    for category in ("隔离数据", "数据状态", "方法"):
        lines.append((category, True))
        for _, r in notes[notes["类别"] == category].iterrows():
            lines.append((f"· {r['项目']}：{r['内容']}", False))
    for text, bold in lines:
        for part in _wrap(text, 96):
            if y < 0.05:
                break
            fig.text(0.06, y, part, fontsize=10 if bold else 8, va="top")
            y -= 0.017 if not bold else 0.022
    pdf.savefig(fig)
    plt.close(fig)


def write_pdf(report: MonthlyReport, path: Path) -> Path:
    """Five A4 pages: summary and targets, air charts, good days and carbon, water, data notes."""
    style = {"pdf.fonttype": 42, "font.family": font_family(_report_text(report)), "axes.unicode_minus": False}
    with matplotlib.rc_context(style), PdfPages(path, metadata={
            "CreationDate": None, "Creator": "envmon exports", "Producer": "matplotlib",
            "Title": f"乐山市生态环境质量月度达标报告 {report.label}"}) as pdf:
        _summary_page(pdf, report)
        _air_page(pdf, report)
        _ratio_carbon_page(pdf, report)
        _water_page(pdf, report)
        _notes_page(pdf, report)
    return path


__all__ = ["A4", "font_family", "write_pdf"]
