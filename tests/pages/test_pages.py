"""The Streamlit pages, run headless with AppTest on the demo engagement and on an empty database.

The engagement file and the DB reach app.py through BATON_CONFIG / BATON_DB_URL (AppTest secrets do not
reach everything the app reads). Expected figures come from metrics.compute on the same DB.
"""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from collectors.__main__ import main as collectors_main
from collectors.demo.build import BEHIND_PLAN, DEMO_NAME
from db.engine import make_engine
from db.queries import load_source_frames
from engagement.weeks import week_label
from metrics.engagement import SourceData, compute
from metrics.engagement_file import load_engagement
from metrics.kpis import REGISTRY, target
from metrics.people import roster_table
from metrics.report.figures import ladder_figure, share_figure, sides_timeline
from metrics.service import evidence
from tests.support.demo_template import copy_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo engagement collected into a SQLite DB, and the metrics computed from it."""
    out = tmp_path_factory.mktemp("demo")
    toml = copy_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    cfg = load_engagement(toml)
    metrics = compute(cfg, SourceData(**load_source_frames(make_engine(url))))
    return {"toml": toml, "url": url, "cfg": cfg, "metrics": metrics, "dir": out}


@pytest.fixture(scope="module")
def empty_url(tmp_path_factory):
    """A freshly migrated database without a single row."""
    url = f"sqlite:///{tmp_path_factory.mktemp('empty') / 'baton.db'}"
    make_engine(url).dispose()
    return url


# AppTest exposes no key for a dataframe without selection: each table is found by a column only it has.
TABLE_COLUMNS = {"evidence": "counted", "behind": "planned", "roster": "identities", "unattributed": "suggestion",
                 "runs": "items_seen", "cursors": "stream", "configured": "credentials from"}


def tables(at: AppTest, key: str) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if TABLE_COLUMNS[key] in d.value.columns]


def frame(at: AppTest, key: str) -> pd.DataFrame:
    matches = tables(at, key)
    assert len(matches) == 1, f"{len(matches)} {key} tables; columns: {[list(d.value.columns) for d in at.dataframe]}"
    return matches[0]


# --- Overview -------------------------------------------------------------------------------------------------


def test_overview_is_a_scorecard_of_every_kpi_against_its_target(app, demo):
    """Every registered KPI with rows gets a card (value with its unit, change from last week, target status, a link
    to its detail page); the side counts behind a value are on that page (test_repository_filter_...)."""
    m = demo["metrics"]
    week = m.latest_week()
    row = m.kpi_row("internal_commit_share", week)
    prev = m.kpi_row("internal_commit_share", week - 1)
    at = app(demo["toml"], demo["url"])

    assert at.title[0].value == DEMO_NAME
    metrics = {x.label: x for x in at.metric}
    expected = {REGISTRY[k].label for k in m.weekly.loc[m.weekly["capability"].isna(), "kpi"].unique()
                if REGISTRY[k].unit != "stage"}
    assert {label.split(" (week")[0] for label in metrics} == expected
    share = metrics["Internal commit share"]
    assert share.value == f"{row['value']:.0%}"
    assert share.delta == f"{(row['value'] - prev['value']) * 100:+.1f} pp"
    goal = target(demo["cfg"], "internal_commit_share")
    status = ":green[met]" if row["value"] >= goal else ":red[not met]"
    assert any(f"Target ≥ {goal:.0%}: **{status}**" in x.value for x in at.markdown)
    assert any(week_label(week, demo["cfg"].engagement.start) in c.value for c in at.caption)
    assert not at.warning  # the demo's latest week has no unattributed commit


def test_overview_warns_about_unattributed_commits(app, demo, tmp_path):
    """Dropping Ivan Kowalski from the roster leaves his commits (only ever from a GitHub noreply address, which
    no email domain covers) unattributed: the latest week's unattributed share passes 5%."""
    toml = demo["toml"].read_text()
    edited = demo["dir"] / "no_ivan.toml"
    start = toml.index('[[people]]\nname = "Ivan Kowalski"')
    end = toml.index("[[people]]", start + 1)
    edited.write_text(toml[:start] + toml[end:])
    cfg = load_engagement(edited)
    m = compute(cfg, SourceData(**load_source_frames(make_engine(demo["url"]))))
    week = m.latest_week()
    assert m.unattributed_share(week) > 0.05, "the edited roster should leave some commits unattributed"
    at = app(edited, demo["url"])
    assert at.warning, "expected the unattributed warning"
    assert "unattributed" in at.warning[0].value and f"week {week}" in at.warning[0].value


