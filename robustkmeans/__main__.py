"""``python -m robustkmeans``: the ``robustkmeans`` command line (:func:`robustkmeans.cli.main`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
