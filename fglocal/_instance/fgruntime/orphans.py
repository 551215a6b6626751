"""Reaping the orphans the instance adopts as a child subreaper (runs inside the function's process).

As a subreaper (see ``worker.set_child_subreaper``) the instance becomes the parent of every
orphaned descendant, and one that exits stays a zombie until its parent waits for it: a handler
that runs ``sh -c "cmd &"`` on every event would pile them up. The function's own children must
never be waited for here (its ``Popen.wait()`` or ``os.waitpid`` would then fail), so the children
the instance process itself starts are recorded as they are created (``os.fork``, ``os.forkpty``,
``os.posix_spawn[p]``, subprocess's ``fork_exec``; the wrappers keep the functions' names and
results), and only zombies outside that record are reaped: at most once a second, after a reply,
so off the invocation's path. Looking costs a few system calls when nothing was adopted: the
children are listed from the process's own ``/proc/self/task/*/children`` files (a full scan of
/proc only where the kernel has none), and a child's state is read only when it is not the
function's own. Runs on Python 2.7 too.
"""

from __future__ import absolute_import

import os
import sys
import threading
import time

from .channel import listed_children, proc_stat

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
    for module, name, pid_of in recorded_functions():
        function = getattr(module, name, None)
        if function is not None and not getattr(function, "_fglocal_records_children", False):
            setattr(module, name, _recording(function, pid_of))


def recorded_functions():  # type: () -> list
    """``(module, name, pid_of)`` of each way a process starts a child (imports ``_posixsubprocess`` on 3.x)."""
    targets = [(os, "fork", _pid), (os, "forkpty", _first_pid), (os, "posix_spawn", _pid)]
    targets.append((os, "posix_spawnp", _pid))
    if sys.version_info[0] >= 3:  # Python 2.7 has no _posixsubprocess (subprocess calls os.fork)
        try:
            import _posixsubprocess  # what subprocess.Popen forks with on Python 3

            targets.append((_posixsubprocess, "fork_exec", _pid))
        except ImportError:  # pragma: no cover - another Python implementation
            pass
    return targets


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
        listed = listed_children(me)
        if listed is None:  # no children files: a scan of /proc gives every child's state at once
            states = child_states(me)  # type: List[Tuple[int, Optional[bytes]]]
            present = set(pid for pid, _ in states)
        else:  # only the children that are not the function's own need a look at their state
            present = set(listed)
            states = [(pid, _state(pid, me)) for pid in listed if pid not in _own]
        for pid, state in states:
            if state == b"Z" and pid not in _own:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        reaped += 1
                except OSError:
                    pass
        # Own children that are gone were waited for by the function: forget them (pids are reused).
        # One the listing missed is looked at first: a thread that ended between the listing of
        # /proc/PID/task and the read of its children file hides the children it started (they move
        # to another thread, whose file may have been read already); forgotten, such a child would be
        # taken for an orphan and reaped once it ends, and the function's own wait would then fail.
        for pid in [pid for pid in _own if pid not in present]:
            if _state(pid, me) is None:  # gone, or no longer this process's child
                _own.discard(pid)
    return reaped


def _state(pid, parent):  # type: (int, int) -> Optional[bytes]
    """The state letter of ``pid`` if it is still a child of ``parent``, else None."""
    fields = proc_stat(pid)
    if fields is None or int(fields[1]) != parent:
        return None
    return fields[0]


def child_states(parent):  # type: (int) -> List[Tuple[int, Optional[bytes]]]
    """``(pid, state)`` of each child of process ``parent``, from a scan of every process in /proc.

    The fallback where the kernel lists no children per thread (see ``channel.listed_children``);
    the gone are skipped.
    """
    found = []  # type: List[Tuple[int, Optional[bytes]]]
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if name.isdigit():
            fields = proc_stat(int(name))
            if fields is not None and int(fields[1]) == parent:
                found.append((int(name), fields[0]))
    return found


def child_pids(parent):  # type: (int) -> List[int]
    """The children of process ``parent``: its children files, else a scan of /proc."""
    listed = listed_children(parent)
    return listed if listed is not None else [pid for pid, _ in child_states(parent)]
