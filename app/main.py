"""parcel-linker dashboard: the entry script that `linker serve` runs with Streamlit.

Until someone logs in, the only page that exists is the log-in form, so no page can show data
to a stranger (a direct link to another page falls back to the form). After log-in, the pages
are registered by role: investigators also get the audit log. Viewers see everything else
but cannot change cases (enforced again in `linker.casework.cases`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app import common
from linker.casework import auth
from linker.errors import one_line
from linker import store

# The favicon is a file shipped with the app (sent inline as a data URL): a material or emoji
# icon here would make every browser fetch it from an outside font or emoji host.
ICON = Path(__file__).resolve().parent / "icon.svg"
st.set_page_config(page_title="parcel-linker", page_icon=str(ICON), layout="wide")


def oidc_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section for `st.login`."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


PRELOAD_KEY = "preload_widgets"


def preload_widgets() -> None:
    """The kinds of element the first pages after log-in show, drawn empty and hidden.

    Streamlit's browser code loads each kind of element (the table, the Plotly chart, the
    filters) the first time a page shows one: 0.4 s for the queue's table and filters and
    0.6 s for the cluster page's chart, once per browser, on this machine. Drawing one of each
    on the log-in page has the browser fetch them while the user types the password, so the
    first queue and cluster after log-in appear as fast as later ones. They hold no data and
    are hidden (display: none, also from screen readers); until the browser has loaded the
    style that hides them, their container is one pixel high."""
    import plotly.graph_objects as go

    st.html(f"<style>.st-key-{PRELOAD_KEY} {{display: none !important;}}</style>")
    with st.container(key=PRELOAD_KEY, height=1, border=False):
        label = {"label_visibility": "collapsed"}
        st.dataframe(pd.DataFrame({"-": []}), key="preload_table")
        st.plotly_chart(go.Figure(), key="preload_chart")
        st.toggle("preload toggle", key="preload_toggle", **label)
        st.multiselect("preload multiselect", [], key="preload_multiselect", **label)
        st.selectbox("preload selectbox", [], key="preload_selectbox", **label)
        st.date_input("preload date", value=None, key="preload_date", **label)
        st.text_area("preload text", key="preload_text", **label)
        st.metric("preload metric", 0)
        st.button("preload button", key="preload_button", disabled=True)
        st.download_button("preload download", b"", key="preload_download", disabled=True)
        st.markdown("<span></span>", unsafe_allow_html=True)


def login_page() -> None:
    st.title("parcel-linker")
    st.caption("Investigators' dashboard. Log in to continue.")
    if oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            user = auth.identity_provider_user(common.cases_path(), st.user.get("email"))
            if user:
                st.session_state["user"] = user
                st.rerun()
            st.error("Your organisation account has no dashboard user here; ask an administrator to add it.")
        st.button("Log in with your organisation", on_click=st.login, type="primary")
        st.divider()
    with st.form("login", enter_to_submit=True):
        st.text_input("User name", key="login_name")
        st.text_input("Password", type="password", key="login_password")
        st.form_submit_button("Log in", type="primary", on_click=_log_in)
    refused = st.session_state.pop("login_refused", None)
    if refused:
        st.error(refused)
    preload_widgets()


def _log_in() -> None:
    """The log-in form's callback. Streamlit runs it before the script, so a good password
    opens the queue in that same run, not in a second one after a rerun of this page. (An
    error here would replace the page with a traceback: it is shown under the form instead.)"""
    try:
        user = auth.authenticate(common.cases_path(), st.session_state.get("login_name", ""),
                                 st.session_state.get("login_password", ""))
    except Exception as exc:  # the cases file unreadable or locked, say
        st.session_state["login_refused"] = f"The log-in could not be checked: {one_line(exc)}"
        return
    if user is None:
        st.session_state["login_refused"] = "User name or password not recognised."
    else:
        st.session_state["user"] = user


def logout() -> None:
    common.audit("logout")
    st.session_state.pop("user", None)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


user = common.current_user()
if user is None:
    page = st.navigation([st.Page(login_page, title="Log in", icon=":material/login:")], position="hidden")
else:
    pages = [
        st.Page("views/queue.py", title="Queue", icon=":material/format_list_numbered:", default=True),
        st.Page("views/cluster.py", title="Cluster", icon=":material/hub:"),
        st.Page("views/search.py", title="Search", icon=":material/search:"),
        st.Page("views/cases.py", title="Cases & watch list", icon=":material/folder_open:"),
    ]
    if user.can_edit:
        pages.append(st.Page("views/audit.py", title="Audit log", icon=":material/history:"))
    page = st.navigation(pages)
    with st.sidebar:
        st.markdown(f"**{user.name}** · {user.role}")
        st.button("Log out", on_click=logout, icon=":material/logout:")
        try:
            src = common.source()
            label = f"snapshot `{src.path.stem}`" if src.is_snapshot else "the store itself (no snapshot published yet)"
            st.caption(f"Reading {label}")
        except store.StoreError as exc:
            st.caption(str(exc))
page.run()
