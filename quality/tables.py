"""Great Expectations suites for files bound for non-measurement tables (carbon, statistics).

Row-level problems are already rejects with reasons (the readers); these gates stop a file
whose content is wrong wholesale (a unit change from Mt to t, a shifted column, a file loaded
twice into itself) before any of it is stored.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from quality.rules import GATE_MOSTLY

#: Mt CO2: the largest Chinese province emits ≈ 2,000 Mt a year; sector rows may be negative
#: (CEADs books some process and sink entries below zero) but not by more than that.
CO2_RANGE_MT = (-2_000.0, 20_000.0)


def carbon_suite() -> list:
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="region"),
        gxe.ExpectColumnValuesToBeBetween(column="year", min_value=1950, max_value=2100),
        gxe.ExpectColumnValuesToBeBetween(column="co2_mt", min_value=CO2_RANGE_MT[0], max_value=CO2_RANGE_MT[1],
                                          mostly=GATE_MOSTLY),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["region", "year", "sector", "fuel"]),
    ]


def statistics_suite() -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="year", min_value=1950, max_value=2100),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0.0, mostly=GATE_MOSTLY),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["region", "year", "indicator"]),
    ]


SUITES = {"carbon_city": carbon_suite, "carbon_province": carbon_suite, "bureau_statistics": statistics_suite}
