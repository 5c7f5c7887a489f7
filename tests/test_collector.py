"""The garbage collector helpers of large builds leave the process's own settings as found."""

from __future__ import annotations

import gc
import subprocess
import sys

from cletrial.collector import collector_paused, heap_frozen


def test_a_freeze_made_before_the_block_is_kept_after_it() -> None:
    gc.freeze()  # as `cletrial serve` does once started
    try:
        assert gc.get_freeze_count() > 0
        with heap_frozen():
            pass
        # still frozen (a frozen object that dies leaves the count; an unfreeze empties it)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_without_a_freeze_the_block_freezes_and_then_unfreezes() -> None:
    # In a fresh interpreter: another test of this process may have frozen its heap.
    script = "\n".join([
        "import gc", "from cletrial.collector import heap_frozen",
        "assert gc.get_freeze_count() == 0", "with heap_frozen():",
        "    assert gc.get_freeze_count() > 0", "assert gc.get_freeze_count() == 0",
    ])  # fmt: skip
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
