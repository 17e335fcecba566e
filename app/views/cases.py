"""Cases and the watch list: who works on what, and the values to look out for."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common
from linker.casework import cases
from linker import store
from linker.casework.cases import STATUSES, WATCH_KINDS, CasesError

st.session_state["viewing_cluster"] = None
user = common.current_user()
st.title("Cases & watch list")

st.subheader("Cases")
every = cases.all_cases(common.cases_path())
try:
    src = common.source()
    queue = common.cached_queue(src.version, src.is_snapshot, True)
except store.StoreError as exc:
    common.show_store_problem(exc)
if not every:
    st.caption("No case has been opened yet: set a status or assignee on a cluster page.")
else:
    frame = pd.DataFrame([c.__dict__ for c in every.values()])
    frame = frame.merge(queue[["cluster_id", "rank", "score", "commodity", "parcels", "summary"]], on="cluster_id", how="left")
    frame["in_current_run"] = frame["rank"].notna()
    c1, c2 = st.columns(2)
    mine = c1.toggle("Only mine", value=False)
    pick = c2.multiselect("Status", list(STATUSES), default=[s for s in STATUSES if s not in ("dismissed",)])
    if mine:
        frame = frame[frame["assignee"] == user.name]
    if pick:
        frame = frame[frame["status"].isin(pick)]
    frame = frame.sort_values(["updated_at"], ascending=False)
    event = st.dataframe(
        frame, hide_index=True, on_select="rerun", selection_mode=common.OPEN_ON_CLICK, key="cases_table",
        column_config={
            "score": common.score_column(),
            "summary": st.column_config.TextColumn("Why", width="large"),
            "in_current_run": st.column_config.CheckboxColumn("In current run", help="false: the cluster is gone from the latest run"),
        },
    )
    row = common.clicked_row(event)
    if row is not None and row < len(frame):
        common.open_cluster(frame.iloc[row]["cluster_id"])

st.subheader("Watch list")
st.caption("The nightly run reports new parcels that carry any of these values.")
entries = cases.watchlist(common.cases_path())
if entries:
    st.dataframe(pd.DataFrame(entries).drop(columns=["watch_id"]), hide_index=True)
else:
    st.caption("The watch list is empty.")
if user.can_edit:
    with st.form("watch_add", border=True):
        c1, c2, c3 = st.columns([1, 2, 2])
        kind = c1.selectbox("Kind", WATCH_KINDS, key="watch_kind")
        value = c2.text_input("Value", key="watch_value")
        note = c3.text_input("Note", key="watch_add_note")
        if st.form_submit_button("Add", icon=":material/add:"):
            try:
                added = cases.watch_add(common.cases_path(), user, kind, value, note)
                st.toast("Added" if added else "Already on the watch list")
                st.rerun()
            except CasesError as exc:
                st.error(str(exc))
    if entries:
        with st.expander("Remove an entry"):
            gone = st.selectbox("Entry", entries, format_func=lambda e: f"{e['kind']}: {e['value']}")
            if st.button("Remove", icon=":material/delete:"):
                cases.watch_remove(common.cases_path(), user, gone["watch_id"])
                st.rerun()
