"""The steering pack of one week: what the weekly review page shows, as files that leave the tool.

`write_pack(engine, m, week, out_dir)` writes
- `steering-pack-week-N.html`: one self-contained file (plotly.js embedded once; charts interactive offline),
- `steering-pack-week-N.pdf`: the same page printed by the system Chromium (/usr/bin/chromium; never a
  downloaded browser) through Playwright,
- `kpi-rows-week-N.csv` (the weekly row contract up to week N, with its `unit` column), `evidence-week-N.csv`
  (the evidence rows of every KPI row and milestone criterion of week N), `milestones-week-N.csv`, and
  `about-week-N.csv` (key, value: engagement, week, frozen or not, data freshness, generated at).
Values are formatted from each KPI's spec (metrics.kpis), never guessed from a key. Nothing is clipped: the
ladder's left margin fits the longest capability name, charts get axis margins, headings stay with what follows
them on a printed page. Only computed figures, source text and configuration names go in: never an environment
variable, token or DB URL. Source text is HTML-escaped; CSV text cells are neutralised.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs
from sqlalchemy.engine import Engine

from metrics.engagement import EngagementMetrics
from metrics.kpis import REGISTRY, target
from metrics.milestones import criterion_evidence, evidence_week, milestone
from metrics.report.cells import csv_safe
from metrics.report.pdf import CHROMIUM, CHROMIUM_ARGS, PdfPrinter, print_pdf  # noqa: F401 - the pack's printer
from metrics.review import (
    DRILL_LABELS,
    LADDER_LABELS,
    MILESTONE_LABELS,
    Review,
    milestone_state_text,
    weekly_review,
)
from metrics.service import evidence

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 30px; margin: 0 0 4px 0; } h2 { font-size: 22px; margin: 22px 0 8px 0; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
section { break-inside: avoid; page-break-inside: avoid; }
section.long { break-inside: auto; page-break-inside: auto; }
.sub { font-size: 16px; color: #444; } .frozen { font-size: 16px; font-weight: bold; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #bbb; border-radius: 8px; padding: 10px 16px; min-width: 220px; break-inside: avoid; }
.card .label { font-size: 15px; color: #444; } .card .value { font-size: 40px; font-weight: bold; }
.card .met { color: #1a7f37; } .card .notmet { color: #c62828; } .card .small { font-size: 14px; color: #444; }
.card .restated { color: #b26a00; font-weight: bold; }
table { border-collapse: collapse; font-size: 14px; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; } tr { break-inside: avoid; } .chart { break-inside: avoid; page-break-inside: avoid; }
code { font-size: 13px; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _table(frame: pd.DataFrame, table_id: str, labels: dict[str, str] | None = None) -> str:
    if frame.empty:
        return f'<p id="{table_id}">None.</p>'
    frame = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, bool)).all():
            frame[col] = frame[col].map({True: "yes", False: "no"})
        else:
            frame[col] = [("–" if v is None else v) for v in frame[col]]
    if labels:
        frame = frame.rename(columns=labels)
    return frame.to_html(index=False, escape=True, na_rep="–", table_id=table_id, border=0)


def freshness_text(review: Review) -> str:
    f = review.freshness
    if f.empty:
        return "no source collected yet"
    parts = []
    for row in f.itertuples():
        when = "never collected" if pd.isna(row.last_success) else f"{row.last_success:%Y-%m-%d %H:%M} UTC"
        parts.append(f"{row.kind} {row.source}: {when}")
    return "; ".join(parts)


def _cards_html(review: Review) -> str:
    out = []
    for c in review.cards.itertuples():
        status = c.target_status
        cls = "met" if status == "met" else "notmet" if status == "not met" else ""
        events = c.internal + c.vendor + c.unattributed + c.bots
        restated = (f'<div class="small restated">restated: recomputed now {_e(c.recomputed_shown)}</div>'
                    if c.restated else "")
        target_line = ('<div class="small">no target set</div>' if status == "no target" else
                       f'<div class="small {cls}">target {_e(c.target_shown)}: {_e(status)}</div>')
        unattributed = (f'<div class="small">unattributed: {c.unattributed_share:.0%} of {events} events</div>'
                        if events else "")
        out.append(
            f'<div class="card" data-kpi="{_e(c.kpi)}"><div class="label">{_e(c.label)}</div>'
            f'<div class="value">{_e(c.shown)}</div>{restated}{target_line}'
            f'<div class="small">change from last week: {_e(c.change_shown or "–")}</div>{unattributed}</div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _signatures_html(review: Review) -> str:
    sigs = review.signatures
    if sigs.empty:
        return '<p id="signatures">No standing signature.</p>'
    rows = "".join(
        f"<tr><td>{_e(s.milestone)}</td><td>{_e(s.signer)}</td><td>{_e(s.side)}"
        f"{'' if s.verified else ' (unverified)'}</td><td>{pd.Timestamp(s.signed_at):%Y-%m-%d %H:%M} UTC</td>"
        f"<td>{_e(s.met_week)}</td><td><code title=\"{_e(s.digest)}\">{_e(s.digest_short)}…</code></td>"
        f"<td>{_e(s.comment)}</td></tr>" for s in sigs.itertuples())
    return ('<table id="signatures"><thead><tr><th>Milestone</th><th>Signer</th><th>Side</th><th>Signed</th>'
            "<th>Evidence of week</th><th>Evidence sha256</th><th>Comment</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _readiness_html(review: Review) -> str:
    """Handover readiness (SPEC §10): the vendor-exit board, the operations not covered with the last vendor who did
    them, planned vs actual RACI (metrics/readiness.py), as on the Readiness page."""
    from metrics.readiness import BOARD_LABELS, RACI_LABELS, UNCOVERED_LABELS

    if review.readiness.empty:
        return ""
    board = review.readiness.astype(object)
    for col in ("exit_readiness", "line_share"):
        board[col] = [None if pd.isna(v) else f"{float(v):.0%}" for v in review.readiness[col]]
    raci = (f'<h3>RACI: planned vs actual</h3>{_table(review.raci, "raci", RACI_LABELS)}'
            if len(review.raci) else "")
    return (f'<section><h2>Handover readiness: if the vendor left now, week {review.week}</h2>'
            f'{_table(board, "readiness", BOARD_LABELS)}'
            f'<h3>Not covered: operations too few internal people did lately</h3>'
            f'{_table(review.uncovered, "uncovered", UNCOVERED_LABELS)}{raci}</section>')


def figures(m: EngagementMetrics, review: Review) -> list[tuple[str, object]]:
    """The ladder, then each card KPI's chart (its spec's kind), up to the review's week."""
    from metrics.report.figures import kpi_figure, ladder_figure

    start = m.cfg.engagement.start
    out = [("chart-ladder", ladder_figure(m.ladder[m.ladder["week"] <= review.week], start))]
    overall = m.weekly[m.weekly["capability"].isna() & (m.weekly["week"] <= review.week)]
    for key in review.cards["kpi"]:
        rows = overall[overall["kpi"] == key]
        if rows["value"].notna().any():
            out.append((f"chart-{key}", kpi_figure(REGISTRY[key], rows, target(m.cfg, key), start)))
    return out


