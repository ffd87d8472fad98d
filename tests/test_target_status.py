"""The status engine (targets.status) on hand-computed cases: no database."""

from __future__ import annotations

from datetime import date

import pytest

from targets.status import (
    STATUS_MARKS,
    STATUSES,
    YearToDate,
    assess,
    good_days_allowed,
    pace_target,
    project,
    satisfies,
    year_to_date,
)


def test_comparators():
    assert satisfies(88.0, "ge", 88) and not satisfies(87.9, "ge", 88)
    assert satisfies(35, "le", 35) and not satisfies(35.1, "le", 35)
    assert satisfies(0, "eq", 0) and not satisfies(1, "eq", 0)
    with pytest.raises(ValueError, match="unknown comparator 'gt'"):
        satisfies(1, "gt", 0)


def test_year_to_date_counts_calendar_days():
    ytd = year_to_date(valid_days=170, good_days=150, as_of=date(2022, 7, 19))
    assert (ytd.elapsed_days, ytd.days_in_year, ytd.remaining_days) == (200, 365, 165)
    assert year_to_date(10, 9, date(2024, 12, 31)).days_in_year == 366
    assert year_to_date(10, 9, date(2024, 12, 31)).remaining_days == 0


def test_good_days_allowed_200_valid_170_good_target_88():
    # 200 days elapsed, all valid, 170 good; 165 days left. Year: 365 valid days → 88 % needs
    # ⌈321.2⌉ = 322 good days → 152 more → 165 − 152 = 13 not-good days allowed.
    ytd = YearToDate(valid_days=200, good_days=170, elapsed_days=200, days_in_year=365)
    assert good_days_allowed(ytd, 88) == (13, 152)
    assert 322 / 365 >= 0.88 > 321 / 365  # the boundary the count rests on


def test_good_days_allowed_with_missing_days_and_a_decimal_target():
    # 10 days without a valid AQI so far: they neither count as valid nor come back.
    # N = 190 + 165 = 355; 89.4 % → ⌈317.37⌉ = 318 good; 318 − 160 = 158 needed; 165 − 158 = 7.
    ytd = YearToDate(valid_days=190, good_days=160, elapsed_days=200, days_in_year=365)
    assert good_days_allowed(ytd, 89.4) == (7, 158)


def test_good_days_allowed_negative_when_unreachable():
    # Leshan 2022 to 31 December: 362 valid, 300 good. 88 % of 362 → ⌈318.56⌉ = 319 → short by 19.
    ytd = YearToDate(valid_days=362, good_days=300, elapsed_days=365, days_in_year=365)
    assert good_days_allowed(ytd, 88) == (-19, 19)
    assert good_days_allowed(ytd, 89.4) == (-24, 24)  # ⌈323.63⌉ = 324
    # Mid-year, even an all-good rest cannot make it: 200 valid, 40 good, 165 days left.
    bad = YearToDate(valid_days=200, good_days=40, elapsed_days=200, days_in_year=365)
    assert good_days_allowed(bad, 88) == (165 - 282, 282)


def test_projection_rest_of_year_like_the_year_so_far():
    ytd = YearToDate(valid_days=200, good_days=170, elapsed_days=200, days_in_year=365)
    assert project("ratio_ytd", 85.0, ytd) == pytest.approx(85.0)  # same rate → same ratio
    assert project("mean_ytd", 41.0, ytd) == 41.0
    assert project("count_ytd", 2.0, ytd) == pytest.approx(2 * 365 / 200)  # 3.65 heavy days
    assert project("snapshot", 1.0, ytd) is None


def test_pace_of_a_cumulative_reduction():
    assert pace_target(13.5, 2020, 2025, 2022) == pytest.approx(5.4)
    assert pace_target(13.5, 2020, 2025, 2027) == pytest.approx(13.5)


AS_OF_2022 = date(2022, 12, 31)


def test_not_set_before_anything_else():
    a = assess(value=82.9, target=None, comparator="ge", deadline=2025, as_of=AS_OF_2022, kind="ratio_ytd")
    assert a.status == "not_set" and a.gap is None


def test_insufficient_without_a_value():
    assert (
        assess(value=None, target=88, comparator="ge", deadline=2025, as_of=AS_OF_2022).status
        == "insufficient_data"
    )


def test_complete_year_below_target_before_deadline_is_at_risk():
    """2022 (82.9 % vs 88 % for 2025): the year is over but the plan judges 2025 → at risk."""
    ytd = YearToDate(362, 300, 365, 365)
    a = assess(
        value=82.9, target=88, comparator="ge", deadline=2025, as_of=AS_OF_2022, kind="ratio_ytd", ytd=ytd
    )
    assert a.status == "at_risk"
    assert a.gap == pytest.approx(-5.1)
    assert a.projection == pytest.approx(100 * 300 / 362)
    assert (a.good_days_allowed, a.good_days_needed) == (-19, 19)


def test_ytd_meeting_target_and_reachable_is_on_course():
    ytd = YearToDate(valid_days=200, good_days=180, elapsed_days=200, days_in_year=365)
    a = assess(
        value=90.0,
        target=88,
        comparator="ge",
        deadline=2025,
        as_of=date(2023, 7, 19),
        kind="ratio_ytd",
        ytd=ytd,
    )
    assert a.status == "on_course"
    assert a.good_days_allowed == 165 - (322 - 180)  # 23


