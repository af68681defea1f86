"""Cells that leave the tool (CSV files, tables): one null marker, rounded numbers, spreadsheet-safe text."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

NULL = "—"  # how every table Baton prints shows "no value"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_null(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def neutralise(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are neutralised (numbers, dates and booleans unchanged)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            # a list, not Series.map: map would infer a dtype and turn whole numbers with gaps into floats
            out[col] = pd.Series([neutralise(v) for v in out[col]], index=out.index, dtype=object)
    return out


def plain(value) -> str:
    """One table cell as text: NULL for no value, floats rounded to 3 decimals without trailing zeros."""
    if is_null(value):
        return NULL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def text_table(frame: pd.DataFrame) -> str:
    """A frame as an aligned plain-text table with `plain` cells (what `--format table` prints)."""
    if frame.empty:
        return "(no rows)"
    shown = frame.astype(object).map(plain)
    return shown.to_string(index=False)
