"""``python -m fuzz``: see :mod:`fuzz.runner`."""

import sys

from .runner import main

sys.exit(main())
