"""GB 3838 classification at national scale: 4-hourly samples of 3,641 sections, in chunks.

Input from real distributions: whole samples (all items together, keeping their correlation)
are resampled from the Leshan 2021–2022 automatic archive and scaled per section by a factor
spread like the differences between sections. Prints samples/s of ``standards.gb3838.classify``
and the peak memory (RSS), which stays flat because the work runs chunk by chunk.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from envmon.settings import REPO_ROOT
from evaluation.water import samples_wide
from ingest import cnemc_water
from standards import gb3838

SECTIONS = 3641
SAMPLES_PER_YEAR = 6 * 365
ITEMS = ["water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn"]


def real_samples() -> pd.DataFrame:
    batch = cnemc_water.ARCHIVE_ADAPTER.parse(REPO_ROOT / "data" / "water" / "cnemc_water_auto_leshan_2021-2022.csv")
    return samples_wide(batch.records)[ITEMS].dropna().reset_index(drop=True)


def run(sections: int, years: float, per_chunk: int = 250_000, seed: int = 7) -> dict[str, float]:
    pool = real_samples().to_numpy()
    rng = np.random.default_rng(seed)
    total = int(sections * SAMPLES_PER_YEAR * years)
    scale_cols = [ITEMS.index(c) for c in ("codmn", "nh3n", "tp", "tn", "turbidity")]
    rows, compute = 0, 0.0
    while rows < total:
        n = min(per_chunk, total - rows)
        picks = pool[rng.integers(0, len(pool), size=n)].copy()
        picks[:, scale_cols] *= rng.lognormal(0.0, 0.6, size=(n, 1))
        frame = pd.DataFrame(picks, columns=ITEMS)
        t0 = time.perf_counter()
        result = gb3838.classify(frame)
        compute += time.perf_counter() - t0
        rows += len(result)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "seconds": compute, "rows_per_s": rows / compute, "peak_rss_mb": peak_mb}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sections", type=int, default=SECTIONS)
    parser.add_argument("--years", type=float, default=10.0)
    args = parser.parse_args(argv)
    result = run(args.sections, args.years)
    full = SECTIONS * SAMPLES_PER_YEAR * 10
    print(f"GB 3838 sample classes, {args.sections} sections × {args.years:g} years of 4-hourly samples")
    print(f"  samples         {result['rows']:>14,}")
    print(f"  compute         {result['seconds']:>14.2f} s   (10 national years extrapolated: "
          f"{result['seconds'] * full / result['rows']:.0f} s)")
    print(f"  throughput      {result['rows_per_s']:>14,.0f} samples/s")
    print(f"  peak RSS        {result['peak_rss_mb']:>14,.0f} MB   (chunks of 250,000 samples: bounded)")


if __name__ == "__main__":
    main()
