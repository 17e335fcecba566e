"""The dashboard pages, driven by Streamlit's AppTest on a small analysed store."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixture import RING_A, RING_B, shared_store
from linker.casework import cases

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    db = shared_store(tmp_path_factory)
    # Cheap bcrypt hashes (cost 4): the log-in path is the same, the tests are faster.
    for name, role, password in (("ana", "investigator", "correct horse"), ("vic", "viewer", "battery staple")):
        cases.add_user(cases.cases_db_path(db), name, role, bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode())
    return db


@pytest.fixture
def app(store_path, monkeypatch):
    monkeypatch.setenv("LINKER_DB", str(store_path))
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.run()
    return at


def log_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    return at


def texts(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.title, *at.subheader, *at.error, *at.info])


def test_before_login_the_login_form_is_the_only_page_that_exists(app):
    assert not app.exception
    assert [t.value for t in app.title] == ["parcel-linker"]
    # the only table is the empty one drawn hidden to have the browser load its code early
    assert [len(t.value) for t in app.dataframe] == [0] and RING_A not in texts(app)
    with pytest.raises(ValueError, match=r"Known pages: \['Log in'\]"):
        app.switch_page("views/cluster.py")


def test_wrong_password_is_refused_and_logged(app, store_path):
    log_in(app, "ana", "not the password")
    assert "not recognised" in app.error[0].value
    assert [t.value for t in app.title] == ["parcel-linker"]
    refused = cases.audit_log(cases.cases_db_path(store_path), action="login_refused")
    assert refused and refused[0]["target"] == "ana"


def test_queue_lists_flagged_clusters_ranked_with_what_changed(app):
    log_in(app, "ana", "correct horse")
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["cluster_id"]) == [RING_A, RING_B]
    assert list(table["since_last_run"]) == ["+5 parcels", "new"]
    waiting = next(m for m in app.metric if m.label.startswith("Waiting"))
    assert waiting.value == "2"


def test_queue_filter_by_commodity_narrows_the_table(app):
    log_in(app, "ana", "correct horse")
    app.multiselect[0].select("gallium").run()
    assert list(app.dataframe[0].value["cluster_id"]) == [RING_B]


def test_cluster_page_shows_summary_signals_parcels_and_logs_the_view(app, store_path):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/cluster.py").run()
    assert not app.exception
    assert app.title[0].value == f"Cluster {RING_A}"
    assert "ferrous alloy" in texts(app)
    signals, parcels = app.dataframe[0].value, app.dataframe[1].value
    assert set(signals["signal"]) == {"shared_account", "cover_description", "over_threshold"}
    assert len(parcels) == 14 and {"declared_description", "payer_account", "acceptance_point"} <= set(parcels.columns)
    views = cases.audit_log(cases.cases_db_path(store_path), user="ana", action="view_cluster")
    assert views[0]["target"] == RING_A


def test_investigator_changes_case_status_with_a_note(app, store_path):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/cluster.py").run()
    app.selectbox[1].select("escalated")
    app.text_area[0].input("same account as the March case")
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception
    db = cases.cases_db_path(store_path)
    assert cases.get_case(db, RING_A).status == "escalated"
    assert cases.notes(db, RING_A)[-1]["text"] == "same account as the March case"


def test_a_saved_note_leaves_the_box_so_the_next_save_does_not_add_it_again(app, store_path):
    log_in(app, "ana", "correct horse")
    app.session_state["cluster_id"] = RING_B
    app.switch_page("views/cluster.py").run()
    assert app.title[0].value == f"Cluster {RING_B}"
    app.text_area[0].input("receiver is a known front company")
    next(b for b in app.button if b.label == "Save").click().run()
    app.selectbox[1].select("under review")
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception
    db = cases.cases_db_path(store_path)
    assert cases.get_case(db, RING_B).status == "under review"
    assert [n["text"] for n in cases.notes(db, RING_B)].count("receiver is a known front company") == 1


@pytest.mark.parametrize("selection", [{"rows": [1]}, {"cells": [[1, "summary"]]}], ids=["checkbox", "click on a cell"])
def test_picking_a_queue_row_by_its_checkbox_or_a_click_on_any_cell_opens_that_cluster(app, selection):
    log_in(app, "ana", "correct horse")
    assert list(app.dataframe[0].value["cluster_id"])[1] == RING_B
    app.session_state["queue_table"] = {"selection": {"rows": [], "columns": [], "cells": [], **selection}}
    app.run()
    assert not app.exception
    assert app.title[0].value == f"Cluster {RING_B}"


def test_viewer_sees_the_cluster_but_cannot_change_the_case_nor_read_the_audit_log(app):
    log_in(app, "vic", "battery staple")
    app.switch_page("views/cluster.py").run()
    assert not app.exception
    assert app.selectbox[1].disabled and next(b for b in app.button if b.label == "Save").disabled
    assert "viewer" in texts(app)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/audit.py")


def test_search_by_pinyin_finds_the_ring_of_the_hanzi_name_and_is_audited(app, store_path):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/search.py").run()
    app.text_input(key="search_text").input("Wei Zhang")
    next(b for b in app.button if b.label == "Search").click().run()
    assert not app.exception
    assert RING_A in list(app.dataframe[0].value["cluster_id"])
    searches = cases.audit_log(cases.cases_db_path(store_path), user="ana", action="search")
    assert searches[0]["detail"] == "Wei Zhang"


def test_cases_page_lists_the_watch_list(app, store_path):
    cases.watch_add(cases.cases_db_path(store_path), cases.User("ana", "investigator"), "phone", "+86 139 0013 9000")
    log_in(app, "ana", "correct horse")
    app.switch_page("views/cases.py").run()
    assert not app.exception
    watch = app.dataframe[-1].value
    assert "+8613900139000" in set(watch["value_norm"])


def test_a_phone_without_digits_is_refused_on_the_watch_list_form_with_the_reason(app, store_path):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/cases.py").run()
    before = cases.watchlist(cases.cases_db_path(store_path))
    app.selectbox(key="watch_kind").select("phone")
    app.text_input(key="watch_value").input("no phone")
    next(b for b in app.button if b.label == "Add").click().run()
    assert not app.exception
    assert [e.value for e in app.error] == ["'no phone' is no phone to watch: it has no digits"]
    assert cases.watchlist(cases.cases_db_path(store_path)) == before


def test_audit_log_page_is_for_investigators_only(app):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/audit.py").run()
    assert not app.exception and app.title[0].value == "Audit log"
    assert "login" in set(app.dataframe[0].value["action"])


def test_cluster_picker_follows_each_pick_and_logs_each_view(app, store_path):
    log_in(app, "ana", "correct horse")
    app.switch_page("views/cluster.py").run()
    app.selectbox(key="cluster_pick").select(RING_B).run()
    assert app.title[0].value == f"Cluster {RING_B}"
    app.selectbox(key="cluster_pick").select(RING_A).run()
    assert app.title[0].value == f"Cluster {RING_A}"
    views = [e["target"] for e in cases.audit_log(cases.cases_db_path(store_path), user="ana", action="view_cluster")]
    assert views[:3] == [RING_A, RING_B, RING_A]
