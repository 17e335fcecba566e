"""Incremental analysis: a night's parcels extend the stored analysis, with the parties and
clusters that a full analysis of everything gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from linker.stages import pages, search
from linker.settings.resolution import load_resolution
from linker.settings.scoring import load_scoring
from linker.stages import normalise, resolve
from linker.pipeline import analysis as pipeline
from linker import store
from linker.stages.ingest import ingest_paths
from linker.store.tables import PAGE_TABLES, SEARCH_TABLES
from linker.synth import synthesise
from tests.conftest import parcel, write_csv
from tests.test_resolve import FILLER


# --- helpers -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, Path]:
    """A synthetic world cut by acceptance time into a history and one night (10%)."""
    folder = tmp_path_factory.mktemp("world")
    src = folder / "world.parquet"
    synthesise(3300, src, seed=21)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE w AS SELECT row_number() OVER (ORDER BY accepted_at, parcel_id, carrier) AS n, * "
                f"FROM read_parquet('{src}')")
    history, night = folder / "history.parquet", folder / "night.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (n) FROM w WHERE n <= 3000 ORDER BY n) TO '{history}'")
    con.execute(f"COPY (SELECT * EXCLUDE (n) FROM w WHERE n > 3000 ORDER BY n) TO '{night}'")
    con.close()
    return history, night


def _load(con, *paths: Path) -> None:
    for path in paths:
        ingest_paths(con, [path])


def _resolved(db: Path, history: Path) -> duckdb.DuckDBPyConnection:
    con = store.connect(db)
    _load(con, history)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)
    return con


def _extended(con: duckdb.DuckDBPyConnection, night: Path) -> duckdb.DuckDBPyConnection:
    _load(con, night)
    normalise.build_party_mentions(con, new_only=True)
    resolve.resolve_new_mentions(con)
    return con


def _resolved_in_two_steps(db: Path, history: Path, night: Path) -> duckdb.DuckDBPyConnection:
    return _extended(_resolved(db, history), night)


def _resolved_at_once(db: Path, *paths: Path, model_of=None) -> duckdb.DuckDBPyConnection:
    """A full resolution of everything; with `model_of` (a store's connection) under that
    store's model, as a full run of that store would use it."""
    con = store.connect(db)
    if model_of is not None:
        resolve.import_model(con, resolve.export_model(model_of))
    _load(con, *paths)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)
    return con


RESOLUTION_VIEWS = {
    "mentions": "SELECT mention_id, profile_id, entity_id FROM party_mentions",
    "links": "SELECT mention_id_l, mention_id_r FROM entity_links",
    "entities": "SELECT * FROM entities",
    "profiles": "SELECT * FROM er_profile_state",
    "frequencies": "SELECT * FROM er_freq_state",
    "keys": "SELECT * FROM er_key_state",
    # every candidate pair, its decision, and its weight brought to tonight's population
    "pairs": "SELECT profile_l, profile_r, gate_passed, accepted, round(match_weight + (n_tf - 1.0) "
             "* log2((SELECT population FROM er_state) / scored_population), 6) FROM er_pair_state",
}


