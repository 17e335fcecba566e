"""Entity resolution: which sender and receiver mentions are one real-world party.

Reads `party_mentions` (built by `linker/stages/normalise.py`) and writes `party_mentions.entity_id`,
`party_mentions.profile_id`, `entities` and `entity_links`. All of it is SQL in DuckDB (string
similarities are rapidfuzz UDFs over Arrow batches); Python only assembles the statements
from `linker/resolution.toml` and runs them in order.

The algorithm, stage by stage (each stage a named table):

1. `er_profiles`: mentions with identical normalised fields (name key, phone, ID number,
   account, address key and unit) are one *profile*; a shop posting 300 identical parcels is
   one profile, not 300. Only profiles are compared, and every mention of a profile goes to
   the profile's party. `profile_id` is the smallest mention_id of the profile.
2. `er_freq_state`: for every identifier value, how many people use it, as an effective
   number (mentions with the value / mentions of its most frequent name and that name's
   spellings). This is the term frequency of the Fellegi-Sunter model: u = u_base * that
   number, so agreement on it weighs log2(m / (u_base * dn)), and above `shared_max_names`
   the value is an outlet, courier or forwarding warehouse and weighs nothing.
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
5. `er_labels` (clustering): connected components of accepted pairs, each labelled with its
   smallest profile id (the label Splink's min-label propagation ends with), by a vectorised
   union-find in numpy (`components.connected_components`).
6. `entity_id` of every mention = the smallest mention_id of its component (deterministic).

m and u are fixed priors from the config, not trained: training on a small store is
unstable, and fixed priors make the result the same for the same input (the seed is kept
in the signature for an engine that samples).
"""

from __future__ import annotations

import math
import re
import os
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from linker.errors import LinkerError
from linker.settings.resolution import load_resolution
from linker.stages.components import connected_components
from linker.store.sql import execute_script, python_step

class ResolutionError(LinkerError):
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
    model: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class _Stages:
    """Runs the SQL of a resolution stage (execute_script), timing it into `stats.seconds`
    under the stage's name and telling `progress`; `timed` does the same for Python work."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stats: "ResolutionStats",
                 progress: Callable[[str], None] | None) -> None:
        self.con, self.stats, self.progress = con, stats, progress

    def __call__(self, name: str, sql: str) -> None:
        self.timed(name, lambda: execute_script(self.con, sql))

    def timed(self, name: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = work()
        self.stats.seconds[name] = round(self.stats.seconds.get(name, 0) + time.perf_counter() - started, 3)
        if self.progress:
            self.progress(f"{name}: {self.stats.seconds[name]:.1f}s")
        return result


def _count_rows(con: duckdb.DuckDBPyConnection, stats: "ResolutionStats", **tables: str) -> None:
    """Each named count of `stats` set to the rows of the table named for it."""
    for name, table in tables.items():
        setattr(stats, name, _scalar(con, f"SELECT count(*) FROM {table}"))


def _drop_work_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """Drop a stage's work tables, unless LINKER_KEEP_WORK_TABLES asks to keep them for diagnosis."""
    if os.environ.get("LINKER_KEEP_WORK_TABLES"):
        return
    for temp in tables:
        con.execute(f"DROP TABLE IF EXISTS {temp}")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open on the connection.
    return con.execute(sql).fetchall()[0][0]


def _log2(x: float) -> float:
    return math.log2(x)


def _w(level: dict) -> str:
    """Fixed weight log2(m/u) of a level as a SQL literal, at most `max_weight` when the level
    sets one (a disagreement, such as two different units at one place, is never evidence for
    a match however rare it is among random pairs)."""
    weight = _log2(level['m'] / level['u'])
    if "max_weight" in level:
        weight = min(weight, float(level["max_weight"]))
    return f"{weight:.6f}"


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
        u = f"({float(level['u_base'])} * coalesce({dn}, 1))"
    else:
        u = f"greatest(coalesce({dn}, 1) / n_names, {float(freq['u_floor'])})"
    tf = f"log2({level['m']} / {u})"
    if not shared_cap:
        return tf
    return f"CASE WHEN {_shared_sql(dn, cfg)} THEN {float(freq['shared_weight'])} ELSE {tf} END"


def _shared_sql(dn: str, cfg: dict) -> str:
    """True where the value of frequency `dn` is an outlet's or a warehouse's (see _tf_w)."""
    return f"{dn} > {int(cfg['frequency']['shared_max_names'])}"


# The term-frequency levels of the comparison: (field, level) -> the frequency column of the
# agreed value and whether the shared cap applies (see _tf_w). The weights and the count of
# population terms (n_tf) both read it, so they cannot disagree about a level.
TF_LEVELS = {
    ("name", "exact"): ("name_dn", False),
    ("phone", "exact"): ("phone_dn", True),
    ("id_number", "exact"): ("id_dn", True),
    ("account", "exact"): ("account_dn", True),
    ("address", "exact"): ("coalesce(place_unit_dn, place_dn)", True),
    ("address", "place_no_unit"): ("place_dn", True),
}


def _tf_level_w(cfg: dict, field: str, level: str) -> str:
    dn, shared_cap = TF_LEVELS[(field, level)]
    return _tf_w(cfg["fields"][field][level], dn, cfg, shared_cap=shared_cap)


# --- stages -----------------------------------------------------------------------------------

# A unit compared as its number when it is a customer code of three digits or more: "cn21801",
# "KZ-21801" and "21801" are one customer code however the warehouse's letters are written.
_ADDRESS_UNIT_SQL = ("CASE WHEN regexp_full_match(address_unit, '[a-z]*[0-9]{3,}') THEN regexp_replace(address_unit, '^[a-z]+', '')"
                     " ELSE address_unit END")
# A customer code written into the name ("Lars de Boer NL46759", "JACKSON Brian #58458"; the
# name key leaves it out, see normalise._NAME_CODE) is the unit when the address has no code.
_NAME_CODE_SQL = "nullif(regexp_extract(lower(name_raw), '(^|[^a-z0-9])[a-z]{0,3}-?([0-9]{4,})($|[^a-z0-9])', 2), '')"
UNIT_SQL = (f"CASE WHEN {_NAME_CODE_SQL} IS NOT NULL AND NOT regexp_matches(coalesce(address_unit, ''), '[0-9]{{4,}}')"
            f" THEN {_NAME_CODE_SQL} ELSE {_ADDRESS_UNIT_SQL} END")


# The normalised fields that make a profile.
PROFILE_TUPLE = ("name_key", "phone", "id_number", "account", "address_key", "unit")

# A name's other forms, per name key over every mention that has it (so that they depend on
# no profile and no order of arrival): its other readings (normalise.name_readings) and its
# consonant skeleton (the smallest, where spellings of one key differ).
NAME_FORMS_SQL = """
SELECT name_key,
       nullif(array_to_string(list_sort(list_distinct(flatten(list(string_split(name_alt, '|'))))), '|'), '') AS name_alt,
       min(name_skeleton) AS name_skeleton
FROM party_mentions WHERE name_key IS NOT NULL AND {where} GROUP BY name_key"""


def _profiles_sql() -> str:
    """Profile = the distinct tuple of normalised fields. A mention without a name is a profile
    of its own (blank names are not one party). Phones with fewer than 6 digits are
    placeholders ("0", "123"), not identifiers."""
    return f"""
    CREATE OR REPLACE TEMP TABLE er_mentions AS
    SELECT mention_id, name_key,
           CASE WHEN length(regexp_replace(phone_e164, '[^0-9]', '', 'g')) >= 6 THEN phone_e164 END AS phone,
           id_number_norm AS id_number, account_norm AS account, address_key, {UNIT_SQL} AS unit
    FROM party_mentions;
    CREATE OR REPLACE TABLE er_name_forms AS {NAME_FORMS_SQL.format(where="TRUE")};
    CREATE OR REPLACE TEMP TABLE er_mention_profile AS
    SELECT mention_id,
           min(mention_id) OVER (PARTITION BY {", ".join(PROFILE_TUPLE)},
                                 CASE WHEN name_key IS NULL THEN mention_id END) AS profile_id
    FROM er_mentions;
    CREATE OR REPLACE TEMP TABLE er_profiles AS
    SELECT mp.profile_id, any_value(name_key) AS name_key, any_value(phone) AS phone,
           any_value(id_number) AS id_number, any_value(account) AS account,
           any_value(address_key) AS address_key, any_value(unit) AS unit, count(*) AS mentions
    FROM er_mentions m JOIN er_mention_profile mp USING (mention_id)
    GROUP BY mp.profile_id;
    """


IDENTIFIER_VALUES = (
    ("phone", "phone"),
    ("id_number", "id_number"),
    ("account", "account"),
    ("place", "address_key"),
    ("place_unit", "address_key || '#' || unit"),
)


def _freq_sql(cfg: dict) -> str:
    """How many parties use each identifier value, as an *effective number of people*: the
    mentions carrying the value divided by the mentions of its most frequent name key and of
    the name keys that are spellings of it (name similarity at least the `close` ratio).

    Counting distinct name keys would count a shop's typos and a person's two spellings as
    so many people; the effective number stays at 1 for a shop or a person however they write
    their name, is a few for an organiser behind aliases or recruits paid by one account, and
    is in the hundreds for an outlet's phone or a warehouse's street address. For names
    themselves the number of profiles with the key is used (how common the name is)."""
    per_name = " UNION ALL ".join(
        f"SELECT '{f}' AS field, {e} AS value, name_key, sum(mentions) AS n FROM er_profiles "
        f"WHERE {e} IS NOT NULL GROUP BY ALL" for f, e in IDENTIFIER_VALUES
    )
    # Each profile carries the frequency of each of its own values, so that comparing a pair
    # needs no join beyond the two profiles.
    return f"""
    CREATE OR REPLACE TEMP TABLE er_value_names AS {per_name};
    {_people_per_value_sql(cfg, "er_value_names", "er_freq_new")};
    CREATE OR REPLACE TABLE er_freq_state AS
    SELECT * FROM er_freq_new
    UNION ALL SELECT 'name', name_key, count(*)::DOUBLE FROM er_profiles WHERE name_key IS NOT NULL GROUP BY 2;
    DROP TABLE er_freq_new;
    DROP TABLE er_value_names;
    CREATE OR REPLACE TEMP TABLE er_profiles AS {_with_dn_sql("er_profiles", "er_freq_state", cfg)};
    """


def _people_per_value_sql(cfg: dict, value_names: str, target: str) -> str:
    """`target` (field, value, dn) from `value_names` (field, value, name_key, n): see
    _freq_sql. The spellings are found by the name similarity of each value's other name keys
    to its most frequent one (once per distinct pair of keys)."""
    close = float(cfg["fields"]["name"]["close"]["ratio"])
    return f"""
    CREATE OR REPLACE TEMP TABLE er_top_name AS
    SELECT field, value, arg_max(name_key, (n, name_key)) FILTER (WHERE name_key IS NOT NULL) AS top
    FROM {value_names} GROUP BY field, value HAVING count(*) >= 2;
    CREATE OR REPLACE TEMP TABLE er_spellings AS
    SELECT a, b, linker_name_similarity(a, b) AS sim FROM (
        SELECT DISTINCT t.top AS a, v.name_key AS b FROM {value_names} v JOIN er_top_name t USING (field, value)
        WHERE v.name_key IS NOT NULL AND t.top IS NOT NULL AND v.name_key <> t.top);
    CREATE OR REPLACE TEMP TABLE {target} AS
    SELECT v.field, v.value,
           -- one name group: 1; else all mentions over those of the top name and its spellings
           sum(v.n)::DOUBLE / sum(v.n) FILTER (WHERE t.top IS NULL OR v.name_key = t.top OR s.sim >= {close}) AS dn
    FROM {value_names} v
    LEFT JOIN er_top_name t USING (field, value)
    LEFT JOIN er_spellings s ON s.a = t.top AND s.b = v.name_key
    GROUP BY v.field, v.value;
    DROP TABLE er_top_name;
    DROP TABLE er_spellings
    """


def _forwarder_re(cfg: dict) -> str:
    """A SQL regular expression of the forwarding warehouses' own words on a label (`forwarder_words`)."""
    words = "|".join(re.escape(w.casefold()) for w in cfg["fields"]["name"].get("forwarder_words", []))
    return f"'(^| )({words})( |$)'" if words else "'$^'"


def _with_dn_sql(profiles: str, freq: str, cfg: dict) -> str:
    """The profiles of `profiles` with the frequency (dn) of each of their values from `freq`,
    and what the comparison asks of each profile on every pair it is in, computed once here:
    the customer code of its unit (its number of four digits or more, '' if none) and whether
    its name has a forwarding warehouse's word."""
    return f"""
    SELECT p.*, nf.name_alt, nf.name_skeleton, fn.dn AS name_dn, fp.dn AS phone_dn, fi.dn AS id_dn, fa.dn AS account_dn,
           fpl.dn AS place_dn, fpu.dn AS place_unit_dn,
           regexp_extract(coalesce(p.unit, ''), '[0-9]{{4,}}') AS unit_code,
           coalesce(regexp_matches(p.name_key, {_forwarder_re(cfg)}), FALSE) AS forwarder_word
    FROM {profiles} p
    LEFT JOIN er_name_forms nf ON nf.name_key = p.name_key
    LEFT JOIN {freq} fn ON fn.field = 'name' AND fn.value = p.name_key
    LEFT JOIN {freq} fp ON fp.field = 'phone' AND fp.value = p.phone
    LEFT JOIN {freq} fi ON fi.field = 'id_number' AND fi.value = p.id_number
    LEFT JOIN {freq} fa ON fa.field = 'account' AND fa.value = p.account
    LEFT JOIN {freq} fpl ON fpl.field = 'place' AND fpl.value = p.address_key
    LEFT JOIN {freq} fpu ON fpu.field = 'place_unit' AND fpu.value = p.address_key || '#' || p.unit"""


