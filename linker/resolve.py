"""Entity resolution: which sender and receiver mentions are one real-world party.

Reads `party_mentions` (built by `linker/normalise.py`) and writes `party_mentions.entity_id`,
`party_mentions.profile_id`, `entities` and `entity_links`. All of it is SQL in DuckDB (string
similarities are rapidfuzz UDFs over Arrow batches); Python only assembles the statements
from `linker/resolution.toml` and runs them in order.

The algorithm, stage by stage (each stage a named table):

1. `er_profiles`: mentions with identical normalised fields (name key, phone, ID number,
   account, address key and unit) are one *profile*; a shop posting 300 identical parcels is
   one profile, not 300. Only profiles are compared, and every mention of a profile goes to
   the profile's party. `profile_id` is the smallest mention_id of the profile.
2. `er_freq`: for every identifier value, how many parties use it, as an effective number of
   names (mentions with the value / mentions of its most frequent name). This is the term
   frequency of the Fellegi-Sunter model: u = u_base * that number, and above
   `shared_max_names` the value is an outlet, courier or forwarding warehouse and weighs
   nothing.
3. `er_pairs` (blocking): profiles that share a blocking key (phone, ID or a half of it,
   account, name key, name+phone, name+place, place+unit, a name token with a house number)
   are candidate pairs; keys held by more than the rule's `max_block` profiles are skipped
   for that rule, so work stays linear. Keys are hashed to integers for the self-join.
4. `er_scores` (comparison): per field a level (exact, close, similar, different, missing)
   and its weight log2(m/u); the pair's score is the prior log2-odds plus the weights
   (Fellegi & Sunter, 1969, "A theory for record linkage", JASA 64:1183). Fuzzy measures are
   rapidfuzz's (edit-distance ratio of names, token-set ratio of places) over Arrow batches.
   A pair is accepted at `threshold` bits when it also passes a gate: the name agrees, or
   the ID number does, or two personal contacts (phone, account, exact address) do, or a
   similar name comes with the same place. Shared contacts of outlets, warehouses and
   recruited senders are correlated, which the independence assumption ignores.
5. `er_labels` (clustering): connected components of accepted pairs by iterative
   min-label propagation, as Splink's connected_components does: each profile takes the
   smallest label among itself and its neighbours until no label changes.
6. `entity_id` of every mention = the smallest mention_id of its component (deterministic).

m and u are fixed priors from the config, not trained: training on a small store is
unstable, and fixed priors make the result the same for the same input (the seed is kept
in the signature for an engine that samples).
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa
from rapidfuzz import fuzz, process

from linker.normalise import execute_script

CONFIG_PATH = Path(__file__).parent / "resolution.toml"


class ResolutionError(Exception):
    """A problem the user can act on, stated in one sentence."""


@dataclass
class ResolutionStats:
    mentions: int = 0
    profiles: int = 0
    candidate_pairs: int = 0
    links: int = 0
    entities: int = 0
    iterations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def load_config(path: str | Path | None = None) -> dict:
    with open(path or CONFIG_PATH, "rb") as fh:
        return tomllib.load(fh)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open on the connection.
    return con.execute(sql).fetchall()[0][0]


def _log2(x: float) -> float:
    return math.log2(x)


def _w(level: dict) -> str:
    """Fixed weight log2(m/u) of a level as a SQL literal."""
    return f"{_log2(level['m'] / level['u']):.6f}"


def _tf_w(level: dict, dn: str, cfg: dict, shared_cap: bool = True) -> str:
    """Term-frequency weight of an exact agreement on a value that `dn` distinct names use.

    For identifiers made to be personal (ID numbers, phones, accounts, address + unit) the
    level gives `u_base`, the chance that two different people hold one value, and each
    further name on the value makes that more likely: u = u_base * dn. Otherwise (names,
    places) u = max(dn / N, u_floor). Once dn passes `shared_max_names` the value is an outlet
    or a warehouse and weighs `shared_weight` (names themselves have no such cap: a common
    name is weak evidence, never an outlet)."""
    freq = cfg["frequency"]
    if "u_base" in level:
        u = f"{float(level['u_base'])} * coalesce({dn}, 1)"
    else:
        u = f"greatest(coalesce({dn}, 1) / n_names, {float(freq['u_floor'])})"
    tf = f"log2({level['m']} / {u})"
    if not shared_cap:
        return tf
    return f"CASE WHEN {dn} > {int(freq['shared_max_names'])} THEN {float(freq['shared_weight'])} ELSE {tf} END"


# --- stages -----------------------------------------------------------------------------------

def _profiles_sql() -> str:
    """Profile = the distinct tuple of normalised fields. A mention without a name is a profile
    of its own (blank names are not one party). Phones with fewer than 6 digits are
    placeholders ("0", "123"), not identifiers."""
    return """
    CREATE OR REPLACE TEMP TABLE er_mentions AS
    SELECT mention_id, name_key,
           CASE WHEN length(regexp_replace(phone_e164, '[^0-9]', '', 'g')) >= 6 THEN phone_e164 END AS phone,
           id_number_norm AS id_number, account_norm AS account, address_key, address_unit AS unit
    FROM party_mentions;
    CREATE OR REPLACE TEMP TABLE er_mention_profile AS
    SELECT mention_id,
           min(mention_id) OVER (PARTITION BY name_key, phone, id_number, account, address_key, unit,
                                 CASE WHEN name_key IS NULL THEN mention_id END) AS profile_id
    FROM er_mentions;
    CREATE OR REPLACE TEMP TABLE er_profiles AS
    SELECT mp.profile_id, any_value(name_key) AS name_key, any_value(phone) AS phone,
           any_value(id_number) AS id_number, any_value(account) AS account,
           any_value(address_key) AS address_key, any_value(unit) AS unit, count(*) AS mentions
    FROM er_mentions m JOIN er_mention_profile mp USING (mention_id)
    GROUP BY mp.profile_id;
    """


def _freq_sql() -> str:
    """How many parties use each identifier value, as an *effective number of names*: the
    mentions carrying the value divided by the mentions of its most frequent name key.

    Counting distinct name keys would count a shop's typos and spellings as so many people;
    the effective number stays near 1 for a shop or a person however they write their name,
    is a few for an organiser behind aliases or recruits paid by one account, and is in the
    hundreds for an outlet's phone or a warehouse's street address. For names themselves the
    number of profiles with the key is used (how common the name is)."""
    parts = []
    for field_name, expr in (
        ("phone", "phone"),
        ("id_number", "id_number"),
        ("account", "account"),
        ("place", "address_key"),
        ("place_unit", "address_key || '#' || unit"),
    ):
        parts.append(
            f"""SELECT '{field_name}' AS field, value, sum(n)::DOUBLE / max(n) AS dn
            FROM (SELECT {expr} AS value, name_key, sum(mentions) AS n FROM er_profiles
                  WHERE {expr} IS NOT NULL GROUP BY 1, 2)
            GROUP BY value"""
        )
    parts.append(
        "SELECT 'name', name_key, count(*)::DOUBLE FROM er_profiles WHERE name_key IS NOT NULL GROUP BY 2"
    )
    # Each profile carries the frequency of each of its own values, so that comparing a pair
    # needs no join beyond the two profiles.
    return "CREATE OR REPLACE TEMP TABLE er_freq AS " + " UNION ALL ".join(parts) + """;
    CREATE OR REPLACE TEMP TABLE er_profiles AS
    SELECT p.*, fn.dn AS name_dn, fp.dn AS phone_dn, fi.dn AS id_dn, fa.dn AS account_dn,
           fpl.dn AS place_dn, fpu.dn AS place_unit_dn
    FROM er_profiles p
    LEFT JOIN er_freq fn ON fn.field = 'name' AND fn.value = p.name_key
    LEFT JOIN er_freq fp ON fp.field = 'phone' AND fp.value = p.phone
    LEFT JOIN er_freq fi ON fi.field = 'id_number' AND fi.value = p.id_number
    LEFT JOIN er_freq fa ON fa.field = 'account' AND fa.value = p.account
    LEFT JOIN er_freq fpl ON fpl.field = 'place' AND fpl.value = p.address_key
    LEFT JOIN er_freq fpu ON fpu.field = 'place_unit' AND fpu.value = p.address_key || '#' || p.unit;
    """


def _blocking_sql(cfg: dict) -> str:
    """Candidate pairs: profiles sharing a key of some rule, in blocks no bigger than the cap.

    Keys are hashed to 64-bit integers and rules numbered, so that the self-join and the
    grouping work on integers; the rules that proposed a pair are kept as a bit set (decoded
    into names for the evidence of accepted links only). A hash collision can only add a
    candidate pair, which is then scored like any other."""
    block = cfg["blocking"]
    keys, caps = [], []
    for i, rule in enumerate(block["rules"]):
        cap = int(rule.get("max_block", block["max_block"]))
        caps.append(f"WHEN {i} THEN {cap}")
        keys.append(
            f"SELECT DISTINCT {i}::TINYINT AS rule, hash(key) AS key, profile_id "
            f"FROM (SELECT profile_id, {rule['key']} AS key FROM er_profiles) WHERE key IS NOT NULL"
        )
    return f"""
    CREATE OR REPLACE TEMP TABLE er_keys AS {" UNION ALL ".join(keys)};
    CREATE OR REPLACE TEMP TABLE er_pairs AS
    WITH sized AS (
        SELECT rule, key, profile_id, count(*) OVER (PARTITION BY rule, key) AS n FROM er_keys
    ), kept AS (
        SELECT rule, key, profile_id FROM sized WHERE n BETWEEN 2 AND CASE rule {" ".join(caps)} END
    )
    SELECT l.profile_id AS profile_l, r.profile_id AS profile_r, bit_or(1::INTEGER << l.rule::INTEGER) AS rules
    FROM kept l JOIN kept r ON l.rule = r.rule AND l.key = r.key AND l.profile_id < r.profile_id
    GROUP BY 1, 2;
    DROP TABLE er_keys;
    """


def _rule_names_sql(cfg: dict, bits: str) -> str:
    """The names of the blocking rules in the bit set `bits` (see _blocking_sql)."""
    names = ", ".join(f"'{rule['name']}'" for rule in cfg["blocking"]["rules"])
    return f"list_filter([{names}], lambda name, i: ({bits} >> (i - 1)) & 1 = 1)"


def _scores_sql(cfg: dict) -> str:
    """Per field a comparison level and its weight; the score is prior + the sum of weights.

    Cheap equality levels come first. The gate: the name agrees (close or exact), or the ID
    number does, or two personal contacts do, or a similar name comes with the same place. The
    costly fuzzy place comparison runs only for pairs that can still pass it (for the others
    the address level is 'not_compared'). Fuzzy measures are rapidfuzz's, over Arrow batches.
    """
    f = cfg["fields"]
    nm, ph, idn, acc, ad = f["name"], f["phone"], f["id_number"], f["account"], f["address"]
    decision = cfg["decision"]
    gate = "TRUE"
    if decision.get("require_name_or_id", True):
        shared = int(cfg["frequency"]["shared_max_names"])
        personal_contacts = (
            f"(phone_level = 'exact' AND phone_dn <= {shared})::INT"
            f" + (account_level = 'exact' AND account_dn <= {shared})::INT"
            f" + (place_l = place_r AND unit_l IS NOT DISTINCT FROM unit_r"
            f"    AND coalesce(place_unit_dn, place_dn) <= {shared})::INT"
        )
        gate = (
            "(name_level IN ('exact', 'close') OR id_number_level IN ('exact', 'typo')"
            f" OR {personal_contacts} >= {int(decision['contacts_without_name'])})"
        )

    return f"""
    -- The fuzzy measures are Python UDFs: they run once per distinct pair of values, in
    -- statements of their own (on one DuckDB thread, see normalise.execute_script).
    CREATE OR REPLACE TEMP TABLE er_name_sim AS
    SELECT a, b, linker_name_similarity(a, b) AS sim FROM (
        SELECT DISTINCT l.name_key AS a, r.name_key AS b
        FROM er_pairs p JOIN er_profiles l ON l.profile_id = p.profile_l JOIN er_profiles r ON r.profile_id = p.profile_r
        WHERE l.name_key <> r.name_key);
    CREATE OR REPLACE TEMP TABLE er_gated AS
    WITH n AS (
        -- A small store is a sample of a large population: frequencies and the prior are taken
        -- against at least `min_population` names, or a tiny test store would trust nothing.
        SELECT greatest((SELECT count(DISTINCT name_key) FROM er_profiles),
                        {int(cfg['frequency']['min_population'])})::DOUBLE AS n_names
    ), f AS (
        SELECT p.profile_l, p.profile_r, p.rules,
               l.name_key AS name_l, r.name_key AS name_r,
               ns.sim AS name_key_sim,
               CASE WHEN l.name_key = r.name_key THEN l.name_dn END AS name_dn,
               l.phone AS phone_l, r.phone AS phone_r, CASE WHEN l.phone = r.phone THEN l.phone_dn END AS phone_dn,
               l.id_number AS id_l, r.id_number AS id_r, CASE WHEN l.id_number = r.id_number THEN l.id_dn END AS id_dn,
               l.account AS account_l, r.account AS account_r,
               CASE WHEN l.account = r.account THEN l.account_dn END AS account_dn,
               l.address_key AS place_l, r.address_key AS place_r, l.unit AS unit_l, r.unit AS unit_r,
               CASE WHEN l.address_key = r.address_key THEN l.place_dn END AS place_dn,
               CASE WHEN l.address_key = r.address_key AND l.unit = r.unit THEN l.place_unit_dn END AS place_unit_dn,
               n.n_names
        FROM er_pairs p
        JOIN er_profiles l ON l.profile_id = p.profile_l
        JOIN er_profiles r ON r.profile_id = p.profile_r
        CROSS JOIN n
        LEFT JOIN er_name_sim ns ON ns.a = l.name_key AND ns.b = r.name_key
    ), name_sim AS (
        SELECT *, CASE WHEN name_l = name_r THEN 1.0 ELSE name_key_sim END AS name_sim FROM f
    ), levels AS (
        SELECT *,
          CASE WHEN name_l IS NULL OR name_r IS NULL THEN 'missing'
               WHEN name_l = name_r THEN 'exact'
               WHEN name_sim >= {nm['close']['ratio']} THEN 'close'
               WHEN name_sim >= {nm['similar']['ratio']} THEN 'similar'
               ELSE 'different' END AS name_level,
          CASE WHEN phone_l IS NULL OR phone_r IS NULL THEN 'missing'
               WHEN phone_l = phone_r THEN 'exact' ELSE 'different' END AS phone_level,
          -- One typo: a substitution or a swap of neighbours (Damerau-Levenshtein 1); the
          -- Hamming distance of equal-length numbers is the cheap pre-check.
          CASE WHEN id_l IS NULL OR id_r IS NULL THEN 'missing'
               WHEN id_l = id_r THEN 'exact'
               WHEN length(id_l) = length(id_r) AND length(id_l) >= {int(idn['typo']['min_length'])}
                    AND hamming(id_l, id_r) <= 2
                    AND damerau_levenshtein(id_l, id_r) <= {int(idn['typo']['max_edits'])} THEN 'typo'
               ELSE 'different' END AS id_number_level,
          CASE WHEN account_l IS NULL OR account_r IS NULL THEN 'missing'
               WHEN account_l = account_r THEN 'exact' ELSE 'different' END AS account_level
        FROM name_sim
    )
    SELECT *, {gate} AS strong_gate, {gate} OR name_level = 'similar' AS compare_place FROM levels;
    -- Places whose house numbers conflict (each side has a number the other lacks) are
    -- different places: 10 and 11 Jiefang Road are neighbours, not spellings of one address.
    CREATE OR REPLACE TEMP TABLE er_place_sim AS
    WITH pairs AS (
        SELECT DISTINCT place_l AS a, place_r AS b FROM er_gated
        WHERE compare_place AND place_l IS NOT NULL AND place_r IS NOT NULL AND place_l <> place_r
    ), numbered AS (
        SELECT a, b, list_filter(string_split(a, ' '), lambda t: regexp_full_match(t, '[0-9]+')) AS na,
               list_filter(string_split(b, ' '), lambda t: regexp_full_match(t, '[0-9]+')) AS nb
        FROM pairs
    )
    SELECT a, b, CASE WHEN len(na) > 0 AND len(nb) > 0 AND NOT (list_has_all(na, nb) OR list_has_all(nb, na))
                      THEN 0.0 ELSE linker_place_similarity(a, b) END AS sim
    FROM numbered;
    CREATE OR REPLACE TEMP TABLE er_scores AS
    WITH place_soft AS (
        -- Token-set similarity of the places (rapidfuzz token_set_ratio: shared tokens plus an
        -- edit-distance ratio of the rest; conflicting house numbers score 0), for gated
        -- pairs only: it is the costly measure.
        SELECT g.*,
          CASE WHEN NOT compare_place OR place_l IS NULL OR place_r IS NULL OR place_l = place_r THEN NULL
               ELSE ps.sim END AS place_overlap
        FROM er_gated g LEFT JOIN er_place_sim ps ON ps.a = g.place_l AND ps.b = g.place_r
    ), levels2 AS (
        SELECT *,
          CASE WHEN place_l IS NULL OR place_r IS NULL THEN 'missing'
               WHEN place_l = place_r AND unit_l IS NOT DISTINCT FROM unit_r THEN 'exact'
               WHEN place_l = place_r AND (unit_l IS NULL OR unit_r IS NULL) THEN 'place_no_unit'
               WHEN place_l = place_r THEN 'other_unit'
               WHEN NOT compare_place THEN 'not_compared'
               WHEN place_overlap >= {ad['close']['token_set']} AND unit_l <> unit_r THEN 'other_unit'
               WHEN place_overlap >= {ad['close']['token_set']} THEN 'close'
               WHEN place_overlap >= {ad['similar']['token_set']} THEN 'similar'
               ELSE 'different' END AS address_level
        FROM place_soft
    ), weighted AS (
        SELECT *,
          CASE name_level WHEN 'exact' THEN {_tf_w(nm['exact'], 'name_dn', cfg, shared_cap=False)}
               WHEN 'close' THEN {_w(nm['close'])} WHEN 'similar' THEN {_w(nm['similar'])}
               WHEN 'different' THEN {_w(nm['different'])} ELSE 0 END AS name_weight,
          CASE phone_level WHEN 'exact' THEN {_tf_w(ph['exact'], 'phone_dn', cfg)}
               WHEN 'different' THEN {_w(ph['different'])} ELSE 0 END AS phone_weight,
          CASE id_number_level WHEN 'exact' THEN {_tf_w(idn['exact'], 'id_dn', cfg)}
               WHEN 'typo' THEN {_w(idn['typo'])}
               WHEN 'different' THEN {_w(idn['different'])} ELSE 0 END AS id_number_weight,
          CASE account_level WHEN 'exact' THEN {_tf_w(acc['exact'], 'account_dn', cfg)}
               WHEN 'different' THEN {_w(acc['different'])} ELSE 0 END AS account_weight,
          CASE address_level WHEN 'exact' THEN {_tf_w(ad['exact'], 'coalesce(place_unit_dn, place_dn)', cfg)}
               WHEN 'place_no_unit' THEN {_tf_w(ad['place_no_unit'], 'place_dn', cfg)}
               WHEN 'other_unit' THEN {_w(ad['other_unit'])}
               WHEN 'close' THEN {_w(ad['close'])} WHEN 'similar' THEN {_w(ad['similar'])}
               WHEN 'different' THEN {_w(ad['different'])} ELSE 0 END AS address_weight,
          -log2(n_names) * {float(decision['prior_scale'])} AS prior_weight
        FROM levels2
    )
    SELECT profile_l, profile_r, rules,
           strong_gate OR (name_level = 'similar' AND address_level IN ('exact', 'close')) AS gate_passed,
           name_level, phone_level, id_number_level, account_level, address_level,
           name_weight, phone_weight, id_number_weight, account_weight, address_weight, prior_weight,
           prior_weight + name_weight + phone_weight + id_number_weight + account_weight + address_weight AS match_weight
    FROM weighted
    """


def _pairwise(scorer, scale: float):
    def udf(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.Array:
        lv, rv = left.to_pylist(), right.to_pylist()
        # rapidfuzz releases the interpreter lock and computes the batch on every core.
        scores = process.cpdist([x or "" for x in lv], [x or "" for x in rv], scorer=scorer, workers=-1)
        mask = np.fromiter((x is None or y is None for x, y in zip(lv, rv)), dtype=bool, count=len(lv))
        return pa.array(scores.astype("float64") / scale, mask=mask)
    return udf


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Pairwise string similarities from rapidfuzz, one C call per Arrow batch (idempotent)."""
    for name, fn in (
        ("linker_name_similarity", _pairwise(fuzz.ratio, 100.0)),
        ("linker_place_similarity", _pairwise(fuzz.token_set_ratio, 100.0)),
    ):
        try:
            con.remove_function(name)
        except Exception:  # not registered yet on this connection
            pass
        con.create_function(name, fn, ["VARCHAR", "VARCHAR"], "DOUBLE", type="arrow",
                            null_handling="special", side_effects=False)