def test_overview_on_empty_db_says_how_to_collect(app, demo, empty_url):
    at = app(demo["toml"], empty_url)
    assert "No data yet" in at.info[0].value
    command = at.code[0].value
    assert command.startswith(f"python -m collectors collect --config {demo['toml']}")
    assert "--db" in command and empty_url in command
    assert not at.metric


# --- Ladder ---------------------------------------------------------------------------------------------------


def test_ladder_evidence_follows_the_selected_cell(app, demo):
    m = demo["metrics"]
    at = app(demo["toml"], demo["url"], "pages/ladder.py")
    assert at.title[0].value == "Ladder"
    cap, week = at.selectbox(key="capability"), at.selectbox(key="week")
    assert (cap.value, week.value) == (demo["cfg"].capability_keys[0], m.latest_week())
    expected = evidence(m, "ladder_stage", week.value, cap.value)
    assert list(frame(at, "evidence")["id"]) == list(expected["id"])

    cap.set_value("training")
    week.set_value(4)
    at.run()
    assert not at.exception
    expected = evidence(m, "ladder_stage", 4, "training")
    shown = frame(at, "evidence")
    # training, week 4 of the self-contained demo: 6 commits, PR #9 (Ivan) and its 2 approving reviews
    assert len(shown) == len(expected) == 9
    assert list(shown["id"]) == list(expected["id"])
    assert shown["kind"].value_counts().to_dict() == {"commit": 6, "review": 2, "pr": 1}
    assert set(shown["side"]) == {"internal", "vendor"}
    assert any("Evidence: training, week 4" in h.value for h in at.subheader)


def test_ladder_lists_behind_plan_cells(app, demo):
    at = app(demo["toml"], demo["url"], "pages/ladder.py")
    behind = frame(at, "behind")
    assert set(zip(behind["capability"], behind["week"], strict=True)) == BEHIND_PLAN


def test_ladder_on_empty_db_shows_the_plan(app, demo, empty_url):
    at = app(demo["toml"], empty_url, "pages/ladder.py")
    assert "No activity collected yet" in at.info[0].value
    assert any("No activity touches" in i.value for i in at.info)
    assert any("No cell is behind plan" in s.value for s in at.success)


# --- People ---------------------------------------------------------------------------------------------------


def test_people_lists_roster_and_unattributed_identity(app, demo):
    at = app(demo["toml"], demo["url"], "pages/people.py")
    roster = frame(at, "roster")
    assert (roster["person"] == "Tom Becker").sum() == 2  # vendor until the hire date, internal from it
    assert set(roster.loc[roster["person"] == "Tom Becker", "side"]) == {"vendor", "internal"}
    unattributed = frame(at, "unattributed")
    alex = unattributed[unattributed["email"] == "alex.chen.dev@gmail.com"]
    assert len(alex) == 1 and int(alex["events"].iloc[0]) == 2
    assert any("never merged automatically" in c.value for c in at.caption)


def test_people_on_empty_db(app, demo, empty_url):
    at = app(demo["toml"], empty_url, "pages/people.py")
    assert len(frame(at, "roster")) == len(roster_table(demo["cfg"]))
    assert "No commits collected yet" in at.info[0].value


# --- Sources --------------------------------------------------------------------------------------------------


