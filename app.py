"""Baton: the Streamlit entry point. `BATON_CONFIG=engagement.toml streamlit run app.py`.

Resolves the engagement file and the DB (pages/_shared/data.py), then hands over to the page the user opened.
"""

import streamlit as st

from pages._shared.data import bootstrap, release
from pages._shared.nav import app_pages

st.set_page_config(layout="wide", page_title="Baton")
page = st.navigation(app_pages())
bootstrap()  # shows an error page and stops when the engagement file or the DB cannot be used
try:
    page.run()
finally:
    release()
