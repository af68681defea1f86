"""The app's pages, in one place: app.py's navigation and the pages/-folder fallback in data.context() use it.

The Overview lives at /overview; the root URL is a hidden default page that switches to it, so both / and
/overview open the scorecard (a default page's own url_path is the root and nothing else)."""

import streamlit as st

OVERVIEW = "pages/overview.py"


def _home() -> None:
    st.switch_page(OVERVIEW)


def app_pages() -> list:
    return [
        st.Page(_home, title="Home", default=True, url_path="home", visibility="hidden"),
        st.Page(OVERVIEW, title="Overview", url_path="overview"),
        st.Page("pages/review.py", title="Weekly review", url_path="review"),
        st.Page("pages/ladder.py", title="Ladder", url_path="ladder"),
        st.Page("pages/readiness.py", title="Readiness", url_path="readiness"),
        st.Page("pages/delivery.py", title="Delivery", url_path="delivery"),
        st.Page("pages/retraining.py", title="Retraining", url_path="retraining"),
        st.Page("pages/quality.py", title="Quality gates", url_path="quality"),
        st.Page("pages/binder.py", title="Binder", url_path="binder"),
        st.Page("pages/runbooks.py", title="Runbooks", url_path="runbooks"),
        st.Page("pages/drills.py", title="Drills", url_path="drills"),
        st.Page("pages/milestones.py", title="Milestones", url_path="milestones"),
        st.Page("pages/people.py", title="People", url_path="people"),
        st.Page("pages/sources.py", title="Sources", url_path="sources"),
    ]


def page_file(url_path: str | None) -> str | None:
    """The script of a page by its url path (a KPI spec names its detail page that way)."""
    return f"pages/{url_path}.py" if url_path else None
