"""``python -m debug_adapter.debugpy_adapter``: debugpy's own adapter, with TCP_NODELAY on its sockets.

debugpy's adapter talks to each debuggee (pydevd) over a TCP socket on 127.0.0.1 with Nagle's algorithm
on; when it sends two messages in a row, the second waits for a delayed ACK (~40 ms), on every
configuration request and step (debugpy issue #2054; the debuggee side is ``debuggee_boot.py``). This
process only speaks DAP, so every socket it accepts or opens gets TCP_NODELAY; then debugpy's adapter
runs exactly as ``python -m debugpy.adapter`` would.
"""

import runpy
import socket
from typing import Any, Tuple

_accept = socket.socket.accept
_connect = socket.socket.connect


def _nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _accept_nodelay(self: socket.socket) -> Tuple[socket.socket, Any]:
    conn, address = _accept(self)
    _nodelay(conn)
    return conn, address


def _connect_nodelay(self: socket.socket, address: Any) -> None:
    _connect(self, address)
    _nodelay(self)


def main() -> None:
    """Patch the socket class, then run ``debugpy.adapter`` as ``__main__``."""
    socket.socket.accept = _accept_nodelay  # type: ignore[method-assign]
    socket.socket.connect = _connect_nodelay  # type: ignore[method-assign,assignment]
    runpy.run_module("debugpy.adapter", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
