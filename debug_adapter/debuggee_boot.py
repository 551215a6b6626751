"""Copied into the debuggee as ``sitecustomize``: lowers debugpy's latency, attaches old runtimes, steps aside.

It runs in every process of the function's run (the ``fglocal`` supervisor, the function's instance
on its runtime's interpreter, whatever those start), so it is written for Python 2.7 and 3.6+ alike,
standard library only, and does nothing unless told. Three jobs:

1. **TCP_NODELAY on pydevd's socket.** pydevd's client socket leaves Nagle's algorithm on and sends
   each DAP message as two writes, so every message after the first waits for a delayed ACK (~40 ms
   on Linux): debugpy issue #2054 (fix proposed in microsoft/debugpy#2066). A session exchanges dozens
   of messages before the first breakpoint, so this wraps ``pydevd_comm.start_client`` once pydevd is
   imported. It touches no other socket.
2. **Attaching a Python 2.7/3.6 instance.** debugpy 1.8 needs 3.8+; such a function is debugged with
   debugpy 1.5.1 (see ``debugpy_releases.py``). The supervisor does not inject debugpy into its
   instance then; instead, in the process whose Python is the one named by ``RUNTIME_ENV``, this
   imports 1.5.1 from ``DEBUGPY_ENV``, starts its adapter (``debugpy.listen``, run on the tools'
   interpreter), tells the debug adapter where that adapter listens (one JSON line to
   ``ANNOUNCE_ENV``) and waits until the adapter has attached and set the breakpoints (on Python 2
   at the first import after ``site``, see :class:`_AttachAfterSite`).
3. **Stepping aside**: it removes its own folder from ``sys.path`` and ``PYTHONPATH`` (and its
   variables from the environment), then runs the user's own ``sitecustomize`` if any.
"""

import json
import os
import socket
import sys

# Set by the debug adapter (invocation.py) for a function debugged with debugpy 1.5.1.
RUNTIME_ENV = "FGLOCAL_DEBUG_RUNTIME"  # "2.7": the major.minor of the function's process
DEBUGPY_ENV = "FGLOCAL_DEBUG_DEBUGPY"  # the folder holding that release's debugpy package
ANNOUNCE_ENV = "FGLOCAL_DEBUG_ANNOUNCE"  # host:port where the debug adapter hears of the instance
ADAPTER_PYTHON_ENV = "FGLOCAL_DEBUG_ADAPTER_PYTHON"  # the interpreter that runs debugpy's adapter
SESSION_ENV = "FGLOCAL_DEBUG_SESSION"  # marks the debugpy adapter this starts (the session kills it)
ATTACH_ENV = (DEBUGPY_ENV, ANNOUNCE_ENV, ADAPTER_PYTHON_ENV)

_HERE = os.path.dirname(os.path.abspath(__file__))
_TARGET = "_pydevd_bundle.pydevd_comm"


def _with_nodelay(start_client):  # type: ignore[no-untyped-def]
    def start_client_nodelay(host, port):  # type: ignore[no-untyped-def]
        sock = start_client(host, port)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except Exception:  # on Python 2 socket.error is no OSError
            pass
        return sock

    return start_client_nodelay


def _patch_pydevd_on_import():  # type: ignore[no-untyped-def]
    """Wrap pydevd_comm.start_client when pydevd is imported (debugpy 1.8 injects itself later)."""
    if _TARGET in sys.modules or sys.version_info < (3, 4):
        return
    import importlib.abc
    import importlib.machinery

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

    sys.meta_path.insert(0, _PatchOnImport())


def _is_target():  # type: ignore[no-untyped-def]
    """True in the function's process (its Python is the one RUNTIME_ENV names), or when none is named."""
    wanted = os.environ.get(RUNTIME_ENV)
    return not wanted or wanted == "%d.%d" % sys.version_info[:2]


def _remove_self_from_path():  # type: ignore[no-untyped-def]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    if not _is_target():
        return  # the supervisor: its instance (started with this environment) must still get us
    os.environ.pop(RUNTIME_ENV, None)
    parts = [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.abspath(p) != _HERE
    ]
    if parts:
        os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        os.environ.pop("PYTHONPATH", None)


def _attach_if_asked():  # type: ignore[no-untyped-def]
    """In the process of the runtime named by RUNTIME_ENV: start debugpy 1.5.1 and wait for the adapter."""
    if not _is_target() or not os.environ.get(ANNOUNCE_ENV):
        return
    settings = dict((name, os.environ.pop(name, "")) for name in ATTACH_ENV)  # its children: not debugged
    folder = settings[DEBUGPY_ENV]
    sys.path.insert(0, folder)
    try:
        import debugpy  # type: ignore[import-not-found,unused-ignore]
        import debugpy.server.api  # type: ignore[import-not-found,unused-ignore]  # loads pydevd
    finally:
        sys.path.remove(folder)
    comm = sys.modules.get(_TARGET)
    if comm is not None:
        comm.start_client = _with_nodelay(comm.start_client)  # type: ignore[attr-defined]
    debugpy.configure(python=settings[ADAPTER_PYTHON_ENV] or sys.executable, subProcess=False)
    host, port = debugpy.listen(("127.0.0.1", 0))
    os.environ.pop(SESSION_ENV, None)
    announce_host, _, announce_port = settings[ANNOUNCE_ENV].rpartition(":")
    line = json.dumps({"pid": os.getpid(), "host": host, "port": port}) + "\n"
    sock = socket.create_connection((announce_host, int(announce_port)), 30)
    try:
        sock.sendall(line.encode("utf-8"))
    finally:
        sock.close()
    debugpy.wait_for_client()


def _run_user_sitecustomize():  # type: ignore[no-untyped-def]
    """The user's own sitecustomize (now that ours is off the path), as Python would have run it."""
    try:
        import importlib.machinery
        import importlib.util
    except ImportError:  # Python 2.7
        import imp

        try:
            found = imp.find_module("sitecustomize", sys.path)
        except ImportError:
            return
        sys.modules.pop("sitecustomize", None)
        try:
            imp.load_module("sitecustomize", *found)  # type: ignore[arg-type]
        finally:
            if found[0] is not None:
                found[0].close()
        return
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


class _AttachAfterSite(object):  # noqa: UP004  (a new-style class on Python 2)
    """Attach at the first import after ``site`` ran (Python 2).

    Python 2 sets its filesystem encoding (and sys.argv) only after ``site`` ran, and debugpy needs
    both: so attach at the first import after that (the runtime's own, before any user code).

    Python 2 has one import lock, held while this runs; debugpy's adapter asks pydevd to evaluate
    code as it registers, and pydevd's threads import modules, so the lock is let go meanwhile
    (else they wait for it forever) and taken again before the import goes on.
    """

    def find_module(self, fullname, path=None):  # type: ignore[no-untyped-def]
        if sys.getfilesystemencoding() is None:
            return None
        sys.meta_path.remove(self)  # type: ignore[arg-type]
        import imp

        released = 0
        try:
            while released < 64 and imp.lock_held():
                imp.release_lock()
                released += 1
        except RuntimeError:
            pass  # held by another thread, not ours
        try:
            _attach_if_asked()
        finally:
            for _ in range(released):
                imp.acquire_lock()
        return None


if __name__ == "sitecustomize":  # not when the adapter imports this module for its names
    _patch_pydevd_on_import()
    _remove_self_from_path()
    if sys.getfilesystemencoding() is None:
        sys.meta_path.insert(0, _AttachAfterSite())  # type: ignore[arg-type]
    else:
        _attach_if_asked()
    _run_user_sitecustomize()
