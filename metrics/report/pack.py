"""The steering pack of one week: what the weekly review page shows, as files that leave the tool.

`write_pack(engine, m, week, out_dir)` writes
- `steering-pack-week-N.html`: one self-contained file (plotly.js embedded once; charts interactive offline),
- `steering-pack-week-N.pdf`: the same page printed by the system Chromium (/usr/bin/chromium; never a
  downloaded browser) through Playwright,
- `kpi-rows-week-N.csv` (the weekly row contract up to week N), `evidence-week-N.csv` (the evidence rows of
  every KPI row and milestone criterion of week N), `milestones-week-N.csv`, and `about-week-N.csv` (key,
  value: engagement, week, frozen or not, data freshness, generated at).
Each names the engagement, the week, the data freshness and whether the week is frozen. Only computed figures,
source text and configuration names go in: never an environment variable, token or DB URL. Source text is
HTML-escaped; CSV text cells starting with = + - @ tab or CR get a leading ' (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs
from sqlalchemy.engine import Engine

from engagement.redact import csv_frame
from metrics.engagement import EngagementMetrics
from metrics.milestones import criterion_evidence, evidence_week, milestone
from metrics.registry import METRICS, Filters, weekly_metric
from metrics.review import Review, show_change, show_target, weekly_review

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 30px; margin: 0 0 4px 0; } h2 { font-size: 22px; margin: 22px 0 8px 0; }
.sub { font-size: 16px; color: #444; } .frozen { font-size: 16px; font-weight: bold; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #bbb; border-radius: 8px; padding: 10px 16px; min-width: 220px; }
.card .label { font-size: 15px; color: #444; } .card .value { font-size: 44px; font-weight: bold; }
.card .met { color: #1a7f37; } .card .notmet { color: #c62828; } .card .small { font-size: 14px; color: #444; }
table { border-collapse: collapse; font-size: 14px; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; } .chart { page-break-inside: avoid; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _table(frame: pd.DataFrame, table_id: str) -> str:
    if frame.empty:
        return f'<p id="{table_id}">None.</p>'
    frame = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, bool)).all():
            frame[col] = frame[col].map({True: "yes", False: "no"})
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
        change = show_change(c.kpi, c.change)
        events = c.internal + c.vendor + c.unattributed + c.bots
        out.append(
            f'<div class="card" data-kpi="{_e(c.kpi)}"><div class="label">{_e(c.label)}</div>'
            f'<div class="value">{_e(c.shown)}</div>'
            f'<div class="small {cls}">target {_e(show_target(c.kpi, c.target))}: {_e(status)}</div>'
            f'<div class="small">change from last week: {_e(change or "–")}</div>'
            f'<div class="small">unattributed: {c.unattributed_share:.0%} of {events} events'
            "</div></div>")
    return '<div class="cards">' + "".join(out) + "</div>"


def figures(m: EngagementMetrics, review: Review) -> list[tuple[str, object]]:
    from metrics.report.figures import ladder_figure, share_figure

    share = m.commit_share[m.commit_share["capability"].isna() & (m.commit_share["week"] <= review.week)]
    ladder = m.ladder[m.ladder["week"] <= review.week]
    out = [("chart-ladder", ladder_figure(ladder, m.cfg.engagement.start))]
    if len(share):
        out.append(("chart-share", share_figure(share, m.cfg.target("internal_commit_share"),
                                                m.cfg.engagement.start)))
    return out


def pack_html(m: EngagementMetrics, review: Review) -> str:
    charts = "".join(
        f'<div class="chart">{pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config={"displaylogo": False, "responsive": True})}</div>'  # noqa: E501
        for div_id, fig in figures(m, review))
    restated = review.restated.copy()
    frozen_section = ""
    if review.frozen:
        frozen_section = "<h2>Restated figures</h2>" + _table(restated, "restated")
    body = f"""
