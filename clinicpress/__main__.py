"""`python -m clinicpress`: the same command line as `clinicpress` and `python build.py`."""

import sys

from .cli import main

sys.exit(main())
