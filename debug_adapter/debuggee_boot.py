"""Copied into the debuggee as ``sitecustomize``: lowers debugpy's per-message latency, then steps aside.

pydevd's client socket leaves Nagle's algorithm on and sends each DAP message as two writes, so
every message after the first waits for a delayed ACK (~40 ms on Linux): debugpy issue #2054
(fix proposed in microsoft/debugpy#2066). A session exchanges dozens of messages before the first
breakpoint, and more on every step, so this shim sets TCP_NODELAY on that one socket by wrapping
``pydevd_comm.start_client`` when pydevd is imported. It touches no other socket, removes its own
folder from ``sys.path`` and ``PYTHONPATH``, and runs the user's own ``sitecustomize`` if any.
Python 3.8 compatible: it runs in the function's interpreter.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import socket
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_TARGET = "_pydevd_bundle.pydevd_comm"


def _with_nodelay(start_client):  # type: ignore[no-untyped-def]
    def start_client_nodelay(host, port):  # type: ignore[no-untyped-def]
        sock = start_client(host, port)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (AttributeError, OSError):
            pass
        return sock

    return start_client_nodelay


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds pydevd_comm like the normal finders, and patches it once it has run."""

    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module):  # type: ignore[no-untyped-def]
            original_exec(module)
            module.start_client = _with_nodelay(module.start_client)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _step_aside() -> None:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    parts = [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.abspath(p) != _HERE
    ]
    if parts:
        os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        os.environ.pop("PYTHONPATH", None)
    # The user's own sitecustomize (now that ours is off the path), as Python would have run it.
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


if _TARGET not in sys.modules:
    sys.meta_path.insert(0, _PatchOnImport())
_step_aside()
