"""``python -m benchmarks``: the side-by-side suite."""

import sys

from .suite import main

sys.exit(main())
