"""Incremental analysis: a night's parcels extend the stored analysis, with the parties and
clusters that a full analysis of everything gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from linker import normalise, pipeline, resolve, store
from linker.ingest import ingest_paths
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


def _resolved_in_two_steps(db: Path, history: Path, night: Path) -> duckdb.DuckDBPyConnection:
    con = store.connect(db)
    _load(con, history)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)
    _load(con, night)
    normalise.build_party_mentions(con, new_only=True)
    resolve.resolve_new_mentions(con)
    return con


def _resolved_at_once(db: Path, *paths: Path) -> duckdb.DuckDBPyConnection:
    con = store.connect(db)
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
    full = _resolved_at_once(tmp_path / "full.duckdb", history, night)
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
    con = store.connect(tmp_path / "inc.duckdb")
    _load(con, history)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)
    sender = "SELECT entity_id FROM party_mentions WHERE role = 'sender' AND parcel_id = ?"
    assert con.execute(sender, ["H1"]).fetchall() != con.execute(sender, ["H2"]).fetchall()
    _load(con, night)
    normalise.build_party_mentions(con, new_only=True)
    resolve.resolve_new_mentions(con)
    assert con.execute(sender, ["H1"]).fetchall() == con.execute(sender, ["H2"]).fetchall() == con.execute(sender, ["N1"]).fetchall()
    changed = {r[0] for r in con.execute(
        "SELECT p.parcel_id FROM _changed_parcels c JOIN parcels p USING (parcel_seq)").fetchall()}
    # H1's party keeps its id (the smallest mention); H2 moved into it, N1 is new
    assert {"H2", "N1"} <= changed and "H1" not in changed
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night))


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
    con = store.connect(tmp_path / "inc.duckdb")
    _load(con, history)
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)
    sender = "SELECT entity_id FROM party_mentions WHERE role = 'sender' AND parcel_id = ?"
    assert con.execute(sender, ["H1"]).fetchall() == con.execute(sender, ["H2"]).fetchall()
    _load(con, night)
    normalise.build_party_mentions(con, new_only=True)
    resolve.resolve_new_mentions(con)
    assert con.execute(sender, ["H1"]).fetchall() != con.execute(sender, ["H2"]).fetchall()
    assert_same_resolution(con, _resolved_at_once(tmp_path / "full.duckdb", history, night))


def test_changed_resolution_settings_refuse_to_extend_the_stored_resolution(tmp_path):
    con = _resolved_at_once(tmp_path / "s.duckdb", write_csv(tmp_path / "h.csv", FILLER))
    assert resolve.can_extend(con) is None
    cfg = resolve.load_config()
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

    cfg = resolve.load_config()
    cfg["frequency"]["min_population"] = 10
    blank = {"sender_id_number": "", "payer_account": ""}
    if direction == "falls":  # close name + same address: no population term, -1 bit
        cfg["decision"]["threshold"] = 16.5
        pair = [parcel(parcel_id="H1", sender_name="Li Xiaoming", sender_phone="", **blank,
                       sender_address="18 Jiefang Road, Jianghan District, Wuhan"),
                parcel(parcel_id="H2", sender_name="Li Xiaomin", sender_phone="", **blank,
                       sender_address="18 Jiefang Road, Jianghan Dist, Wuhan City")]
    else:  # same name, phone, and place with and without a unit: two population terms, +1 bit
        cfg["decision"]["threshold"] = 21.5
        pair = [parcel(parcel_id="H1", sender_name="Wang Fang", sender_phone="+86 13512345678", **blank,
                       sender_address="Flat 5, 7 Xinhua Road, Chengdu"),
                parcel(parcel_id="H2", sender_name="Wang Fang", sender_phone="+86 13512345678", **blank,
                       sender_address="7 Xinhua Road, Chengdu")]
    night = [_filler(i) for i in range(100, 140)]  # 80 new names: more than twice the population
    con, full, before = _two_step_with(tmp_path, cfg, FILLER + pair, night, direction)
    after = con.execute("SELECT count(*) FROM entity_links").fetchall()[0][0]
    assert (before, after) == ((1, 0) if direction == "falls" else (0, 1))
    assert_same_resolution(con, full)