def _components(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | None) -> int:
    """Connected components of accepted links by min-label propagation.

    Every profile starts with its own id as label; in each round a profile takes the smallest
    label among itself and its neighbours (edges both ways). The labels stop changing after
    (component diameter) rounds; the final label is the smallest profile_id, hence the
    smallest mention_id, of the component.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE er_edges AS
        SELECT profile_l AS a, profile_r AS b FROM er_accepted
        UNION ALL SELECT profile_r, profile_l FROM er_accepted;
        CREATE OR REPLACE TEMP TABLE er_labels AS
        SELECT a AS node, min(least(a, b)) AS label FROM er_edges GROUP BY a;
        """
    )
    rounds = 0
    while True:
        rounds += 1
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE er_labels_next AS
            SELECT l.node, least(l.label, min(n.label)) AS label
            FROM er_labels l JOIN er_edges e ON e.a = l.node JOIN er_labels n ON n.node = e.b
            GROUP BY l.node, l.label
            """
        )
        changed = _scalar(
            con,
            "SELECT count(*) FROM er_labels_next x JOIN er_labels l USING (node) WHERE x.label <> l.label",
        )
        con.execute("DROP TABLE er_labels; ALTER TABLE er_labels_next RENAME TO er_labels")
        if progress:
            progress(f"components round {rounds}: {changed} labels changed")
        if changed == 0:
            break
    return rounds


def resolve_entities(
    con: duckdb.DuckDBPyConnection,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
    config: dict | None = None,
) -> ResolutionStats:
    """Resolve `party_mentions` into parties.

    Fills `party_mentions.profile_id` and `party_mentions.entity_id`, and (re)creates
    `entities` and `entity_links`. Deterministic: the same mentions give the same ids.
    `seed` is accepted for engines that sample; the fixed-prior model draws nothing.

    Example:
        >>> from linker import store, normalise, resolve
        >>> con = store.connect("store.duckdb")
        >>> normalise.build_party_mentions(con)
        >>> resolve.resolve_entities(con).entities
    """
    cfg = config or load_config()
    stats = ResolutionStats()
    exists = _scalar(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'party_mentions' AND table_schema = 'main'"
    )
    if not exists:
        raise ResolutionError("there are no party mentions yet: run normalisation (linker run) first")

    def stage(name: str, sql: str) -> None:
        started = time.perf_counter()
        execute_script(con, sql)
        stats.seconds[name] = round(time.perf_counter() - started, 3)
        if progress:
            progress(f"{name}: {stats.seconds[name]:.1f}s")

    register_udfs(con)
    stage("profiles", _profiles_sql())
    stage("frequencies", _freq_sql())
    stage("blocking", _blocking_sql(cfg))
    stage("comparison", _scores_sql(cfg))
    stage(
        "accept",
        f"""CREATE OR REPLACE TEMP TABLE er_accepted AS
            SELECT profile_l, profile_r FROM er_scores
            WHERE gate_passed AND match_weight >= {float(cfg['decision']['threshold'])}""",
    )
    started = time.perf_counter()
    stats.iterations = _components(con, progress)
    stats.seconds["components"] = round(time.perf_counter() - started, 3)
    stage("write", _write_sql(cfg))
    stats.mentions = _scalar(con, "SELECT count(*) FROM party_mentions")
    stats.profiles = _scalar(con, "SELECT count(*) FROM er_profiles")
    stats.candidate_pairs = _scalar(con, "SELECT count(*) FROM er_scores")
    stats.links = _scalar(con, "SELECT count(*) FROM entity_links")
    stats.entities = _scalar(con, "SELECT count(*) FROM entities")
    if not os.environ.get("LINKER_KEEP_WORK_TABLES"):  # kept for diagnosis when set
        for temp in ("er_mentions", "er_mention_profile", "er_profiles", "er_freq", "er_pairs", "er_scores",
                     "er_name_sim", "er_gated", "er_place_sim",
                     "er_accepted", "er_edges", "er_labels"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    return stats


def _write_sql(cfg: dict) -> str:
    """Entity of a mention = component label of its profile, or the profile itself when it
    has no accepted link. Links keep every field's level and weight as JSON evidence."""
    evidence_fields = ("name", "phone", "id_number", "account", "address")
    evidence = ", ".join(
        f"'{f}', json_object('level', {f}_level, 'weight', round({f}_weight, 2))" for f in evidence_fields
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE er_mention_entity AS
    SELECT m.mention_id, m.profile_id, coalesce(l.label, m.profile_id) AS entity_id
    FROM er_mention_profile m LEFT JOIN er_labels l ON l.node = m.profile_id;

    -- An UPDATE of two integer columns, not a rewrite of the wide table: DuckDB stores the
    -- changed columns only, about 15 times faster than copying every raw string again.
    ALTER TABLE party_mentions ADD COLUMN IF NOT EXISTS profile_id BIGINT;
    ALTER TABLE party_mentions ADD COLUMN IF NOT EXISTS entity_id BIGINT;
    UPDATE party_mentions SET profile_id = e.profile_id, entity_id = e.entity_id
    FROM er_mention_entity e WHERE party_mentions.mention_id = e.mention_id;
    DROP TABLE er_mention_entity;

    CREATE OR REPLACE TABLE entity_links AS
    SELECT s.profile_l AS mention_id_l, s.profile_r AS mention_id_r,
           1 / (1 + pow(2, -s.match_weight)) AS match_probability,
           s.match_weight,
           json_object('prior', round(s.prior_weight, 2), 'blocked_by', {_rule_names_sql(cfg, 's.rules')}, {evidence}) AS evidence
    FROM er_scores s JOIN er_accepted a USING (profile_l, profile_r);

    CREATE OR REPLACE TABLE entities AS
    WITH named AS (
        SELECT entity_id, name_raw, count(*) AS n FROM party_mentions GROUP BY ALL
    ), best AS (
        SELECT entity_id, arg_max(name_raw, n * 1e9 - length(name_raw)) AS best_name FROM named GROUP BY entity_id
    )
    SELECT m.entity_id, b.best_name,
           list_sort(list_distinct(list(m.name_raw)))[1:50] AS names,
           list_sort(list_distinct(list(m.phone_e164)))[1:50] AS phones,
           list_sort(list_distinct(list(m.account_norm)))[1:50] AS accounts,
           list_sort(list_distinct(list(m.id_number_norm)))[1:50] AS id_numbers,
           list_sort(list_distinct(list(m.address_raw)))[1:50] AS addresses,
           count(*) AS mentions,
           count(DISTINCT m.parcel_seq) AS parcels,
           list_sort(list_distinct(list(m.role))) AS roles
    FROM party_mentions m JOIN best b USING (entity_id)
    GROUP BY m.entity_id, b.best_name;
    """
