"""``python -m veritee`` is the same as the ``veritee`` console script."""

import sys

from veritee.cli import main

sys.exit(main())
