"""``python -m benchmarks``: the side-by-side suite."""

import sys

from .suite import main

# (restarting under the timing allocator condition: see suite.MALLOC_TUNABLES)
sys.exit(main(restart=True))