def _blocking_sql(cfg: dict) -> str:
    """Candidate pairs: profiles sharing a key of some rule, in blocks no bigger than the cap.

    Keys are hashed to 64-bit integers and rules numbered, so that the self-join and the
    grouping work on integers; the rules that proposed a pair are kept as a bit set (decoded
    into names for the evidence of accepted links only). A hash collision can only add a
    candidate pair, which is then scored like any other."""
    return f"""
    {_keys_sql(cfg, "er_profiles", "TABLE er_key_state")};
    CREATE OR REPLACE TEMP TABLE er_pairs AS
    WITH sized AS (
        SELECT rule, key, profile_id, count(*) OVER (PARTITION BY rule, key) AS n,
               row_number() OVER (PARTITION BY rule, key ORDER BY profile_id) AS pos
        FROM er_key_state
    ), kept AS (
        SELECT rule, key, profile_id FROM sized WHERE n BETWEEN 2 AND {_cap_sql(cfg)}
    ), anchored AS (
        SELECT rule, key, profile_id, pos FROM sized WHERE n > {_cap_sql(cfg)} AND {_anchors_sql(cfg)} > 0
    ), anchors AS (
        SELECT rule, key, profile_id FROM anchored WHERE pos <= {_anchors_sql(cfg)}
    ), paired AS (
        SELECT l.rule, l.profile_id AS profile_l, r.profile_id AS profile_r
        FROM kept l JOIN kept r ON l.rule = r.rule AND l.key = r.key AND l.profile_id < r.profile_id
        UNION ALL
        SELECT a.rule, a.profile_id, o.profile_id
        FROM anchors a JOIN anchored o ON a.rule = o.rule AND a.key = o.key AND a.profile_id < o.profile_id
    )
    SELECT profile_l, profile_r, bit_or(1::INTEGER << rule::INTEGER) AS rules FROM paired
    GROUP BY 1, 2;
    """


def _keys_sql(cfg: dict, profiles: str, target: str) -> str:
    """A script that creates `target` (rule, hashed key, profile_id): the keys of every blocking
    rule for the profiles in `profiles` (`target` names a TEMP table or a stored one).

    One statement per rule, each rule's keys computed in a work table of their own first: in a
    single query the NOT NULL filter was inlined into a key with a list lambda, computing it
    about four times over (2.2 s against 0.5 s for a rule at 1M parcels), and holding every
    rule's keys at once (as materialized CTEs) outgrew the memory budget at 5M. A profile has
    one key of a rule unless the rule unnests; only those are made distinct."""
    statements = [f"CREATE OR REPLACE {target} (rule TINYINT, key UBIGINT, profile_id BIGINT)"]
    for i, rule in enumerate(cfg["blocking"]["rules"]):
        distinct = "DISTINCT " if re.search(r"\b(unnest|generate_subscripts)\s*\(", rule["key"], re.I) else ""
        statements += [
            f"CREATE OR REPLACE TEMP TABLE er_rule_keys AS SELECT profile_id, {rule['key']} AS key FROM {profiles}",
            f"INSERT INTO {target.split()[-1]} SELECT {distinct}{i}::TINYINT, hash(key), profile_id FROM er_rule_keys "
            "WHERE key IS NOT NULL",
        ]
    statements.append("DROP TABLE er_rule_keys")
    return ";\n".join(statements)


def _cap_sql(cfg: dict, rule: str = "rule") -> str:
    """The largest block the rule in column `rule` pairs up, as a SQL expression."""
    block = cfg["blocking"]
    caps = " ".join(f"WHEN {i} THEN {int(r.get('max_block', block['max_block']))}" for i, r in enumerate(block["rules"]))
    return f"CASE {rule} {caps} END"


def _anchors_sql(cfg: dict, rule: str = "rule") -> str:
    """How many anchors a block over the cap keeps for the rule in column `rule` (0: the block
    is skipped). An anchored block pairs each of its profiles with its `anchors` first
    profiles (smallest ids): a web shop's hundreds of profiles under one name and phone stay
    one party through a star, at a cost linear in the block. New profiles have larger ids, so
    a block's anchors never change as nights add to it."""
    caps = " ".join(f"WHEN {i} THEN {int(r.get('anchors', 0))}" for i, r in enumerate(cfg["blocking"]["rules"]))
    return f"CASE {rule} {caps} END"


def _rule_names_sql(cfg: dict, bits: str) -> str:
    """The names of the blocking rules in the bit set `bits` (see _blocking_sql)."""
    names = ", ".join(f"'{rule['name']}'" for rule in cfg["blocking"]["rules"])
    return f"list_filter([{names}], lambda name, i: ({bits} >> (i - 1)) & 1 = 1)"


FIELDS = ("name", "phone", "id_number", "account", "address")
# Levels that carry no evidence: no weight, and no part in estimating the model.
NO_EVIDENCE = ("missing", "not_compared")


def _personal_sql(cfg: dict) -> tuple[str, str, str]:
    """SQL of the three personal contacts of a pair (phone, account, same flat), each an
    identifier used by at most `shared_max_names` people (not an outlet's or a warehouse's)."""
    shared = int(cfg["frequency"]["shared_max_names"])
    return (
        f"(phone_level = 'exact' AND phone_dn <= {shared})",
        f"(account_level = 'exact' AND account_dn <= {shared})",
        f"coalesce(place_l = place_r AND unit_l IS NOT DISTINCT FROM unit_r AND coalesce(place_unit_dn, place_dn) <= {shared}, FALSE)",
    )


def _levels_sql(cfg: dict, n_names: float, pairs: str = "er_pairs", out: str = "er_levels", tag: str = "",
                compare_all: bool = False) -> str:
    """Per pair of `pairs` (profile_l, profile_r, rules) and field a comparison level, the
    gate and the household test, into `out`; `tag` names the work tables apart (the model's
    random pairs use them too), and with `compare_all` every pair's places are compared.

    Levels, best first. Names: exact; close (edit-distance ratio of the order-free keys at least
    `close`); contained (all tokens of the shorter in the longer: a short company name, a
    person without given name); token (a token in common and the rest unlike: one family, two
    given names); similar; different. Phones and ID numbers: exact; typo (one edit, a
    substitution or a swap of neighbours); different. Places: exact (same place, same unit);
    place_no_unit; other_unit; number_typo (the same place but for one edit in one number:
    a house number or postcode mistyped); close; similar; different.

    The gate: the name agrees (close or exact), or the ID number does, or a contained name
    comes with a personal contact, or phone and account agree away from a shared flat, or a
    similar name comes with the same place. Two people who share a flat and its phone or
    account but not a name are a *household*: never one party by contacts alone, linked in
    the graph instead. Shared contacts of outlets, warehouses and recruited senders are
    correlated, which the independence assumption ignores; that is what the gate is for."""
    t = _level_terms(cfg, compare_all)
    return (_name_similarity_sql(t, pairs, tag) + _gated_sql(t, n_names, pairs, tag)
            + _place_similarity_sql(t, tag) + _address_levels_sql(t, tag, out))


def _level_terms(cfg: dict, compare_all: bool) -> SimpleNamespace:
    """The settings and SQL terms the comparison levels are written with: the gate, the test
    a pair passes, the personal contacts, the customer codes, the names' and numbers' bounds."""
    f = cfg["fields"]
    nm, idn, ph, ad = f["name"], f["id_number"], f["phone"], f["address"]
    decision = cfg["decision"]
    phone_p, account_p, flat_p = _personal_sql(cfg)
    gate = "TRUE"
    if decision.get("require_name_or_id", True):
        gate = (
            "(name_level IN ('exact', 'close') OR id_number_level IN ('exact', 'typo')"
            f" OR (name_level IN ('contained', 'skeleton') AND ({phone_p} OR {account_p} OR {flat_p}))"
            f" OR (NOT {flat_p} AND {phone_p}::INT + {account_p}::INT >= {int(decision['contacts_without_name'])}))"
        )
    # A forwarding warehouse's customer code (a unit of four digits or more) is the consignee,
    # whatever name the label carries (the customer's in any script, or the warehouse's own):
    # the same code at a place written alike, or at a warehouse (see code_strong), passes the
    # gate; at a private flat a four-digit room (1203) is a flat, and its people a household.
    # (Every test here is coalesced: a NULL would make a pair neither compared nor not.)
    # (the code is the unit's number of four digits or more: "27657/5" is customer 27657 at
    # warehouse 5)
    codes = ("code_l", "code_r")
    code_sql = f"coalesce({codes[0]} <> '' AND {codes[0]} = {codes[1]}, FALSE)"
    # ... and where the label names the warehouse, or the place is one many people use (a
    # warehouse, not a flat with a four-digit room number), the code is as good as an ID
    # number: the level `code`.
    shared = int(cfg["frequency"]["shared_max_names"])
    # (Customer codes are the consignees': receivers only. A sender's four-digit room is a room.)
    code_strong = f"(receivers AND {code_sql} AND (forwarder_name OR coalesce(place_dn_max > {shared}, FALSE)))"
    # An ID number alone, with the name, the contacts and the place all different, is a
    # document used by someone else (a recruit's, a collision), not one person.
    id_alone = ("(name_level = 'different' AND phone_level NOT IN ('exact', 'typo') AND account_level <> 'exact'"
                " AND address_level IN ('different', 'missing', 'not_compared'))")
    # Two customer codes at one place (or places written alike) are two consignees, whatever
    # the names say, unless a personal phone or account says it is one person with two codes.
    other_code = (f"(receivers AND {codes[0]} <> '' AND {codes[1]} <> '' AND {codes[0]} <> {codes[1]}"
                  f" AND (place_l = place_r OR coalesce(place_overlap >= {float(ad['similar']['token_set'])}, FALSE))"
                  f" AND NOT ({phone_p} OR {account_p}))")
    passed = (f"(((strong_gate AND NOT {id_alone})"
              f" OR (name_level IN ('similar', 'skeleton') AND address_level IN ('exact', 'close', 'number_typo'))"
              f" OR address_level = 'code') AND NOT {other_code})")
    if not decision.get("require_name_or_id", True):
        passed = "TRUE"
    compare = "TRUE" if compare_all else f"{gate} OR name_level IN ('similar', 'contained', 'skeleton') OR {code_sql}"
    close, similar = float(nm["close"]["ratio"]), float(nm["similar"]["ratio"])
    rest_max = float(nm["token"].get("rest_similarity", 0.7))
    min_typo = int(idn["typo"]["min_length"])
    phone_typo = int(ph["typo"].get("min_length", 8))
    edits = int(idn["typo"]["max_edits"])
    street_like = float(ad["close"].get("street_similarity", 0.8))
    return SimpleNamespace(gate=gate, passed=passed, compare=compare, code_sql=code_sql, code_strong=code_strong,
                           street_like=street_like,
                           phone_p=phone_p, account_p=account_p, flat_p=flat_p,
                           close=close, similar=similar, rest_max=rest_max, min_typo=min_typo,
                           phone_typo=phone_typo, edits=edits, ad=ad)


