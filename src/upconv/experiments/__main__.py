"""``python -m upconv.experiments {autoencoder,deconvnet} [--quick] ...``."""

import sys

from . import main

sys.exit(main())
