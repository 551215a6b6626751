"""Entry point: ``python -m server`` speaks LSP over stdio."""

import sys

from fglocal.distribution import missing_dependency


def run() -> int:
    """Start the server; without the ``tools`` extra, say which to install (one line, exit 2)."""
    try:
        from server.server import main
    except ImportError as error:
        message = missing_dependency("The FunctionGraph language server", error)
        if message is None:
            raise
        sys.stderr.write(message + "\n")
        return 2
    main()
    return 0


if __name__ == "__main__":
    sys.exit(run())