def _name_similarity_sql(t: SimpleNamespace, pairs: str, tag: str) -> str:
    """`er_name_sim{tag}`: per distinct pair of names, the similarity and how the words relate."""
    return f"""
    -- The fuzzy measures are Python UDFs: they run once per distinct pair of values, in
    -- statements of their own (on one DuckDB thread, see normalise.execute_script).
    -- Per distinct pair of names (fewer than the pairs of profiles): whether the shorter one's
    -- words are all in the longer (initials standing for words of it: "S. Lee" in "Lee
    -- Soo-min"; four letters of it written out), and whether they share a word with the rest
    -- unlike (one family, two given names).
    CREATE OR REPLACE TEMP TABLE er_name_parts{tag} AS
    WITH d AS (
        SELECT DISTINCT l.name_key AS a, r.name_key AS b, l.name_alt AS alt_a, r.name_alt AS alt_b
        FROM {pairs} p JOIN er_profiles l ON l.profile_id = p.profile_l JOIN er_profiles r ON r.profile_id = p.profile_r
        WHERE l.name_key <> r.name_key
    ), tokens AS (
        SELECT a, b, alt_a, alt_b, string_split(a, ' ') AS tl, string_split(b, ' ') AS tr FROM d
    ), shorter AS (
        SELECT *, CASE WHEN len(tl) <= len(tr) THEN tl ELSE tr END AS ts, CASE WHEN len(tl) <= len(tr) THEN tr ELSE tl END AS tg
        FROM tokens
    ), parts AS (
        SELECT a, b, alt_a, alt_b,
               list_has_all(tg, list_filter(ts, lambda t: length(t) > 1))
               AND length(array_to_string(list_filter(ts, lambda t: length(t) > 1), '')) >= 4
               AND list_has_all(list_transform(list_filter(tg, lambda t: NOT list_contains(ts, t)), lambda t: left(t, 1)),
                                list_filter(ts, lambda t: length(t) = 1)) AS contained,
               len(list_intersect(tl, tr)) > 0 AS shares_token,
               array_to_string(list_filter(tl, lambda t: NOT list_contains(tr, t)), ' ') AS rest_l,
               array_to_string(list_filter(tr, lambda t: NOT list_contains(tl, t)), ' ') AS rest_r
        FROM shorter
    )
    SELECT row_number() OVER () AS i, a, b, alt_a, alt_b, contained,
           shares_token AND rest_l <> '' AND rest_r <> '' AND jaro_winkler_similarity(rest_l, rest_r) < {t.rest_max} AS family
    FROM parts;
    -- The strings each pair of names is measured on (see _name_similarity): the keys, and each
    -- other reading of one ("|"-separated in name_alt) with the other's key; with whether the
    -- two have as many words (then the token-set ratio counts too). Built here on every core,
    -- so that the statement calling Python only measures.
    CREATE OR REPLACE TEMP TABLE er_name_cmp{tag} AS
    WITH r AS (
        SELECT i, a, b, CASE WHEN alt_a IS NULL THEN [] ELSE string_split(alt_a, '|') END AS ra,
               CASE WHEN alt_b IS NULL THEN [] ELSE string_split(alt_b, '|') END AS rb
        FROM er_name_parts{tag}
    ), x AS (
        SELECT i, a AS x, b AS y FROM r
        UNION ALL SELECT i, a, unnest(rb) FROM r WHERE len(rb) > 0
        UNION ALL SELECT i, unnest(ra), b FROM r WHERE len(ra) > 0
    )
    SELECT i, x, y, len(string_split(x, ' ')) = len(string_split(y, ' ')) AS same_words FROM x;
    PYTHON key_similarity er_name_cmp{tag} er_name_cmp_sim{tag};
    DROP TABLE er_name_cmp{tag};
    CREATE OR REPLACE TEMP TABLE er_name_sim{tag} AS
    SELECT p.a, p.b, p.alt_a, p.alt_b, p.contained, p.family, s.sim
    FROM er_name_parts{tag} p JOIN (SELECT i, max(sim) AS sim FROM er_name_cmp_sim{tag} GROUP BY i) s USING (i);
    DROP TABLE er_name_cmp_sim{tag};
    DROP TABLE er_name_parts{tag};
"""


def _gated_sql(t: SimpleNamespace, n_names: float, pairs: str, tag: str) -> str:
    """`er_gated{tag}`: per pair its name, phone, ID number and account levels, and whether it
    passes the gate (`strong_gate`) or has its places compared (`compare_place`)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE er_gated{tag} AS
    WITH f AS (
        SELECT p.profile_l, p.profile_r, p.rules,
               (p.profile_l % 2 = 1 AND p.profile_r % 2 = 1) AS receivers,
               l.name_key AS name_l, r.name_key AS name_r,
               CASE WHEN l.name_key = r.name_key THEN 1.0 ELSE ns.sim END AS name_sim,
               coalesce(ns.contained, FALSE) AS contained, coalesce(ns.family, FALSE) AS family,
               coalesce(l.name_skeleton = r.name_skeleton, FALSE) AS same_skeleton,
               -- A forwarding warehouse's own name on a label that carries a customer code says
               -- nothing of the consignee: the name counts as missing and the code decides.
               (p.profile_l % 2 = 1 AND p.profile_r % 2 = 1) AND (l.forwarder_word OR r.forwarder_word)
                   AND (l.unit_code <> '' OR r.unit_code <> '') AS forwarder_name,
               CASE WHEN l.name_key = r.name_key THEN l.name_dn END AS name_dn,
               l.phone AS phone_l, r.phone AS phone_r, CASE WHEN l.phone = r.phone THEN l.phone_dn END AS phone_dn,
               l.id_number AS id_l, r.id_number AS id_r, CASE WHEN l.id_number = r.id_number THEN l.id_dn END AS id_dn,
               l.account AS account_l, r.account AS account_r,
               CASE WHEN l.account = r.account THEN l.account_dn END AS account_dn,
               l.address_key AS place_l, r.address_key AS place_r, l.unit AS unit_l, r.unit AS unit_r,
               l.unit_code AS code_l, r.unit_code AS code_r,
               CASE WHEN l.address_key = r.address_key THEN l.place_dn END AS place_dn,
               greatest(l.place_dn, r.place_dn) AS place_dn_max,
               CASE WHEN l.address_key = r.address_key AND l.unit = r.unit THEN l.place_unit_dn END AS place_unit_dn,
               {float(n_names)!r}::DOUBLE AS n_names
        FROM {pairs} p
        JOIN er_profiles l ON l.profile_id = p.profile_l
        JOIN er_profiles r ON r.profile_id = p.profile_r
        -- (a name key has one set of readings, er_name_forms: the keys find the pair's row)
        LEFT JOIN er_name_sim{tag} ns ON ns.a = l.name_key AND ns.b = r.name_key
    ), levels AS (
        SELECT * EXCLUDE (contained, family, same_skeleton),
          CASE WHEN name_l IS NULL OR name_r IS NULL OR forwarder_name THEN 'missing'
               WHEN name_l = name_r THEN 'exact'
               WHEN name_sim >= {t.close} THEN 'close'
               WHEN contained THEN 'contained'
               WHEN same_skeleton THEN 'skeleton'
               WHEN family THEN 'token'
               WHEN name_sim >= {t.similar} THEN 'similar'
               ELSE 'different' END AS name_level,
          -- One typo: a substitution or a swap of neighbours (Damerau-Levenshtein 1); the
          -- Hamming distance of equal-length numbers is the cheap pre-check.
          CASE WHEN phone_l IS NULL OR phone_r IS NULL THEN 'missing'
               WHEN phone_l = phone_r THEN 'exact'
               WHEN length(phone_l) = length(phone_r) AND length(phone_l) >= {t.phone_typo}
                    AND hamming(phone_l, phone_r) <= 2 AND damerau_levenshtein(phone_l, phone_r) <= {t.edits} THEN 'typo'
               ELSE 'different' END AS phone_level,
          CASE WHEN id_l IS NULL OR id_r IS NULL THEN 'missing'
               WHEN id_l = id_r THEN 'exact'
               WHEN length(id_l) = length(id_r) AND length(id_l) >= {t.min_typo}
                    AND hamming(id_l, id_r) <= 2 AND damerau_levenshtein(id_l, id_r) <= {t.edits} THEN 'typo'
               ELSE 'different' END AS id_number_level,
          CASE WHEN account_l IS NULL OR account_r IS NULL THEN 'missing'
               WHEN account_l = account_r THEN 'exact' ELSE 'different' END AS account_level
        FROM f
    )
    -- (the names, phones, ID numbers and accounts are not needed past their levels; the places
    -- and units are: their levels come after the place similarity)
    SELECT * EXCLUDE (name_l, name_r, name_sim, phone_l, phone_r, id_l, id_r, account_l, account_r),
           coalesce({t.gate}, FALSE) AS strong_gate, coalesce({t.compare}, FALSE) AS compare_place
    FROM levels;
"""


def _place_similarity_sql(t: SimpleNamespace, tag: str) -> str:
    """`er_place_sim{tag}`: per distinct pair of places compared, their token-set similarity."""
    cap = t.ad["close"]["token_set"] - 0.005
    return f"""
    -- Places whose house numbers conflict (each side has a number the other lacks) are
    -- different places: 10 and 12 Jiefang Road are neighbours, not spellings of one address;
    -- but one number one edit apart (14 / 1, 4740 / 4704) with the rest alike is a typo.
    CREATE OR REPLACE TEMP TABLE er_place_cmp{tag} AS
    WITH pairs AS (
        SELECT DISTINCT place_l AS a, place_r AS b FROM er_gated{tag}
        WHERE compare_place AND place_l IS NOT NULL AND place_r IS NOT NULL AND place_l <> place_r
    ), numbered AS (
        SELECT a, b, list_filter(string_split(a, ' '), lambda t: regexp_full_match(t, '[0-9]+')) AS na,
               list_filter(string_split(b, ' '), lambda t: regexp_full_match(t, '[0-9]+')) AS nb
        FROM pairs
    ), conflicts AS (
        SELECT a, b, len(na) > 0 AND len(nb) > 0 AND NOT (list_has_all(na, nb) OR list_has_all(nb, na)) AS conflict,
               list_filter(na, lambda x: NOT list_contains(nb, x)) AS da,
               list_filter(nb, lambda x: NOT list_contains(na, x)) AS db
        FROM numbered
    )
    SELECT a, b, conflict,
           conflict AND len(da) = 1 AND len(db) = 1 AND damerau_levenshtein(da[1], db[1]) <= {t.edits} AS number_typo
    FROM conflicts;
    -- (the token-set ratio in a statement of its own: the one that calls Python runs on one
    -- DuckDB thread, and the list work before and after it on all of them)
    CREATE OR REPLACE TEMP TABLE er_place_sim0{tag} AS
    SELECT a, b, number_typo, conflict AND NOT number_typo AS apart,
           CASE WHEN conflict AND NOT number_typo THEN 0.0 ELSE linker_place_similarity(a, b) END AS sim
    FROM er_place_cmp{tag};
    DROP TABLE er_place_cmp{tag};
    -- Each side has words the other lacks and none of them is like any of the other's: another
    -- street at the same number (Calle de Serrano 44 / Calle de Alcala 44, Lale Sok. 141 / Gul
    -- Sok. 141), at most a similar place, never a close one. Only a pair measured above that
    -- cap can be changed by it, so only those pairs have their words compared (a few percent).
    CREATE OR REPLACE TEMP TABLE er_place_sim{tag} AS
    WITH near AS (
        SELECT a, b, number_typo, sim,
               list_filter(string_split(a, ' '), lambda x: NOT regexp_full_match(x, '[0-9]+')) AS wa,
               list_filter(string_split(b, ' '), lambda x: NOT regexp_full_match(x, '[0-9]+')) AS wb
        FROM er_place_sim0{tag} WHERE NOT apart AND sim > {cap}
    ), rests AS (
        SELECT a, b, number_typo, sim, list_filter(wa, lambda x: NOT list_contains(wb, x)) AS ra,
               list_filter(wb, lambda x: NOT list_contains(wa, x)) AS rb
        FROM near
    )
    SELECT a, b, number_typo, sim FROM er_place_sim0{tag} WHERE apart OR sim <= {cap}
    UNION ALL
    SELECT a, b, number_typo,
           CASE WHEN len(ra) > 0 AND len(rb) > 0
                     AND NOT list_bool_or(list_transform(ra, lambda x: list_bool_or(list_transform(rb, lambda y: jaro_winkler_similarity(x, y) >= {t.street_like}))))
                THEN least(sim, {cap}) ELSE sim END
    FROM rests;
    DROP TABLE er_place_sim0{tag};
"""


def _address_levels_sql(t: SimpleNamespace, tag: str, out: str) -> str:
    """`{out}`: every pair with its address level, whether it passed, and whether it is a household."""
    return f"""
    CREATE OR REPLACE TEMP TABLE {out} AS
    WITH place_soft AS (
        -- Token-set similarity of the places (rapidfuzz token_set_ratio: shared tokens plus an
        -- edit-distance ratio of the rest; conflicting house numbers score 0), for gated
        -- pairs only: it is the costly measure.
        SELECT g.*,
          CASE WHEN NOT compare_place OR place_l IS NULL OR place_r IS NULL OR place_l = place_r THEN NULL
               ELSE ps.sim END AS place_overlap,
          coalesce(ps.number_typo, FALSE) AS number_typo
        FROM er_gated{tag} g LEFT JOIN er_place_sim{tag} ps ON ps.a = g.place_l AND ps.b = g.place_r
    ), levels2 AS (
        SELECT *,
          CASE WHEN place_l IS NULL OR place_r IS NULL THEN 'missing'
               WHEN {t.code_strong} AND (place_l = place_r OR place_overlap >= {t.ad['similar']['token_set']}) THEN 'code'
               WHEN place_l = place_r AND unit_l IS NOT DISTINCT FROM unit_r THEN 'exact'
               WHEN place_l = place_r AND (unit_l IS NULL OR unit_r IS NULL) THEN 'place_no_unit'
               WHEN place_l = place_r THEN 'other_unit'
               WHEN NOT compare_place THEN 'not_compared'
               WHEN {t.code_sql} AND place_overlap >= {t.ad['similar']['token_set']} THEN 'code'
               WHEN place_overlap >= {t.ad['close']['token_set']} AND unit_l <> unit_r THEN 'other_unit'
               WHEN number_typo AND place_overlap >= {t.ad['close']['token_set']} THEN 'number_typo'
               WHEN place_overlap >= {t.ad['close']['token_set']} THEN 'close'
               WHEN place_overlap >= {t.ad['similar']['token_set']} THEN 'similar'
               ELSE 'different' END AS address_level
        FROM place_soft
    )
    SELECT * EXCLUDE (place_l, place_r, unit_l, unit_r, code_l, code_r),
           NOT gate_passed AND {t.flat_p} AND ({t.phone_p} OR {t.account_p}) AS household
    FROM (SELECT *, {t.passed} AS gate_passed FROM levels2);
    """


