"""The steering pack: HTML (parsed), CSVs (parsed), PDF (first page rendered with pdftoppm) of a demo week,
with a token in the environment that must not appear anywhere in it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from collectors.demo import build as demo
from db.engine import make_engine
from metrics.acceptance import Signer, sign
from metrics.engagement_file import load_engagement
from metrics.review import kpi_cards, ladder_week, milestone_board, stage_name
from metrics.service import engagement_metrics
from tests.support.cli import metrics_cli
from tests.support.demo_template import copy_demo

TOKEN = "ghp_PackMustNeverContainThis0123456789"
WEEK = 5


class PackParser(HTMLParser):
    """Tables by id (rows of cell texts), cards by data-kpi (their texts), scripts (sources and bodies), ids' text."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.cards: dict[str, list[str]] = {}
        self.scripts: list[tuple[str | None, int]] = []
        self.texts: dict[str, str] = {}
        self._table = self._card = self._id = None
        self._cell: list[str] | None = None
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "div" and "data-kpi" in a:
            self._card = a["data-kpi"]
            self.cards[self._card] = []
        elif tag == "script":
            self._script = [a.get("src"), 0]
        elif tag == "p" and a.get("id"):
            self._id = a["id"]
            self.texts[self._id] = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script" and self._script:
            self.scripts.append(tuple(self._script))
            self._script = None
        elif tag == "p":
            self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._card and data.strip() and self._table is None:
            self.cards[self._card].append(data.strip())
        if self._script:
            self._script[1] += len(data)
        if self._id:
            self.texts[self._id] += data


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """The demo collected, M1 signed by two keys, week 5 frozen, then the pack written by the CLI with a token set."""
    out = tmp_path_factory.mktemp("pack-demo")
    toml = copy_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    cfg = load_engagement(toml)
    engine = make_engine(url)
    m = engagement_metrics(cfg, engine)
    sign(engine, m, "M1", Signer("Ines Ortiz"), "ours")
    sign(engine, m, "M1", Signer("Marco Bianchi"), "agreed")
    env = {"GITHUB_TOKEN": TOKEN, "JIRA_TOKEN": TOKEN, "BATON_DB_URL": url}  # `python -m metrics`, in this process
    frz = metrics_cli("freeze", "--config", str(toml), "--week", str(WEEK), "--by", "Ines Ortiz", env=env)
    assert frz.returncode == 0, frz.stderr
    folder = out / "pack"
    run = metrics_cli("pack", "--config", str(toml), "--week", str(WEEK), "--out", str(folder), env=env)
    assert run.returncode == 0, run.stderr
    m = engagement_metrics(cfg, engine)
    return {"dir": folder, "m": m, "engine": engine, "cfg": cfg, "stdout": run.stdout}


def parsed(pack) -> PackParser:
    parser = PackParser()
    parser.feed((pack["dir"] / f"steering-pack-week-{WEEK}.html").read_text(encoding="utf-8"))
    return parser


def read_csv(pack, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO((pack["dir"] / name).read_text(encoding="utf-8"))))


def test_pack_writes_html_pdf_and_csvs(pack):
    names = sorted(p.name for p in pack["dir"].iterdir())
    assert names == [f"about-week-{WEEK}.csv", f"evidence-week-{WEEK}.csv", f"kpi-rows-week-{WEEK}.csv",
                     f"milestones-week-{WEEK}.csv", f"readiness-week-{WEEK}.csv", f"steering-pack-week-{WEEK}.html",
                     f"steering-pack-week-{WEEK}.pdf"]
    assert sorted(Path(line).name for line in pack["stdout"].split()) == names


