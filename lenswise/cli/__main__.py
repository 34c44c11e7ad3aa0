"""Allow ``python -m lenswise.cli``."""

import sys

from lenswise.cli import main

sys.exit(main())
