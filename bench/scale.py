"""Benchmark of the whole path at growing sizes: `linker ingest` -> `linker run` -> `linker export`.

For each size a synthetic world is generated once (cached under bench/out/scale/, not timed),
then loaded into a fresh store and analysed, each command in its own process through the real
CLI, so that the peak memory printed is that command's alone (DuckDB's buffers included).

Prints, per size: seconds and peak resident memory of each command, rows per second, and the
seconds of each analysis stage (from the run ledger, `linker runs --json`); then, between
consecutive sizes, the growth exponent of each command and stage (log t2/t1 over log n2/n1).
A stage whose exponent is above that of n log n (plus a margin for timing noise) is named:
its cost grows faster than the data.

    python bench/scale.py                                  # 200k, 1M, 5M, 10M parcels
    python bench/scale.py --sizes 200000 1000000           # the two sizes CI-scale machines run
    python bench/scale.py --sizes 1000000 --format parquet
    python bench/scale.py --sizes 1000000 --profile         # and the slowest SQL statements of the run

The machine is often shared: each line gives the load average before it, and the CPU seconds
of the command (all threads), which are steadier than wall time when others are busy.
Results are also written to bench/out/scale.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
# Above n log n by this much in the exponent, a stage is named as growing faster than the data
# (single timings on a shared 2-core machine vary by ~20%; 0.15 is a ~30% excess per 5x).
MARGIN = 0.15


def _linker(*args: str) -> list[str]:
    return [sys.executable, "-m", "linker", *args]


STEP = r"""
import json, os, resource, subprocess, sys, time
cmd = sys.argv[1:]
t0 = time.perf_counter()
proc = subprocess.run(cmd, capture_output=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "seconds": round(time.perf_counter() - t0, 2),
                  "cpu_seconds": round(u.ru_utime + u.ru_stime, 2), "peak_rss_mb": round(u.ru_maxrss / 1024),
                  "stdout": proc.stdout.decode(errors="replace")[-4000:],
                  "stderr": proc.stderr.decode(errors="replace")[-4000:]}))
"""


def step(cmd: list[str], env: dict | None = None) -> dict:
    """One command measured by a fresh wrapper process, so that RUSAGE_CHILDREN is that
    command's alone and not the maximum of everything this benchmark has run."""
    load = os.getloadavg()[0]
    wrapped = subprocess.run([sys.executable, "-c", STEP, *cmd], capture_output=True, cwd=ROOT, check=True,
                             env={**os.environ, **(env or {})})
    r = json.loads(wrapped.stdout)
    if r["rc"] != 0:
        raise SystemExit(f"`linker {' '.join(cmd[3:])}` failed ({r['rc']}): {r['stderr'][-2000:]}")
    r["load"] = round(load, 2)
    return r


