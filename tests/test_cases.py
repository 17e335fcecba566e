"""Cases, notes, users, watch list and audit log: the investigators' own file beside the store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from linker.casework import auth, cases
from linker.casework.cases import CasesError, User

ANA = User("ana", "investigator")
VIC = User("vic", "viewer")


@pytest.fixture
def cases_file(tmp_path):
    return cases.cases_db_path(tmp_path / "store.duckdb")


def test_cases_file_sits_beside_the_store_named_after_it(tmp_path):
    assert cases.cases_db_path(tmp_path / "nightly.duckdb") == tmp_path / "nightly.cases.sqlite"


def test_cases_file_uses_write_ahead_logging_so_cli_and_server_can_both_write(cases_file):
    cases.audit(cases_file, "ana", "search", None, "x")
    con = sqlite3.connect(cases_file)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_password_is_stored_hashed_and_checks(cases_file):
    auth.create_user(cases_file, "ana", "investigator", "correct horse")
    user, stored = cases.get_user(cases_file, "ana")
    assert "correct horse" not in stored and stored.startswith("$2")
    assert auth.authenticate(cases_file, "ana", "correct horse") == User("ana", "investigator")


def test_wrong_password_and_unknown_user_are_refused_and_audited(cases_file):
    auth.create_user(cases_file, "ana", "investigator", "correct horse")
    assert auth.authenticate(cases_file, "ana", "wrong horse!") is None
    assert auth.authenticate(cases_file, "mallory", "anything1") is None
    refused = cases.audit_log(cases_file, action="login_refused")
    assert {(e["target"], e["detail"]) for e in refused} == {("ana", "wrong password"), ("mallory", "unknown user")}


def test_repeated_refusals_lock_the_name_out_even_with_the_right_password(cases_file):
    auth.create_user(cases_file, "ana", "investigator", "correct horse")
    for _ in range(auth.MAX_REFUSALS):
        cases.audit(cases_file, "ana", "login_refused", "ana", "wrong password")
    assert auth.authenticate(cases_file, "ana", "correct horse") is None


def test_short_password_and_duplicate_user_are_refused_with_one_sentence(cases_file):
    with pytest.raises(CasesError, match="at least"):
        auth.create_user(cases_file, "ana", "investigator", "short")
    auth.create_user(cases_file, "ana", "viewer", "long enough")
    with pytest.raises(CasesError, match="already exists"):
        auth.create_user(cases_file, "ana", "viewer", "long enough")


def test_unknown_role_is_refused(cases_file):
    with pytest.raises(CasesError, match="role must be one of"):
        cases.add_user(cases_file, "ana", "admin", "$2b$hash")


def test_clusters_without_a_case_row_are_new_and_unassigned(cases_file):
    case = cases.get_case(cases_file, "C-123")
    assert (case.status, case.assignee) == ("new", None)


def test_case_status_and_assignee_change_and_each_change_is_audited(cases_file):
    cases.update_case(cases_file, ANA, "C-1", status="under review", assignee="ana")
    cases.update_case(cases_file, ANA, "C-1", status="escalated")
    case = cases.get_case(cases_file, "C-1")
    assert (case.status, case.assignee, case.updated_by) == ("escalated", "ana", "ana")
    details = [e["detail"] for e in cases.audit_log(cases_file, user="ana")]
    assert details == ["under review -> escalated", "- -> ana", "new -> under review"]


def test_unknown_status_is_refused(cases_file):
    with pytest.raises(CasesError, match="status must be one of"):
        cases.update_case(cases_file, ANA, "C-1", status="closed")


def test_viewers_cannot_change_cases_notes_or_the_watch_list(cases_file):
    with pytest.raises(CasesError, match="viewer"):
        cases.update_case(cases_file, VIC, "C-1", status="dismissed")
    with pytest.raises(CasesError, match="viewer"):
        cases.add_note(cases_file, VIC, "C-1", "looks fine")
    with pytest.raises(CasesError, match="viewer"):
        cases.watch_add(cases_file, VIC, "phone", "13800138000")
    assert cases.get_case(cases_file, "C-1").status == "new" and cases.notes(cases_file, "C-1") == []


def test_notes_are_kept_in_order_per_cluster(cases_file):
    cases.add_note(cases_file, ANA, "C-1", "same account as last month")
    cases.add_note(cases_file, ANA, "C-2", "other case")
    cases.add_note(cases_file, ANA, "C-1", "asked customs for the manifests")
    assert [n["text"] for n in cases.notes(cases_file, "C-1")] == [
        "same account as last month",
        "asked customs for the manifests",
    ]


def test_audit_log_refuses_update_and_delete_at_the_database(cases_file):
    cases.audit(cases_file, "ana", "export", "C-1", None)
    con = sqlite3.connect(cases_file)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit_log SET user = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit_log")


def test_watch_list_keeps_one_entry_per_canonical_value(cases_file):
    assert cases.watch_add(cases_file, ANA, "account", "6222 0212 3456 7890", "paid for ring C-1")
    assert not cases.watch_add(cases_file, ANA, "account", "6222-0212-3456-7890")
    entries = cases.watchlist(cases_file)
    assert len(entries) == 1 and entries[0]["added_by"] == "ana" and entries[0]["note"] == "paid for ring C-1"


def test_a_watch_list_value_with_nothing_to_match_on_is_refused_in_one_line(cases_file):
    for kind, value in (("phone", "n/a"), ("phone", "none given"), ("name", "???")):
        with pytest.raises(CasesError, match=r"is no (phone|name) to watch: it has no ") as refused:
            cases.watch_add(cases_file, ANA, kind, value)
        assert "\n" not in str(refused.value)
    assert cases.watchlist(cases_file) == []


def test_an_empty_watch_list_value_stored_by_an_earlier_version_matches_nothing(cases_file, tmp_path):
    from linker.casework.watchlist import load_watchlist

    cases.watch_add(cases_file, ANA, "phone", "+86 138 0013 8000")
    with cases.open_cases(cases_file) as con:
        con.execute("INSERT INTO watchlist (kind, value, value_norm, added_by, added_at) VALUES ('phone', 'n/a', '', 'ana', '2026')")
    assert [i.value for i in load_watchlist(tmp_path / "store.duckdb")] == ["+86 138 0013 8000"]


def test_watch_list_rejects_unknown_kinds(cases_file):
    with pytest.raises(CasesError, match="kind must be one of"):
        cases.watch_add(cases_file, ANA, "email", "x@example.org")


def linker(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linker", *args], input=stdin, text=True, capture_output=True, timeout=60)


def test_cli_users_add_reads_the_password_from_stdin_and_the_user_can_log_in(tmp_path):
    db = tmp_path / "store.duckdb"
    done = linker("users", "add", "ana", "--role", "viewer", "--password-stdin", "--db", str(db), stdin="long secret\n")
    assert done.returncode == 0, done.stderr
    assert auth.authenticate(cases.cases_db_path(db), "ana", "long secret") == User("ana", "viewer")


def test_cli_users_add_refuses_a_bad_role_in_one_line(tmp_path):
    done = linker("users", "add", "ana", "--role", "admin", "--password-stdin", "--db", str(tmp_path / "s.duckdb"), stdin="long secret\n")
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0 and "role must be one of" in done.stderr


def test_cli_serve_without_a_store_says_so_in_one_line(tmp_path):
    done = linker("serve", "--db", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 1 and "no store at" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("written, value_norm", [("+86 138-0013-8000", "+8613800138000"), ("13800138000", "+8613800138000"),
                                                 ("48-696672022", "+48696672022"), ("0048 696 672 022", "+48696672022"),
                                                 ("696 672 022", "696672022")])
def test_a_watched_phone_is_stored_as_the_data_stores_it(written, value_norm):
    # A national number is read as Chinese; one that is no Chinese number gets no +86.
    assert cases.normalise_value("phone", written) == value_norm
