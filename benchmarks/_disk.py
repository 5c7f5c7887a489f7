"""Disk facts the save benchmarks print next to their figures."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path


def fsync_latency(folder: Path, count: int = 200) -> float:
    """Median time (ms) to write 8 kB and fsync it: the floor of one durable commit."""
    path = folder / "fsync.probe"
    times = []
    with path.open("wb") as handle:
        for _ in range(count):
            began = time.perf_counter()
            handle.write(b"x" * 8192)
            handle.flush()
            os.fsync(handle.fileno())
            times.append(time.perf_counter() - began)
    path.unlink()
    return statistics.median(times) * 1000
