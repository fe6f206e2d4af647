"""Allows `python -m polaris_tray`."""

import sys

from polaris_tray.cli import main

sys.exit(main())