def _level_weight_sql(cfg: dict, model: dict, field: str, level: str) -> str:
    """The weight of one level as SQL: log2(m/u) with the model's m (and u) of the pair's role
    (`receivers`: both profiles are receivers'); term-frequency levels take u from the value's
    frequency (see _tf_w)."""
    def one(role: str) -> str:
        spec = model[role][field][level]
        if (field, level) in TF_LEVELS:
            dn, shared_cap = TF_LEVELS[(field, level)]
            return _tf_w(spec, dn, cfg, shared_cap=shared_cap)
        return _w(spec)
    sender, receiver = one("sender"), one("receiver")
    return sender if sender == receiver else f"(CASE WHEN receivers THEN {receiver} ELSE {sender} END)"


def _weights_sql(cfg: dict, model: dict, levels: str = "er_levels", out: str = "er_scores") -> str:
    """Every level's weight and the pair's score: prior + the sum of the weights."""
    decision = cfg["decision"]
    weights = []
    for field in FIELDS:
        cases = " ".join(
            f"WHEN '{level}' THEN {_level_weight_sql(cfg, model, field, level)}"
            for level, spec in cfg["fields"][field].items() if isinstance(spec, dict)
        )
        weights.append(f"CASE {field}_level {cases} ELSE 0 END AS {field}_weight")
    return f"""
    CREATE OR REPLACE TEMP TABLE {out} AS
    WITH weighted AS (
        SELECT *, {", ".join(weights)}, -log2(n_names) * {float(decision['prior_scale'])} AS prior_weight
        FROM {levels}
    )
    SELECT profile_l, profile_r, rules, receivers, gate_passed, household,
           name_level, phone_level, id_number_level, account_level, address_level,
           name_weight, phone_weight, id_number_weight, account_weight, address_weight, prior_weight,
           prior_weight + name_weight + phone_weight + id_number_weight + account_weight + address_weight AS match_weight,
           {_population_terms_sql(cfg)} AS n_tf
    FROM weighted
    """


def _scores_sql(cfg: dict, n_names: float, model: dict | None = None) -> str:
    """Levels, gate and weights of the candidate pairs `er_pairs` into `er_scores` (see
    _levels_sql and _weights_sql); `model` is the m and u of each role (default: the settings')."""
    model = model or prior_model(cfg)
    return _levels_sql(cfg, n_names) + ";\n" + _weights_sql(cfg, model) + ";\nDROP TABLE er_levels"


# --- the model: m and u of every level, per role, estimated from the data --------------------

ROLES = ("sender", "receiver")
# The profile columns a blocking rule's key reads, per field: a rule on a field's value says
# nothing about how often that field agrees among true pairs, so its pairs do not estimate it.
FIELD_COLUMNS = {"name": ("name_key",), "phone": ("phone",), "id_number": ("id_number",),
                 "account": ("account",), "address": ("address_key", "unit")}
MODEL_DDL = """
CREATE TABLE IF NOT EXISTS er_model (role VARCHAR, field VARCHAR, level VARCHAR, m DOUBLE, u DOUBLE,
                                     m_source VARCHAR, u_source VARCHAR);
CREATE TABLE IF NOT EXISTS er_model_info (fingerprint VARCHAR, estimated_at TIMESTAMP, summary JSON)
"""


def prior_model(cfg: dict) -> dict:
    """The model of the settings: the same m and u for both roles."""
    fields = {f: {lvl: dict(spec) for lvl, spec in cfg["fields"][f].items() if isinstance(spec, dict)} for f in FIELDS}
    return {role: {f: {lvl: dict(spec) for lvl, spec in levels.items()} for f, levels in fields.items()}
            for role in ROLES}


def _rule_fields(rule: dict) -> set[str]:
    key = rule["key"]
    return {f for f, cols in FIELD_COLUMNS.items() if any(col in key for col in cols)}