def test_html_is_self_contained_with_one_plotly_copy(pack):
    text = (pack["dir"] / f"steering-pack-week-{WEEK}.html").read_text(encoding="utf-8")
    p = parsed(pack)
    assert all(src is None for src, _ in p.scripts), "no script may load from the network"
    assert text.count("* plotly.js v") == 1  # the library's banner: embedded exactly once
    big = [n for src, n in p.scripts if n > 1_000_000]
    assert len(big) == 1
    # the ladder, then one chart per KPI card with a value by week 5 (its spec's kind)
    cards = kpi_cards(pack["m"], WEEK)
    overall = pack["m"].weekly[pack["m"].weekly["capability"].isna() & (pack["m"].weekly["week"] <= WEEK)]
    charted = [k for k in cards["kpi"] if overall.loc[overall["kpi"] == k, "value"].notna().any()]
    assert "internal_commit_share" in charted
    assert text.count("Plotly.newPlot(") == 1 + len(charted)
    assert all(f'id="chart-{k}"' in text for k in charted)
    assert "<link" not in text and "<script src" not in text  # nothing fetched when the file opens


def test_html_names_engagement_week_freshness_and_frozen(pack):
    p = parsed(pack)
    assert f"week {WEEK} (Oct 5 – Oct 11, 2026)" in p.texts["week"]
    assert "git fraud-model: 20" in p.texts["freshness"]
    assert p.texts["frozen"].startswith(f"Week {WEEK} frozen on ") and "by Ines Ortiz (unverified)" in p.texts["frozen"]
    assert "no figure restated since" in p.texts["frozen"]
    assert demo.DEMO_NAME in (pack["dir"] / f"steering-pack-week-{WEEK}.html").read_text(encoding="utf-8")


def test_html_shows_what_the_page_shows(pack):
    p = parsed(pack)
    cards = kpi_cards(pack["m"], WEEK).set_index("kpi")
    week5 = demo.INTENDED_WEEKLY_COMMITS[WEEK]
    share = week5["internal"] / (week5["internal"] + week5["vendor"])
    assert cards.loc["internal_commit_share", "shown"] == f"{share:.0%}"
    card = p.cards["internal_commit_share"]
    assert card[:2] == ["Internal commit share", f"{share:.0%}"]
    assert "target ≥ 50%: met" in card
    ladder = p.tables["ladder"]
    assert ladder[0] == ["Capability", "Planned stage", "Measured stage", "Behind plan", "Internal items",
                         "Vendor items", "Unattributed items", "Bot items"]
    expected = ladder_week(pack["m"], WEEK)
    assert [r[:3] for r in ladder[1:]] == [[c, pl, me] for c, pl, me in
                                          zip(expected["capability"], expected["planned"], expected["measured"],
                                              strict=True)]
    assert [r[2] for r in ladder[1:]] == [stage_name(demo.INTENDED_STAGES[c][WEEK]) for c in demo.CAPABILITIES]
    milestones = {r[0]: r for r in p.tables["milestones"][1:]}
    header = p.tables["milestones"][0]
    assert {k: v[header.index("State")] for k, v in milestones.items()} == {
        ms: states[WEEK - 1] for ms, states in demo.INTENDED_MILESTONE_STATES.items()}
    assert milestones["M1"][header.index("Accepted (two keys)")] == "yes"
    board = milestone_board(pack["engine"], pack["m"], WEEK)
    assert board["accepted"].tolist() == [True, False, False]


def test_csvs_hold_the_kpi_rows_evidence_and_milestones(pack):
    about = {r["key"]: r["value"] for r in read_csv(pack, f"about-week-{WEEK}.csv")}
    assert about["engagement"] == demo.DEMO_NAME and about["week"] == str(WEEK) and about["frozen"] == "yes"
    assert about["data_freshness"].startswith("git fraud-model: ")
    rows = read_csv(pack, f"kpi-rows-week-{WEEK}.csv")
    m = pack["m"]
    assert len(rows) == int((m.weekly["week"] <= WEEK).sum())
    week5 = next(r for r in rows if r["kpi"] == "internal_commit_share" and r["week"] == str(WEEK)
                 and r["capability"] == "")
    assert int(week5["internal"]) == demo.INTENDED_WEEKLY_COMMITS[WEEK]["internal"]
    evidence = read_csv(pack, f"evidence-week-{WEEK}.csv")
    overall = [r for r in evidence if r["source"] == "kpi internal_commit_share" and r["capability"] == ""]
    counts = demo.INTENDED_WEEKLY_COMMITS[WEEK]
    assert len(overall) == sum(counts.values())
    m1 = [r for r in evidence if r["source"] == "milestone M1 criterion 1"]
    assert len(m1) == demo.INTENDED_COUNTS["data"][3][0] and {r["week"] for r in m1} == {"3"}
    states = {r["milestone"]: r["state"] for r in read_csv(pack, f"milestones-week-{WEEK}.csv")}
    assert states == {ms: s[WEEK - 1] for ms, s in demo.INTENDED_MILESTONE_STATES.items()}


