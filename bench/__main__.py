"""``python -m bench``: the same as ``python -m bench.run_all`` (make bench)."""

import sys

from .run_all import main

sys.exit(main())
