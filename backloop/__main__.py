"""``python -m backloop``."""

import sys

from backloop.cli import main

if __name__ == "__main__":  # worker processes (spawn) import this module too
    sys.exit(main())
