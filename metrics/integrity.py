"""`metrics verify`: can the acceptance record be defended in an audit? (SPEC §7, issue 9)

`verify(engine, m, witness)` checks, and lists every problem found, the first altered row first:
1. the ledger's hash chain (db/ledger.py): every row's content and row hash, the link to the row before,
   no row missing, the personal details' digests, and the newest head this machine saw (the witness);
2. every signature of the engagement: its evidence digest against the signed document, then the document
   against the evidence of the same week recomputed from today's data. An evidence row still there whose
   recorded facts changed (time, kind, repository, link; or its side while the roster and classify rules
   are unchanged) is an **alteration** of the source data after signing. Rows added or gone, and sides or
   persons re-attributed by a roster edit or a purge, are not: they are listed as notices (the milestones
   page shows them as "evidence changed since signing");
3. every frozen week of the engagement: its overall digest against its figures' digests (the chain
   already covers any edit of the figures themselves).
A report with no problem is "ok"; the CLI exits 1 otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from db import ledger, privacy, review_store
from metrics.acceptance import digest, document_for_week, roster_digest, row_key, signed_document
from metrics.criteria import CRITERION_METRICS, Filters
from metrics.engagement import EngagementMetrics
from metrics.kpis import REGISTRY
from metrics.milestones import milestone
from metrics.service import evidence

FACTS = ("kind", "at", "repo", "url")  # what a source row says happened; never changes for one item


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows: int = 0
    head: tuple[int, str] = (0, ledger.GENESIS)
    signatures: int = 0
    frozen_weeks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return (f"ok: {self.rows} ledger rows (head {self.head[0]} {self.head[1][:12]}), {self.signatures} "
                    f"signatures and {self.frozen_weeks} frozen weeks checked")
        more = len(self.problems) - 1
        return f"ALTERED: {self.problems[0]}" + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def _label(e: ledger.Entry) -> str:
    who = e.content.get("signer") if e.purged else e.details.get("signer") or e.content.get("signer")
    return f"ledger row {e.seq} (signature of {e.content.get('milestone')} by {who})"


class Facts:
    """Where an evidence row that left a criterion's evidence is looked up (did it vanish, or change?): the
    criterion's metric in the same week with only the filters it needs (any side, any capability), then the
    engagement-wide evidence of every KPI in that week (an internal count's rows that moved to the vendor side
    are among the KPI's rows of both sides). Rows in the signed form (persons as ids), by row key; lazy."""

    def __init__(self, m: EngagementMetrics, milestone_id: str, week: int | None, key_salt: bytes):
        self.m, self.week, self.key_salt = m, week, key_salt
        try:
            self.ms = milestone(m, milestone_id)
        except KeyError:
            self.ms = None
        self._criteria: dict[int, dict[str, dict]] = {}
        self._all: dict[str, dict] | None = None

    def _rows(self, rows: pd.DataFrame) -> dict[str, dict]:
        doc, _titles = signed_document({"criteria": [{"rows": rows.replace({np.nan: None}).to_dict("records")}]},
                                       self.key_salt)
        return {str(row_key(r)): r for r in doc["criteria"][0]["rows"]}

    def _criterion(self, number: int) -> dict[str, dict]:
        if number not in self._criteria:
            found: dict[str, dict] = {}
            if self.ms is not None and self.week is not None and 0 < number <= len(self.ms.criteria):
                c = self.ms.criteria[number - 1]
                metric = CRITERION_METRICS[c.metric]
                f = Filters(c.capability if "capability" in metric.required else None,
                            c.runbook if "runbook" in metric.required else None, None)
                found = self._rows(metric.evidence(self.m, f, self.week))
            self._criteria[number] = found
        return self._criteria[number]

    def _everything(self) -> dict[str, dict]:
        if self._all is None:
            self._all = {}
            if self.week is not None:
                for key in REGISTRY:
                    for k, row in self._rows(evidence(self.m, key, self.week, None)).items():
                        self._all.setdefault(k, row)
        return self._all

    def get(self, number: int, key: str) -> dict | None:
        return self._criterion(number).get(key) or self._everything().get(key)


def _compare(e: ledger.Entry, signed: dict, current: dict, same_roster: bool, titles: dict,
             facts: Facts) -> tuple[list, list]:
    problems, notices = [], []
    new_c = {c["criterion"]: c for c in current.get("criteria", [])}
    for c in signed.get("criteria", []):
        now = new_c.get(c["criterion"], {})
        rows_now = {str(row_key(r)): r for r in now.get("rows", [])}
        for row in c.get("rows", []):
            item = str(row_key(row))
            shown = str(row.get("id", row.get("item")))
            name = f"{row.get('kind') or 'item'} {shown[:12]}" + (f" ({titles[item]})" if titles.get(item) else "")
            found = rows_now.get(item)
            if found is None:
                known = facts.get(c["criterion"], item)
                if known is None:
                    notices.append(f"{_label(e)}: {name} no longer counts for criterion {c['criterion']} (not in the "
                                   "data any more: removed at the source)")
                    continue
                found = {**row, **{k: known.get(k) for k in (*FACTS, "side")}}
                if found == row:
                    notices.append(f"{_label(e)}: {name} no longer counts for criterion {c['criterion']} "
                                   "(the configuration changed)")
                    continue
            changed = [f"{k} {row.get(k)} → {found.get(k)}" for k in FACTS if row.get(k) != found.get(k)]
            if row.get("side") != found.get("side"):
                text = f"side {row.get('side')} → {found.get('side')}"
                if same_roster:
                    changed.append(text + " with the roster unchanged")
                else:
                    notices.append(f"{_label(e)}: {name}: {text} (the roster changed since signing)")
            if changed:
                problems.append(f"{_label(e)}: evidence row {name} changed after signing: " + ", ".join(changed))
            elif row.get("person") != found.get("person"):
                notices.append(f"{_label(e)}: {name}: re-attributed to another person")
        signed_items = {str(row_key(r)) for r in c.get("rows", [])}
        added = [i for i in rows_now if i not in signed_items]
        if added:
            notices.append(f"{_label(e)}: {len(added)} evidence row(s) added to criterion {c['criterion']} since "
                           "signing (new data collected)")
    return problems, notices


def verify(engine: Engine, m: EngagementMetrics, witness: ledger.Witness | None = None) -> Report:
    """See the module docstring. `m` is computed from the same DB (metrics.service.engagement_metrics)."""
    report = Report()
    report.problems += [str(p) for p in ledger.verify_chain(engine, witness)]
    report.head = ledger.head_of(engine)
    report.rows = report.head[0]
    engagement = m.cfg.engagement.id
    rows = ledger.entries(engine, engagement=engagement, kinds=("sign", "freeze"))
    key_salt = privacy.salt(engine) if rows else b""
    roster_now = roster_digest(m.cfg)
    for e in rows:
        if e.kind == "freeze":
            report.frozen_weeks += 1
            figures = e.content.get("figures", [])
            if digest([f.get("evidence_sha256") for f in figures]) != e.content.get("evidence_sha256"):
                report.problems.append(f"ledger row {e.seq} (frozen week {e.content.get('week')}): its figures do "
                                       "not match its evidence digest")
            continue
        report.signatures += 1
        signed = e.content.get("evidence") or {}
        if digest(signed) != e.content.get("evidence_sha256"):
            report.problems.append(f"{_label(e)}: the signed evidence does not match its sha256")
            continue
        week = next((c.get("week") for c in signed.get("criteria", [])), signed.get("met_week"))
        document = document_for_week(m, str(e.content.get("milestone")), week)
        if document is None:
            report.notices.append(f"{_label(e)}: milestone {e.content.get('milestone')} is no longer configured")
            continue
        current, titles = signed_document(document, key_salt)
        same_roster = e.content.get("roster_sha256") == roster_now
        facts = Facts(m, str(e.content.get("milestone")), week, key_salt)
        problems, notices = _compare(e, signed, current, same_roster, {**titles, **e.hints.get("titles", {})},
                                     facts)
        report.problems += problems
        report.notices += notices
    other = [x for x in review_store.engagement_ids(engine) if x != engagement]
    if other and m.cfg.engagement.id_derived:
        report.notices.append(
            f"the ledger also holds rows of engagement id(s) {', '.join(other)}; this engagement file has no "
            f"[engagement].id and its name gives {engagement!r}: if it was renamed, add id = \"{other[0]}\" under "
            "[engagement] to keep its signatures and frozen weeks")
    if report.ok and witness is not None and report.head[0]:
        witness.record(*report.head)
    return report


def chain_report(engine: Engine, witness: ledger.Witness | None = None) -> list[str]:
    """The chain check alone (cheap: every page runs it for the red banner)."""
    return [str(p) for p in ledger.verify_chain(engine, witness)]


def dumps(report: Report) -> str:
    return json.dumps({"ok": report.ok, "problems": report.problems, "notices": report.notices,
                       "rows": report.rows, "head": list(report.head)}, indent=1)
