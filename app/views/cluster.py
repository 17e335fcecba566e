"""Cluster view: why it ranks, the network behind it, the timeline, every parcel, the case."""

from __future__ import annotations

import html
import re

import pandas as pd
import streamlit as st

from app import common
from app import data
from app.data import change_mark
from linker.casework import cases
from linker import store
from linker.outputs import clusters as read
from linker.outputs import evidence_pack, network, timeline
from linker.casework.cases import STATUSES, CasesError


def _listed(values) -> list:
    """A list column as read from DuckDB (None, a list or a numpy array) as a plain list."""
    return [] if values is None else list(values)

MAX_NODES = common.CLUSTER_MAX_NODES
user = common.current_user()

try:
    src = common.source()
    queue = common.cached_queue(src.version, src.is_snapshot, True)
except store.StoreError as exc:
    common.show_store_problem(exc)

requested = st.query_params.get("cluster") or st.session_state.get("cluster_id")
every = set(queue["cluster_id"])
if not every:
    st.info("No clusters yet: run `linker run` on the store.")
    st.stop()
if requested and requested not in every:
    st.warning(f"No cluster {requested!r} in the current snapshot; showing the top of the queue.")
# The picker offers the top of the queue (flagged first) and the cluster asked for: a list of
# every cluster (thousands at 1M parcels) makes each key typed into it take a second or more.
# Any other cluster opens from the queue, a search or a link.
ids = list(queue["cluster_id"][:data.PICKER_CLUSTERS])
if requested not in every:
    requested = ids[0]
elif requested not in ids:
    ids.append(requested)
labels = {
    r.cluster_id: f"#{r.rank} · {r.cluster_id} · {r.commodity or 'no commodity'} · {r.parcels} parcels"
    for r in queue[queue["cluster_id"].isin(ids)].itertuples()
}


def picked() -> None:
    st.session_state["cluster_id"] = st.session_state["cluster_pick"]
    st.query_params["cluster"] = st.session_state["cluster_pick"]


# The picker follows the cluster asked for from elsewhere (queue, search, a link); a pick made
# here updates that request in its callback, so the two never disagree on the next run.
if st.session_state.get("cluster_pick") != requested:
    st.session_state["cluster_pick"] = requested
cluster_id = st.selectbox("Cluster", ids, format_func=labels.get, key="cluster_pick", on_change=picked)
st.query_params["cluster"] = cluster_id
st.session_state["cluster_id"] = cluster_id
if st.session_state.get("viewing_cluster") != cluster_id:
    common.audit("view_cluster", cluster_id)
    st.session_state["viewing_cluster"] = cluster_id

found = common.cached_cluster(src.version, src.is_snapshot, cluster_id)
row, parcels, signals = found["row"], found["parcels"], found["signals"]
case = cases.get_case(common.cases_path(), cluster_id)
qrow = queue[queue["cluster_id"] == cluster_id].iloc[0]
mark = change_mark(qrow["change"], qrow["parcels"], qrow["previous_parcels"])

st.title(f"Cluster {cluster_id}")
badges = [f":{'red' if row.get('flagged') else 'gray'}-badge[{'flagged' if row.get('flagged') else 'not flagged'}]",
          f":blue-badge[case: {case.status}]"]
commodity = row.get("commodity_label") or row.get("commodity")
if commodity:
    badges.append(f":green-badge[{commodity}]")
if mark:
    badges.append(f":orange-badge[{mark} since last run]")
if case.assignee:
    badges.append(f":violet-badge[assigned to {case.assignee}]")
st.markdown(" ".join(badges))
summary = html.escape(str(row.get("summary") or "No summary."))
st.markdown(
    "<div class='cluster-summary' style='font-size:1.15rem;border-left:4px solid #d1242f;background:#f6f8fa;"
    f"padding:.7rem 1rem;margin:.4rem 0 1rem'>{summary}</div>",
    unsafe_allow_html=True,
)

