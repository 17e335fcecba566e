"""Snapshots: readers open a complete published copy of the store, switched by an atomic pointer."""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from linker.store import snapshot
from linker import store


def make_store(path, n_parcels_marker: int):
    """A real store whose content says which version it is (a marker table)."""
    con = store.connect(path)
    con.execute("CREATE OR REPLACE TABLE version AS SELECT ? AS v", [n_parcels_marker])
    con.close()


def read_version(snapshot_file) -> int:
    con = duckdb.connect(str(snapshot_file), read_only=True)
    try:
        return con.execute("SELECT v FROM version").fetchone()[0]
    finally:
        con.close()


def test_latest_is_none_before_anything_is_published(tmp_path):
    make_store(tmp_path / "s.duckdb", 1)
    assert snapshot.latest(tmp_path / "s.duckdb") is None


def test_publish_makes_a_readable_copy_that_latest_points_to(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    path = snapshot.publish(db, "run-1")
    assert path == tmp_path / "s.duckdb.snapshots" / "run-1.duckdb"
    assert snapshot.latest(db) == path
    assert read_version(path) == 1


def test_publish_includes_changes_still_held_by_an_open_writer(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    con = store.connect(db)
    con.execute("UPDATE version SET v = 2")
    path = snapshot.publish(db, "run-2", con=con)
    con.close()
    assert read_version(path) == 2


def test_a_new_publication_switches_readers_while_an_open_reader_keeps_the_old_one(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    first = snapshot.publish(db, "run-1")
    reader = duckdb.connect(str(snapshot.latest(db)), read_only=True)
    make_store(db, 2)
    second = snapshot.publish(db, "run-2")
    assert snapshot.latest(db) == second
    assert reader.execute("SELECT v FROM version").fetchone()[0] == 1
    reader.close()
    assert read_version(snapshot.latest(db)) == 2
    assert first.exists()  # younger than the grace period


def test_the_pointer_names_a_file_inside_the_snapshot_folder(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    snapshot.publish(db, "run-1")
    assert (tmp_path / "s.duckdb.snapshots" / "CURRENT").read_text().strip() == "run-1.duckdb"


def test_a_partial_copy_left_by_a_killed_publisher_is_never_returned_and_is_pruned_later(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    good = snapshot.publish(db, "run-1")
    partial = good.parent / "run-2.duckdb.partial-999999"
    partial.write_bytes(b"half a database")
    assert snapshot.latest(db) == good
    assert snapshot.prune(db, grace_seconds=3600) == []
    old = time.time() - 7200
    os.utime(partial, (old, old))
    assert snapshot.prune(db, grace_seconds=3600) == [partial]


def test_prune_keeps_the_newest_n_the_current_one_and_young_ones(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    paths = [snapshot.publish(db, f"run-{i}", keep=100) for i in range(5)]
    # Age all but the last; make the oldest current again (a rollback by hand).
    for i, p in enumerate(paths[:-1]):
        t = time.time() - 10_000 + i
        os.utime(p, (t, t))
    snapshot.write_pointer(db, paths[0])
    removed = snapshot.prune(db, keep=2, grace_seconds=600)
    assert sorted(removed) == sorted(paths[1:3])
    assert [s.run_id for s in snapshot.list_snapshots(db)] == ["run-0", "run-3", "run-4"]


def test_latest_falls_back_to_the_newest_snapshot_when_the_pointer_is_missing(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    snapshot.publish(db, "run-1")
    newest = snapshot.publish(db, "run-2")
    (newest.parent / "CURRENT").unlink()
    assert snapshot.latest(db) == newest


def test_a_run_id_that_is_not_a_safe_file_name_is_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    make_store(db, 1)
    with pytest.raises(store.StoreError, match="cannot name a snapshot"):
        snapshot.publish(db, "../escape")
