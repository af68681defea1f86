"""Helpers shared by the Streamlit pages: data loading and caching (data.py), pure figure builders (figures.py)."""