def test_no_token_anywhere_in_the_pack(pack):
    for path in pack["dir"].iterdir():
        data = path.read_bytes()
        assert TOKEN.encode() not in data, path.name
        assert b"GITHUB_TOKEN" not in data or path.suffix == ".pdf", path.name


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_first_page_renders_and_is_not_blank(pack, tmp_path):
    from PIL import Image

    pdf = pack["dir"] / f"steering-pack-week-{WEEK}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert image.width > image.height  # landscape A4
    assert dark / (image.width * image.height) > 0.01, "the first page is (nearly) blank"
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True)
    if text.returncode == 0:
        assert demo.DEMO_NAME in text.stdout and f"week {WEEK}" in text.stdout


def _visible_text(html_text: str) -> str:
    """The pack's text as a reader sees it: scripts and tags removed."""
    import re

    no_scripts = re.sub(r"<script.*?</script>", " ", html_text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", no_scripts)


def test_no_value_is_a_percentage_over_100_and_counts_have_their_unit(pack):
    """Issue 10: evaluation coverage (a test count) was shown as '2300%'. Every value is formatted from its spec."""
    import re

    text = _visible_text((pack["dir"] / f"steering-pack-week-{WEEK}.html").read_text(encoding="utf-8"))
    percentages = [float(v) for v in re.findall(r"(\d+(?:\.\d+)?)\s*%", text)]
    assert percentages and max(percentages) <= 100
    p = parsed(pack)
    coverage = p.cards["eval_coverage"]
    assert coverage[0] == "Evaluation coverage" and re.fullmatch(r"\d+ tests", coverage[1]), coverage
    assert "no target set" in coverage
    rows = read_csv(pack, f"kpi-rows-week-{WEEK}.csv")
    assert {(r["kpi"], r["unit"]) for r in rows} >= {("eval_coverage", "count"), ("ladder_stage", "stage"),
                                                     ("internal_commit_share", "share")}
    assert all("." not in r["value"] for r in rows if r["kpi"] == "ladder_stage")  # stages are whole numbers


def test_charts_leave_room_for_labels(pack):
    """Long capability names and percentage ticks are not clipped: margins fit them."""
    from metrics.report.pack import figures
    from metrics.review import weekly_review

    charts = dict(figures(pack["m"], weekly_review(pack["engine"], pack["m"], WEEK)))
    ladder = charts["chart-ladder"]
    longest = max(len(c) for c in pack["cfg"].capability_keys)
    assert ladder.layout.margin.l >= 8 * longest and ladder.layout.yaxis.automargin
    share = charts["chart-internal_commit_share"]
    assert share.layout.yaxis.automargin and share.layout.margin.l >= 60
    assert share.layout.yaxis.title.text == "Internal commit share"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_keeps_headings_with_their_content(pack):
    """No page of the PDF ends with a section heading (issue 10: the 'Milestones' heading was orphaned)."""
    pdf = pack["dir"] / f"steering-pack-week-{WEEK}.pdf"
    headings = {"KPIs", "Milestones", "Signatures", "Drills and incidents", "Charts", "Restated figures",
                f"Ladder: planned vs measured, week {WEEK}"}
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        last = [line.strip() for line in page.splitlines() if line.strip()][-1]
        assert last not in headings, f"page {number} ends with the heading {last!r}"
    assert all(any(h in p for p in pages) for h in headings)
