"""``python -m mfstudio``: same as the ``mfstudio`` command."""

import sys

from mfstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