def pack_html(m: EngagementMetrics, review: Review, charts: list[tuple[str, object]] | None = None) -> str:
    config = {"displaylogo": False, "responsive": True}
    charts = "".join(
        f'<div class="chart">{pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=config)}'
        "</div>" for div_id, fig in (figures(m, review) if charts is None else charts))
    board = review.milestones.assign(state=[milestone_state_text(s, late) for s, late in
                                            zip(review.milestones["state"], review.milestones["late"], strict=True)])
    frozen_section = ""
    if review.frozen:
        frozen_section = f'<section><h2>Restated figures</h2>{_table(review.restated, "restated")}</section>'
    drills = review.drills.drop(columns=["url"])
    body_readiness = _readiness_html(review)
    body = f"""
<h1>{_e(review.engagement)}</h1>
<p class="sub" id="week">Steering pack · week {review.week} ({_e(review.week_dates)}) · generated
{review.generated_at:%Y-%m-%d %H:%M} UTC</p>
<p class="sub" id="freshness">Data freshness (last successful collection): {_e(freshness_text(review))}</p>
<p class="frozen" id="frozen">{_e(review.frozen_label)}</p>
<section class="long"><h2>KPIs</h2>{_cards_html(review)}</section>
<section><h2>Ladder: planned vs measured, week {review.week}</h2>{_table(review.ladder, "ladder", LADDER_LABELS)}
</section>
{body_readiness}
<section><h2>Milestones</h2>{_table(board, "milestones", MILESTONE_LABELS)}</section>
<section><h2>Signatures</h2>{_signatures_html(review)}</section>
<section><h2>Drills and incidents</h2>{_table(drills, "drills", DRILL_LABELS)}</section>
{frozen_section}
<h2>Charts</h2>{charts}
"""
    title = f"Steering pack — {review.engagement} — week {review.week}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>{body}</body></html>\n")


