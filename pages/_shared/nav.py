"""The app's pages, in one place: app.py's navigation and the pages/-folder fallback in data.context() use it."""

import streamlit as st


def app_pages() -> list:
    return [
        st.Page("pages/overview.py", title="Overview", default=True, url_path="overview"),
        st.Page("pages/review.py", title="Weekly review", url_path="review"),
        st.Page("pages/ladder.py", title="Ladder", url_path="ladder"),
        st.Page("pages/delivery.py", title="Delivery", url_path="delivery"),
        st.Page("pages/retraining.py", title="Retraining", url_path="retraining"),
        st.Page("pages/quality.py", title="Quality gates", url_path="quality"),
        st.Page("pages/runbooks.py", title="Runbooks", url_path="runbooks"),
        st.Page("pages/drills.py", title="Drills", url_path="drills"),
        st.Page("pages/milestones.py", title="Milestones", url_path="milestones"),
        st.Page("pages/people.py", title="People", url_path="people"),
        st.Page("pages/sources.py", title="Sources", url_path="sources"),
    ]