def test_sources_shows_runs_cursors_and_configured_sources(app, demo):
    at = app(demo["toml"], demo["url"], "pages/sources.py")
    runs = frame(at, "runs")
    assert list(runs["status"]) == ["success"] * 4  # newest first: the demo's MLflow, Jira tickets, GitHub, git
    assert list(runs["kind"]) == ["mlflow", "jira", "github", "git"]
    git_run = runs[runs["kind"] == "git"]
    # the git run reads the commits, then the evaluation tests and the surviving lines at the week ends (blame)
    assert int(git_run["items_seen"].iloc[0]) == len(demo["metrics"].commits)
    cursors = frame(at, "cursors")
    assert sorted(zip(cursors["source"], cursors["stream"], strict=True)) == [
        ("client/fraud-model", "pulls"), ("client/fraud-model", "repo"), ("client/fraud-model", "runs"),
        ("fraud-model", "blame"), ("fraud-model", "commits"), ("fraud-model", "eval_tests"),
        ("fraud-model Jira", "issues"), ("mlflow", "registry"), ("mlflow", "runs"), ("mlflow", "runs:4")]
    configured = frame(at, "configured")
    assert list(configured["kind"]) == ["git", "github", "jira", "mlflow"]
    assert configured["location"].iloc[0] == str(demo["dir"] / "fraud-model")


def test_sources_on_empty_db(app, demo, empty_url):
    at = app(demo["toml"], empty_url, "pages/sources.py")
    assert "No collection has run" in at.info[0].value
    assert "No cursors yet" in at.info[1].value


