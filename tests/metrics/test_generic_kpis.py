"""A KPI that another module adds to the weekly row contract works in milestones, review cards, frozen weeks and
restatements without any change there (simulated here by adding `internal_pr_share` rows to `weekly`)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from metrics.milestones import criterion_evidence, milestone, milestone_states
from metrics.review import kpi_cards
from metrics.service import evidence
from metrics.snapshots import restatements, week_figures
from tests.support.engagement_factory import START, metrics

PR_MILESTONE = {"id": "P", "due_week": 4, "title": "PRs",
                "criteria": [{"metric": "internal_pr_share", "op": ">=", "value": 0.5}]}


def with_pr_rows(m, internal=(1, 2, 3, 4), vendor=(4, 3, 2, 1)):
    rows = pd.DataFrame({
        "week": [1, 2, 3, 4], "week_start": [START + pd.Timedelta(days=7 * i) for i in range(4)],
        "kpi": "internal_pr_share", "capability": None,
        "value": [i / (i + v) for i, v in zip(internal, vendor, strict=True)],
        "internal": list(internal), "vendor": list(vendor), "unattributed": [0, 0, 1, 0], "bots": 0,
        "planned": float("nan")})
    # Replace the rows the git fallback computes, so the values below are the test's own.
    kept = m.weekly[m.weekly["kpi"] != "internal_pr_share"]
    return dataclasses.replace(m, weekly=pd.concat([kept, rows], ignore_index=True))


def test_new_kpi_in_milestones_cards_and_frozen_weeks():
    m = with_pr_rows(metrics([PR_MILESTONE]))  # PR share: 0.2, 0.4, 0.6, 0.8
    assert milestone_states(m)["state"].tolist() == ["pending", "pending", "met", "met"]
    ev = criterion_evidence(m, milestone(m, "P").criteria[0], 3)
    # A criterion over a KPI lists that KPI's own evidence rows (issue 10: the same rows its card opens); there is no
    # generic "contract row" evidence any more.
    assert ev.equals(evidence(m, "internal_pr_share", 3))

    cards = kpi_cards(m, 3).set_index("kpi")
    pr = cards.loc["internal_pr_share"]
    assert (pr["shown"], round(pr["change"], 6), pr["target_status"]) == ("60%", 0.2, "met")
    assert pr["unattributed_share"] == 1 / 6
    # takeover_weeks (SPEC §11) reads the ladder and exit_readiness (SPEC §10) counts commits as an operation, so a
    # git-only engagement has their cards too (registry order)
    assert list(cards.index) == ["internal_commit_share", "internal_pr_share", "takeover_weeks", "exit_readiness"]

    frozen = {"week": 3, "roster_sha256": "", "figures": week_figures(m, 3)}
    assert any(f["kpi"] == "internal_pr_share" for f in frozen["figures"])
    later = with_pr_rows(metrics([PR_MILESTONE]), internal=(1, 2, 2, 4), vendor=(4, 3, 3, 1))
    restated = restatements(frozen, later)
    pr_rows = restated[restated["kpi"] == "internal_pr_share"]
    assert pr_rows[["old", "new", "why"]].values.tolist() == [[0.6, 0.4, "roster change"]]  # same PR count
    more = restatements(frozen, with_pr_rows(metrics([PR_MILESTONE]), internal=(1, 2, 4, 4)))
    assert more.loc[more["kpi"] == "internal_pr_share", "why"].tolist() == ["new data collected (1 more events)"]
