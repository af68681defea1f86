"""Streamlit pieces of the weekly review and milestones pages: KPI cards, the freeze, sign and pack actions.

Every action checks the role itself (`access.allowed`) before it shows anything that changes data, and again
when it runs against the DB (`access.check_now`), so a deep link, a stale widget or a role withdrawn while the
page was open cannot act. Signatures and freezes go into the ledger with this server's witness of its head.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics.acceptance import AcceptanceError, Signer, revoke, sign
from metrics.snapshots import FreezeError, freeze
from pages._shared.access import access, allowed, check_now

CARDS_PER_ROW = 4


def kpi_cards(cards: pd.DataFrame) -> None:
    """Large-number cards (metrics.review.kpi_cards, formatted from each KPI's spec): value, target status, change
    from last week (green when it moves the better way), unattributed share; a frozen week's card shows the frozen
    value and the recomputed one beside it, marked restated."""
    from pages._shared.nav import page_file

    if cards.empty:
        st.info("No KPI has a value in this week.")
        return
    for start in range(0, len(cards), CARDS_PER_ROW):
        cols = st.columns(CARDS_PER_ROW)
        for col, c in zip(cols, cards.iloc[start:start + CARDS_PER_ROW].itertuples(), strict=False):
            col.metric(c.label, c.shown, delta=c.change_shown, border=True,
                       delta_color="normal" if c.direction == "higher" else "inverse",
                       help=f"{c.definition} Change from the previous week. Internal {c.internal}, vendor "
                            f"{c.vendor}, unattributed {c.unattributed}, bots {c.bots}.")
            icon = {"met": ":green[met]", "not met": ":red[not met]"}.get(c.target_status, c.target_status)
            restated = f"  \n:orange[**restated**: recomputed now {c.recomputed_shown}]" if c.restated else ""
            events = c.internal + c.vendor + c.unattributed + c.bots
            goal = "No target set" if c.target_status == "no target" else f"Target {c.target_shown}: **{icon}**"
            col.markdown(goal + (f"  \nUnattributed: {c.unattributed_share:.0%}" if events else "") + restated)
            target_page = page_file(c.page)
            if target_page:
                col.page_link(target_page, label="Rows behind it", icon=":material/table_rows:",
                              query_params={"week": str(int(c.week))})


_MESSAGE_KEY = "_review_message"


def _say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE_KEY] = (kind, text)


def show_message() -> None:
    """The outcome of the last action (set by its callback, shown once)."""
    kind, text = st.session_state.pop(_MESSAGE_KEY, (None, None))
    if kind:
        getattr(st, kind)(text)


def _witness(ctx):
    from db.ledger import witness_for

    return witness_for(Path(ctx.config_path), ctx.engine)


def _signer(key: str) -> Signer | None:
    a = access()
    side = st.session_state.get(f"{key}_side") or "from the roster"
    side = None if side == "from the roster" else side
    if a.verified:
        return Signer(a.name or a.email or "", a.email, verified=True, side=side)
    name = str(st.session_state.get(f"{key}_name") or "").strip()
    return Signer(name, None, verified=False, side=side) if name else None


FILTERED = ("The repository filter is on: signatures, frozen weeks and steering packs cover all repositories. "
            "Clear the filter in the sidebar first.")


def _act_on_signature(ctx, m, milestone_id: str, action: str) -> None:
    """Button callback (runs before the next script run): sign or revoke, after checking the role again."""
    if check_now(ctx.engine, "signer") is None:
        return _say("error", "Signing needs the signer role.")
    if ctx.repos:
        return _say("error", FILTERED)
    key = f"sign_{milestone_id}"
    signer = _signer(key)
    if signer is None:
        return _say("error", "Type your name to sign.")
    try:
        (sign if action == "sign" else revoke)(ctx.engine, m, milestone_id, signer,
                                               str(st.session_state.get(f"{key}_comment") or ""),
                                               witness=_witness(ctx))
    except (AcceptanceError, KeyError) as exc:
        return _say("error", str(exc).strip("'\""))
    _say("success", f"{'Signed' if action == 'sign' else 'Revoked the signature of'} {milestone_id}.")


def sign_form(ctx, m, milestone_id: str) -> None:
    """Sign or revoke a signature of one milestone (signer role only)."""
    show_message()
    if not allowed("signer"):
        st.caption("Signing needs the signer role.")
        return
    key = f"sign_{milestone_id}"
    with st.container(border=True):
        a = access()
        if a.verified:
            st.caption(f"Signing as {a.label} (verified by login).")
        else:
            st.text_input("Your name (as on the roster; stored as unverified)", key=f"{key}_name")
        st.selectbox("Your side", ["from the roster", "internal", "vendor"], key=f"{key}_side",
                     help="Needed only when you are not on the roster.")
        st.text_area("Comment", key=f"{key}_comment")
        col_sign, col_revoke = st.columns(2)
        col_sign.button(f"Sign {milestone_id}", type="primary", key=f"{key}_sign", on_click=_act_on_signature,
                        args=(ctx, m, milestone_id, "sign"))
        col_revoke.button("Revoke my signature", key=f"{key}_revoke", on_click=_act_on_signature,
                          args=(ctx, m, milestone_id, "revoke"))


def _freeze(ctx, m, week: int) -> None:
    """Button callback: freeze the week, after checking the role again."""
    a = check_now(ctx.engine, "editor")
    if a is None:
        return _say("error", "Freezing a week needs the editor role.")
    if ctx.repos:
        return _say("error", FILTERED)
    by = (a.name or a.email or "") if a.verified else str(st.session_state.get("freeze_by") or "").strip()
    if not by:
        return _say("error", "Type your name to freeze the week.")
    try:
        freeze(ctx.engine, m, week, by, verified=a.verified, witness=_witness(ctx))
    except FreezeError as exc:
        return _say("error", str(exc))
    _say("success", f"Week {week} frozen.")


def freeze_form(ctx, m, week: int) -> None:
    """Freeze the week (editor role only)."""
    show_message()
    if not allowed("editor"):
        st.caption("Freezing a week needs the editor role.")
        return
    with st.container(border=True):
        if not access().verified:
            st.text_input("Frozen by (stored as unverified)", key="freeze_by")
        st.button(f"Freeze week {week}", key=f"freeze_{week}", on_click=_freeze, args=(ctx, m, week))


_PACK_KEY = "_steering_pack"


def _build_pack(ctx, m, week: int) -> None:
    """Button callback: write the pack into a temporary folder and keep it zipped for the download button."""
    from metrics.report.pack import write_pack

    if check_now(ctx.engine, "viewer") is None:
        return _say("error", "The steering pack needs the viewer role.")
    if ctx.repos:
        return _say("error", FILTERED)
    note = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            paths = write_pack(ctx.engine, m, week, tmp)
        except Exception as exc:  # noqa: BLE001 - no Chromium: still offer HTML and CSVs
            note = f"No PDF in this pack: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            paths = write_pack(ctx.engine, m, week, tmp, pdf=False)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in paths:
                zf.write(path, Path(path).name)
    st.session_state[_PACK_KEY] = (week, buffer.getvalue(), note)


def pack_button(ctx, m, week: int) -> None:
    """Build the steering pack (HTML, PDF, CSVs) and offer it as one zip."""
    show_message()
    st.button("Build steering pack (HTML, PDF, CSV)", key="build_pack", on_click=_build_pack, args=(ctx, m, week))
    built = st.session_state.get(_PACK_KEY)
    if built and built[0] == week:
        if built[2]:
            st.warning(built[2])
        st.download_button("Download steering pack (zip)", built[1], file_name=f"steering-pack-week-{week}.zip",
                           mime="application/zip", key="download_pack")