threshold = row.get("threshold_kg")
est = row.get("est_controlled_kg")
m = st.columns(5)
m[0].metric("Score", f"{row.get('score') or 0:.{2 if (row.get('score') or 0) <= 1 else 1}f}", help=f"rank {row.get('rank')} in this run")
m[1].metric(
    "Est. controlled", common.fmt_kg(est),
    delta=(f"{est / threshold:.1f}× threshold" if threshold and est is not None and not pd.isna(threshold) else None),
    delta_color="inverse" if threshold and est and est >= threshold else "off",
)
m[2].metric("Threshold", common.fmt_kg(threshold))
m[3].metric("Parcels", f"{row.get('parcels'):,}")
m[4].metric("Senders / receivers", f"{row.get('senders')} / {row.get('receivers')}")
st.caption(f"First parcel {pd.Timestamp(row['first_seen']):%Y-%m-%d %H:%M}, last {pd.Timestamp(row['last_seen']):%Y-%m-%d %H:%M}"
           f" · carriers: {', '.join(qrow['carriers'] if qrow['carriers'] is not None else [])}"
           f" · countries: {', '.join(sorted(set(_listed(qrow['origin_countries']) + _listed(qrow['dest_countries']))))}")

left, right = st.columns([3, 2], gap="large")

# ---------------------------------------------------------------- network
with left:
    st.subheader("Network")
    g, pos, dropped = common.cached_network(src.version, src.is_snapshot, cluster_id, MAX_NODES)
    st.caption(
        f"{g.number_of_nodes()} nodes, {g.number_of_edges()} links; a link is one or more parcels, thicker for more. "
        "Click a node for its details." + (f" The {dropped} least-used nodes are left out." if dropped else "")
    )
    fig = network.network_figure(g, pos)
    picked = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=f"net_{cluster_id}",
                             config={"scrollZoom": True, "displaylogo": False})
    points = picked.selection.points if picked is not None and picked.selection else []
    node_id = next((p.get("customdata") for p in points if p.get("customdata")), None)
    if node_id and node_id in g:
        d = g.nodes[node_id]
        with st.container(border=True):
            st.markdown(f"**{d['kind'].replace('_', ' ')}** · {d['label']} · {d['parcels']} parcels in this cluster")
            kind, _, value = node_id.partition(":")
            if kind == "entity":
                ent = found["entities"][found["entities"]["entity_id"] == int(value)]
                if not ent.empty:
                    e = ent.iloc[0]
                    st.markdown(f"Names: {', '.join(map(str, e['names']))}")
                    for field in ("phones", "accounts", "id_numbers", "addresses"):
                        vals = [v for v in (e[field] if e[field] is not None else []) if v]
                        if len(vals):
                            st.markdown(f"{field.replace('_', ' ').capitalize()}: {', '.join(map(str, vals))}")
                    st.caption(f"{e['parcels']} parcels in the whole store, roles: {', '.join(e['roles'])}")
                mine = found["mentions"][found["mentions"]["entity_id"] == int(value)]
                st.dataframe(mine[["parcel_id", "role", "name_raw", "phone_raw", "address_raw"]], hide_index=True, height=180)
            else:
                mine = found["mentions"]
                col = {"phone": "phone_e164", "account": "account_norm", "address": "address_key", "acceptance_point": "acceptance_point"}[kind]
                used = mine[mine[col].astype(str) == value] if col in mine else mine.iloc[0:0]
                if kind in ("account", "acceptance_point"):
                    used = used[used["role"] == "sender"]  # the sender pays and hands the parcel in
                st.markdown(f"Used by: {', '.join(sorted(set(map(str, used['name_raw']))))}")
            watch_kind = {"entity": "name", "phone": "phone", "account": "account", "address": "address"}.get(kind)
            if watch_kind and user.can_edit:
                watch_value = d["label"] if kind in ("entity", "address") else value
                if st.button(f"Add {watch_kind} to watch list", key=f"watch_{node_id}", icon=":material/visibility:"):
                    try:
                        added = cases.watch_add(common.cases_path(), user, watch_kind, str(watch_value), f"from cluster {cluster_id}")
                        st.toast("Added to the watch list" if added else "Already on the watch list")
                    except CasesError as exc:
                        st.error(str(exc))

