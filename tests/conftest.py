"""Test configuration.

Under CI (``CI=true``) Hypothesis runs derandomized: the same examples every
run, so a CI result is reproducible.  Locally it explores new examples each
run (and remembers failures in .hypothesis/)."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
