"""`python -m flows.cli ...` is the `shorts` command."""

import sys

from flows.cli import main

sys.exit(main())
