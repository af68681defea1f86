"""Pipeline classification (SPEC §5, §11): CI runs and tags -> data_cut / train / deploy / rollback / eval / rebuild.

A `[pipeline]` (or a capability's `ci_workflows`) entry matches a workflow run by its path
(`.github/workflows/train.yml`), its file name (`train.yml`) or its display name (`Train model`);
`*` and `?` are the only wildcards, everything else is literal, case-insensitive. A run matching
several kinds takes the first in the order data_cut, train, deploy, rollback, eval, rebuild. Tags match the
kind's `tags` patterns (data cuts can be tags such as `data-v*`).
A GitLab pipeline (metrics/other_sources.py) also matches by the names and stages of its jobs (`match_names`,
newline-separated). Matching runs once per distinct (path, name, match_names), then joins back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.config import Capability, Pipeline
from metrics.identity import glob_regex

KINDS = ("data_cut", "train", "deploy", "rollback", "eval", "rebuild")


def _matches(patterns: list[str], path: str | None, name: str | None, also: str | None = None) -> bool:
    regex = glob_regex(patterns)
    if regex is None:
        return False
    path = path or ""
    candidates = [path, path.rsplit("/", 1)[-1], name or "", *(also.split("\n") if isinstance(also, str) else ())]
    return any(c and regex.match(c) for c in candidates)


def _match_keys(runs: pd.DataFrame) -> list[str]:
    return ["workflow_path", "name", "match_names"] if "match_names" in runs else ["workflow_path", "name"]


def run_kinds(runs: pd.DataFrame, pipeline: Pipeline) -> pd.Series:
    """The pipeline kind of each run (None when no `[pipeline]` entry matches), aligned with `runs`."""
    if runs.empty:
        return pd.Series([], index=runs.index, dtype=object)
    keys = _match_keys(runs)
    distinct = runs[keys].drop_duplicates()
    kinds = []
    for values in distinct.itertuples(index=False, name=None):
        kind = next((k for k in KINDS if _matches(getattr(pipeline, k).workflows, *values)), None)
        kinds.append(kind)
    distinct = distinct.assign(kind=kinds)
    merged = runs[keys].merge(distinct, on=keys, how="left")
    return pd.Series(merged["kind"].to_numpy(), index=runs.index, dtype=object)


def tag_kinds(tags: pd.DataFrame, pipeline: Pipeline) -> pd.Series:
    """The pipeline kind of each git tag by its name (None when no kind's `tags` pattern matches)."""
    if tags.empty:
        return pd.Series([], index=tags.index, dtype=object)
    out = np.full(len(tags), None, dtype=object)
    for kind in reversed(KINDS):  # earlier kinds win
        regex = glob_regex(getattr(pipeline, kind).tags)
        if regex is not None:
            hit = tags["name"].map(lambda n, r=regex: bool(r.match(n or ""))).to_numpy(dtype=bool)
            out[hit] = kind
    return pd.Series(out, index=tags.index, dtype=object)


def run_capabilities(runs: pd.DataFrame, capabilities: list[Capability]) -> pd.DataFrame:
    """Pairs (row index of `runs`, capability) for runs of each capability's `ci_workflows`."""
    pairs = []
    if runs.empty:
        return pd.DataFrame(columns=["row", "capability"])
    keys = _match_keys(runs)
    distinct = runs[keys].drop_duplicates()
    for cap in capabilities:
        hits = [v for v in distinct.itertuples(index=False, name=None) if _matches(cap.ci_workflows, *v)]
        if hits:
            found = pd.DataFrame(hits, columns=keys)
            rows = runs.reset_index(names="row").merge(found, on=keys)
            pairs.append(pd.DataFrame({"row": rows["row"], "capability": cap.key}))
    return pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=["row", "capability"])