def _rows(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def assert_same_resolution(a, b) -> None:
    for name, sql in RESOLUTION_VIEWS.items():
        left, right = _rows(a, sql), _rows(b, sql)
        assert left == right, f"{name} differ: {len(set(left) ^ set(right))} rows"


# --- resolution ----------------------------------------------------------------------------

def test_new_mentions_resolve_to_the_parties_a_full_resolution_finds(tmp_path, world):
    history, night = world
    inc = _resolved_in_two_steps(tmp_path / "inc.duckdb", history, night)
    full = _resolved_at_once(tmp_path / "full.duckdb", history, night, model_of=inc)
    assert inc.execute("SELECT count(*) FROM party_mentions WHERE entity_id IS NULL").fetchall()[0][0] == 0
    assert_same_resolution(inc, full)


def test_a_new_mention_that_bridges_two_parties_merges_them_and_marks_their_parcels_changed(tmp_path):
    one = parcel(parcel_id="H1", sender_name="Zhang Wei", sender_phone="+86 13800138000",
                 sender_address="88 Jianguo Road, Beijing", sender_id_number="", payer_account="")
    two = parcel(parcel_id="H2", sender_name="Zhang Wei", sender_phone="+86 13911112222",
                 sender_address="5 Huaihai Road, Shanghai", sender_id_number="", payer_account="")
    bridge = parcel(parcel_id="N1", sender_name="Zhang Wei", sender_phone="+86 13800138000",
                    sender_address="5 Huaihai Road, Shanghai", sender_id_number="", payer_account="")
    history = write_csv(tmp_path / "history.csv", FILLER + [one, two])
    night = write_csv(tmp_path / "night.csv", [bridge])
    con = _resolved(tmp_path / "inc.duckdb", history)
    sender = "SELECT entity_id FROM party_mentions WHERE role = 'sender' AND parcel_id = ?"
    assert con.execute(sender, ["H1"]).fetchall() != con.execute(sender, ["H2"]).fetchall()
    _extended(con, night)
    assert con.execute(sender, ["H1"]).fetchall() == con.execute(sender, ["H2"]).fetchall() == con.execute(sender, ["N1"]).fetchall()
    changed = {r[0] for r in con.execute(
        "SELECT p.parcel_id FROM _changed_parcels c JOIN parcels p USING (parcel_seq)").fetchall()}
    # H1's party keeps its id (the smallest mention); H2 moved into it, N1 is new
    assert {"H2", "N1"} <= changed and "H1" not in changed
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night, model_of=con))


def test_a_phone_that_becomes_an_outlets_phone_stops_linking_the_people_who_share_it(tmp_path):
    # Two names with one phone and one account: two personal contacts, one party. When the
    # phone turns out to be used by many more names (an outlet's), it no longer counts as
    # personal, and the two are apart again, as a full resolution of everything says.
    shared = {"sender_phone": "+86 13700001111", "sender_id_number": ""}
    pair = [parcel(parcel_id="H1", sender_name="Petrov Ivan", payer_account="ACC-777",
                   sender_address="12 Sadovaya Street, Harbin", **shared),
            parcel(parcel_id="H2", sender_name="Sidorov Oleg", payer_account="ACC-777",
                   sender_address="40 Zhongshan Road, Dalian", **shared)]
    others = [parcel(parcel_id=f"N{i}", sender_name=f"Walkin{i} Customer{i}", payer_account=f"OWN-{i}",
                     sender_address=f"{100 + i} Heping Road, Shenyang", **shared) for i in range(12)]
    history = write_csv(tmp_path / "history.csv", FILLER + pair)
    night = write_csv(tmp_path / "night.csv", others)
    con = _resolved(tmp_path / "inc.duckdb", history)
    sender = "SELECT entity_id FROM party_mentions WHERE role = 'sender' AND parcel_id = ?"
    assert con.execute(sender, ["H1"]).fetchall() == con.execute(sender, ["H2"]).fetchall()
    _extended(con, night)
    assert con.execute(sender, ["H1"]).fetchall() != con.execute(sender, ["H2"]).fetchall()
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night, model_of=con))


def test_changed_resolution_settings_refuse_to_extend_the_stored_resolution(tmp_path):
    con = _resolved_at_once(tmp_path / "s.duckdb", write_csv(tmp_path / "h.csv", FILLER))
    assert resolve.can_extend(con) is None
    cfg = load_resolution()
    cfg["decision"]["threshold"] = 5.0
    assert "settings" in resolve.can_extend(con, cfg)
    with pytest.raises(resolve.NeedsFullResolution):
        resolve.resolve_new_mentions(con, config=cfg)


def _two_step_with(tmp_path, cfg: dict, history_rows: list[dict], night_rows: list[dict], name: str):
    history = write_csv(tmp_path / f"{name}_h.csv", history_rows)
    night = write_csv(tmp_path / f"{name}_n.csv", night_rows)
    con = store.connect(tmp_path / f"{name}_inc.duckdb")
    _load(con, history)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con, config=cfg)
    before = con.execute("SELECT count(*) FROM entity_links").fetchall()[0][0]
    _load(con, night)
    normalise.build_party_mentions(con, new_only=True)
    resolve.resolve_new_mentions(con, config=cfg)
    full = store.connect(tmp_path / f"{name}_full.duckdb")
    resolve.import_model(full, resolve.export_model(con), cfg)
    _load(full, history, night)
    normalise.build_party_mentions(full)
    resolve.resolve_entities(full, config=cfg)
    return con, full, before