def evidence_rows(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """Evidence of every KPI row of the week (kpi, capability) and of every milestone criterion."""
    frames = []
    rows = m.weekly[m.weekly["week"] == week]
    for kpi, cap in zip(rows["kpi"], rows["capability"], strict=True):
        cap = cap if isinstance(cap, str) else None
        ev = evidence(m, kpi, week, cap)
        if len(ev):
            frames.append(ev.assign(source=f"kpi {kpi}", capability=cap, week=week))
    for ms in m.cfg.milestones:
        w = evidence_week(m, milestone(m, ms.id), as_of=week)
        for j, c in enumerate(ms.criteria):
            ev = criterion_evidence(m, c, w)
            if len(ev):
                frames.append(ev.assign(source=f"milestone {ms.id} criterion {j + 1}", capability=c.capability,
                                        week=w))
    if not frames:
        return pd.DataFrame(columns=["source", "capability", "week", "kind", "id"])
    out = pd.concat(frames, ignore_index=True)
    first = ["source", "capability", "week"]
    return out[first + [c for c in out.columns if c not in first]]


def _records_frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    """Records as a frame of object columns, so whole numbers stay whole ("4", not "4.0") in the CSV."""
    return pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns})


def _csv(frame: pd.DataFrame, path: Path) -> None:
    csv_safe(frame).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, encoding="utf-8")


def about(review: Review, freshness: str) -> pd.DataFrame:
    """What the pack is: engagement, week, its dates, frozen or not, data freshness, when generated."""
    frozen = review.frozen
    return pd.DataFrame({"key": ["engagement", "week", "week_dates", "frozen", "frozen_status", "data_freshness",
                                 "generated_at"],
                         "value": [review.engagement, review.week, review.week_dates, "yes" if frozen else "no",
                                   review.frozen_label, freshness, f"{review.generated_at:%Y-%m-%d %H:%M} UTC"]})


def write_pack(engine: Engine, m: EngagementMetrics, week: int, out_dir, pdf: bool = True,
               printer: PdfPrinter | None = None) -> list[Path]:
    """Write the HTML, PDF and CSVs of week `week` into out_dir; returns their paths. A `printer` already started
    (the CLI starts it before computing the metrics) prints the PDF; else one is started here when `pdf`."""
    from metrics.__main__ import weekly_records

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if printer is None and pdf:
        printer = PdfPrinter()
        printer.start()  # the browser starts while the figures and the HTML are computed
    try:
        review = weekly_review(engine, m, week)
        fresh = freshness_text(review)
        html_path = out / f"steering-pack-week-{week}.html"
        charts = figures(m, review)
        html_path.write_text(pack_html(m, review, charts), encoding="utf-8")
    except BaseException:
        if printer is not None:
            printer.cancel()
        raise
    paths = [html_path]
    if printer is not None:
        pdf_path = out / f"steering-pack-week-{week}.pdf"
        printer.print(html_path, pdf_path, charts=len(charts))
    kpis = m.weekly[m.weekly["week"] <= week]
    records = _records_frame(weekly_records(kpis), list(kpis.columns))
    csvs = []
    for name, frame in ((f"about-week-{week}.csv", about(review, fresh)), (f"kpi-rows-week-{week}.csv", records),
                        (f"evidence-week-{week}.csv", evidence_rows(m, week)),
                        (f"milestones-week-{week}.csv", review.milestones),
                        (f"readiness-week-{week}.csv", review.readiness)):
        _csv(frame, out / name)
        csvs.append(out / name)
    if printer is not None:
        printer.result()
        paths.append(pdf_path)
    return paths + csvs