# ---------------------------------------------------------------- why, case
with right:
    st.subheader("Why it was flagged")
    if signals.empty:
        st.caption("No signal breakdown recorded for this cluster.")
    else:
        st.dataframe(
            signals, hide_index=True,
            column_config={
                "signal": "Signal",
                "strength": st.column_config.ProgressColumn("Strength", min_value=0.0, max_value=1.0, format="%.2f"),
                "weight": st.column_config.NumberColumn("Weight", format="%.2f"),
                "contribution": st.column_config.NumberColumn("Adds", format="%.3f"),
                "evidence": st.column_config.TextColumn("Evidence", width="large"),
            },
        )
    st.subheader("Case")
    editable = user.can_edit
    # clear_on_submit: a saved note leaves the box, so the next Save (a status change) does not add it again
    with st.form(f"case_{cluster_id}", border=True, clear_on_submit=True):
        c1, c2 = st.columns(2)
        new_status = c1.selectbox("Status", STATUSES, index=STATUSES.index(case.status), disabled=not editable)
        people = [""] + cases.user_names(common.cases_path())
        new_assignee = c2.selectbox("Assignee", people, index=people.index(case.assignee) if case.assignee in people else 0,
                                    disabled=not editable, format_func=lambda n: n or "(nobody)")
        note = st.text_area("Add a note", disabled=not editable, height=80)
        saved = st.form_submit_button("Save", type="primary", disabled=not editable)
    if not editable:
        st.caption("You are a viewer: cases can be changed by investigators only.")
    if saved:
        try:
            cases.update_case(common.cases_path(), user, cluster_id, status=new_status, assignee=new_assignee or None)
            if note.strip():
                cases.add_note(common.cases_path(), user, cluster_id, note)
            st.toast("Case saved")
            st.rerun()
        except CasesError as exc:
            st.error(str(exc))
    for n in reversed(cases.notes(common.cases_path(), cluster_id)):
        st.markdown(f"**{n['author']}** · {n['at'][:16].replace('T', ' ')}  \n{n['text']}")

    def pack() -> bytes:
        common.audit("export", cluster_id, "evidence pack (zip)")
        with common.analysis(src) as con:
            return evidence_pack.evidence_pack(con, cluster_id, exported_by=user.name, source=src.path.name)

    st.download_button(
        "Export evidence pack", data=pack, file_name=f"{re.sub(r'[^A-Za-z0-9_.-]', '_', cluster_id)}_evidence.zip",
        mime="application/zip", icon=":material/download:", type="secondary", on_click="ignore",
        help="One self-contained HTML page (summary, network, timeline, parcels, evidence) plus CSV files.",
    )

# ---------------------------------------------------------------- timeline
st.subheader("Timeline")
timeline_frame = timeline.running_total(parcels, est)
tfig = timeline.timeline_figure(timeline_frame, threshold)
st.plotly_chart(tfig, key=f"timeline_{cluster_id}", config={"displaylogo": False})

# ---------------------------------------------------------------- parcels and merged names
households = found.get("households")
households = households if households is not None else pd.DataFrame()
tab_parcels, tab_links, tab_homes = st.tabs([f"Parcels ({len(parcels):,})",
                                             f"Why names were judged the same party ({len(found['links'])})",
                                             f"Households ({len(households)})"])
with tab_parcels:
    st.dataframe(parcels.drop(columns=["parcel_seq"]), hide_index=True, height="auto" if len(parcels) <= 12 else 460)
with tab_links:
    links = found["links"]
    if links.empty:
        st.caption("No two differently written names were merged inside this cluster.")
    else:
        shown = links.assign(evidence=links["evidence"].map(read.explain_evidence))
        st.dataframe(
            shown, hide_index=True,
            column_config={
                "match_probability": st.column_config.ProgressColumn("Probability", min_value=0.0, max_value=1.0, format="%.3f"),
                "match_weight": st.column_config.NumberColumn("Weight (bits)", format="%.1f"),
                "evidence": st.column_config.TextColumn("Evidence", width="large"),
            },
        )
with tab_homes:
    if households.empty:
        st.caption("No party of this cluster shares a flat and its phone or account with someone of another name.")
    else:
        st.caption("People at one flat who share its phone or payment account but not a name: kept as separate "
                   "parties (two people, not one person under two names), tied in the network by their household.")
        st.dataframe(
            households.drop(columns=["household_id"]), hide_index=True,
            column_config={"members": st.column_config.TextColumn("Members", width="large"),
                           "in_cluster": st.column_config.NumberColumn("In this cluster"),
                           "parties": st.column_config.NumberColumn("Members in all"),
                           "flat": st.column_config.TextColumn("Flat", width="large")},
        )
