"""``python -m fglocal``: the same as the ``fglocal`` command."""

import os
import sys

# `python -m` puts the current folder first on sys.path. Run from a function folder (as the debug
# adapter does), a user module named like the standard library (json.py) would shadow the tool's own
# imports and crash it before it can report the problem. The instance puts the code folder on the
# path itself, where the platform puts it.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from fglocal.cli import main

if __name__ == "__main__":
    main()
