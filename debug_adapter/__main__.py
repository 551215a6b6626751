"""``python -m debug_adapter``: a DAP server on stdin/stdout (``--port N``: on 127.0.0.1:N instead)."""

import sys
from typing import List, Optional

from debug_adapter.debugpy_process import debugpy_missing, start_debugpy_adapter


def main(argv: Optional[List[str]] = None) -> int:
    """Start debugpy's adapter first (it takes longest to load), then serve the editor."""
    args = sys.argv[1:] if argv is None else argv
    missing = debugpy_missing()
    if missing is not None:  # installed without the tools extra: say which to install, not a traceback
        sys.stderr.write(missing + "\n")
        return 2
    if args[:1] == ["--port"] and len(args) == 2 and args[1].isdigit() and int(args[1]) <= 65535:
        from debug_adapter.adapter import serve_tcp

        return serve_tcp(int(args[1]))
    if args:
        sys.stderr.write("usage: python -m debug_adapter [--port N]  (N: 0-65535; stdio without it)\n")
        return 2
    debugpy = start_debugpy_adapter()
    from debug_adapter.adapter import serve_stdio

    return serve_stdio(debugpy)


if __name__ == "__main__":
    sys.exit(main())
