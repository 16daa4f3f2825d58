"""``python -m backloop``."""

import sys

from backloop.cli import main

sys.exit(main())
