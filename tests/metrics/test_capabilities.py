"""Capability assignment by changed paths: gitignore-style globs (`*` within a segment, `**` across)."""

from __future__ import annotations

import pandas as pd

from engagement.config import Capability
from metrics.capabilities import commit_capabilities

CAPS = [Capability(key="training", paths=["train/**", "pipelines/train*.py"]),
        Capability(key="evaluation", paths=["eval/*.py"]),
        Capability(key="none")]


def files(*rows):
    return pd.DataFrame(rows, columns=["source_id", "sha", "path", "old_path"])


def test_globs_and_each_commit_once_per_capability():
    got = commit_capabilities(files(
        (1, "a", "train/x/deep/model.py", None),
        (1, "a", "train/other.py", None),  # second file, same capability: counted once
        (1, "b", "pipelines/train_nightly.py", None),
        (1, "c", "pipelines/sub/train_x.py", None),  # `*` does not cross a segment
        (1, "d", "eval/test_auc.py", None),
        (1, "e", "eval/sub/test_deep.py", None),  # eval/*.py is one level only
        (1, "f", "train/a.py", None),
        (1, "f", "eval/b.py", None),  # one commit touching two capabilities counts in both
        (1, "g", "src/eval/new.py", "eval/old.py"),  # a rename out of eval still touches it
    ), CAPS)
    pairs = set(got[["sha", "capability"]].itertuples(index=False, name=None))
    assert pairs == {("a", "training"), ("b", "training"), ("d", "evaluation"), ("f", "training"),
                     ("f", "evaluation"), ("g", "evaluation")}
    paths = got.set_index(["sha", "capability"]).loc[("a", "training"), "paths"]
    assert paths == "train/other.py, train/x/deep/model.py"
