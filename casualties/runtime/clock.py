"""Seconds per stage of a run, written beside the tables for the benchmark and the report.

The flow times each stage with `with clock.stage("extract"): ...` and ends with
`clock.write(out_dir, articles=..., text_bytes=...)`; `casualties bench` reads the file back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casualties.files import write_bytes_atomic

RUN_STATS = "_run_stats.json"  # written by the flow into its --out folder
STAGES = ("parse", "extract", "validate", "write", "quality", "report")


class StageClock:
    """Wall seconds per named stage, accumulated over batches, and the CPU seconds of this
    process during the stages timed with `stage()` (CPU is what a loaded machine does not
    inflate; `add()` adds wall time only: work timed in threads or workers).

    The flow times each stage with `with clock.stage("extract"): ...` and ends with
    `clock.write(out_dir, articles=..., text_bytes=...)`; the benchmark reads the file back.
    Stages may overlap when batches run in parallel, so their sum can exceed the wall time.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._cpu0 = time.process_time()

    @contextmanager
    def stage(self, name: str, wall: bool = True) -> Iterator[None]:
        """Time the block as stage `name`; `wall=False` records its CPU only (a block whose
        wall time its parts add to their own stages)."""
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            if wall:
                self.add(name, time.perf_counter() - t0)
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu0

    def add(self, name: str, seconds: float) -> None:
        """Add `seconds` to stage `name` (for work timed elsewhere, e.g. in a worker)."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def write(self, out_dir: Path, **counts) -> Path:
        """Write `<out_dir>/_run_stats.json`: {"stages": {name: s}, "flow_seconds": s,
        "stage_cpu": {name: s}, "flow_cpu": s, "startup_cpu": s, **counts}; `startup_cpu` is
        this process's CPU before the flow began (imports, setting up Prefect)."""
        path = Path(out_dir) / RUN_STATS
        stats = {
            "stages": {k: round(v, 4) for k, v in self.seconds.items()},
            "flow_seconds": round(time.perf_counter() - self._t0, 4),
            "stage_cpu": {k: round(v, 4) for k, v in self.cpu.items()},
            "flow_cpu": round(time.process_time() - self._cpu0, 4),
            "startup_cpu": round(self._cpu0, 4),
            **counts,
        }
        write_bytes_atomic(path, json.dumps(stats, indent=1).encode("utf-8"))
        return path


def read_run_stats(out_dir: Path) -> dict:
    """The stats the flow wrote, or {} when it wrote none."""
    path = Path(out_dir) / RUN_STATS
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
