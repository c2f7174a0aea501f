"""Shared test configuration: hypothesis profiles and deterministic PyTorch settings.

Tests that compare against PyTorch import it at module level: if torch is missing, collection
fails and CI goes red (an oracle is never skipped silently).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("UPCONV_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # CI must not go red on a new random draw; explore with "thorough"
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("UPCONV_HYPOTHESIS_PROFILE", "ci"))