<h1>{_e(review.engagement)}</h1>
<p class="sub" id="week">Steering pack · week {review.week} ({_e(review.week_dates)}) · generated
{review.generated_at:%Y-%m-%d %H:%M} UTC</p>
<p class="sub" id="freshness">Data freshness (last successful collection): {_e(freshness_text(review))}</p>
<p class="frozen" id="frozen">{_e(review.frozen_label)}</p>
<h2>KPIs</h2>{_cards_html(review)}
<h2>Ladder: planned vs measured, week {review.week}</h2>{_table(review.ladder, "ladder")}
<h2>Milestones</h2>{_table(review.milestones, "milestones")}
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
    for rec in rows.to_dict("records"):
        cap = rec.get("capability")
        cap = None if cap is None or (isinstance(cap, float) and cap != cap) else cap
        runbook = rec.get("runbook") if isinstance(rec.get("runbook"), str) else None
        spec = METRICS.get(rec["kpi"]) or weekly_metric(rec["kpi"], rec["kpi"], "")
        ev = spec.evidence(m, Filters(capability=cap, runbook=runbook), week)
        frames.append(ev.assign(source=f"kpi {rec['kpi']}", capability=cap, week=week))
    for ms in m.cfg.milestones:
        w = evidence_week(m, milestone(m, ms.id), as_of=week)
        for j, c in enumerate(ms.criteria):
            ev = criterion_evidence(m, c, w)
            frames.append(ev.assign(source=f"milestone {ms.id} criterion {j + 1}", capability=c.capability, week=w))
    if not frames:
        return pd.DataFrame(columns=["source", "capability", "week", "item"])
    out = pd.concat(frames, ignore_index=True)
    first = ["source", "capability", "week"]
    return out[first + [c for c in out.columns if c not in first]]


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """A CSV whose text cells cannot run as spreadsheet formulas (OWASP: a leading ' before = + - @ tab CR)."""
    csv_frame(frame).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, encoding="utf-8")


def about(review: Review, freshness: str) -> pd.DataFrame:
    """What the pack is: engagement, week, its dates, frozen or not, data freshness, when generated."""
    frozen = review.frozen
    return pd.DataFrame({"key": ["engagement", "week", "week_dates", "frozen", "frozen_status", "data_freshness",
                                 "generated_at"],
                         "value": [review.engagement, review.week, review.week_dates, "yes" if frozen else "no",
                                   review.frozen_label, freshness, f"{review.generated_at:%Y-%m-%d %H:%M} UTC"]})


def print_pdf(html_path: Path, pdf_path: Path, charts: int) -> None:
    """Print the HTML with the system Chromium once its charts have drawn."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: the PDF is printed by the system Chromium (never downloaded)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.goto(html_path.resolve().as_uri())
            page.wait_for_function("(n) => document.querySelectorAll('.main-svg').length >= n", arg=charts,
                                   timeout=30_000)
            page.pdf(path=str(pdf_path), format="A4", landscape=True, print_background=True,
                     margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()


def write_pack(engine: Engine, m: EngagementMetrics, week: int, out_dir, pdf: bool = True) -> list[Path]:
    """Write the HTML, PDF and CSVs of week `week` into out_dir; returns their paths."""
    from metrics.__main__ import weekly_records

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    review = weekly_review(engine, m, week)
    fresh = freshness_text(review)
    html_path = out / f"steering-pack-week-{week}.html"
    html_path.write_text(pack_html(m, review), encoding="utf-8")
    paths = [html_path]
    if pdf:
        pdf_path = out / f"steering-pack-week-{week}.pdf"
        print_pdf(html_path, pdf_path, charts=len(figures(m, review)))
        paths.append(pdf_path)
    kpis = m.weekly[m.weekly["week"] <= week]
    records = pd.DataFrame(weekly_records(kpis), columns=list(kpis.columns))
    for name, frame in ((f"about-week-{week}.csv", about(review, fresh)), (f"kpi-rows-week-{week}.csv", records),
                        (f"evidence-week-{week}.csv", evidence_rows(m, week)),
                        (f"milestones-week-{week}.csv", review.milestones)):
        _csv(frame, out / name)
        paths.append(out / name)
    return paths