@pytest.mark.parametrize("direction", ["falls", "rises"])
def test_a_link_near_the_threshold_follows_the_grown_name_population(tmp_path, direction):
    # The prior is -log2(names): with twice the names every pair loses a bit, except the
    # weights that are themselves frequencies among all names (an exact name, a place without
    # its unit), which gain one each. A pair just over the threshold can fall under it, and one
    # just under can rise over it, without any of its own values changing.
    from tests.test_resolve import _filler

    cfg = load_resolution()
    cfg["frequency"]["min_population"] = 10
    blank = {"sender_id_number": "", "payer_account": ""}
    if direction == "falls":  # close name + same address: no population term, -1 bit
        pair = [parcel(parcel_id="H1", sender_name="Li Xiaoming", sender_phone="", **blank,
                       sender_address="18 Jiefang Road, Jianghan District, Wuhan"),
                parcel(parcel_id="H2", sender_name="Li Xiaomin", sender_phone="", **blank,
                       sender_address="18 Jiefang Road, Jianghan Dist, Wuhan City")]
    else:  # same name, phone, and place with and without a unit: two population terms, +1 bit
        pair = [parcel(parcel_id="H1", sender_name="Wang Fang", sender_phone="+86 13512345678", **blank,
                       sender_address="Flat 5, 7 Xinhua Road, Chengdu"),
                parcel(parcel_id="H2", sender_name="Wang Fang", sender_phone="+86 13512345678", **blank,
                       sender_address="7 Xinhua Road, Chengdu")]
    night = [_filler(i) for i in range(100, 140)]  # 80 new names: more than twice the population
    # the threshold half a bit on the side of the pair's weight that the night moves it across
    probe = store.connect(tmp_path / "probe.duckdb")
    _load(probe, write_csv(tmp_path / "probe.csv", FILLER + pair))
    normalise.build_party_mentions(probe)
    resolve.resolve_entities(probe, config=cfg)
    weight = probe.execute(
        """SELECT s.match_weight FROM er_pair_state s
           JOIN party_mentions a ON a.profile_id = s.profile_l AND a.role = 'sender' AND a.parcel_id IN ('H1', 'H2')
           JOIN party_mentions b ON b.profile_id = s.profile_r AND b.role = 'sender' AND b.parcel_id IN ('H1', 'H2')"""
    ).fetchall()[0][0]
    probe.close()
    cfg["decision"]["threshold"] = weight - 0.5 if direction == "falls" else weight + 0.5
    con, full, before = _two_step_with(tmp_path, cfg, FILLER + pair, night, direction)
    after = con.execute("SELECT count(*) FROM entity_links").fetchall()[0][0]
    assert (before, after) == ((1, 0) if direction == "falls" else (0, 1))
    assert_same_resolution(con, full)


