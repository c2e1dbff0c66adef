"""Settings of the bench's server: the production settings (from the environment) with the bench's URLs
(``bench.site``: the product's URLs plus the two baselines)."""

from yiwang.settings import *  # noqa: F403

ROOT_URLCONF = "bench.site"
