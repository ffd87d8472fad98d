"""Status of one target on one as-of date: pure functions, no I/O (tested by hand-computed cases).

States and the rules that give them, applied in this order
---------------------------------------------------------

``not_set``            the target reads "meet the state/province/city assignment" (comparator
                       ``assigned``) and the bureau has not entered the assigned number yet.
``insufficient_data``  the methodology returned no actual value (it says why), or a final
                       judgement lacks what it needs: an annual mean that is not valid under
                       GB 3095 Table 4 (``complete`` false), or a cumulative/event indicator whose
                       deadline year has not been reported yet.
``met`` / ``missed``   FINAL: the deadline year is over (as_of ≥ 31 December of the deadline year;
                       callers evaluate the methodology on that day, see :mod:`targets.refresh`).
                       The value meets the comparator → met, otherwise missed.
``missed`` (early)     in the deadline year itself, when the outcome is already certain: the
                       good-day target can no longer be reached even if every remaining day is
                       good (``good_days_allowed`` < 0), or an upper limit on a count (heavy
                       pollution days) is already exceeded (counts only grow).
``on_course``          before the deadline year is over, and
                       * annual air targets (year to date): the YTD value meets the target, the
                         year-end projection meets it and, for the good-day ratio, the target can
                         still be reached this year (``good_days_allowed`` ≥ 0);
                       * cumulative reductions (from a base year): the value meets the linear
                         pace, target × (year − base year) / (deadline − base year);
                       * anything else (latest state: section compliance, counts of sections, …):
                         the value meets the target.
``at_risk``            before the deadline year is over, when the condition of ``on_course``
                       fails. A complete year that missed the target (e.g. 2022's 82.9 % against
                       88 % for 2025) is ``at_risk``, not ``missed``: the plan judges 2025.

A target without a deadline is never final: it is on course or at risk.

Year-end projection (annual air targets): the rest of the year is assumed to behave like the
year so far. For a ratio over valid days this *is* the YTD ratio, for a mean the YTD mean, for a
count the YTD count × days in year / days elapsed. ``good_days_allowed`` carries the information
a ratio projection cannot: how many of the remaining days may be not good (AQI > 100) and still
reach the target, assuming every remaining day gets a valid AQI; negative = the target cannot be
reached this year (the shortfall in good days). It is computed against the exact ratio, so a
target is reached only when good/valid ≥ target (no credit for rounding up to one decimal).

``gap`` = actual − target (in the target's unit; sign: positive means above the target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

#: The states a target can be in, best first (the CLI and exports order and label them).
STATUSES = ("met", "on_course", "at_risk", "missed", "insufficient_data", "not_set")

#: Terminal / report marks (Chinese, the readers' language).
STATUS_MARKS = {
    "met": "✓ 达标",
    "on_course": "→ 进度正常",
    "at_risk": "⚠ 有风险",
    "missed": "✗ 未达标",
    "insufficient_data": "… 数据不足",
    "not_set": "– 未设定",
}

COMPARATORS = ("ge", "le", "eq")

#: How a methodology's value behaves over time (decides projection and pace rules).
#: ratio_ytd / mean_ytd / count_ytd: annual air statistics of the as-of year so far;
#: snapshot: the latest state (e.g. sections' latest judged month); cumulative: change since a
#: base year (reductions); event_year: the year something happened (the carbon peak).
KINDS = ("ratio_ytd", "mean_ytd", "count_ytd", "snapshot", "cumulative", "event_year")

_EPS = 1e-9


@dataclass(frozen=True)
class YearToDate:
    """Counts of the as-of year so far (annual air targets)."""

    valid_days: int
    good_days: int | None
    elapsed_days: int  # calendar days from 1 January through the as-of date, inclusive
    days_in_year: int

    @property
    def remaining_days(self) -> int:
        return max(self.days_in_year - self.elapsed_days, 0)


@dataclass(frozen=True)
class Assessment:
    status: str
    gap: float | None
    projection: float | None
    good_days_allowed: int | None
    good_days_needed: int | None
    rule: str


def satisfies(value: float, comparator: str, target: float) -> bool:
    """Whether ``value`` meets ``target`` under ``comparator`` (ge, le, eq)."""
    if comparator == "ge":
        return value >= target - _EPS
    if comparator == "le":
        return value <= target + _EPS
    if comparator == "eq":
        return abs(value - target) <= _EPS
    raise ValueError(f"unknown comparator {comparator!r} (expected one of {', '.join(COMPARATORS)})")


def deadline_end(deadline: int) -> date:
    """The day a target of deadline year ``deadline`` is judged: 31 December of that year."""
    return date(deadline, 12, 31)


def days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def year_to_date(valid_days: int, good_days: int | None, as_of: date) -> YearToDate:
    """YTD counts of the as-of year, with the calendar days elapsed and in the year."""
    return YearToDate(
        valid_days=valid_days,
        good_days=good_days,
        elapsed_days=(as_of - date(as_of.year, 1, 1)).days + 1,
        days_in_year=days_in_year(as_of.year),
    )


def project(kind: str, value: float, ytd: YearToDate) -> float | None:
    """Year-end value if the rest of the year behaves like the year so far."""
    if kind == "ratio_ytd":
        if not ytd.valid_days or ytd.good_days is None:
            return None
        return 100.0 * ytd.good_days / ytd.valid_days
    if kind == "mean_ytd":
        return value
    if kind == "count_ytd":
        return value * ytd.days_in_year / ytd.elapsed_days if ytd.elapsed_days else None
    return None


def good_days_allowed(ytd: YearToDate, target_pct: float) -> tuple[int, int]:
    """(not-good days still allowed, good days still needed) to end the year at ≥ ``target_pct``.

    The year is assumed to end with every remaining day valid: N = valid + remaining days, the
    year needs ⌈target × N / 100⌉ good days. Allowed = remaining − needed; negative = the
    shortfall when even an all-good rest of the year cannot reach the target.
    """
    remaining = ytd.remaining_days
    total_valid = ytd.valid_days + remaining
    need_total = math.ceil(Fraction(str(target_pct)) * total_valid / 100)
    needed = max(need_total - (ytd.good_days or 0), 0)
    return remaining - needed, needed


def pace_target(target: float, baseline_year: int, deadline: int, period_year: int) -> float:
    """Linear pace of a cumulative target (e.g. a 5-year reduction) at ``period_year``."""
    share = (period_year - baseline_year) / (deadline - baseline_year)
    return target * min(max(share, 0.0), 1.0)


def assess(
    *,
    value: float | None,
    target: float | None,
    comparator: str,
    deadline: int | None,
    as_of: date,
    kind: str = "snapshot",
    ytd: YearToDate | None = None,
    period_year: int | None = None,
    baseline_year: int | None = None,
    complete: bool | None = None,
) -> Assessment:
    """The status of one target (rules in the module docstring). ``as_of`` is the evaluation
    date of the value: the requested as-of date, or the deadline's 31 December when later."""
    if kind not in KINDS:
        raise ValueError(f"unknown methodology kind {kind!r} (expected one of {', '.join(KINDS)})")
    if target is None:
        return Assessment(
            "not_set", None, None, None, None, "assigned target value not entered by the bureau"
        )
    if value is None:
        return Assessment("insufficient_data", None, None, None, None, "no actual value")

    gap = value - target
    projection = project(kind, value, ytd) if ytd is not None else None
    allowed = needed = None
    if kind == "ratio_ytd" and ytd is not None and comparator == "ge":
        allowed, needed = good_days_allowed(ytd, target)
    ok = satisfies(value, comparator, target)

    def result(status: str, rule: str) -> Assessment:
        return Assessment(status, gap, projection, allowed, needed, rule)

    final = deadline is not None and as_of >= deadline_end(deadline)
    if final:
        if kind in ("cumulative", "event_year") and (period_year is None or period_year < deadline):
            return Assessment(
                "insufficient_data",
                gap,
                projection,
                allowed,
                needed,
                f"final judgement needs the {deadline} value; latest reported year {period_year}",
            )
        if kind == "mean_ytd" and complete is False:
            return Assessment(
                "insufficient_data",
                gap,
                projection,
                allowed,
                needed,
                "final judgement needs a valid annual mean (GB 3095 Table 4: ≥ 324 valid days, "
                "≥ 27 per month, 25 in February)",
            )
        return result(
            "met" if ok else "missed",
            f"final: deadline {deadline} over, value {'meets' if ok else 'does not meet'} the target",
        )

    in_deadline_year = deadline is not None and as_of.year == deadline
    if in_deadline_year and kind == "ratio_ytd" and allowed is not None and allowed < 0:
        return result(
            "missed", "deadline year: the target cannot be reached even if every remaining day is good"
        )
    if in_deadline_year and kind == "count_ytd" and comparator == "le" and not ok:
        return result("missed", "deadline year: the count already exceeds the limit (counts only grow)")

    if kind in ("ratio_ytd", "mean_ytd", "count_ytd"):
        if not ok:
            return result("at_risk", "year to date does not meet the target")
        if projection is not None and not satisfies(projection, comparator, target):
            return result("at_risk", "year to date meets the target, the year-end projection does not")
        if allowed is not None and allowed < 0:
            return result("at_risk", "the target cannot be reached this year")
        return result("on_course", "year to date and year-end projection meet the target")
    if (
        kind == "cumulative"
        and baseline_year is not None
        and period_year is not None
        and deadline is not None
        and deadline > baseline_year
    ):
        pace = pace_target(target, baseline_year, deadline, period_year)
        on_pace = satisfies(value, comparator, pace)
        return result(
            "on_course" if on_pace else "at_risk",
            f"linear pace {pace:.2f} at {period_year} ({'met' if on_pace else 'not met'})",
        )
    return result(
        "on_course" if ok else "at_risk",
        f"before the deadline, value {'meets' if ok else 'does not meet'} the target",
    )
