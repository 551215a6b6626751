"""Entry point: ``python -m server`` speaks LSP over stdio."""

import os
import sys

from fglocal.distribution import missing_dependency, python_too_old

TOOL = "The FunctionGraph language server"


def run() -> int:
    """Start the server; without the ``tools`` extra (or Python 3.10), say what to install (one line, exit 2)."""
    message = python_too_old(TOOL)  # before importing the server, whose modules need 3.10
    if message is None:
        try:
            if "--version" in sys.argv[1:] or os.environ.get("FGLS_NO_FAST_START"):
                from server.server import main
            else:
                # Answers initialize before pygls is imported (see server/fast_start.py).
                from server.fast_start import main
            main()
        except ImportError as error:
            message = missing_dependency(TOOL, error)
            if message is None:
                raise
        else:
            return 0
    sys.stderr.write(message + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(run())
