"""``python -m mfhrl_fast``: the ``mfhrl-fast`` command line."""

import sys

from .cli import main

sys.exit(main())
