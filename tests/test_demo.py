"""`linker demo` (what `make demo` runs): two nights on a synthetic world, an offline report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def linker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linker", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, linker("demo", "--no-serve", "--parcels", "4000", "--seed", "7", "--dir", str(folder))


def test_the_demo_plays_a_full_night_then_an_incremental_one(demo_dir):
    folder, run = demo_dir
    assert run.returncode == 0, run.stderr
    history = json.loads(linker("runs", "--json", "--db", str(folder / "linker.duckdb")).stdout)
    modes = [(r["counts"].get("pipeline_counts") or {}).get("mode") for r in reversed(history) if r["kind"] == "nightly"]
    assert modes == ["full", "incremental"]
    assert "extended the last analysis" in run.stdout


def test_the_demo_finds_the_planted_rings(demo_dir):
    _, run = demo_dir
    found, planted = map(int, re.search(r"planted rings found by a flagged cluster: (\d+) of (\d+)", run.stdout).groups())
    assert planted > 0 and found == planted


def test_each_nights_report_opens_offline(demo_dir):
    folder, _ = demo_dir
    for day in (date.today() - timedelta(days=1), date.today()):
        page = (folder / "reports" / day.isoformat() / "index.html").read_text()
        assert "<svg" in page
        # nothing fetched from elsewhere: no script, stylesheet, image or font from a URL
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
        assert "@import" not in page and "url(http" not in page
    first, second = ((folder / "reports" / d.isoformat() / "index.html").read_text()
                     for d in (date.today() - timedelta(days=1), date.today()))
    assert "Every parcel was analysed afresh" in first
    assert "The analysis was extended to the new parcels" in second


def test_running_the_demo_again_finds_nothing_new(demo_dir):
    folder, _ = demo_dir
    again = linker("demo", "--no-serve", "--parcels", "4000", "--seed", "7", "--dir", str(folder))
    assert again.returncode == 0, again.stderr
    assert "nothing new to analyse" in again.stdout