def _em(counts: np.ndarray, codes: dict[str, np.ndarray], levels: dict[str, list[str]], m0: dict[str, np.ndarray],
        u: dict[str, np.ndarray], cfg_model: dict) -> tuple[dict[str, np.ndarray], dict[str, float], float, int]:
    """Expectation maximisation of m (u fixed, as Splink does) over level patterns.

    counts[p] pairs have level codes[f][p] in field f (-1: no evidence). Returns m per field,
    the expected true pairs that informed each field, the share of true pairs (lambda) and the
    iterations. `pseudo_matches` pairs distributed as the prior m keep a level that no true
    pair shows from weighing minus infinity."""
    alpha = float(cfg_model.get("pseudo_matches", 10))
    lam = float(cfg_model.get("initial_match_share", 0.3))
    m = {f: m0[f].copy() for f in codes}
    iterations = 0
    for iterations in range(1, int(cfg_model.get("max_iterations", 100)) + 1):
        log_m = np.full(len(counts), math.log(lam))
        log_u = np.full(len(counts), math.log(1 - lam))
        for f, c in codes.items():
            seen = c >= 0
            log_m[seen] += np.log(m[f][c[seen]])
            log_u[seen] += np.log(u[f][c[seen]])
        w = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        cw = counts * w
        lam = float(np.clip(cw.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        delta = 0.0
        for f, c in codes.items():
            seen = c >= 0
            per_level = np.bincount(c[seen], weights=cw[seen], minlength=len(levels[f]))
            new = (per_level + alpha * m0[f]) / (per_level.sum() + alpha)
            delta = max(delta, float(np.abs(new - m[f]).max()))
            m[f] = new
        if delta < float(cfg_model.get("tolerance", 1e-6)):
            break
    informed = {f: float(cw[codes[f] >= 0].sum()) for f in codes}
    return m, informed, lam, iterations


def estimate_model(con: duckdb.DuckDBPyConnection, cfg: dict, n_names: float, seed: int = 42,
                   levels_table: str = "er_levels") -> tuple[dict, dict]:
    """m and u of every comparison level, per role, from the data (Fellegi-Sunter; the way
    Splink trains): u from random pairs of profiles of the role (how often two different
    parties agree at each level), m by expectation maximisation over the candidate pairs of
    each blocking rule with u fixed, a field's m estimated only from the rules that do not
    block on it, and averaged over those rules weighted by their expected true pairs.

    Term-frequency levels keep u from the value's frequency in the weights (an outlet's phone
    is weak, a personal one strong); their random-pair u serves the estimation only. A level
    too rare among the random pairs to estimate (fewer than `min_level_count`) takes the bound
    that the count gives (min_level_count / random pairs) where that is below the settings'
    u, and keeps the settings' u otherwise; a role with fewer than `min_pairs` candidate pairs
    keeps the settings' model.
    Deterministic: the random pairs are chosen by a hash of the profile ids and `seed`.
    Returns (model, summary)."""
    model = prior_model(cfg)
    counted = _level_counts(con, cfg, n_names, seed, levels_table)
    if counted is None:
        return model, {"estimated": False, "reason": "no profiles"}
    random_rows, pair_rows = counted
    summary: dict = {"roles": {}}
    field_levels = {f: list(model["sender"][f]) for f in FIELDS}
    mc = cfg.get("model", {})
    for bit, role in enumerate(ROLES):
        receivers = bit == 1
        role_summary: dict = {"candidate_pairs": 0, "random_pairs": 0, "rules": {}}
        summary["roles"][role] = role_summary
        cand = [r for r in pair_rows if r[0] == receivers]
        role_summary["candidate_pairs"] = int(sum(r[-1] for r in cand))
        if role_summary["candidate_pairs"] < int(mc.get("min_pairs", 1000)):
            role_summary["estimated"] = False
            continue
        rnd = [r for r in random_rows if r[0] == receivers]
        role_summary["random_pairs"] = int(sum(r[-1] for r in rnd))
        u_em = _estimate_u(model, role, rnd, field_levels, int(mc.get("min_level_count", 5)))
        _estimate_m(model, role, cand, u_em, field_levels, cfg, role_summary)
        role_summary["estimated"] = True
    summary["estimated"] = any(r.get("estimated") for r in summary["roles"].values())
    return model, summary


def _level_counts(con: duckdb.DuckDBPyConnection, cfg: dict, n_names: float, seed: int,
                  levels_table: str) -> tuple[list, list] | None:
    """How many pairs have each combination of levels: random pairs of profiles of one role
    (the u side; None when there are none), and the candidate pairs by blocking rule."""
    mc = cfg.get("model", {})
    max_pairs = int(mc.get("random_pairs", 200_000))
    # 1. Random pairs of profiles of one role: neighbours in an order by hash.
    parts = []
    for bit, role in enumerate(ROLES):
        n = int(_scalar(con, f"SELECT count(*) FROM er_profiles WHERE profile_id % 2 = {bit} AND name_key IS NOT NULL"))
        if n < 2:
            continue
        k = max(1, min(n - 1, math.ceil(max_pairs / n)))
        parts.append(f"""
            SELECT least(a.profile_id, b.profile_id) AS profile_l, greatest(a.profile_id, b.profile_id) AS profile_r
            FROM p a JOIN range(1, {k + 1}) s(k) ON TRUE JOIN p b ON b.r = a.r AND b.i = (a.i + s.k) % {n}
            WHERE a.r = {bit} AND a.i * {k} + s.k <= {max_pairs}""")
    if not parts:
        return None
    execute_script(con, f"""
    CREATE OR REPLACE TEMP TABLE er_random_pairs AS
    WITH p AS (
        SELECT profile_id, profile_id % 2 AS r,
               row_number() OVER (PARTITION BY profile_id % 2 ORDER BY hash(profile_id, {int(seed)}), profile_id) - 1 AS i
        FROM er_profiles WHERE name_key IS NOT NULL
    )
    SELECT DISTINCT profile_l, profile_r, 0 AS rules FROM ({" UNION ALL ".join(parts)}) WHERE profile_l <> profile_r;
    {_levels_sql(cfg, n_names, pairs="er_random_pairs", out="er_random_levels", tag="_random", compare_all=True)}
    """)
    level_cols = ", ".join(f"{f}_level" for f in FIELDS)
    random_rows = con.execute(
        f"SELECT receivers, {level_cols}, count(*) FROM er_random_levels GROUP BY ALL").fetchall()
    pair_rows = con.execute(
        f"SELECT receivers, rules, {level_cols}, count(*) FROM {levels_table} GROUP BY ALL").fetchall()
    for temp in ("er_random_pairs", "er_random_levels", "er_name_sim_random", "er_gated_random", "er_place_sim_random"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    return random_rows, pair_rows


def _estimate_u(model: dict, role: str, rnd: list, field_levels: dict, min_count: int) -> dict[str, np.ndarray]:
    """u of every level of the role from its random pairs (into `model`, where there are at
    least `min_count` of them), and the u the EM works with, per field."""
    u_em: dict[str, np.ndarray] = {}
    for i, f in enumerate(FIELDS):
        tally: dict[str, int] = {}
        for r in rnd:
            if r[1 + i] not in NO_EVIDENCE:
                tally[r[1 + i]] = tally.get(r[1 + i], 0) + int(r[-1])
        total = sum(tally.values())
        us = []
        for lvl in field_levels[f]:
            spec = model[role][f][lvl]
            c = tally.get(lvl, 0)
            if (f, lvl) in TF_LEVELS:
                us.append(max(c, 0.5) / total if total else float(spec.get("u_base", 1e-6)))
                continue
            if total and c >= min_count:
                spec["u"] = c / total
                spec["u_source"] = "random pairs"
            elif total and min_count / total < float(spec["u"]):
                # seen fewer than min_count times among `total` random pairs: u is below
                # min_count / total, whatever the settings guessed (a place written alike by
                # two different parties is rarer than a settings' 1 in 2,000 at a million)
                spec["u"] = min_count / total
                spec["u_source"] = "random pairs (bound)"
            us.append(float(spec["u"]))
        u_em[f] = np.clip(np.array(us, dtype=float), 1e-12, 1.0)
    return u_em


def _estimate_m(model: dict, role: str, cand: list, u_em: dict, field_levels: dict, cfg: dict,
                role_summary: dict) -> None:
    """m of every level of the role by one EM session per blocking rule (a field's m only from
    the rules that do not block on it), averaged weighted by each rule's expected true pairs."""
    mc = cfg.get("model", {})
    rules = cfg["blocking"]["rules"]
    weighted = {f: np.zeros(len(field_levels[f])) for f in FIELDS}
    informed_total = {f: 0.0 for f in FIELDS}
    m0 = {f: np.array([float(model[role][f][lvl]["m"]) for lvl in field_levels[f]]) for f in FIELDS}
    m0 = {f: v / v.sum() for f, v in m0.items()}
    for ri, rule in enumerate(rules):
        rows = [r for r in cand if (r[1] >> ri) & 1]
        n_rule = int(sum(r[-1] for r in rows))
        if n_rule < int(mc.get("min_rule_pairs", 200)):
            continue
        free = [f for f in FIELDS if f not in _rule_fields(rule)]
        index = {f: {lvl: j for j, lvl in enumerate(field_levels[f])} for f in free}
        counts = np.array([r[-1] for r in rows], dtype=float)
        codes = {f: np.array([index[f].get(r[2 + FIELDS.index(f)], -1) for r in rows]) for f in free}
        codes = {f: c for f, c in codes.items() if (c >= 0).any()}
        if not codes:
            continue
        m, informed, lam, its = _em(counts, codes, field_levels, {f: m0[f] for f in codes},
                                    {f: u_em[f] for f in codes}, mc)
        for f in codes:
            weighted[f] += informed[f] * m[f]
            informed_total[f] += informed[f]
        role_summary["rules"][rule["name"]] = {"pairs": n_rule, "match_share": round(lam, 4), "iterations": its,
                                               "fields": sorted(codes)}
    for f in FIELDS:
        if informed_total[f] < float(mc.get("min_true_pairs", 20)):
            continue
        m = weighted[f] / informed_total[f]
        for j, lvl in enumerate(field_levels[f]):
            model[role][f][lvl]["m"] = float(max(m[j], 1e-6))
            model[role][f][lvl]["m_source"] = "EM"


def model_rows(model: dict) -> list[tuple]:
    rows = []
    for role in ROLES:
        for f in FIELDS:
            for lvl, spec in model[role][f].items():
                u = spec["u"]
                rows.append((role, f, lvl, float(spec["m"]), None if u == "tf" else float(u),
                             spec.get("m_source", "settings"), "frequency" if u == "tf" else spec.get("u_source", "settings")))
    return rows


def save_model(con: duckdb.DuckDBPyConnection, cfg: dict, model: dict, summary: dict) -> None:
    import json

    execute_script(con, MODEL_DDL)
    con.execute("DELETE FROM er_model")
    con.executemany("INSERT INTO er_model VALUES (?, ?, ?, ?, ?, ?, ?)", model_rows(model))
    con.execute("DELETE FROM er_model_info")
    con.execute("INSERT INTO er_model_info VALUES (?, now()::TIMESTAMP, ?)",
                [config_fingerprint(cfg), json.dumps(summary, sort_keys=True)])


def load_model(con: duckdb.DuckDBPyConnection, cfg: dict) -> dict | None:
    """The stored model, when it was estimated under these settings and code; else None."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if not {"er_model", "er_model_info"} <= tables:
        return None
    info = con.execute("SELECT fingerprint FROM er_model_info").fetchall()
    if not info or info[0][0] != config_fingerprint(cfg):
        return None
    model = prior_model(cfg)
    for role, f, lvl, m, u, m_source, u_source in con.execute("SELECT * FROM er_model").fetchall():
        if role not in model or f not in model[role] or lvl not in model[role][f]:
            return None
        spec = model[role][f][lvl]
        spec["m"], spec["m_source"] = m, m_source
        if u is not None:
            spec["u"], spec["u_source"] = u, u_source
    return model


def export_model(con: duckdb.DuckDBPyConnection) -> dict:
    """The stored model as a JSON-able dict (`linker model --out`), to pin it in another store."""
    summary = model_summary(con)
    if summary is None:
        raise ResolutionError("this store has no estimated model yet: run `linker run` first")
    fingerprint = con.execute("SELECT fingerprint FROM er_model_info").fetchall()[0][0]
    return {"fingerprint": fingerprint, **summary}


def import_model(con: duckdb.DuckDBPyConnection, data: dict, cfg: dict | None = None) -> None:
    """Store a model exported from another store (`linker model --load`); the next full run
    uses it instead of estimating one. Refused when it was estimated under other settings."""
    cfg = cfg or load_resolution()
    if data.get("fingerprint") != config_fingerprint(cfg):
        raise ResolutionError("the model was estimated under other resolution settings or code; estimate it again here")
    model = prior_model(cfg)
    for row in data["levels"]:
        spec = model[row["role"]][row["field"]][row["level"]]
        spec["m"], spec["m_source"] = row["m"], row["m_source"]
        if row["u"] is not None:
            spec["u"], spec["u_source"] = row["u"], row["u_source"]
    summary = {k: v for k, v in data.items() if k not in ("fingerprint", "levels", "estimated_at")}
    summary["imported"] = True
    save_model(con, cfg, model, summary)


def model_summary(con: duckdb.DuckDBPyConnection) -> dict | None:
    """What `linker model` and the run log show: when and from what the model was estimated,
    and every level's m, u and weight per role."""
    import json

    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if not {"er_model", "er_model_info"} <= tables:
        return None
    info = con.execute("SELECT estimated_at, summary FROM er_model_info").fetchall()
    if not info:
        return None
    rows = con.execute("SELECT role, field, level, m, u, m_source, u_source FROM er_model").fetchall()
    return {"estimated_at": str(info[0][0]), **json.loads(info[0][1]),
            "levels": [dict(zip(("role", "field", "level", "m", "u", "m_source", "u_source"), r)) for r in rows]}


def _population_terms_sql(cfg: dict) -> str:
    """How many of a pair's weights rise with log2 of the name population: the levels whose
    u is the value's frequency among all names (u = dn / N), not a per-value base rate, and
    whose value is not shared: a warehouse's street address with one side's unit missing
    weighs `shared_weight` whatever N is (see _tf_w), so it is no population term."""
    terms = []
    for name, levels in cfg["fields"].items():
        for level, spec in levels.items():
            if not (isinstance(spec, dict) and spec.get("u") == "tf" and "u_base" not in spec):
                continue
            dn, shared_cap = TF_LEVELS[(name, level)]
            capped = f" AND ({_shared_sql(dn, cfg)}) IS NOT TRUE" if shared_cap else ""
            terms.append(f"({name}_level = '{level}'{capped})::INT")
    return " + ".join(terms) or "0"


def _pairwise(scorer, scale: float):
    def udf(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.Array:
        lv, rv = left.to_pylist(), right.to_pylist()
        # rapidfuzz releases the interpreter lock and computes the batch on every core.
        scores = process.cpdist([x or "" for x in lv], [x or "" for x in rv], scorer=scorer, workers=-1)
        mask = np.fromiter((x is None or y is None for x, y in zip(lv, rv)), dtype=bool, count=len(lv))
        return pa.array(scores.astype("float64") / scale, mask=mask)
    return udf


def _key_similarity(a: list[str], b: list[str], same_count: np.ndarray | None = None) -> np.ndarray:
    """Edit-distance ratio of two order-free name keys; for keys of as many words, the
    token-set ratio when higher: a typo in a name's first letter moves it in the sorted key
    ("scott ssarah" / "sarah scott"), and the token-set ratio compares the words that differ
    with each other, after the ones in common. In [0, 100]. `same_count` (whether each pair
    has as many words) is counted here unless given."""
    ratio = process.cpdist(a, b, scorer=fuzz.ratio, workers=-1).astype("float64")
    if same_count is None:
        same_count = np.fromiter((x.count(" ") == y.count(" ") for x, y in zip(a, b)), dtype=bool, count=len(a))
    if same_count.any():
        idx = np.flatnonzero(same_count)
        token_set = process.cpdist([a[i] for i in idx], [b[i] for i in idx], scorer=fuzz.token_set_ratio, workers=-1)
        ratio[idx] = np.maximum(ratio[idx], token_set)
    return ratio


BATCH_ROWS = 1_000_000


@python_step("key_similarity")
def _key_similarity_table(con: duckdb.DuckDBPyConnection, source: str, out: str) -> None:
    """`out` (i, sim): `_key_similarity_batch` of every row (i, x, y, same_words) of `source`,
    read in Arrow batches of a million rows: rapidfuzz measures each batch on every core, and
    nothing is called per 2,048 rows as a UDF would be."""
    # (batch by batch, each written before the next is read: memory holds one batch, whatever
    # the size; a range of rowid is read from its row groups only)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} (i BIGINT, sim DOUBLE)")
    low, high = con.execute(f"SELECT min(rowid), max(rowid) FROM {source}").fetchall()[0]
    for start in range(low or 0, (high if high is not None else -1) + 1, BATCH_ROWS):
        batch = con.sql(f"SELECT i, x, y, same_words FROM {source} WHERE rowid >= {start} AND rowid < {start + BATCH_ROWS}"
                        ).to_arrow_table().combine_chunks()
        if batch.num_rows == 0:  # (rowids start where the table began: 2**55 and up inside a transaction)
            continue
        measured = pa.table({"i": batch.column(0), "sim": _key_similarity_batch(
            batch.column(1).chunk(0), batch.column(2).chunk(0), batch.column(3).chunk(0))})
        con.register("_measured_arrow", measured)
        try:
            con.execute(f"INSERT INTO {out} SELECT * FROM _measured_arrow")
        finally:
            con.unregister("_measured_arrow")


def _key_similarity_batch(left: pa.Array, right: pa.Array, same_words: pa.Array) -> pa.Array:
    """`_key_similarity` in [0, 1] of a batch of pairs of keys (never NULL: SQL made them) whose
    word counts SQL has compared already (`same_words`)."""
    same = pc.fill_null(same_words, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return pa.array(_key_similarity([x or "" for x in left.to_pylist()], [y or "" for y in right.to_pylist()], same) / 100.0)


def _name_similarity(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.Array:
    """`_key_similarity` of two names, each its key and its other readings separated by "|"
    (see normalise.name_readings): the best of the key with the key, and of each reading of
    one with the other's key, so 中村 結衣 (pinyin cun jie yi zhong, Japanese nakamura yui) meets
    Yui Nakamura and 吳志強 (wu zhi qiang, Cantonese ng chi keung) Ng Chi-keung. Two readings
    are not compared with each other: both names are then in one script, and their keys meet
    (a hanzi name has up to a dozen readings; all pairs of two would cost a hundred-fold)."""
    lv, rv = left.to_pylist(), right.to_pylist()
    a, b = [x or "" for x in lv], [x or "" for x in rv]
    if not any("|" in x for x in a) and not any("|" in y for y in b):
        ratio = _key_similarity(a, b)
    else:
        rows, xa, xb = [], [], []
        for i, (x, y) in enumerate(zip(a, b)):
            xs, ys = x.split("|"), y.split("|")
            for q in ys:
                rows.append(i)
                xa.append(xs[0])
                xb.append(q)
            for p in xs[1:]:
                rows.append(i)
                xa.append(p)
                xb.append(ys[0])
        ratio = np.zeros(len(a))
        np.maximum.at(ratio, np.asarray(rows, dtype=np.int64), _key_similarity(xa, xb))
    mask = np.fromiter((x is None or y is None for x, y in zip(lv, rv)), dtype=bool, count=len(lv))
    return pa.array(ratio / 100.0, mask=mask)


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Pairwise string similarities from rapidfuzz, one C call per Arrow batch (idempotent)."""
    for name, fn, args in (
        ("linker_name_similarity", _name_similarity, ["VARCHAR", "VARCHAR"]),
        ("linker_place_similarity", _pairwise(fuzz.token_set_ratio, 100.0), ["VARCHAR", "VARCHAR"]),
    ):
        try:
            con.remove_function(name)
        except Exception:  # not registered yet on this connection
            pass
        con.create_function(name, fn, args, "DOUBLE", type="arrow",
                            null_handling="special", side_effects=False)


def _components(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | None) -> int:
    """Connected components of the accepted links (`er_accepted`) into `er_labels` (node,
    label): every profile with a link, labelled with the smallest profile_id, hence the
    smallest mention_id, of its component. Returns the rounds the union-find took.

    The links are read as Arrow arrays and joined by the vectorised union-find of
    `components.connected_components` over dense ids (np.unique keeps the order, so the smallest
    dense id is the smallest profile id). Min-label propagation in SQL took one join of every
    link per round, as many rounds as the widest component is across: 3.8 s for 2.8M links
    at 1M parcels.
    """
    links = con.sql("SELECT profile_l, profile_r FROM er_accepted").to_arrow_table()
    left = links.column(0).to_numpy().astype(np.int64, copy=False)
    right = links.column(1).to_numpy().astype(np.int64, copy=False)
    nodes, dense = np.unique(np.concatenate([left, right]), return_inverse=True)
    labels, rounds = connected_components(len(nodes), dense[: len(left)], dense[len(left):], with_rounds=True)
    con.register("_er_labels_arrow", pa.table({"node": nodes, "label": nodes[labels]}))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE er_labels AS SELECT node, label FROM _er_labels_arrow")
    finally:
        con.unregister("_er_labels_arrow")
    if progress:
        progress(f"components: {len(nodes)} linked profiles in {len(np.unique(labels))} parties ({rounds} rounds)")
    return rounds


def resolve_entities(
    con: duckdb.DuckDBPyConnection,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
    config: dict | None = None,
    retrain: bool = False,
) -> ResolutionStats:
    """Resolve `party_mentions` into parties.

    Fills `party_mentions.profile_id` and `party_mentions.entity_id`, and (re)creates
    `entities` and `entity_links`. Deterministic: the same mentions give the same ids.
    The model (m and u of every comparison level, per role) is the one stored in the store
    when it was estimated under the same settings and code, else it is estimated from these
    mentions (estimate_model; `seed` picks its random pairs) and stored; `retrain` estimates
    it again. A stored model keeps a full run equal to the incremental nights before it.

    Example:
        >>> from linker import store
        >>> from linker.stages import normalise, resolve
        >>> con = store.connect("store.duckdb")
        >>> normalise.build_party_mentions(con)
        >>> resolve.resolve_entities(con).entities
    """
    cfg = config or load_resolution()
    stats = ResolutionStats()
    exists = _scalar(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'party_mentions' AND table_schema = 'main'"
    )
    if not exists:
        raise ResolutionError("there are no party mentions yet: run normalisation (linker run) first")
    stage = _Stages(con, stats, progress)
    register_udfs(con)
    stage("profiles", _profiles_sql())
    stage("frequencies", _freq_sql(cfg))
    stage("blocking", _blocking_sql(cfg))
    n_names = population(con, cfg, "er_profiles")
    stage("comparison", _levels_sql(cfg, n_names))
    # (what the levels were made from goes now, not at the end: DuckDB's budget holds the
    # tables still to come instead of spilling these)
    _drop_work_tables(con, ("er_mentions", "er_pairs", "er_gated", "er_name_sim", "er_place_sim"))
    model = stage.timed("model", lambda: _the_model(con, cfg, n_names, seed, retrain, stats))
    stage("weights", _weights_sql(cfg, model) + "; DROP TABLE er_levels")
    stage(
        "accept",
        f"""CREATE OR REPLACE TEMP TABLE er_accepted AS
            SELECT profile_l, profile_r FROM er_scores
            WHERE gate_passed AND match_weight >= {float(cfg['decision']['threshold'])}""",
    )
    stats.iterations = stage.timed("components", lambda: _components(con, progress))
    stage("write", _write_sql(cfg, n_names))
    # (the candidate pairs go before the parties are grouped: DuckDB's budget then holds the
    # grouping instead of spilling it, 7.4 -> 4.8 s at 1M parcels)
    _count_rows(con, stats, candidate_pairs="er_scores")
    _drop_work_tables(con, ("er_scores",))
    stage("entities", _entities_sql("party_mentions", "CREATE OR REPLACE TABLE entities AS"))
    stage("state", _state_sql(cfg, n_names))
    con.execute(f"DROP TABLE {write_households(con)}")
    _count_rows(con, stats, mentions="party_mentions", profiles="er_profiles", links="entity_links", entities="entities")
    _drop_work_tables(con, ("er_mentions", "er_mention_profile", "er_profiles", "er_freq", "er_pairs", "er_scores",
                            "er_name_sim", "er_gated", "er_place_sim", "er_accepted", "er_labels"))
    return stats


def _the_model(con: duckdb.DuckDBPyConnection, cfg: dict, n_names: float, seed: int, retrain: bool,
               stats: ResolutionStats) -> dict:
    """The model a full run resolves with: the stored one (unless `retrain`), else one
    estimated from these mentions, else (estimation off) the settings' own; the one chosen is
    stored, and `stats.model` says which it is."""
    model = None if retrain else load_model(con, cfg)
    if model is not None:
        stats.model = {**(model_summary(con) or {}), "state": "stored"}
    elif cfg.get("model", {}).get("estimate", True):
        model, summary = estimate_model(con, cfg, n_names, seed=seed)
        save_model(con, cfg, model, summary)
        stats.model = {**(model_summary(con) or {}), "state": "now"}
    else:
        model = prior_model(cfg)
        save_model(con, cfg, model, {"estimated": False, "reason": "[model] estimate = false"})
        stats.model = {**(model_summary(con) or {}), "state": "settings"}
    return model


def population(con: duckdb.DuckDBPyConnection, cfg: dict, profiles: str) -> float:
    """The population of names the prior and name frequencies are taken against: the distinct
    name keys of the profiles, but at least `min_population` (a small store is a sample of a
    large population: a tiny test store would otherwise trust nothing)."""
    names = _scalar(con, f"SELECT count(DISTINCT name_key) FROM {profiles}")
    return float(max(int(names), int(cfg["frequency"]["min_population"])))


def config_fingerprint(cfg: dict) -> str:
    """What a stored resolution depends on besides the data: the settings and this module's
    code. A later run may extend the stored resolution only when this is unchanged."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _state_sql(cfg: dict, n_names: float) -> str:
    """What an incremental run needs to extend this resolution (see resolve_new_mentions):
    the profiles with their party and the population. The rest is written where it is made:
    every candidate pair with its score and the population it was scored against
    (`er_pair_state`) with the links (_write_sql), the blocking keys (`er_key_state`) by
    blocking, the value frequencies (`er_freq_state`) by frequencies."""
    return f"""
    CREATE OR REPLACE TABLE er_profile_state AS
    SELECT p.profile_id, p.name_key, p.phone, p.id_number, p.account, p.address_key, p.unit, p.mentions,
           coalesce(l.label, p.profile_id) AS entity_id
    FROM er_profiles p LEFT JOIN er_labels l ON l.node = p.profile_id;
    CREATE OR REPLACE TABLE er_state AS
    SELECT {float(n_names)!r}::DOUBLE AS population, '{config_fingerprint(cfg)}' AS fingerprint;
    """


def _links_sql(cfg: dict, n_names: float) -> str:
    """The accepted pairs of `er_scores` as `entity_links` rows: every field's level and weight
    as JSON evidence, and the name population the weights were taken against."""
    evidence = ", ".join(
        f"'{f}', json_object('level', {f}_level, 'weight', round({f}_weight, 2))"
        for f in ("name", "phone", "id_number", "account", "address")
    )
    return f"""
    SELECT s.profile_l AS mention_id_l, s.profile_r AS mention_id_r,
           1 / (1 + pow(2, -s.match_weight)) AS match_probability,
           s.match_weight,
           json_object('prior', round(s.prior_weight, 2), 'blocked_by', {_rule_names_sql(cfg, 's.rules')}, {evidence}) AS evidence,
           {float(n_names)!r}::DOUBLE AS scored_population
    FROM er_scores s JOIN er_accepted a USING (profile_l, profile_r)"""


ENTITY_LISTS = (("names", "name_raw"), ("phones", "phone_e164"), ("accounts", "account_norm"),
                ("id_numbers", "id_number_norm"), ("addresses", "address_raw"), ("roles", "role"))


def _entities_sql(mentions: str, write: str) -> str:
    """A script that writes one `entities` row per party of the mentions in `mentions` (all
    mentions of each): `write` is the statement's head (`CREATE OR REPLACE TABLE entities AS`,
    `INSERT INTO entities`).

    Each list is built from the distinct (party, value) pairs, not from every mention (a web
    shop's party has a hundred thousand mentions and a few dozen distinct values: 6.1 s -> 4.8 s
    at 1M parcels), gathered one field per statement into one work table and read by a single
    grouping: several groupings joined in one query held a hash table each at once and ran out
    of DuckDB's memory budget at 5M parcels. The best name is the most used, then the shortest,
    then the first in order."""
    lists = ", ".join(f"coalesce(list_sort(list(value) FILTER (WHERE field = {i} AND value IS NOT NULL))[1:50], []) AS {name}"
                      for i, (name, _) in enumerate(ENTITY_LISTS[:-1]))
    roles = len(ENTITY_LISTS) - 1  # (all of them, not the first 50)
    statements = [
        "CREATE OR REPLACE TEMP TABLE er_entity_values (entity_id BIGINT, field UTINYINT, value VARCHAR, n BIGINT)",
        f"INSERT INTO er_entity_values SELECT entity_id, 0, name_raw, count(*) FROM {mentions} "
        "WHERE entity_id IS NOT NULL GROUP BY entity_id, name_raw",
    ]
    for i, (_, column) in enumerate(ENTITY_LISTS[1:], start=1):
        statements.append(f"INSERT INTO er_entity_values SELECT DISTINCT entity_id, {i}, {column}, NULL::BIGINT FROM {mentions} "
                          f"WHERE entity_id IS NOT NULL AND {column} IS NOT NULL")
    statements += [
        # (the number of parcels: field 255)
        f"INSERT INTO er_entity_values SELECT entity_id, 255, NULL, count(*) FROM "
        f"(SELECT DISTINCT entity_id, parcel_seq FROM {mentions} WHERE entity_id IS NOT NULL AND parcel_seq IS NOT NULL) "
        "GROUP BY entity_id",
        f"""{write}
        SELECT entity_id,
               arg_min_null(value, (-n, length(value), value)) FILTER (WHERE field = 0) AS best_name,
               {lists},
               sum(n) FILTER (WHERE field = 0)::BIGINT AS mentions,
               coalesce(max(n) FILTER (WHERE field = 255), 0) AS parcels,
               coalesce(list_sort(list(value) FILTER (WHERE field = {roles})), []) AS roles
        FROM er_entity_values GROUP BY entity_id""",
        "DROP TABLE er_entity_values",
    ]
    return ";\n".join(statements)


def _write_sql(cfg: dict, n_names: float) -> str:
    """Entity of a mention = component label of its profile, or the profile itself when it
    has no accepted link. Links keep every field's level and weight as JSON evidence. The
    candidate pairs' state for the nights after (`er_pair_state`) is written here too: these
    are the last readers of `er_scores`. The parties' rows follow (`_entities_sql`)."""
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

    CREATE OR REPLACE TABLE entity_links AS {_links_sql(cfg, n_names)};

    -- every candidate pair with its score, for the nights after (see _state_sql)
    CREATE OR REPLACE TABLE er_pair_state AS
    SELECT profile_l, profile_r, gate_passed, match_weight, n_tf::TINYINT AS n_tf,
           {float(n_names)!r}::DOUBLE AS scored_population,
           gate_passed AND match_weight >= {float(cfg['decision']['threshold'])} AS accepted, household
    FROM er_scores;
    """


def write_households(con: duckdb.DuckDBPyConnection) -> str:
    """`party_households` (entity_id, household_id): parties judged to live together (a
    candidate pair of two of their profiles shares a flat and its phone or account but not a
    name, see _levels_sql), grouped as connected components; household_id is the smallest
    entity_id of the household. Households are parties of their own, tied in the graph by a
    household node. Returns the name of a temp table of the (entity_id, household_id) rows
    new or gone since before: the parties whose household is new, gone or other than before
    (the incremental graph update reads their parcels) and the households they left or joined."""
    import networkx as nx

    pairs = con.execute("""
        SELECT DISTINCT least(a.entity_id, b.entity_id), greatest(a.entity_id, b.entity_id)
        FROM er_pair_state s
        JOIN er_profile_state a ON a.profile_id = s.profile_l
        JOIN er_profile_state b ON b.profile_id = s.profile_r
        WHERE s.household AND a.entity_id <> b.entity_id
        ORDER BY 1, 2""").fetchall()
    g = nx.Graph()
    g.add_edges_from(pairs)
    rows = sorted((int(e), int(min(comp))) for comp in nx.connected_components(g) for e in comp)
    con.execute("CREATE TABLE IF NOT EXISTS party_households (entity_id BIGINT, household_id BIGINT)")
    # One Arrow table, not executemany (a row-by-row insert: 7 s for the households of 1M parcels).
    columns = list(zip(*rows)) if rows else [[], []]
    con.register("_households_arrow", pa.table({"entity_id": pa.array(columns[0], pa.int64()),
                                                "household_id": pa.array(columns[1], pa.int64())}))
    con.execute("CREATE OR REPLACE TEMP TABLE _households_new AS SELECT * FROM _households_arrow")
    con.unregister("_households_arrow")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _households_moved AS
        SELECT DISTINCT entity_id, household_id FROM (
            (SELECT * FROM party_households EXCEPT SELECT * FROM _households_new)
            UNION ALL (SELECT * FROM _households_new EXCEPT SELECT * FROM party_households))""")
    con.execute("DELETE FROM party_households")
    con.execute("INSERT INTO party_households SELECT * FROM _households_new ORDER BY entity_id")
    con.execute("DROP TABLE _households_new")
    return "_households_moved"


# --- incremental resolution ------------------------------------------------------------------

class NeedsFullResolution(Exception):
    """The stored resolution cannot be extended (no state, other settings or code); the
    message says why in one sentence."""


def can_extend(con: duckdb.DuckDBPyConnection, cfg: dict | None = None) -> str | None:
    """None when `resolve_new_mentions` can extend the stored resolution, else why not."""
    cfg = cfg or load_resolution()
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    missing = {"er_state", "er_profile_state", "er_pair_state", "er_key_state", "er_freq_state", "entity_links"} - tables
    if missing:
        return "no stored resolution to extend"
    columns = {(r[0], r[1]) for r in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall()}
    if not {("entity_links", "scored_population"), ("er_pair_state", "household")} <= columns:
        return "the stored resolution predates households and estimated models"
    if "er_name_forms" not in tables:
        return "the stored resolution predates names' other readings"
    stored = con.execute("SELECT fingerprint FROM er_state").fetchall()
    if not stored or stored[0][0] != config_fingerprint(cfg):
        return "the resolution settings or code changed since the last full resolution"
    return None


def resolve_new_mentions(
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[str], None] | None = None,
    config: dict | None = None,
) -> ResolutionStats:
    """Extend the stored resolution to the mentions that have none yet (profile_id NULL),
    giving the parties a full `resolve_entities` would give on all mentions.

    Why the result equals a full run: a pair's score depends only on the two profiles, the
    frequency (dn) of the values they share, the blocks they share (and whether each is
    within its cap) and the name population N. A full run keeps every candidate pair with its
    score (`er_pair_state`), so only these pairs need a new decision:

    a. pairs with a new profile (a new combination of normalised fields), found through the
       blocks of the new profile's keys;
    b. known pairs that share a value whose frequency changed (a new mention carries it),
       unless it is an identifier that was a shared outlet/warehouse value before and after
       (it weighs `shared_weight` either way);
    c. known pairs of a profile in a block that outgrew its cap (they may be candidates no
       more);
    d. known pairs whose decision the grown population turns: the prior -log2(N) * scale
       moves every weight, and each level whose u is a frequency among all names (an exact
       name, a place without unit: u = dn / N) moves it back by log2(N'/N), except a place
       that is shared (a warehouse's street address: it weighs `shared_weight` at any N);
       the stored weight plus that shift says, without scoring, whether a pair crosses the
       threshold either way.

    These pairs are scored by the same SQL as a full run; the parties of every
    profile touched are then recomputed as connected components over the links, inside
    the touched parties only. Writes `party_mentions` (profile_id, entity_id),
    `entity_links`, `entities`, the `er_*_state` tables and two temp tables:
    `_changed_parcels` (parcel_seq of every parcel with a new mention or a mention whose party
    changed), for the graph stage, and `_changed_entities` (see _changed_entities_sql), for
    the page tables. Raises NeedsFullResolution when the stored state cannot be extended.
    """
    cfg = config or load_resolution()
    why = can_extend(con, cfg)
    if why:
        raise NeedsFullResolution(why)
    stats = ResolutionStats()
    stage = _Stages(con, stats, progress)
    register_udfs(con)
    stage("profiles", _new_profiles_sql())
    stage("frequencies", _new_frequencies_sql(cfg))
    n_new = population(con, cfg, "er_profile_state")
    if n_new * float(cfg["frequency"]["u_floor"]) > 1.0:
        # the floor of a name's u binds: weights would no longer move with log2(N) alone
        raise NeedsFullResolution("the name population passed 1/u_floor")
    stage("blocking", _new_blocks_sql(cfg) + _changed_values_sql(cfg) + _pairs_to_decide_sql(cfg, n_new))
    stage("candidates", _candidates_sql(cfg))
    model = load_model(con, cfg)
    if model is None:
        raise NeedsFullResolution("the stored resolution has no model estimated under these settings")
    stage("comparison", _scores_sql(cfg, n_new, model))
    stage("accept", _new_decisions_sql(cfg, n_new))
    # 4. Parties of every touched profile, as components inside the touched parties.
    stage("components", _touched_parties_sql())
    con.execute("ALTER TABLE er_accepted RENAME TO ri_accepted_new")
    con.execute("CREATE OR REPLACE TEMP TABLE er_accepted AS SELECT * FROM ri_kept_links")
    stats.iterations = stage.timed("components", lambda: _components(con, progress))
    con.execute("DROP TABLE er_accepted; ALTER TABLE ri_accepted_new RENAME TO er_accepted")
    stage("write", _write_new_sql(cfg, n_new))
    con.execute(f"UPDATE er_state SET population = {n_new!r}")
    moved = write_households(con)
    # parcels of parties that joined, left or changed household are changed for the graph
    con.execute(f"""INSERT INTO _changed_parcels
        SELECT DISTINCT m.parcel_seq FROM party_mentions m SEMI JOIN {moved} USING (entity_id)
        WHERE m.parcel_seq NOT IN (SELECT parcel_seq FROM _changed_parcels)""")
    con.execute(_changed_entities_sql(moved))
    con.execute(f"DROP TABLE {moved}")
    _count_rows(con, stats, mentions="ri_new", profiles="ri_new_profiles", candidate_pairs="er_scores",
                links="er_accepted", entities="ri_touched_entities")
    _drop_work_tables(con, _NEW_WORK_TABLES)
    return stats


_NEW_WORK_TABLES = ("ri_new", "ri_forms", "ri_forms_changed", "ri_new_mp", "ri_new_profiles", "ri_grown",
                    "ri_touched_profiles", "ri_touched_values",
                    "ri_freq", "ri_changed_values", "ri_new_keys", "ri_blocks", "ri_crossed", "ri_value_profiles",
                    "ri_value_left", "ri_value_shared", "ri_value_pairs", "ri_added", "ri_value_names", "ri_value_freq",
                    "ri_new_blocks", "ri_new_anchors", "ri_pairs", "ri_pair_keys", "ri_pair_blocks", "ri_pair_anchors",
                    "ri_removed", "ri_touched_entities", "ri_scope", "ri_kept_links", "er_pairs", "er_profiles",
                    "er_scores", "er_name_sim", "er_gated", "er_place_sim", "er_accepted", "er_labels")


def _new_profiles_sql() -> str:
    """1. Profiles of the new mentions: an existing profile with the same fields, else the
    smallest new mention of their combination (as a full run would number it); the name forms
    of their keys, and the keys whose forms changed."""
    tuple_cols = PROFILE_TUPLE
    same_tuple = " AND ".join(f"p.{c} IS NOT DISTINCT FROM n.{c}" for c in tuple_cols[1:])
    return f"""
    CREATE OR REPLACE TEMP TABLE ri_new AS
    SELECT mention_id, parcel_seq, name_key,
           CASE WHEN length(regexp_replace(phone_e164, '[^0-9]', '', 'g')) >= 6 THEN phone_e164 END AS phone,
           id_number_norm AS id_number, account_norm AS account, address_key, {UNIT_SQL} AS unit
    FROM party_mentions WHERE profile_id IS NULL;
    -- the name forms of the keys the new mentions carry, and the keys whose forms changed
    CREATE OR REPLACE TEMP TABLE ri_forms AS {NAME_FORMS_SQL.format(
        where="name_key IN (SELECT name_key FROM party_mentions WHERE profile_id IS NULL)")};
    CREATE OR REPLACE TEMP TABLE ri_forms_changed AS
    SELECT n.name_key FROM ri_forms n LEFT JOIN er_name_forms o USING (name_key)
    WHERE o.name_key IS NOT NULL AND (n.name_alt IS DISTINCT FROM o.name_alt OR n.name_skeleton IS DISTINCT FROM o.name_skeleton);
    DELETE FROM er_name_forms WHERE name_key IN (SELECT name_key FROM ri_forms);
    INSERT INTO er_name_forms SELECT * FROM ri_forms;
    CREATE OR REPLACE TEMP TABLE ri_new_mp AS
    WITH matched AS (
        SELECT n.*, p.profile_id AS existing
        FROM ri_new n LEFT JOIN er_profile_state p ON p.name_key = n.name_key AND {same_tuple}
    )
    SELECT mention_id, existing IS NULL AS new_profile,
           coalesce(existing, min(mention_id) OVER (PARTITION BY {", ".join(tuple_cols)},
                                                    CASE WHEN name_key IS NULL THEN mention_id END)) AS profile_id
    FROM matched;
    CREATE OR REPLACE TEMP TABLE ri_new_profiles AS
    SELECT mp.profile_id, any_value(n.name_key) AS name_key, any_value(n.phone) AS phone,
           any_value(n.id_number) AS id_number, any_value(n.account) AS account,
           any_value(n.address_key) AS address_key, any_value(n.unit) AS unit, count(*) AS mentions,
           mp.profile_id AS entity_id
    FROM ri_new n JOIN ri_new_mp mp USING (mention_id) WHERE mp.new_profile GROUP BY mp.profile_id;
    CREATE OR REPLACE TEMP TABLE ri_grown AS
    SELECT profile_id, count(*) AS added FROM ri_new_mp WHERE NOT new_profile GROUP BY profile_id;
    UPDATE er_profile_state SET mentions = mentions + g.added FROM ri_grown g
    WHERE er_profile_state.profile_id = g.profile_id;
    INSERT INTO er_profile_state SELECT * FROM ri_new_profiles;
    """


def _new_frequencies_sql(cfg: dict) -> str:
    """2. Frequencies of the values the new mentions carry (the formula of _freq_sql), and the
    values whose frequency changed."""
    shared = int(cfg["frequency"]["shared_max_names"])
    value_exprs = dict(IDENTIFIER_VALUES)
    touched = " UNION ALL ".join(
        f"SELECT '{f}' AS field, {e} AS value FROM er_profile_state p SEMI JOIN ri_touched_profiles t USING (profile_id) "
        f"WHERE {e} IS NOT NULL" for f, e in value_exprs.items()
    )
    value_names = " UNION ALL ".join(
        f"SELECT '{f}' AS field, {e.replace('address_key', 'p.address_key')} AS value, p.name_key, sum(p.mentions) AS n "
        f"FROM er_profile_state p JOIN ri_touched_values t ON t.field = '{f}' "
        f"AND t.value = {e.replace('address_key', 'p.address_key')} GROUP BY ALL"
        for f, e in value_exprs.items()
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE ri_touched_profiles AS
    SELECT profile_id FROM ri_new_profiles UNION SELECT profile_id FROM ri_grown;
    CREATE OR REPLACE TEMP TABLE ri_touched_values AS
    SELECT DISTINCT field, value FROM ({touched})
    UNION SELECT DISTINCT 'name', name_key FROM ri_new_profiles WHERE name_key IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE ri_value_names AS {value_names};
    {_people_per_value_sql(cfg, "ri_value_names", "ri_value_freq")};
    CREATE OR REPLACE TEMP TABLE ri_freq AS SELECT * FROM ri_value_freq
    UNION ALL
    SELECT 'name', p.name_key, count(*)::DOUBLE FROM er_profile_state p
    JOIN ri_touched_values t ON t.field = 'name' AND t.value = p.name_key GROUP BY p.name_key;
    CREATE OR REPLACE TEMP TABLE ri_changed_values AS
    SELECT f.field, f.value, o.dn AS dn_old, f.dn AS dn_new FROM ri_freq f LEFT JOIN er_freq_state o USING (field, value)
    WHERE o.dn IS DISTINCT FROM f.dn
      AND (f.field = 'name' OR o.dn IS NULL OR o.dn <= {shared} OR f.dn <= {shared});
    DELETE FROM er_freq_state USING ri_freq f WHERE er_freq_state.field = f.field AND er_freq_state.value = f.value;
    INSERT INTO er_freq_state SELECT field, value, dn FROM ri_freq;
    """


def _new_blocks_sql(cfg: dict) -> str:
    """3. Blocking keys of the new profiles, and (c) the profiles of blocks that outgrew their cap."""
    return f"""
    {_keys_sql(cfg, "ri_new_profiles", "TEMP TABLE ri_new_keys")};
    INSERT INTO er_key_state SELECT * FROM ri_new_keys;
    CREATE OR REPLACE TEMP TABLE ri_blocks AS
    SELECT k.rule, k.key, count(*) AS n, count(*) FILTER (WHERE nk.profile_id IS NOT NULL) AS added
    FROM er_key_state k SEMI JOIN (SELECT DISTINCT rule, key FROM ri_new_keys) b USING (rule, key)
    LEFT JOIN ri_new_keys nk USING (rule, key, profile_id)
    GROUP BY k.rule, k.key;
    -- c. profiles of blocks that were paired up before and are over the cap now
    CREATE OR REPLACE TEMP TABLE ri_crossed AS
    SELECT DISTINCT k.profile_id FROM er_key_state k
    JOIN ri_blocks b USING (rule, key)
    WHERE b.n - b.added BETWEEN 2 AND {_cap_sql(cfg, 'b.rule')} AND b.n > {_cap_sql(cfg, 'b.rule')};
"""


def _changed_values_sql(cfg: dict) -> str:
    """(b) Known pairs sharing a value whose frequency changed: scored again, or their stored
    weight moved by log2(dn'/dn) where the value stays personal (see below)."""
    shared = int(cfg["frequency"]["shared_max_names"])
    value_exprs = dict(IDENTIFIER_VALUES)
    return f"""
    -- b. profiles carrying a value whose frequency changed. Where the value stays personal
    --    (at most shared_max_names before and after), every weight it enters is log2(m / (u dn))
    --    or log2(m N / dn) and the gate does not move: its pairs lose log2(dn'/dn), applied to
    --    their stored weight without scoring (a name's frequency only grows; an identifier's
    --    can fall too, and the pair gains). A value that becomes shared, or stops being
    --    shared, changes weights and the gate: its pairs are scored again.
    CREATE OR REPLACE TEMP TABLE ri_value_profiles AS
    {" UNION ALL ".join(
        f"SELECT p.profile_id, '{f}' AS field, c.value, p.unit, "
        f"(c.dn_old IS NOT NULL AND ({f == 'name'} OR (c.dn_old <= {shared} AND c.dn_new <= {shared}))) AS arithmetic, "
        f"log2(c.dn_new / c.dn_old) AS loss "
        f"FROM er_profile_state p JOIN ri_changed_values c ON c.field = '{f}' AND c.value = {e}"
        for f, e in {**{f: "p." + e for f, e in value_exprs.items() if f != "place_unit"},
                     "place_unit": "p.address_key || '#' || p.unit", "name": "p.name_key"}.items())};
    -- known pairs that share such a value (two steps: the planner would otherwise pair up the
    -- profiles of each value first, hundreds of millions of rows)
    CREATE OR REPLACE TEMP TABLE ri_value_left AS
    SELECT s.profile_l, s.profile_r, v.field, v.value, v.unit AS unit_l, v.arithmetic, v.loss
    FROM er_pair_state s JOIN ri_value_profiles v ON v.profile_id = s.profile_l;
    CREATE OR REPLACE TEMP TABLE ri_value_shared AS
    SELECT l.*, v.unit AS unit_r FROM ri_value_left l
    JOIN ri_value_profiles v ON v.profile_id = l.profile_r AND v.field = l.field AND v.value = l.value;
    CREATE OR REPLACE TEMP TABLE ri_value_pairs AS
    SELECT DISTINCT profile_l, profile_r FROM ri_value_shared WHERE NOT arithmetic;
    -- The place's own frequency counts where the pair's units do not both exist (both
    -- missing: same address; one missing: place without unit); same or different units
    -- weigh by the place+unit frequency or not at all.
    UPDATE er_pair_state SET match_weight = match_weight - d.loss
    FROM (SELECT profile_l, profile_r, sum(loss) AS loss FROM ri_value_shared
          WHERE arithmetic AND (field <> 'place' OR unit_l IS NULL OR unit_r IS NULL)
          GROUP BY profile_l, profile_r) d
    WHERE er_pair_state.profile_l = d.profile_l AND er_pair_state.profile_r = d.profile_r;
"""


def _pairs_to_decide_sql(cfg: dict, n_new: float) -> str:
    """`ri_pairs`: every pair to decide again: (a) the candidate pairs of the new profiles,
    (b), (c), (e) the known pairs found above, and (d) the known pairs whose decision the
    grown population turns."""
    threshold = float(cfg["decision"]["threshold"])
    scale = float(cfg["decision"]["prior_scale"])
    return f"""
    -- a: every candidate pair of a new profile, through the blocks it is in
    CREATE OR REPLACE TEMP TABLE ri_new_blocks AS
    SELECT rule, key FROM er_key_state k SEMI JOIN (SELECT DISTINCT rule, key FROM ri_new_keys) USING (rule, key)
    GROUP BY rule, key HAVING count(*) BETWEEN 2 AND {_cap_sql(cfg)};
    -- (and the anchors of the blocks over the cap that keep anchors, see _anchors_sql)
    CREATE OR REPLACE TEMP TABLE ri_new_anchors AS
    SELECT rule, key, profile_id FROM (
        SELECT k.rule, k.key, k.profile_id, row_number() OVER (PARTITION BY k.rule, k.key ORDER BY k.profile_id) AS pos
        FROM er_key_state k SEMI JOIN ri_blocks b ON b.rule = k.rule AND b.key = k.key
                                                  AND b.n > {_cap_sql(cfg, 'b.rule')} AND {_anchors_sql(cfg, 'b.rule')} > 0)
    WHERE pos <= {_anchors_sql(cfg)};
    CREATE OR REPLACE TEMP TABLE ri_pairs AS
    WITH partners AS (
        SELECT least(nk.profile_id, k.profile_id) AS profile_l, greatest(nk.profile_id, k.profile_id) AS profile_r
        FROM ri_new_keys nk SEMI JOIN ri_new_blocks USING (rule, key)
        JOIN er_key_state k USING (rule, key) WHERE k.profile_id <> nk.profile_id
        UNION ALL
        SELECT least(nk.profile_id, a.profile_id), greatest(nk.profile_id, a.profile_id)
        FROM ri_new_keys nk JOIN ri_new_anchors a USING (rule, key) WHERE a.profile_id <> nk.profile_id
    ), crossed_pairs AS (
        -- c: known pairs of a profile in a block that outgrew its cap
        SELECT profile_l, profile_r FROM er_pair_state
        WHERE profile_l IN (SELECT profile_id FROM ri_crossed) OR profile_r IN (SELECT profile_id FROM ri_crossed)
    ), reformed_pairs AS (
        -- e: known pairs of a profile whose name gained another reading or skeleton
        SELECT s.profile_l, s.profile_r FROM er_pair_state s
        JOIN er_profile_state a ON a.profile_id = s.profile_l JOIN er_profile_state b ON b.profile_id = s.profile_r
        WHERE a.name_key IN (SELECT name_key FROM ri_forms_changed) OR b.name_key IN (SELECT name_key FROM ri_forms_changed)
    ), known AS (
        SELECT * FROM ri_value_pairs UNION SELECT * FROM crossed_pairs UNION SELECT * FROM reformed_pairs
    ), flipped AS (
        -- d: known pairs whose decision the grown population (or a name's loss) turns, either way
        SELECT profile_l, profile_r FROM er_pair_state s ANTI JOIN known USING (profile_l, profile_r)
        WHERE accepted <> (gate_passed
                           AND match_weight + (n_tf - {scale!r}) * log2({n_new!r} / scored_population) >= {threshold})
    )
    SELECT DISTINCT * FROM (SELECT * FROM partners UNION ALL SELECT * FROM known UNION ALL SELECT * FROM flipped);
    """


def _candidates_sql(cfg: dict) -> str:
    """The rules that propose each pair of `ri_pairs` now (none: no longer a candidate), as
    `er_pairs`, and the profiles of those pairs with their frequencies, as `er_profiles`."""
    return f"""
    CREATE OR REPLACE TEMP TABLE ri_pair_keys AS
    SELECT k.rule, k.key, k.profile_id FROM er_key_state k
    SEMI JOIN (SELECT profile_l AS profile_id FROM ri_pairs UNION SELECT profile_r FROM ri_pairs) USING (profile_id);
    CREATE OR REPLACE TEMP TABLE ri_pair_blocks AS
    SELECT rule, key FROM er_key_state k SEMI JOIN (SELECT DISTINCT rule, key FROM ri_pair_keys) USING (rule, key)
    GROUP BY rule, key HAVING count(*) BETWEEN 2 AND {_cap_sql(cfg)};
    CREATE OR REPLACE TEMP TABLE ri_pair_anchors AS
    SELECT rule, key, profile_id FROM (
        SELECT k.rule, k.key, k.profile_id, count(*) OVER (PARTITION BY k.rule, k.key) AS n,
               row_number() OVER (PARTITION BY k.rule, k.key ORDER BY k.profile_id) AS pos
        FROM er_key_state k SEMI JOIN (SELECT DISTINCT rule, key FROM ri_pair_keys) USING (rule, key)
        WHERE {_anchors_sql(cfg, 'k.rule')} > 0)
    WHERE n > {_cap_sql(cfg)} AND pos <= {_anchors_sql(cfg)};
    CREATE OR REPLACE TEMP TABLE er_pairs AS
    WITH paired AS (
        SELECT p.profile_l, p.profile_r, l.rule
        FROM ri_pairs p
        JOIN ri_pair_keys l ON l.profile_id = p.profile_l
        JOIN ri_pair_keys r ON r.profile_id = p.profile_r AND r.rule = l.rule AND r.key = l.key
        SEMI JOIN ri_pair_blocks b ON b.rule = l.rule AND b.key = l.key
        UNION ALL
        -- a pair in a block over the cap is a candidate when one of the two is its anchor
        SELECT p.profile_l, p.profile_r, l.rule
        FROM ri_pairs p
        JOIN ri_pair_keys l ON l.profile_id = p.profile_l
        JOIN ri_pair_keys r ON r.profile_id = p.profile_r AND r.rule = l.rule AND r.key = l.key
        JOIN ri_pair_anchors a ON a.rule = l.rule AND a.key = l.key AND a.profile_id IN (p.profile_l, p.profile_r)
    )
    SELECT profile_l, profile_r, bit_or(1::INTEGER << rule::INTEGER) AS rules FROM paired
    GROUP BY profile_l, profile_r;
    CREATE OR REPLACE TEMP TABLE er_profiles AS {_with_dn_sql(
        "(SELECT * EXCLUDE (entity_id) FROM er_profile_state SEMI JOIN "
        "(SELECT profile_l AS profile_id FROM er_pairs UNION SELECT profile_r FROM er_pairs) USING (profile_id))",
        "er_freq_state", cfg)};
    """


def _new_decisions_sql(cfg: dict, n_new: float) -> str:
    """The new decisions replace the old ones of every pair looked at: the links now rejected
    (`ri_removed`) and newly accepted (`ri_added`), and the pairs' stored state."""
    threshold = float(cfg["decision"]["threshold"])
    return f"""
    CREATE OR REPLACE TEMP TABLE er_accepted AS
    SELECT profile_l, profile_r FROM er_scores WHERE gate_passed AND match_weight >= {threshold};
    -- links whose pair was looked at again and is now rejected, and pairs newly accepted
    CREATE OR REPLACE TEMP TABLE ri_removed AS
    SELECT e.mention_id_l AS profile_l, e.mention_id_r AS profile_r
    FROM entity_links e SEMI JOIN ri_pairs p ON p.profile_l = e.mention_id_l AND p.profile_r = e.mention_id_r
    ANTI JOIN er_accepted a ON a.profile_l = e.mention_id_l AND a.profile_r = e.mention_id_r;
    CREATE OR REPLACE TEMP TABLE ri_added AS
    SELECT a.profile_l, a.profile_r FROM er_accepted a
    ANTI JOIN entity_links e ON a.profile_l = e.mention_id_l AND a.profile_r = e.mention_id_r;
    DELETE FROM er_pair_state USING ri_pairs p
    WHERE er_pair_state.profile_l = p.profile_l AND er_pair_state.profile_r = p.profile_r;
    INSERT INTO er_pair_state
    SELECT profile_l, profile_r, gate_passed, match_weight, n_tf, {n_new!r},
           gate_passed AND match_weight >= {threshold}, household FROM er_scores;
    """


def _touched_parties_sql() -> str:
    """The parties touched tonight (`ri_touched_entities`), their profiles (`ri_scope`) and the
    links inside them after tonight (`ri_kept_links`): the old ones not rejected, the new ones."""
    return """
    CREATE OR REPLACE TEMP TABLE ri_touched_entities AS
    SELECT DISTINCT s.entity_id FROM er_profile_state s SEMI JOIN (
        SELECT profile_l AS profile_id FROM ri_removed UNION SELECT profile_r FROM ri_removed
        UNION SELECT profile_l FROM ri_added UNION SELECT profile_r FROM ri_added
        UNION SELECT profile_id FROM ri_touched_profiles) USING (profile_id);
    CREATE OR REPLACE TEMP TABLE ri_scope AS
    SELECT profile_id, entity_id AS old_entity FROM er_profile_state SEMI JOIN ri_touched_entities USING (entity_id);
    -- the links inside the touched parties after tonight: the old ones not rejected, the new ones
    CREATE OR REPLACE TEMP TABLE ri_kept_links AS
    SELECT e.mention_id_l AS profile_l, e.mention_id_r AS profile_r FROM entity_links e
    SEMI JOIN ri_scope s ON s.profile_id = e.mention_id_l
    ANTI JOIN ri_removed r ON r.profile_l = e.mention_id_l AND r.profile_r = e.mention_id_r
    UNION ALL
    SELECT a.profile_l, a.profile_r FROM ri_added a SEMI JOIN ri_scope s ON s.profile_id = a.profile_l;
    """


def _changed_entities_sql(moved: str) -> str:
    """`_changed_entities`: every party whose row of `entities`, links or household tonight may
    have changed (the touched parties before and after, those that joined or left a household)
    and the other members of their households (whose household now reads differently). The
    page tables of the clusters they appear in are written again (linker.outputs.clusters)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _changed_entities AS
    WITH touched AS (
        SELECT entity_id FROM ri_touched_entities
        UNION SELECT entity_id FROM er_profile_state SEMI JOIN ri_scope USING (profile_id)
        UNION SELECT entity_id FROM {moved})
    SELECT entity_id FROM touched
    UNION SELECT h.entity_id FROM party_households h
    WHERE h.household_id IN (SELECT household_id FROM party_households SEMI JOIN touched USING (entity_id)
                             UNION SELECT household_id FROM {moved})
    """


def _write_new_sql(cfg: dict, n_names: float) -> str:
    """The writes of an incremental resolution (see resolve_new_mentions)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE ri_entity AS
    SELECT s.profile_id, s.old_entity, coalesce(l.label, s.profile_id) AS entity_id
    FROM ri_scope s LEFT JOIN er_labels l ON l.node = s.profile_id;
    UPDATE er_profile_state SET entity_id = e.entity_id FROM ri_entity e
    WHERE er_profile_state.profile_id = e.profile_id AND er_profile_state.entity_id <> e.entity_id;
    -- new mentions, and old mentions whose party changed
    CREATE OR REPLACE TEMP TABLE ri_mention_entity AS
    SELECT mp.mention_id, mp.profile_id, e.entity_id FROM ri_new_mp mp JOIN ri_entity e USING (profile_id)
    UNION ALL
    SELECT m.mention_id, m.profile_id, e.entity_id FROM party_mentions m JOIN ri_entity e USING (profile_id)
    WHERE m.entity_id IS NOT NULL AND e.entity_id <> e.old_entity;
    CREATE OR REPLACE TEMP TABLE _changed_parcels AS
    SELECT DISTINCT mention_id // 2 AS parcel_seq FROM ri_mention_entity;
    UPDATE party_mentions SET profile_id = e.profile_id, entity_id = e.entity_id
    FROM ri_mention_entity e WHERE party_mentions.mention_id = e.mention_id;

    -- every link whose pair was scored again gets its new evidence; rejected ones go
    DELETE FROM entity_links USING ri_pairs r
    WHERE entity_links.mention_id_l = r.profile_l AND entity_links.mention_id_r = r.profile_r;
    INSERT INTO entity_links {_links_sql(cfg, n_names)};

    DELETE FROM entities WHERE entity_id IN (SELECT entity_id FROM ri_touched_entities);
    CREATE OR REPLACE TEMP TABLE ri_entity_mentions AS
    SELECT m.entity_id, m.parcel_seq, m.role, m.name_raw, m.phone_e164, m.account_norm, m.id_number_norm, m.address_raw
    FROM party_mentions m SEMI JOIN (SELECT DISTINCT entity_id FROM ri_entity) USING (entity_id);
    {_entities_sql("ri_entity_mentions", "INSERT INTO entities")};
    DROP TABLE ri_entity_mentions;
    DROP TABLE ri_entity;
    DROP TABLE ri_mention_entity;
    """