class SpillWatcher:
    """The largest size DuckDB's spill folder (`<store>.tmp`) reached while a step ran, polled
    every second: what the disk must hold beside the store when the work exceeds memory."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak_mb = folder, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                size = sum(f.stat().st_size for f in self.folder.iterdir() if f.is_file())
            except OSError:  # not there (nothing spilled) or a file removed while read
                continue
            self.peak_mb = max(self.peak_mb, round(size / 2**20))

    def __enter__(self) -> "SpillWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def world(n: int, seed: int, fmt: str, lookalikes: float) -> Path:
    folder = OUT / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"world_{n}_{seed}_{lookalikes:g}.{fmt}"
    if not path.exists():
        t0 = time.perf_counter()
        tmp = path.with_name("partial-" + path.name)
        subprocess.run(_linker("synth", "--parcels", str(n), "--out", str(tmp), "--seed", str(seed),
                               "--lookalikes", str(lookalikes)), check=True, cwd=ROOT, capture_output=True)
        for extra in tmp.parent.glob(tmp.name.split(".")[0] + ".*"):  # the truth files beside it
            if extra != tmp:
                extra.rename(extra.with_name(extra.name.replace("partial-", "")))
        tmp.rename(path)
        print(f"  synthesised {n:,} parcels in {time.perf_counter() - t0:.0f} s -> {path.name}", flush=True)
    return path


def bench(n: int, seed: int, fmt: str, lookalikes: float, keep: bool, profile: bool = False) -> dict:
    src = world(n, seed, fmt, lookalikes)
    work = OUT / "scale" / f"store_{n}_{seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        return _bench_in(n, src, work, fmt, profile)
    finally:
        # The SQL profile says how far a failed run got: it is kept beside the worlds.
        profile_file = work / "sql-profile.jsonl"
        if profile_file.exists():
            shutil.copy(profile_file, OUT / "scale" / f"sql-profile_{n}_{seed}.jsonl")
        if not keep:  # also when a step failed: a 5M store and its spill files are tens of GB
            shutil.rmtree(work, ignore_errors=True)


def _bench_in(n: int, src: Path, work: Path, fmt: str, profile: bool) -> dict:
    db = work / "store.duckdb"
    row = {"parcels": n, "format": fmt}
    row["ingest"] = step(_linker("ingest", str(src), "--db", str(db)))
    sql_profile = work / "sql-profile.jsonl"
    with SpillWatcher(db.with_name(db.name + ".tmp")) as spill:
        row["run"] = step(_linker("run", "--db", str(db)), env={"LINKER_SQL_PROFILE": str(sql_profile)} if profile else None)
    row["run"]["spill_peak_mb"] = spill.peak_mb
    if profile:
        statements = [json.loads(line) for line in sql_profile.read_text(encoding="utf-8").splitlines()]
        row["slowest_sql"] = sorted(statements, key=lambda r: -r["seconds"])[:12]
        # (work in a thread beside the statements, `beside`, is listed but not added: its time
        # is inside theirs)
        row["sql_seconds"] = round(sum(r["seconds"] for r in statements if not r.get("beside")), 1)
        row["python_udf_seconds"] = round(sum(r["seconds"] for r in statements if r["python_udf"] and not r.get("beside")), 1)
    row["export"] = step(_linker("export", "--out", str(work / "results"), "--db", str(db)))
    runs = subprocess.run(_linker("runs", "--json", "--limit", "1", "--db", str(db)), capture_output=True,
                          check=True, cwd=ROOT)
    last = json.loads(runs.stdout)[0]
    counts = last.get("counts") or {}
    row["stages"] = counts.get("seconds") or {}
    row["clusters"] = counts.get("clusters")
    row["store_mb"] = round(db.stat().st_size / 2**20)
    for k in ("ingest", "run", "export"):
        row[k].pop("stdout", None)
        row[k].pop("stderr", None)
    row["total_s"] = round(sum(row[k]["seconds"] for k in ("ingest", "run", "export")), 1)
    row["peak_mb"] = max(row[k]["peak_rss_mb"] for k in ("ingest", "run", "export"))
    return row


def exponent(n1: int, t1: float, n2: int, t2: float) -> float | None:
    if t1 <= 0 or t2 <= 0:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def nlogn_exponent(n1: int, n2: int) -> float:
    return math.log((n2 * math.log(n2)) / (n1 * math.log(n1))) / math.log(n2 / n1)


def print_row(r: dict) -> None:
    n = r["parcels"]
    print(f"\n{n:,} parcels ({r['format']}), store {r['store_mb']:,} MB, {r['clusters']} clusters")
    print(f"  {'step':<10}{'seconds':>9}{'cpu s':>9}{'peak MB':>9}{'rows/s':>11}{'load':>7}")
    for k in ("ingest", "run", "export"):
        s = r[k]
        print(f"  {k:<10}{s['seconds']:>9.1f}{s['cpu_seconds']:>9.1f}{s['peak_rss_mb']:>9,}"
              f"{n / max(s['seconds'], 1e-9):>11,.0f}{s['load']:>7.2f}")
    if r["run"].get("spill_peak_mb"):
        print(f"  run spilled up to {r['run']['spill_peak_mb']:,} MB to {'<store>.tmp'}")
    print(f"  {'total':<10}{r['total_s']:>9.1f}{'':>9}{r['peak_mb']:>9,}{n / max(r['total_s'], 1e-9):>11,.0f}")
    stages = r["stages"]
    if stages:
        print("  run stages: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    if "slowest_sql" in r:
        print(f"  SQL scripts of normalise and resolve: {r['sql_seconds']} s, of which statements calling Python"
              f" {r['python_udf_seconds']} s; slowest:")
        for st in r["slowest_sql"]:
            print(f"    {st['seconds']:>7.1f} s {'py ' if st['python_udf'] else '   '}{'(beside) ' if st.get('beside') else ''}"
                  f"{st['statement'][:110]}")


def print_growth(rows: list[dict]) -> list[str]:
    named = []
    for a, b in zip(rows, rows[1:]):
        n1, n2 = a["parcels"], b["parcels"]
        ref = nlogn_exponent(n1, n2)
        print(f"\ngrowth {n1:,} -> {n2:,} (x{n2 / n1:g}; linear 1.00, n log n {ref:.2f}):")
        items = [(k, a[k]["seconds"], b[k]["seconds"]) for k in ("ingest", "run", "export")]
        items += [(f"run/{k}", a["stages"].get(k, 0), b["stages"].get(k, 0)) for k in b["stages"]]
        for name, t1, t2 in items:
            e = exponent(n1, t1, n2, t2)
            if e is None:
                continue
            flag = ""
            # stages under a second are timing noise at the small size
            if e > ref + MARGIN and t2 >= 2.0:
                flag = "  <- grows faster than n log n"
                named.append(f"{name} ({n1:,}->{n2:,}: {e:.2f})")
            print(f"  {name:<28}{t1:>9.1f} s ->{t2:>9.1f} s   exponent {e:5.2f}{flag}")
    return named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--lookalikes", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true", help="keep the stores under bench/out/scale/")
    parser.add_argument("--profile", action="store_true",
                        help="time every SQL statement of normalise and resolve (LINKER_SQL_PROFILE) and print the slowest")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    rows = []
    for n in sorted(args.sizes):
        rows.append(bench(n, args.seed, args.format, args.lookalikes, args.keep, args.profile))
        print_row(rows[-1])
    named = print_growth(rows)
    print("\nstages growing faster than n log n: " + (", ".join(named) if named else "none"))
    OUT.mkdir(exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