def test_repository_filter_recomputes_the_kpis(app, demo, git_repo, tmp_path):
    """With two repositories the sidebar offers a filter; choosing one computes every KPI from it alone."""
    for i in range(3):
        git_repo.commit(f"feature {i}", {f"data/extra_{i}.py": "x = 1\n"}, author="Ines Ortiz <ines.ortiz@client.com>",
                        date=f"2026-10-27T1{i}:00:00+01:00")
    toml = tmp_path / "two.toml"
    toml.write_text(demo["toml"].read_text().replace('path = "fraud-model"', f'path = "{demo["dir"] / "fraud-model"}"')
                    .replace('replay = "recordings"', f'replay = "{demo["dir"] / "recordings"}"')
                    + f'\n[[sources.git]]\npath = "{git_repo.path}"\nname = "extras"\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    at = app(toml, url)
    repos = at.multiselect(key="repos")
    assert set(repos.options) == {"fraud-model", "extras", "fraud-model Jira", "client/fraud-model", "mlflow"}
    assert at.metric[0].label == "Internal commit share"
    assert any("Scorecard of week 8" in c.value for c in at.caption)
    assert at.metric[0].value == f"{(18 + 3) / (18 + 3 + 3):.0%}"  # the demo's week 8 plus three internal commits
    repos.set_value(["extras"]).run()
    assert not at.exception
    counts = {m.label: m.value for m in at.metric}
    assert counts["Internal commit share"] == "100%"
    assert any("Repositories: extras" in c.value for c in at.caption)
    at.switch_page("pages/delivery.py").run()  # the counts behind the value, on its detail page, still filtered
    assert not at.exception
    assert any(x.value.startswith("**Week 8: 100%** · internal 3, vendor 0") for x in at.markdown)


# --- Configuration problems and caching -----------------------------------------------------------------------


def test_missing_config_explains_how_to_pass_it(app):
    at = app(None, None)
    assert "No engagement file" in at.error[0].value
    assert any("BATON_CONFIG=" in c.value for c in at.code)


def test_config_error_lines_are_shown(app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[engagement]\nname = "X"\nstart = "next week"\ncolour = "blue"\n')
    at = app(bad, f"sqlite:///{tmp_path / 'baton.db'}")
    text = at.error[0].value
    assert "bad.toml: engagement.start: expected a date like 2026-09-07" in text
    assert "engagement.colour: unknown key" in text
    assert not at.title or at.title[0].value == "Baton"


def test_editing_the_roster_reattributes_without_a_new_collection(app, demo):
    """The cache is keyed by the engagement file's version too: adding Alex Chen to the roster attributes
    his commits on the next rerun, with no new collection run."""
    copy = demo["dir"] / "edited.toml"
    shutil.copy(demo["toml"], copy)
    at = app(copy, demo["url"], "pages/people.py")
    assert "alex.chen.dev@gmail.com" in set(frame(at, "unattributed")["email"])
    copy.write_text(copy.read_text() + "\n[[people]]\nname = \"Alex Chen\"\n"
                    "emails = [\"alex.chen.dev@gmail.com\"]\naffiliations = [{ side = \"internal\" }]\n")
    at.run()
    assert not at.exception
    assert not tables(at, "unattributed")
    assert any("Every commit is attributed" in s.value for s in at.success)


# --- Figures (pure) -------------------------------------------------------------------------------------------


def test_ladder_figure_marks_behind_plan_cells_and_blank_weeks(demo):
    m, start = demo["metrics"], demo["cfg"].engagement.start
    fig = ladder_figure(m.ladder, start, selected=("training", 4))
    heat = fig.data[0]
    caps = list(heat.y)
    weeks = list(heat.x)
    behind_texts = {(caps[i], weeks[j]) for i, row in enumerate(heat.text) for j, t in enumerate(row) if "▼" in t}
    assert behind_texts == BEHIND_PLAN
    red = [s for s in fig.layout.shapes if s.line.color == "#d62728"]
    assert len(red) == len(BEHIND_PLAN)
    assert [s.name for s in fig.layout.shapes if s.name == "selected"] == ["selected"]
    # operations has no activity in week 1: an empty cell, not stage 0
    assert heat.z[caps.index("operations")][weeks.index(1)] is None
    assert heat.text[caps.index("operations")][weeks.index(1)].startswith("– / plan")
    deployment_8 = heat.text[caps.index("deployment")][weeks.index(8)]
    assert deployment_8 == "▼ 3 / plan 4"
    hover = fig.data[1].hovertext[caps.index("deployment") * len(weeks) + weeks.index(8)]
    assert "Vendor shadows" in hover and "Independent" in hover and week_label(8, start) in hover


def test_share_figure_has_target_line_percent_axis_and_week_dates(demo):
    m, start = demo["metrics"], demo["cfg"].engagement.start
    rows = m.commit_share[m.commit_share["capability"].isna()]
    fig = share_figure(rows, 0.5, start)
    assert fig.layout.yaxis.tickformat == ".0%"
    assert any(s.line.dash == "dash" and math.isclose(s.y0, 0.5) for s in fig.layout.shapes)
    assert week_label(3, start) in fig.data[0].hovertext[list(fig.data[0].x).index(3)]
    assert fig.layout.xaxis.title.text == "Engagement week"


def test_sides_timeline_draws_each_affiliation(demo):
    cfg = demo["cfg"]
    fig = sides_timeline(roster_table(cfg), cfg.engagement.start, cfg.engagement.weeks)
    sides = {trace.name: len(trace.y) for trace in fig.data}
    assert sides == {"vendor": 3, "internal": 4}  # Tom Becker has one bar on each side


# --- Deep links to weeks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["pages/review.py", "pages/ladder.py", "pages/milestones.py", "pages/delivery.py"])
def test_a_week_outside_the_engagement_is_reported_not_silently_replaced(app, demo, page):
    at = app(demo["toml"], demo["url"])
    at.query_params["week"] = "42"
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("?week=42 is not a week of this engagement" in w.value for w in at.warning), [w.value for w in
                                                                                            at.warning]


def test_a_week_deep_link_opens_that_week_on_a_kpi_page(app, demo):
    at = app(demo["toml"], demo["url"])
    at.query_params["week"] = "3"
    at.switch_page("pages/delivery.py").run()
    assert not at.exception
    assert at.selectbox(key="internal_commit_share_week").value == 3
    assert not at.warning
