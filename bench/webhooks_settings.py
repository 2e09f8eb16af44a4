"""Settings for bench/webhooks.py: the product's settings, with the URLconf chosen by
BENCH_ROOT_URLCONF (default bench.webhooks_urls: the project's URLs plus a bare view
to compare the receiver with). txtcrm/settings.py is not touched."""

import os

from txtcrm.settings import *  # noqa: F403

ROOT_URLCONF = os.environ.get("BENCH_ROOT_URLCONF", "bench.webhooks_urls")