def test_a_pair_at_a_warehouse_address_without_its_unit_follows_the_grown_name_population(tmp_path):
    # A place with and without its unit weighs log2(m N / dn), one more population term,
    # unless the place is a forwarding warehouse's street address (more than shared_max_names
    # people use it): then it weighs shared_weight whatever N is, and the pair only loses the
    # prior's log2(N'/N). A close name of a customer written once with and once without the
    # customer code, just over the threshold, falls under it when the names double; the
    # warehouse's other customers' pairs (rejected at the gate) lose the same.
    from tests.test_resolve import _filler

    cfg = load_resolution()
    cfg["frequency"]["min_population"] = 10
    street = "1200 Industrial Ave{}, Wilmington DE 19801"
    customers = ["John Smith", "Maria Garcia", "Ahmed Khan", "Kenji Sato", "Anna Muller", "Pierre Dubois",
                 "Fatima Zahra", "Carlos Mendes", "Yuki Tanaka", "Sven Larsson", "Priya Sharma", "Tomasz Nowak",
                 "Aisha Bello", "Dmitri Orlov", "Lucia Romano", "Omar Haddad", "Ingrid Berg", "Rahul Mehta",
                 "Chen Jing", "Nadia Petrenko"]
    warehouse = [parcel(parcel_id=f"W{i}", receiver_name=name, receiver_phone="",
                        receiver_address=street.format(f" Suite {4500 + i}")) for i, name in enumerate(customers)]
    pair = [parcel(parcel_id="H1", receiver_name="Olga Ivanova", receiver_phone="",
                   receiver_address=street.format(" Suite 4521")),
            parcel(parcel_id="H2", receiver_name="Olga Ivanva", receiver_phone="", receiver_address=street.format(""))]
    history = FILLER + warehouse + pair
    night = [_filler(i) for i in range(100, 140)]  # 80 new names: about twice the population
    probe = store.connect(tmp_path / "probe.duckdb")
    _load(probe, write_csv(tmp_path / "probe.csv", history))
    normalise.build_party_mentions(probe)
    resolve.resolve_entities(probe, config=cfg)
    (weight, dn), = probe.execute(
        """SELECT s.match_weight, f.dn FROM er_pair_state s
           JOIN party_mentions a ON a.profile_id = s.profile_l AND a.role = 'receiver' AND a.parcel_id IN ('H1', 'H2')
           JOIN party_mentions b ON b.profile_id = s.profile_r AND b.role = 'receiver' AND b.parcel_id IN ('H1', 'H2')
           JOIN er_freq_state f ON f.field = 'place' AND f.value = a.address_key"""
    ).fetchall()
    probe.close()
    assert dn > cfg["frequency"]["shared_max_names"]  # the street address is a warehouse's
    cfg["decision"]["threshold"] = weight - 0.5
    con, full, before = _two_step_with(tmp_path, cfg, history, night, "warehouse")
    after = con.execute("SELECT count(*) FROM entity_links").fetchall()[0][0]
    assert (before, after) == (1, 0)
    assert_same_resolution(con, full)


# --- the whole analysis ----------------------------------------------------------------------

def _analysed(db: Path, *paths: Path, mode: str = "auto", model_of: Path | None = None) -> pipeline.RunResult:
    """Load and analyse; with `model_of` (another store) under that store's resolution model."""
    con = store.connect(db)
    try:
        if model_of is not None:
            other = store.connect(model_of, read_only=True)
            try:
                resolve.import_model(con, resolve.export_model(other))
            finally:
                other.close()
        _load(con, *paths)
        return pipeline.analyse(con, mode=mode)
    finally:
        con.close()


def _analysed_with_night_waiting(tmp_path: Path, world) -> Path:
    """A store with the history analysed and the night loaded but not analysed yet."""
    history, night = world
    db = tmp_path / "s.duckdb"
    _analysed(db, history)
    con = store.connect(db)
    try:
        _load(con, night)
    finally:
        con.close()
    return db


