"""Session setup shared by tests/ and bench/: test the installed package.

``python -m pytest`` puts the current directory on ``sys.path`` (and pytest's
default "prepend" import mode inserts this directory to import this file). Run
from the repository root, ``import mfhrl_fast`` would then load the source
folder ``mfhrl_fast/``, which has no compiled ``_core``. Drop the repository
root from ``sys.path`` before any test module imports the package, so tests
always run against ``pip install .`` (an editable install still works: its
import hook does not need the root on ``sys.path``). ``--import-mode=importlib``
alone would not help: the entry comes from ``python -m``, not from pytest.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]