def test_ytd_below_target_is_at_risk_even_if_still_reachable():
    ytd = YearToDate(valid_days=200, good_days=170, elapsed_days=200, days_in_year=365)
    a = assess(
        value=85.0,
        target=88,
        comparator="ge",
        deadline=2025,
        as_of=date(2023, 7, 19),
        kind="ratio_ytd",
        ytd=ytd,
    )
    assert a.status == "at_risk" and a.good_days_allowed == 13


def test_deadline_year_unreachable_is_missed_early():
    ytd = YearToDate(valid_days=300, good_days=240, elapsed_days=300, days_in_year=365)
    # 365 × 0.88 → 322 good needed, 82 more, only 65 days left.
    a = assess(
        value=80.0,
        target=88,
        comparator="ge",
        deadline=2025,
        as_of=date(2025, 10, 27),
        kind="ratio_ytd",
        ytd=ytd,
    )
    assert a.status == "missed" and a.good_days_allowed == 65 - 82


def test_final_judgement_after_deadline():
    ytd = YearToDate(365, 325, 365, 365)
    met = assess(
        value=89.0,
        target=88,
        comparator="ge",
        deadline=2025,
        as_of=date(2025, 12, 31),
        kind="ratio_ytd",
        ytd=ytd,
    )
    assert met.status == "met"
    missed = assess(
        value=36,
        target=35,
        comparator="le",
        deadline=2025,
        as_of=date(2025, 12, 31),
        kind="mean_ytd",
        ytd=ytd,
        complete=True,
    )
    assert missed.status == "missed" and missed.gap == 1


def test_final_annual_mean_needs_a_valid_year():
    a = assess(
        value=30,
        target=35,
        comparator="le",
        deadline=2025,
        as_of=date(2025, 12, 31),
        kind="mean_ytd",
        ytd=YearToDate(300, 250, 365, 365),
        complete=False,
    )
    assert a.status == "insufficient_data" and "324" in a.rule


def test_heavy_pollution_count_projection_and_certain_miss():
    ytd = YearToDate(valid_days=100, good_days=80, elapsed_days=100, days_in_year=365)
    early = assess(
        value=0, target=0, comparator="le", deadline=2025, as_of=date(2024, 4, 9), kind="count_ytd", ytd=ytd
    )
    assert early.status == "on_course" and early.projection == 0
    one = assess(
        value=1, target=0, comparator="le", deadline=2025, as_of=date(2024, 4, 9), kind="count_ytd", ytd=ytd
    )
    assert one.status == "at_risk" and one.projection == pytest.approx(3.65)
    certain = assess(
        value=1, target=0, comparator="le", deadline=2025, as_of=date(2025, 4, 10), kind="count_ytd", ytd=ytd
    )
    assert certain.status == "missed"
    # A limit of 2 with 1 day by April: YTD meets, projection (3.65) does not → at risk.
    two = assess(
        value=1, target=2, comparator="le", deadline=2025, as_of=date(2024, 4, 9), kind="count_ytd", ytd=ytd
    )
    assert two.status == "at_risk" and "projection" in two.rule


def test_snapshot_before_and_after_deadline():
    assert (
        assess(value=100, target=100, comparator="ge", deadline=2025, as_of=AS_OF_2022).status == "on_course"
    )
    assert (
        assess(value=83.3, target=100, comparator="ge", deadline=2025, as_of=AS_OF_2022).status == "at_risk"
    )
    assert (
        assess(value=100, target=100, comparator="ge", deadline=2025, as_of=date(2025, 12, 31)).status
        == "met"
    )
    assert (
        assess(value=1, target=0, comparator="le", deadline=2025, as_of=date(2026, 3, 1)).status == "missed"
    )


def test_no_deadline_is_never_final():
    assert (
        assess(value=8000, target=7000, comparator="ge", deadline=None, as_of=date(2040, 1, 1)).status
        == "on_course"
    )


def test_cumulative_reduction_uses_linear_pace_and_needs_the_deadline_year():
    kw = dict(target=13.5, comparator="ge", deadline=2025, kind="cumulative", baseline_year=2020)
    assert assess(value=6.0, as_of=date(2023, 6, 1), period_year=2022, **kw).status == "on_course"  # pace 5.4
    assert assess(value=5.0, as_of=date(2023, 6, 1), period_year=2022, **kw).status == "at_risk"
    late = assess(value=14.0, as_of=date(2025, 12, 31), period_year=2024, **kw)
    assert late.status == "insufficient_data" and "2025" in late.rule
    assert assess(value=14.0, as_of=date(2025, 12, 31), period_year=2025, **kw).status == "met"


def test_every_status_has_a_mark():
    assert set(STATUS_MARKS) == set(STATUSES)
    assert STATUS_MARKS["at_risk"].startswith("⚠") and STATUS_MARKS["missed"].startswith("✗")


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown methodology kind"):
        assess(value=1, target=1, comparator="ge", deadline=2025, as_of=AS_OF_2022, kind="weekly")
