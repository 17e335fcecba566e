"""Benchmark of `linker ingest`: validated rows per second and peak memory, CSV and Parquet.

Synthesises worlds of the given sizes (cached under bench/out/), then loads each into a fresh
store in a fresh process, so that the peak resident memory printed is that of one load alone
(DuckDB's buffers included). Target on a 2-core machine: >= 250,000 validated rows/s from CSV,
and peak memory that does not grow with the file beyond DuckDB's own buffer (5M rows < 3 GB).

    python bench/ingest.py                       # 100k, 1M and 5M parcels
    python bench/ingest.py --sizes 100000 --formats csv
    python bench/ingest.py --sizes 1000000 --formats csv --repeat 5   # median and spread

The machine is often shared: each line also gives the load's CPU seconds (all threads; steadier
than wall time when others are busy) and the load average before and after it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

# One load, measured inside its own process.
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from linker import store
from linker.stages.ingest import ingest_paths
path, db = Path(sys.argv[1]), Path(sys.argv[2])
con = store.connect(db)
t0, c0 = time.perf_counter(), time.process_time()
report = ingest_paths(con, [path])
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
con.close()
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": cpu,
    "rows_loaded": report.rows_loaded,
    "rows_quarantined": report.rows_quarantined,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "problems": report.problems,
}))
"""


def synthesise(n: int, fmt: str, seed: int) -> tuple[Path, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"parcels_{n}_{seed}.{fmt}"
    if path.exists():
        return path, 0.0
    from linker.synth import synthesise as synth

    t0 = time.perf_counter()
    synth(n, path, seed=seed)
    return path, time.perf_counter() - t0


def measure(path: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        db = Path(tmp) / "bench.duckdb"
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(db)], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"ingest of {path} failed: {done.stderr.strip().splitlines()[-1]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["db_mb"] = db.stat().st_size / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=1, help="loads per size and format; more than one prints median and spread")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"memory_limit {os.environ.get('LINKER_MEMORY_LIMIT', '2GB')}")
    print(
        f"{'parcels':>10} {'format':>8} {'file MB':>8} {'synth s':>8} {'ingest s':>9} {'cpu s':>7} {'rows/s':>10} "
        f"{'peak MB':>8} {'quarantined':>11} {'store MB':>9} {'load avg':>10}"
    )
    for n in sizes:
        for fmt in formats:
            path, synth_s = synthesise(n, fmt, args.seed)
            rates = []
            for _ in range(args.repeat):
                load_before = os.getloadavg()[0]
                r = measure(path)
                rate = r["rows_loaded"] / r["seconds"] if r["seconds"] else float("nan")
                rates.append(rate)
                print(
                    f"{n:>10,} {fmt:>8} {path.stat().st_size / 2**20:>8.0f} {synth_s:>8.1f} {r['seconds']:>9.2f} {r['cpu_seconds']:>7.1f} "
                    f"{rate:>10,.0f} {r['peak_rss_mb']:>8.0f} {r['rows_quarantined']:>11,} {r['db_mb']:>9.0f} "
                    f"{load_before:>4.1f}->{os.getloadavg()[0]:<4.1f}",
                    flush=True,
                )
                if r["problems"]:
                    print("  problems:", "; ".join(r["problems"]))
            if len(rates) > 1:
                print(f"{'':>10} {fmt:>8} rows/s median {statistics.median(rates):,.0f}, min {min(rates):,.0f}, max {max(rates):,.0f} over {len(rates)} loads")


if __name__ == "__main__":
    main()
