"""``python -m benchmarks``: the side-by-side suite."""

import sys

from .suite import main, reexec

reexec(sys.argv[1:])  # the allocator condition of the timings (see suite.MALLOC_TUNABLES)
sys.exit(main())
