"""PyInstaller's entry script: the same main() as the polaris-tray console script."""

import sys

from polaris_tray.cli import main

if __name__ == "__main__":
    sys.exit(main())
