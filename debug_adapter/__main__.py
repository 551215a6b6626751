"""``python -m debug_adapter``: a DAP server on stdin/stdout."""

import sys

from debug_adapter.debugpy_process import start_debugpy_adapter


def main() -> int:
    """Start debugpy's adapter first (it takes longest to load), then serve the editor."""
    debugpy = start_debugpy_adapter()
    from debug_adapter.adapter import serve_stdio

    return serve_stdio(debugpy)


if __name__ == "__main__":
    sys.exit(main())
