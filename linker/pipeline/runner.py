"""Running stages one after another: each timed, its peak memory sampled, its counts kept, and
any failure turned into one sentence that names the stage.

The runner knows nothing of what the stages do; `linker.pipeline.analysis` gives it the list.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from linker.errors import LinkerError, one_line

OnStage = Callable[[str, str, dict], None]  # (stage, "start" | "done", info)


class PipelineError(LinkerError):
    """The run failed; the message is one sentence and the previous results stand."""


class FallBack(Exception):
    """A stage of an incremental run found it cannot extend the stored analysis (the caller
    rolls back and runs in full); the message says why in a few words."""


@dataclass
class RunResult:
    run_id: str
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    peak_rss_mb: dict = field(default_factory=dict)


class RssSampler:
    """Peak resident memory of this process during each stage (DuckDB's memory included,
    which tracemalloc would not see), sampled from /proc every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            return 0

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.rss())

    def reset(self) -> None:
        self.peak = self.rss()

    def __enter__(self) -> "RssSampler":
        self.reset()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class StageRunner:
    """Runs one stage at a time into a RunResult: `runner.run("graph", build)`.

    A stage returns a dict of counts (merged into `result.counts`) or anything else (ignored).
    An exception of one of `fall_back_on` becomes `FallBack` (the incremental run cannot go on,
    a full one can); PipelineError and FallBack pass through; any other exception becomes
    PipelineError("the <stage> stage failed, previous results kept: <its first line>").
    """

    def __init__(self, result: RunResult, sampler: RssSampler, on_stage: OnStage | None = None,
                 fall_back_on: tuple[type[BaseException], ...] = ()) -> None:
        self.result, self.sampler, self.on_stage, self.fall_back_on = result, sampler, on_stage, fall_back_on

    def run(self, stage: str, fn: Callable[[], dict | object]) -> None:
        if self.on_stage:
            self.on_stage(stage, "start", {})
        self.sampler.reset()
        started = time.perf_counter()
        try:
            info = fn()
        except (PipelineError, FallBack):
            raise
        except Exception as exc:
            if isinstance(exc, self.fall_back_on):
                raise FallBack(str(exc)) from exc
            raise PipelineError(f"the {stage} stage failed, previous results kept: {one_line(exc)}") from exc
        result = self.result
        result.timings[stage] = round(time.perf_counter() - started, 3)
        result.peak_rss_mb[stage] = round(self.sampler.peak / 2**20, 1)
        if isinstance(info, dict):
            result.counts.update(info)
        if self.on_stage:
            self.on_stage(stage, "done", {"seconds": result.timings[stage], **(info if isinstance(info, dict) else {})})
