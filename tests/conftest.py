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

from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("random", derandomize=False)
# --hypothesis-profile (Hypothesis's pytest plugin) loads its choice after this file,
# so it overrides the environment variable, which overrides the default.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") == "true" else "default"))
