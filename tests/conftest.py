"""Test configuration: Hypothesis profiles.

By default every run is **derandomized** (profile ``default``): Hypothesis draws
the same examples on every run, on every machine, with or without ``CI``, so
``python -m pytest`` passes or fails the same way each time.

To explore new examples, pick the randomized profile::

    HYPOTHESIS_PROFILE=random python -m pytest          # or
    python -m pytest --hypothesis-profile=random

(``random`` also remembers failing examples in ``.hypothesis/``.)  ``ci`` is
the derandomized profile with failure blobs printed, kept for CI logs.
"""
import os

from hypothesis import HealthCheck, settings

# No time limits on examples: Hypothesis's default deadline (200 ms per example) and
# its too-slow health check turn a loaded machine into a failure -- a test that
# passes alone failed when the suite ran beside other work.  Correctness, not
# speed, is tested here; speed is measured by benchmarks/.
UNTIMED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", derandomize=True, database=None, **UNTIMED)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **UNTIMED)
settings.register_profile("random", derandomize=False, **UNTIMED)
# --hypothesis-profile (Hypothesis's pytest plugin) loads its choice after this file,
# so it overrides the environment variable, which overrides the default.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") == "true" else "default"))