# What each search table says, free of the row ids and the split into rows that a night's
# appended rows change: (value, mention) pairs, and (word, address) pairs.
SEARCH_PAIRS = {
    "search_names": "SELECT name_key, name_norm, unnest(mention_ids) FROM {0}",
    "search_name_words": "SELECT word, name_key FROM {0}",
    "search_addresses": "SELECT loose, address_unit, unnest(mention_ids) FROM {0}",
    # (a night counts an address seen again under its new row: the counts only choose words)
    "search_address_words": "SELECT word FROM {0}",
    "search_address_postings": "SELECT DISTINCT w.word, a.loose, a.address_unit FROM {0} p JOIN {w} w "
                               "USING (word_id) JOIN {a} a USING (address_id)",
    "search_phones": "SELECT phone_e164, digits, unnest(mention_ids) FROM {0}",
    "search_identifiers": "SELECT kind, ident, unnest(mention_ids) FROM {0}",
}
RESULT_VIEWS = {
    "graph nodes": "SELECT kind, key, entities, parcels, round(weight, 9), hub FROM graph_nodes",
    "graph edges": "SELECT e.parcel_seq, n.kind, n.key, round(e.weight, 9) FROM graph_edges e JOIN graph_nodes n USING (node_id)",
    "graph uses": "SELECT * FROM graph_uses",
    "groups": "SELECT parcel_seq, group_key, component_key, community_split, seed FROM parcel_groups",
    "clusters": "SELECT group_key, rank, score, flagged, commodity, est_controlled_kg, parcels, senders, receivers, "
                "summary, first_seen, last_seen FROM clusters",
    "cluster members": "SELECT c.group_key, pc.parcel_seq, pc.est_controlled_kg FROM parcel_clusters pc JOIN clusters c USING (cluster_id)",
    "signals": "SELECT c.group_key, s.signal, s.strength, s.evidence FROM cluster_signals s JOIN clusters c USING (cluster_id)",
    "party entities": "SELECT * FROM party_entities",
    "parcel signals": "SELECT * FROM parcel_signals",
    **{f"page table {t}": f"SELECT c.group_key, t.* EXCLUDE (cluster_id) FROM {t} t JOIN clusters c USING (cluster_id)"
       for t in PAGE_TABLES if t != "cluster_page_links"},
    **{f"search table {t}": SEARCH_PAIRS[t].format(t, a="search_addresses", w="search_address_words") for t in SEARCH_TABLES},
    # an old link keeps the weight and evidence of the night it was scored (as entity_links does)
    "page table cluster_page_links": "SELECT c.group_key, name_left, name_right, role, parcels_left, parcels_right "
        "FROM cluster_page_links t JOIN clusters c USING (cluster_id)",
}


def assert_same_results(a: Path, b: Path) -> None:
    ca, cb = store.connect(a, read_only=True), store.connect(b, read_only=True)
    try:
        assert_same_resolution(ca, cb)
        for name, sql in RESULT_VIEWS.items():
            left, right = _rows(ca, sql), _rows(cb, sql)
            assert left == right, f"{name} differ: {len(set(left) ^ set(right))} rows"
    finally:
        ca.close()
        cb.close()


def assert_pages_as_written_anew(db: Path) -> None:
    """The page and search tables a night wrote in place (only the clusters and values it
    changed) hold the rows that writing them all anew gives, on the same store."""
    copy = db.with_name("pages_check.duckdb")
    shutil.copyfile(db, copy)
    con = store.connect(copy)
    try:
        pages.write_pages(con, target="anew_")
        search.write_index(con, target="anew_")
        for table in PAGE_TABLES:
            kept, anew = _rows(con, f"SELECT * FROM {table}"), _rows(con, f"SELECT * FROM anew_{table}")
            assert len(anew) > 0 and kept == anew, f"{table}: {len(set(kept) ^ set(anew))} rows differ"
        # a night appends rows to the search tables: the same mentions under each value
        for table in SEARCH_TABLES:
            pairs = SEARCH_PAIRS[table]
            kept = _rows(con, pairs.format(table, a="search_addresses", w="search_address_words"))
            anew = _rows(con, pairs.format(f"anew_{table}", a="anew_search_addresses", w="anew_search_address_words"))
            assert len(anew) > 0 and kept == anew, f"{table}: {len(set(kept) ^ set(anew))} (value, mention) pairs differ"
    finally:
        con.close()
        copy.unlink()


def test_a_night_extends_the_analysis_to_the_results_of_a_full_run(tmp_path, world):
    history, night = world
    first = _analysed(tmp_path / "inc.duckdb", history)
    assert first.counts["mode"] == "full" and first.counts["full_reason"] == "no earlier analysis to extend"
    second = _analysed(tmp_path / "inc.duckdb", night)
    assert second.counts["mode"] == "incremental", second.counts.get("full_reason")
    assert second.counts["changed_parcels"] >= 300
    full = _analysed(tmp_path / "full.duckdb", history, night, model_of=tmp_path / "inc.duckdb")
    assert full.counts["mode"] == "full"
    assert full.counts["flagged_clusters"] == second.counts["flagged_clusters"] > 0
    assert_same_results(tmp_path / "inc.duckdb", tmp_path / "full.duckdb")
    assert_pages_as_written_anew(tmp_path / "inc.duckdb")


