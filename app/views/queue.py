"""Queue (home): flagged clusters ranked, with what is new or grew since the last run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common, data
from linker import store
from linker.casework.cases import STATUSES

st.session_state["viewing_cluster"] = None
st.title("Queue")

try:
    src = common.source()
    with common.analysis(src) as con:
        problem = data.ready(con)
        runs = data.last_runs(con)
except store.StoreError as exc:
    common.show_store_problem(exc)
if problem:
    st.info(problem)
    st.stop()

show_all = st.toggle("Include clusters that are not flagged", value=False)
frame = common.cached_queue(src.version, src.is_snapshot, show_all).copy()
case_of = common.status_of(frame["cluster_id"])
frame["status"] = [case_of[c].status for c in frame["cluster_id"]]
frame["assignee"] = [case_of[c].assignee or "" for c in frame["cluster_id"]]
frame["since_last_run"] = [
    data.change_mark(ch, n, prev) for ch, n, prev in zip(frame["change"], frame["parcels"], frame["previous_parcels"])
]
frame["countries"] = [
    sorted(set(list(o if o is not None else []) + list(d if d is not None else [])))
    for o, d in zip(frame["origin_countries"], frame["dest_countries"])
]
frame["x_threshold"] = frame["est_controlled_kg"] / frame["threshold_kg"].where(frame["threshold_kg"] > 0)

flagged = frame[frame["flagged"]]
waiting = int((flagged["status"] == "new").sum())
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Waiting (new, flagged)", waiting)
c2.metric("Under review", int((flagged["status"] == "under review").sum()))
c3.metric("Escalated", int((flagged["status"] == "escalated").sum()))
c4.metric("New since last run", int((flagged["since_last_run"] == "new").sum()))
c5.metric("Grew since last run", int(flagged["since_last_run"].str.startswith("+").sum()))
if runs:
    st.caption(f"Last run {runs[0]['run_id']} finished {runs[0]['finished_at']:%Y-%m-%d %H:%M} UTC")

with st.expander("Filters and sorting", expanded=True, icon=":material/filter_list:"):
    f1, f2, f3, f4 = st.columns(4)
    commodities = sorted(x for x in frame["commodity"].dropna().unique())
    pick_commodity = f1.multiselect("Commodity", commodities)
    pick_status = f2.multiselect("Status", list(STATUSES), default=[s for s in STATUSES if s != "dismissed"])
    countries = sorted({c for cs in frame["countries"] for c in cs})
    pick_country = f3.multiselect("Country (origin or destination)", countries)
    carriers = sorted({c for cs in frame["carriers"] if cs is not None for c in cs})
    pick_carrier = f4.multiselect("Carrier", carriers)
    g1, g2, g3, g4 = st.columns(4)
    lo = frame["first_seen"].min()
    hi = frame["last_seen"].max()
    dates = g1.date_input("Active between", value=(lo.date(), hi.date()) if pd.notna(lo) else (), format="YYYY-MM-DD")
    only_changed = g2.toggle("Only new or grown since last run")
    sort_by = g3.selectbox(
        "Sort by", ["rank", "score", "est_controlled_kg", "x_threshold", "parcels", "last_seen", "first_seen"], index=0
    )
    descending = g4.toggle("Descending", value=sort_by != "rank")

shown = frame
if pick_commodity:
    shown = shown[shown["commodity"].isin(pick_commodity)]
if pick_status:
    shown = shown[shown["status"].isin(pick_status)]
if pick_country:
    shown = shown[[bool(set(cs) & set(pick_country)) for cs in shown["countries"]]]
if pick_carrier:
    shown = shown[[cs is not None and bool(set(cs) & set(pick_carrier)) for cs in shown["carriers"]]]
if isinstance(dates, (tuple, list)) and len(dates) == 2:
    start, end = pd.Timestamp(dates[0]), pd.Timestamp(dates[1]) + pd.Timedelta(days=1)
    shown = shown[(shown["last_seen"] >= start) & (shown["first_seen"] < end)]
if only_changed:
    shown = shown[shown["since_last_run"] != ""]
shown = shown.sort_values(sort_by, ascending=not descending, na_position="last", kind="stable").reset_index(drop=True)

st.caption(f"{len(shown):,} of {len(frame):,} clusters shown. Click a row to open the cluster.")
columns = [
    "rank", "since_last_run", "status", "score", "commodity", "est_controlled_kg", "threshold_kg", "x_threshold", "summary",
    "parcels", "senders", "receivers", "first_seen", "last_seen", "assignee", "carriers", "countries", "cluster_id",
]
event = st.dataframe(
    shown[columns],
    hide_index=True,
    on_select="rerun",
    selection_mode=common.OPEN_ON_CLICK,
    key="queue_table",
    height=min(38 + 35 * max(len(shown), 1), 640),
    column_config={
        "rank": st.column_config.NumberColumn("#", width="small"),
        "since_last_run": st.column_config.TextColumn("Since last run", help="new cluster, or parcels added since the previous run"),
        "score": common.score_column(),
        "commodity": "Commodity",
        "est_controlled_kg": st.column_config.NumberColumn("Est. kg", format="%.2f"),
        "threshold_kg": st.column_config.NumberColumn("Threshold kg", format="%.1f"),
        "x_threshold": st.column_config.NumberColumn("× threshold", format="%.1f×", help="estimated kg divided by the threshold"),
        "parcels": st.column_config.NumberColumn("Parcels"),
        "senders": st.column_config.NumberColumn("Senders"),
        "receivers": st.column_config.NumberColumn("Receivers"),
        "first_seen": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD"),
        "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD"),
        "status": "Status",
        "assignee": "Assignee",
        "carriers": st.column_config.ListColumn("Carriers"),
        "countries": st.column_config.ListColumn("Countries"),
        "summary": st.column_config.TextColumn("Why", width="large"),
        "cluster_id": "Cluster",
    },
)
row = common.clicked_row(event)
if row is not None and row < len(shown):
    common.open_cluster(shown.iloc[row]["cluster_id"])
