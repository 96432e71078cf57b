"""Hypothesis profiles: ``default`` keeps the README's test command quick; run the
long one with ``pytest --hypothesis-profile=long`` (thousands of examples)."""

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")