def test_changed_settings_make_the_next_run_a_full_one(tmp_path, world):
    history, night = world
    _analysed(tmp_path / "s.duckdb", history)
    config = load_scoring()
    config["flag"]["min_score"] = float(config["flag"]["min_score"]) + 1
    con = store.connect(tmp_path / "s.duckdb")
    try:
        _load(con, night)
        result = pipeline.analyse(con, config=config)
        assert result.counts["mode"] == "full"
        assert "settings" in result.counts["full_reason"]
        with pytest.raises(pipeline.PipelineError, match="cannot extend"):
            pipeline.analyse(con, mode="incremental")  # default settings differ from the last run's
    finally:
        con.close()


def test_a_failed_incremental_run_leaves_the_store_as_it_was_and_the_next_one_succeeds(tmp_path, world, monkeypatch):
    from linker.stages import graph

    db = _analysed_with_night_waiting(tmp_path, world)
    con = store.connect(db, read_only=True)
    before = {name: _rows(con, sql) for name, sql in {**RESOLUTION_VIEWS, **RESULT_VIEWS}.items()}
    state = con.execute("SELECT * FROM analysis_state").fetchall()
    con.close()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(graph, "update_graph", broken)
    with pytest.raises(pipeline.PipelineError, match="graph stage failed.*disk full"):
        pipeline.run(db)
    con = store.connect(db, read_only=True)
    after = {name: _rows(con, sql) for name, sql in {**RESOLUTION_VIEWS, **RESULT_VIEWS}.items()}
    assert con.execute("SELECT * FROM analysis_state").fetchall() == state
    assert con.execute("SELECT status FROM runs ORDER BY run_seq DESC LIMIT 1").fetchall() == [("failed",)]
    con.close()
    assert after == before
    monkeypatch.undo()
    # the night's parcels are still loaded and wait for the next run
    result = pipeline.run(db)
    assert result.counts["mode"] == "incremental"
    assert result.counts["new_mentions"] == 2 * 300


