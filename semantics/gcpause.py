"""``paused_gc``: run a whole-program pass with the cyclic garbage collector off.

Every judgment allocates a few objects per ``let``.  On a 10^5–10^6-let program
CPython's generational collector then runs full collections over millions of
live, acyclic objects -- a 2–3× slowdown measured on the typing judgment
(benchmarks/bench_pipeline.py).  The passes create no reference cycles worth
collecting, so each pass pauses the collector and restores it afterwards.

``LINEAR_A_GC_PAUSE=0`` in the environment turns the pauses off, so that the
benchmarks can measure what the collector costs when it is left running.
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager

ENABLED = os.environ.get("LINEAR_A_GC_PAUSE", "1") != "0"


@contextmanager
def paused_gc():
    """Run a block with the cyclic garbage collector off (restored afterwards)."""
    was = gc.isenabled() and ENABLED
    if was:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
