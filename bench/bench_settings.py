"""Settings of bench/pages.py: the production settings with a trivial view mounted beside the site."""
from dxplan.settings import *  # noqa: F403 - the same settings, one name changed

ROOT_URLCONF = "bench_urls"