def test_linker_run_full_analyses_everything_again(tmp_path, world):
    history, _ = world
    db = tmp_path / "s.duckdb"
    _analysed(db, history)
    cmd = [sys.executable, "-m", "linker", "run", "--db", str(db)]
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "extended the last analysis: 0 parcels" in again.stdout
    full = subprocess.run(cmd + ["--full"], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    assert "full analysis: a full run was asked for" in full.stdout
    history = subprocess.run([sys.executable, "-m", "linker", "runs", "--db", str(db)], capture_output=True, text=True,
                             env={**os.environ, "COLUMNS": "200"})
    assert history.returncode == 0, history.stderr
    rows = [[cell.strip() for cell in line.split("│")] for line in history.stdout.splitlines() if line.startswith("│")]
    assert [row[6] for row in rows] == ["full", "incremental"]  # newest first, column "analysis"


PAUSED_RUN = r"""
import sys, time
from pathlib import Path
from linker.pipeline import analysis as pipeline
db, marker = sys.argv[1:3]
def on_stage(stage, event, info):
    if stage == "graph" and event == "start":  # parties resolved and written, graph not yet
        Path(marker).write_text("in the graph stage")
        time.sleep(120)
pipeline.run(db, on_stage=on_stage)
"""


def test_a_run_killed_inside_the_incremental_transaction_leaves_the_last_analysis_and_the_next_run_completes_it(tmp_path, world):
    import signal
    import time

    db = _analysed_with_night_waiting(tmp_path, world)
    marker = tmp_path / "marker"
    victim = subprocess.Popen([sys.executable, "-c", PAUSED_RUN, str(db), str(marker)], cwd=Path(__file__).parent.parent)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert victim.poll() is None, "the run ended before its graph stage"
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    con = store.connect(db, read_only=True)
    try:
        # nothing of the night's analysis was kept: no mention, no party, no state of it
        assert con.execute("SELECT count(*) FROM party_mentions").fetchall()[0][0] == 2 * 3000
        assert con.execute("SELECT max_parcel_seq, parcels FROM analysis_state").fetchall()[0][1] == 3000
    finally:
        con.close()
    resumed = pipeline.run(db)
    assert resumed.counts["mode"] == "incremental"
    _analysed(tmp_path / "full.duckdb", *world, model_of=db)
    assert_same_results(db, tmp_path / "full.duckdb")
    assert_pages_as_written_anew(db)


def test_a_failed_full_run_leaves_nothing_to_extend_so_the_next_run_is_full_again(tmp_path, world, monkeypatch):
    # A full run rebuilds the working tables one stage after the other; if it fails half way,
    # they belong to no analysis and must not be extended.
    from linker.stages import resolve as resolve_module

    history, _ = world
    db = tmp_path / "s.duckdb"
    _analysed(db, history)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(resolve_module, "resolve_entities", broken)
    with pytest.raises(pipeline.PipelineError, match="resolve stage failed"):
        pipeline.run(db, mode="full")
    monkeypatch.undo()
    result = pipeline.run(db)
    assert result.counts["mode"] == "full"
    assert result.counts["full_reason"] == "no earlier analysis to extend"


def test_a_name_that_gains_another_reading_at_night_is_compared_again_as_a_full_run_would(tmp_path):
    # "ZHONG Cun Jie Yi" has the pinyin key of 中村 結衣; only when the kanji form arrives does
    # that key gain its Japanese reading (nakamura yui), which makes the romaji label of the
    # same flat and phone one person with it.
    def receiver(pid, name, address):
        return parcel(parcel_id=pid, sender_name="李娜", sender_phone="+86 139 0000 1111",
                      sender_address="浙江省杭州市西湖区文三路5号", dest_country="JP",
                      receiver_name=name, receiver_phone="+81 90-1234-5678", receiver_address=address)
    flat = "Roppongi 4-25-9, Room 1203, Minato-ku, Tokyo 106-0032"
    history = write_csv(tmp_path / "h.csv", FILLER + [receiver("J1", "ZHONG Cun Jie Yi", flat),
                                                      receiver("J2", "Yui Nakamura", flat)])
    night = write_csv(tmp_path / "n.csv", [receiver("J3", "中村 結衣", "東京都港区六本木4-25-9 1203号室")])
    con = _resolved(tmp_path / "inc.duckdb", history)
    who = "SELECT entity_id FROM party_mentions WHERE role = 'receiver' AND parcel_id = ?"
    assert con.execute(who, ["J1"]).fetchall() != con.execute(who, ["J2"]).fetchall()
    _extended(con, night)
    assert con.execute(who, ["J1"]).fetchall() == con.execute(who, ["J2"]).fetchall()
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night, model_of=con))


@pytest.mark.parametrize("before", [45, 55])  # the shop's block crosses the cap tonight / is over it already
def test_a_web_shop_over_the_block_cap_stays_one_party_through_its_anchors_night_by_night(tmp_path, before):
    def shop(i):
        return parcel(parcel_id=f"S{i:03d}", sender_name="Yiwu Shunfa Toys Co Ltd", sender_phone="+86 579 8555 1234",
                      sender_address=f"{i + 1} Chouzhou North Road, Yiwu", sender_id_number="", payer_account="",
                      receiver_name=f"Buyer{i} Person", receiver_phone=f"+7 701 {i:07d}",
                      receiver_address=f"{i + 1} Abay Avenue, Almaty")
    history = write_csv(tmp_path / "h.csv", FILLER + [shop(i) for i in range(before)])
    night = write_csv(tmp_path / "n.csv", [shop(i) for i in range(before, 62)])
    con = _resolved(tmp_path / "inc.duckdb", history)
    _extended(con, night)
    shop_entities = "SELECT count(DISTINCT entity_id) FROM party_mentions WHERE role = 'sender' AND parcel_id LIKE 'S%'"
    assert con.execute(shop_entities).fetchall()[0][0] == 1
    # 62 profiles: all with all would be 1,891 pairs; the anchors pair each with the first three
    shop_pairs = ("SELECT count(*) FROM er_pair_state WHERE profile_l IN (SELECT profile_id FROM party_mentions "
                  "WHERE role = 'sender' AND parcel_id LIKE 'S%') AND profile_r IN (SELECT profile_id FROM party_mentions "
                  "WHERE role = 'sender' AND parcel_id LIKE 'S%')")
    assert con.execute(shop_pairs).fetchall()[0][0] < 62 * 3
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night, model_of=con))
