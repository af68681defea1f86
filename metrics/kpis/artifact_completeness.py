"""`artifact_completeness` (SPEC §11): the handover binder at each week's end. Value = artifacts present and fresh /
all artifacts of the binder (`[[artifacts]]`, else the default binder); per capability over the artifacts tied to
it. Rows carry `artifacts`, `present`, `fresh` and `owned`; the side counts are the present artifacts by the side
of their last change by a person (`internal` = owned), `n` = present. metrics/binder.py has the rules;
docs/metrics.md the worked example."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

SIDE_COLUMN = {"internal": "internal", "vendor": "vendor", "unattributed": "unattributed", "bot": "bots"}
EXTRA = ("artifact", "present", "fresh", "owned", "last_change", "last_changed_by", "owner_change", "missing")


def _scope_rows(artifacts: pd.DataFrame, capability: str | None) -> pd.DataFrame:
    rows = artifacts if capability is None else artifacts[artifacts["capability"] == capability]
    if rows.empty:
        return pd.DataFrame(columns=["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n",
                                     "artifacts", "present", "fresh", "owned"])
    side = rows["owner_side"].where(rows["present"]).map(SIDE_COLUMN)
    g = rows.assign(side=side).groupby("week")
    out = pd.DataFrame({"artifacts": g.size(), "present": g["present"].sum(), "fresh": g["fresh"].sum(),
                        "owned": g["owned"].sum()})
    for col in ("internal", "vendor", "unattributed", "bots"):
        out[col] = g["side"].apply(lambda s, c=col: int((s == c).sum()))
    out = out.reset_index().astype({c: "int64" for c in ("artifacts", "present", "fresh", "owned")})
    out["value"] = out["fresh"] / out["artifacts"]
    out["n"] = out["present"].astype("float64")
    out["capability"] = capability
    return out


def compute(facts: Facts) -> pd.DataFrame:
    binder = facts.binder
    if binder.empty:
        return no_rows()
    parts = [_scope_rows(binder.artifacts, None)]
    parts += [_scope_rows(binder.artifacts, cap) for cap in facts.cfg.capability_keys]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out = facts.grid(rows)
    for col in ("artifacts", "present", "fresh", "owned"):  # weeks of a capability without artifacts: 0 of 0
        out[col] = out[col].fillna(0).astype("int64")
    collected = set(binder.artifacts["week"])
    return out[out["week"].isin(collected)].reset_index(drop=True)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Per artifact: each matching file with its newest change (`at`, `last_change`, `last_changed_by`) and its
    newest change by a person (`owner_change`; `person` and `side` are that author's, bots skipped); the file
    holding the artifact's last change by a person is counted (one per present artifact, on its owner's side).
    A missing artifact is one uncounted row saying so."""
    binder = facts.binder
    if binder.empty:
        return empty_evidence(*EXTRA)
    arts = binder.artifacts[binder.artifacts["week"] == week]
    if capability is not None:
        arts = arts[arts["capability"] == capability]
    if arts.empty:
        return empty_evidence(*EXTRA)
    files = binder.files[(binder.files["week"] == week) & binder.files["artifact"].isin(arts["artifact"])]
    files = files.merge(arts[["artifact", "title", "present", "fresh", "owned", "owner_path", "owner_repo",
                              "missing"]], on="artifact")
    order = {k: i for i, k in enumerate(arts["artifact"])}
    files = files.assign(_o=files["artifact"].map(order)).sort_values(["_o", "repo", "path"])
    counted = ((files["path"] == files["owner_path"]) & (files["repo"] == files["owner_repo"])).to_numpy()
    parts = []
    if len(files):
        day = iso(files["at"]).str[:10]
        by_bot = (files["sha"] != files["owner_sha"]).to_numpy()
        title = (files["title"] + ": " + files["path"] + " — last changed " + day.fillna("?") + " by "
                 + files["person"].fillna("an unknown author").astype(str))
        title = title.where(~by_bot, title + "; last change by a person: " + files["owner_person"].fillna(
            "an unknown author").astype(str))
        parts.append(evidence_frame(
            kind="file", id=files["artifact"] + ":" + files["repo"].astype(str) + ":" + files["path"],
            url=facts.commit_links(files["repo"].astype(str), files["owner_sha"].fillna("").astype(str)),
            at=iso(files["at"]), person=files["owner_person"], side=files["owner_side"], counted=counted,
            title=title, repo=files["repo"], artifact=files["artifact"], present=files["present"],
            fresh=files["fresh"], owned=files["owned"], last_change=files["sha"],
            last_changed_by=files["person"], owner_change=files["owner_sha"], missing=files["missing"]))
    absent = arts[~arts["present"]]
    if len(absent):
        parts.append(evidence_frame(
            kind="artifact", id=absent["artifact"], counted=False, title=absent["title"] + ": missing",
            artifact=absent["artifact"], present=False, fresh=False, owned=False, last_change=None,
            last_changed_by=None, owner_change=None, missing=absent["missing"]))
    return pd.concat(parts, ignore_index=True) if parts else empty_evidence(*EXTRA)


SPEC = KpiSpec(
    key="artifact_completeness", label="Binder completeness", unit="share", direction="higher",
    definition="Handover binder artifacts (README, lock file, environment as code, data contracts, evaluation "
               "thresholds, model card, runbooks, alerts, architecture, data-handling record) present in the tracked "
               "branch at the week's end and changed within their maximum age / all artifacts; owned = last changed "
               "by an internal person.",
    compute=compute, evidence=evidence, default_target=0.9, spec_section="SPEC §11", page="binder")
