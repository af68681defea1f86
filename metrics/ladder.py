"""The ownership-shift ladder (SPEC §6): measured vs planned stage per capability and week.

Activity of a capability in a week is every item touching it, each counted once per capability.
The internal share of its attributed activity sets the measured stage:
0 Vendor leads (< pairs), 1 Internal pairs (>= pairs), 2 Internal leads, vendor reviews (>= leads),
3 Vendor shadows (>= shadows and at most `shadows_max_vendor_items` vendor items),
4 Independent (no vendor item, and every milestone tied to the capability accepted).
A week without attributed activity has no measured stage (NaN), never 0.
The planned stage of a week is the `[plan]` value of the latest planned week at or before it.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from metrics.identity import side_counts

STAGE_NAMES = {
    0: "Vendor leads",
    1: "Internal pairs",
    2: "Internal leads, vendor reviews",
    3: "Vendor shadows",
    4: "Independent",
}
ACTIVITY_COLUMNS = ["capability", "week", "side", "kind", "id"]


def measured_stage(internal: pd.Series, vendor: pd.Series, milestones_accepted: pd.Series,
                   cfg: EngagementConfig) -> pd.Series:
    t = cfg.ladder
    attributed = internal + vendor
    share = internal / attributed.where(attributed > 0)
    stage = np.select(
        [(vendor == 0) & milestones_accepted,
         (share >= t.shadows) & (vendor <= t.shadows_max_vendor_items),
         share >= t.leads,
         share >= t.pairs],
        [4, 3, 2, 1],
        default=0,
    ).astype("float64")
    return pd.Series(np.where(attributed > 0, stage, np.nan), index=internal.index)


def planned_stage(plan: dict[int, int], weeks: list[int]) -> pd.Series:
    """Planned stage per week: the latest planned week at or before it (NaN before the first)."""
    if not plan:
        return pd.Series(np.nan, index=weeks, dtype="float64")
    points = pd.Series(plan, dtype="float64").sort_index()
    return points.reindex(sorted(set(points.index) | set(weeks))).ffill().reindex(weeks)


def ladder(activity: pd.DataFrame, cfg: EngagementConfig, weeks: list[int],
           accepted_milestones: Collection[str] = ()) -> pd.DataFrame:
    """One row per (capability, week): side counts, share, stage, planned, behind (measured < planned)."""
    items = activity.drop_duplicates(["capability", "kind", "id"])
    counts = side_counts(items, ["capability", "week"]).drop(columns="value") if len(items) else None
    grid = pd.MultiIndex.from_product([cfg.capability_keys, weeks], names=["capability", "week"]).to_frame(
        index=False)
    if counts is not None:
        grid = grid.merge(counts, on=["capability", "week"], how="left")
    for col in ("internal", "vendor", "unattributed", "bots"):
        grid[col] = grid[col].fillna(0).astype("int64") if col in grid else 0
    attributed = grid["internal"] + grid["vendor"]
    grid["share"] = grid["internal"] / attributed.where(attributed > 0)
    accepted = set(accepted_milestones)
    pending_caps = {m.capability for m in cfg.milestones if m.capability and m.id not in accepted}
    grid["stage"] = measured_stage(grid["internal"], grid["vendor"], ~grid["capability"].isin(pending_caps), cfg)
    planned = [planned_stage(cfg.plan.get(cap, {}), weeks).rename("planned").rename_axis("week").reset_index()
               .assign(capability=cap) for cap in cfg.capability_keys]
    grid = grid.merge(pd.concat(planned, ignore_index=True), on=["capability", "week"], how="left")
    grid["behind"] = grid["stage"].notna() & grid["planned"].notna() & (grid["stage"] < grid["planned"])
    return grid
