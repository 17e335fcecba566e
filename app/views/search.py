"""Search: a name (hanzi or pinyin), phone in any format, account, ID number, address or
parcel id finds the parties and clusters it belongs to."""

from __future__ import annotations

import streamlit as st

from app import common, data
from linker.casework import cases
from linker import store
from linker.casework.cases import CasesError

st.session_state["viewing_cluster"] = None
user = common.current_user()
st.title("Search")
with st.form("search"):
    text = st.text_input(
        "Name, phone, account, ID number, address or parcel id",
        placeholder="张伟 · Zhang Wei · 138-0013-8000 · 6222 0212 3456 7890 · Suite 4471 · EE123456785CN",
        key="search_text",
    )
    go = st.form_submit_button("Search", type="primary", icon=":material/search:")
if go and text.strip():
    st.session_state["search_query"] = text.strip()
    common.audit("search", None, text.strip()[:300])
query = st.session_state.get("search_query")
if not query:
    st.caption("Names are compared in their pinyin, order-free form, and with typos; phones by their digits in any format.")
    st.stop()

try:
    with common.analysis() as con:
        result = data.search(con, query)
except store.StoreError as exc:
    common.show_store_problem(exc)

if result.read_as:
    st.caption("Read as: " + " · ".join(result.read_as))
if result.empty:
    st.info(f"Nothing found for “{query}”.")
    st.stop()

st.subheader(f"Clusters ({len(result.clusters)})")
if result.clusters.empty:
    st.caption("The matching parties are in no cluster.")
else:
    event = st.dataframe(
        result.clusters, hide_index=True, on_select="rerun", selection_mode=common.OPEN_ON_CLICK, key="search_clusters",
        column_config={
            "score": common.score_column(),
            "summary": st.column_config.TextColumn("Why", width="large"),
            "matching_parcels": "Matching parcels",
        },
    )
    row = common.clicked_row(event)
    if row is not None and row < len(result.clusters):
        common.open_cluster(result.clusters.iloc[row]["cluster_id"])

st.subheader(f"Parties ({len(result.entities)})")
ents = result.entities.drop(columns=["quality"])
event = st.dataframe(
    ents, hide_index=True, on_select="rerun", selection_mode="single-row", key="search_entities",
    column_config={
        "matched_on": st.column_config.ListColumn("Matched on"),
        "matching_names": st.column_config.ListColumn("Names matched"),
        "phones": st.column_config.ListColumn("Phones"),
        "accounts": st.column_config.ListColumn("Accounts"),
        "id_numbers": st.column_config.ListColumn("ID numbers"),
        "addresses": st.column_config.ListColumn("Addresses"),
        "clusters": st.column_config.ListColumn("Clusters"),
    },
)
if event.selection.rows and user.can_edit:
    e = ents.iloc[event.selection.rows[0]]
    with st.container(border=True):
        st.markdown(f"**{e['best_name']}**: add to the watch list")
        options = [("name", e["best_name"])]
        for kind, col in (("phone", "phones"), ("account", "accounts"), ("id_number", "id_numbers"), ("address", "addresses")):
            options += [(kind, v) for v in (e[col] if e[col] is not None else []) if v]
        pick = st.selectbox("Value", options, format_func=lambda o: f"{o[0]}: {o[1]}")
        note = st.text_input("Note", key="watch_note")
        if st.button("Add to watch list", icon=":material/visibility:"):
            try:
                added = cases.watch_add(common.cases_path(), user, pick[0], str(pick[1]), note)
                st.toast("Added to the watch list" if added else "Already on the watch list")
            except CasesError as exc:
                st.error(str(exc))

with st.expander(f"Parcels ({len(result.parcels)})"):
    st.dataframe(result.parcels, hide_index=True)
