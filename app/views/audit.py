"""Audit log: every log-in (and refused one), cluster view, search, export and case change.
Investigators only; the log cannot be changed from here or anywhere else."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common
from linker.casework import cases

st.session_state["viewing_cluster"] = None
user = common.current_user()
st.title("Audit log")
if not user.can_edit:
    st.error("The audit log is for investigators.")
    st.stop()
c1, c2, c3 = st.columns(3)
who = c1.selectbox("User", [""] + cases.user_names(common.cases_path()), format_func=lambda n: n or "(everyone)")
actions = ["", "login", "login_refused", "logout", "view_cluster", "search", "export", "case_status", "case_assign",
           "case_note", "watch_add", "watch_remove", "user_add"]
what = c2.selectbox("Action", actions, format_func=lambda a: a or "(all)")
limit = c3.number_input("Newest", min_value=100, max_value=100000, value=1000, step=500)
log = pd.DataFrame(cases.audit_log(common.cases_path(), user=who or None, action=what or None, limit=int(limit)))
st.caption(f"{len(log):,} events, newest first. Append-only: the file refuses changes to past events.")
st.dataframe(log, hide_index=True, height="auto" if len(log) <= 15 else 600)
