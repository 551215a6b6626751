"""``python -m debug_adapter``: a DAP server on stdin/stdout."""

import sys

from debug_adapter.adapter import serve_stdio

if __name__ == "__main__":
    sys.exit(serve_stdio())
