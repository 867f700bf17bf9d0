"""`python -m tally ...` is `tally ...`."""

import sys

from tally.cli import main

sys.exit(main())
