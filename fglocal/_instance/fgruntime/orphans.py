"""Reaping the orphans the instance adopts as a child subreaper (runs inside the function's process).

As a subreaper (see ``worker.set_child_subreaper``) the instance becomes the parent of every
orphaned descendant, and one that exits stays a zombie until its parent waits for it: a handler
that runs ``sh -c "cmd &"`` on every event would pile them up. The function's own children must
never be waited for here (its ``Popen.wait()`` or ``os.waitpid`` would then fail), so the children
the instance process itself starts are recorded as they are created (``os.fork``, ``os.forkpty``,
``os.posix_spawn[p]``, subprocess's ``fork_exec``; the wrappers keep the functions' names and
results), and only zombies outside that record are reaped: at most once a second, after a reply,
so off the invocation's path. Runs on Python 2.7 too.
"""

import os
import threading
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import List, Optional, Tuple

REAP_INTERVAL = 1.0  # seconds between two looks for adopted zombies
_own = set()  # type: set
_lock = threading.Lock()
_last = [0.0]


def _pid(result):  # type: (object) -> int
    return result if isinstance(result, int) else 0


def _first_pid(result):  # type: (object) -> int
    return result[0] if isinstance(result, tuple) and result and isinstance(result[0], int) else 0


def _recording(function, pid_of):  # type: (object, object) -> object
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Under the lock: a child that ends at once must not be taken for an orphan before it is recorded.
        # In a forked child the copied lock is released as the ``with`` ends there too.
        with _lock:
            result = function(*args, **kwargs)  # type: ignore[operator]
            pid = pid_of(result)  # type: ignore[operator]
            if pid > 0:
                _own.add(pid)
        return result

    wrapper.__name__ = getattr(function, "__name__", "wrapper")
    wrapper.__doc__ = getattr(function, "__doc__", None)
    wrapper._fglocal_records_children = True  # type: ignore[attr-defined]
    return wrapper


def record_own_children():  # type: () -> None
    """Wrap the ways this process starts children so that their pids are recorded."""
    targets = [(os, "fork", _pid), (os, "forkpty", _first_pid), (os, "posix_spawn", _pid)]
    targets.append((os, "posix_spawnp", _pid))
    try:
        import _posixsubprocess  # what subprocess.Popen forks with on Python 3

        targets.append((_posixsubprocess, "fork_exec", _pid))
    except ImportError:  # Python 2.7: subprocess calls os.fork
        pass
    for module, name, pid_of in targets:
        function = getattr(module, name, None)
        if function is not None and not getattr(function, "_fglocal_records_children", False):
            setattr(module, name, _recording(function, pid_of))


def reap_adopted(now=None):  # type: (Optional[float]) -> int
    """Wait for zombie children this process did not start itself (adopted orphans); returns how many."""
    now = time.time() if now is None else now
    if now - _last[0] < REAP_INTERVAL:
        return 0
    _last[0] = now
    waitid = getattr(os, "waitid", None)  # Python 3.3+: one system call says whether any child ended
    if waitid is not None:
        try:
            if waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                return 0  # children, but none has ended
        except OSError:  # ECHILD: no children at all
            return 0
    me = os.getpid()
    reaped = 0
    with _lock:
        children = set()
        for pid, state in child_states(me):
            children.add(pid)
            if state == b"Z" and pid not in _own:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        reaped += 1
                except OSError:
                    pass
        # Own children that are gone were waited for by the function: forget them (pids are reused).
        _own.intersection_update(children)
    return reaped


def child_states(parent):  # type: (int) -> List[Tuple[int, bytes]]
    """``(pid, state)`` of each child of process ``parent``, from a scan of /proc (the gone skipped)."""
    found = []  # type: List[Tuple[int, bytes]]
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as stat:
                data = stat.read()
            fields = data[data.rindex(b")") + 2 :].split()
            state, ppid = fields[0], int(fields[1])
        except (IOError, OSError, ValueError, IndexError):  # gone meanwhile (IOError on 2.7)
            continue
        if ppid == parent:
            found.append((int(name), state))
    return found
