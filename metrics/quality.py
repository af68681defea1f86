"""Quality-gate KPIs (SPEC §5): eval_coverage. (two_key_compliance lives with the PR KPIs in
metrics/delivery.py.)"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n"]


def eval_coverage(eval_tests: pd.DataFrame) -> pd.DataFrame:
    """eval_coverage: the number of automated evaluation tests — Python test functions (`def test_…`,
    `async def test_…`) in files under the `evaluation` capability's paths — on the tracked branch as
    it stood at the end of each week (summed over repositories). `value` = `n` = that number; the side
    counts are 0 (a count, not a share). Weeks without a snapshot have no value."""
    if eval_tests is None or eval_tests.empty:
        return pd.DataFrame(columns=COLUMNS)
    per_week = eval_tests.groupby("week", as_index=False)["tests"].sum()
    out = pd.DataFrame({"week": per_week["week"].astype("int64"), "capability": None, "internal": 0, "vendor": 0,
                        "unattributed": 0, "bots": 0, "value": per_week["tests"].astype("float64"),
                        "n": per_week["tests"].astype("float64")})
    return out[COLUMNS]
