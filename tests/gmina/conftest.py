"""The demo district of tests/test_demo_seed.py (seeded once per run), for the gmina's crawl."""

from tests.test_demo_seed import app_on, demo_copy, demo_district  # noqa: F401
