"""The cyclic garbage collector around the building of a large study's data.

CPython's collector scans every tracked container of the oldest generation each time that
generation has grown by a quarter. Reading and building a 10,000-patient submission makes
millions of dicts and tuples that live until the end; left alone, the collector would scan the
whole of them again and again (seconds each time) and find nothing, since such data have no
reference cycles. Two remedies, each for one kind of step:

* :func:`collector_paused` while only acyclic data are made (rows read into dicts and lists):
  nothing is lost, reference counting frees them;
* :func:`heap_frozen` while a step works over data made before it (the loaded study): those are
  left out of every scan, and the step's own cycles are still collected.

The collector is the process's; both only change when it runs, never what a step computes. A
step in another thread at the same time is merely scanned less, or more.

>>> import gc
>>> with collector_paused():
...     gc.isenabled()
False
>>> with heap_frozen():
...     gc.get_freeze_count() > 0
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "heap_frozen"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (enabled again after, if it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Leave every object that exists on entry out of the collector's scans inside the block
    (:func:`gc.freeze`; unfrozen after).

    A process that froze its heap already (``cletrial serve`` freezes the application once
    started, :func:`cletrial.web.server.tune_gc_for_serving`) keeps its freeze: the block then
    changes nothing, since unfreezing after it would undo the server's own.
    """
    if gc.get_freeze_count() > 0:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
